"""Search that finds what people mean: stemming per language, typing errors, guests."""

import pytest
from sqlalchemy import select

from coprod_study.extensions import db
from coprod_study.models import Episode, Post, SearchDocument, Thread
from coprod_study.search import service as search
from coprod_study.search import text as search_text
from tests import factories as f
from tests.conftest import login


def found(viewer, query, language=None):
    results = search.search(viewer, query, language=language)
    return results, {kind: [h.url for h in hits] for kind, hits in results.groups.items()}


def episode_url(slug):
    return f"/episodes/{slug}"


def write_post(group, author, body, title="A thread"):
    thread = Thread(group_id=group.id, author_id=group_facilitator(group).id, title=title)
    db.session.add(thread)
    db.session.flush()
    post = Post(thread_id=thread.id, user_id=author.id, body=body, body_html=f"<p>{body}</p>")
    db.session.add(post)
    db.session.commit()
    return post


def group_facilitator(group):
    from coprod_study.models import Membership, User

    return db.session.scalar(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id == group.id, Membership.role == "facilitator")
    )


@pytest.fixture
def visitor():
    from flask_login import AnonymousUserMixin

    return AnonymousUserMixin()


def test_english_words_are_found_in_other_forms(app, sample_catalog, visitor):
    # The catalog says "dismissed" and "Patients"; the reader types other forms.
    _, hits = found(visitor, "dismissing patient")
    assert "/episodes/respect-in-the-room#takeaways" in hits["takeaway"]
    _, hits = found(visitor, "diary")
    assert "/episodes/what-each-of-us-knows#questions" in hits["question"]


def test_before_stemming_these_words_found_nothing_exact(app, sample_catalog):
    # The index holds the stem; the exact word is nowhere in the catalog text.
    bodies = " ".join(db.session.scalars(select(SearchDocument.body))).lower()
    assert "dismissing" not in bodies and "diary " not in bodies


def test_swedish_posts_are_stemmed_in_swedish(app, sample_catalog):
    swede = f.make_user(language="sv")
    english = f.make_user(language="en")
    group = f.make_group(name="Blandat")
    f.add_member(group, swede)
    f.add_member(group, english)
    post = write_post(group, swede, "Patienterna satt länge i väntrummet utan förklaring.")
    other = write_post(group, english, "Patients waited long without any explanation.")
    document = db.session.scalar(
        select(SearchDocument).where(SearchDocument.kind == "post", SearchDocument.ref_id == post.id)
    )
    assert document.language == "sv"
    assert {"patient", "förklaring"} <= set(document.stems.split())
    english_document = db.session.scalar(
        select(SearchDocument).where(SearchDocument.kind == "post",
                                     SearchDocument.ref_id == other.id)
    )
    assert english_document.language == "en" and english_document.stems == ""
    # "patienternas" and "förklaringar" are other forms of the post's words.
    _, hits = found(swede, "patienternas förklaringar", language="sv")
    assert any(f"#post-{post.id}" in url for url in hits["post"])
    _, hits = found(english, "explanations", language="en")
    assert any(f"#post-{other.id}" in url for url in hits["post"])


def test_a_reader_finds_documents_in_the_other_language(app, sample_catalog):
    swede = f.make_user(language="sv")
    group = f.make_group(swede, name="Svenska")
    post = write_post(group, swede, "Vi läste om dialysen i hemmet.")
    results, hits = found(swede, "dialysis", language="sv")
    assert episode_url("care-between-visits") in hits["episode"]
    # Another form of the post's word ("dialysens", the genitive), asked in an English
    # interface: the Swedish stem finds it. (Snowball stems the bare "dialys" apart.)
    results, hits = found(swede, "dialysens", language="en")
    assert any(f"#post-{post.id}" in url for url in hits["post"])


def test_a_mistyped_word_finds_the_word_meant(app, sample_catalog, visitor, client):
    results, hits = found(visitor, "dialisys")
    assert results.corrected == "dialysis"
    assert episode_url("care-between-visits") in hits["episode"]
    results, hits = found(visitor, "rheumatolgist")
    assert results.corrected == "rheumatologist"
    assert episode_url("what-each-of-us-knows") in hits["episode"]
    page = client.get("/search?q=dialisys").get_data(as_text=True)
    assert 'id="corrected"' in page and "dialysis" in page
    # A word spelt right is never "corrected", even when it finds little.
    results, _ = found(visitor, "lupus")
    assert results.corrected is None


def test_short_words_are_not_corrected(app, sample_catalog, visitor):
    results, _ = found(visitor, "zqx")
    assert results.corrected is None and results.total == 0
    assert search_text.allowed_typos("abc") == 0
    assert search_text.allowed_typos("dialisys") == 2


def test_a_correction_never_comes_from_a_document_the_reader_may_not_see(
    app, sample_catalog, visitor
):
    member = f.make_user()
    outsider = f.make_user()
    group = f.make_group(name="Private words", join_policy="invite")
    f.add_member(group, member)
    write_post(group, member, "We spoke about the quinquagenarian clinic.")
    results, _ = found(outsider, "quinquagenarien")
    assert results.corrected is None and results.total == 0
    results, _ = found(visitor, "quinquagenarien")
    assert results.corrected is None and results.total == 0
    results, hits = found(member, "quinquagenarien")
    assert results.corrected == "quinquagenarian"
    assert hits["post"]


def test_when_no_document_has_every_word_any_word_will_do(app, sample_catalog, visitor):
    results, hits = found(visitor, "lupus carpenter")
    # Episode 2's guest has lupus, episode 4's is a carpenter; no episode has both.
    assert {episode_url("what-each-of-us-knows"), episode_url("care-between-visits")} <= set(
        hits["episode"]
    )
    # With every word in one document, only such documents are listed.
    results, hits = found(visitor, "lupus diary")
    assert episode_url("care-between-visits") not in hits.get("episode", [])


def test_guests_are_found_by_name_and_bio(app, sample_catalog, visitor):
    _, hits = found(visitor, "Okafor-Lind")
    assert hits["episode"] == [episode_url("what-each-of-us-knows")]
    _, hits = found(visitor, "renal nurse")
    assert episode_url("care-between-visits") in hits["episode"]


def test_a_guest_added_later_is_found(app, sample_catalog, visitor):
    from coprod_study.models import EpisodeGuest, Person

    episode = db.session.scalar(select(Episode).where(Episode.slug == "respect-in-the-room"))
    episode.guests.append(EpisodeGuest(person=Person(name="Xanthe Quillfeather", bio="A sailor."),
                                       position=9))
    db.session.commit()
    _, hits = found(visitor, "Quillfeather")
    assert hits["episode"] == [episode_url("respect-in-the-room")]


def test_the_search_page_in_swedish_stems_swedish(app, client, sample_catalog):
    swede = f.make_user(language="sv")
    group = f.make_group(swede, name="Svenska")
    write_post(group, swede, "Blanketterna frågar bara om symtom.")
    login(client, swede)
    page = client.get("/search?q=blankett").get_data(as_text=True)
    assert "Blanketterna" in page or "<mark>Blanketterna</mark>" in page


def test_the_migration_rebuilds_the_index_of_existing_rows(tmp_path):
    """Rows indexed before migration 0011 come out of it stemmed, in their author's
    language, episodes with their guests, and found."""
    from flask_login import AnonymousUserMixin
    from flask_migrate import upgrade
    from sqlalchemy import text

    from coprod_study import MIGRATIONS_DIR, create_app

    app = create_app({
        "TESTING": True, "SECRET_KEY": "x", "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite3'}",
    })
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0010")
        with db.engine.begin() as connection:
            for statement in (
                "INSERT INTO dimensions (id, slug, name, description, description_html, position)"
                " VALUES (1, 'd', 'Dimension', '', '', 1)",
                "INSERT INTO episodes (id, slug, number, title, dimension_id, summary, summary_html,"
                " is_sample, created_at, updated_at) VALUES (1, 'ep', 1, 'Old episode', 1,"
                " 'About care.', '<p>About care.</p>', 0, '2026-01-01', '2026-01-01')",
                "INSERT INTO people (id, name, bio) VALUES (1, 'Zelda Quorndon', 'A midwife.')",
                "INSERT INTO episode_guests (episode_id, person_id, position) VALUES (1, 1, 1)",
                "INSERT INTO users (id, email, display_name, password_hash, role, language,"
                " time_zone, email_preference, session_version, created_at, updated_at) VALUES"
                " (1, 's@example.org', 'S', 'x', 'admin', 'sv', 'UTC', 'off', 1, '2026-01-01',"
                " '2026-01-01')",
                "INSERT INTO search_documents (kind, ref_id, episode_id, title, body)"
                " VALUES ('episode', 1, 1, 'Old episode', 'About care.')",
                "INSERT INTO search_documents (kind, ref_id, group_id, author_id, title, body)"
                " VALUES ('post', 7, 3, 1, '', 'Patienterna väntade på förklaringar.')",
            ):
                connection.execute(text(statement))
        upgrade(directory=str(MIGRATIONS_DIR))
        rows = {
            kind: (language, body, stems)
            for kind, language, body, stems in db.session.execute(
                text("SELECT kind, language, body, stems FROM search_documents")
            )
        }
        assert rows["post"][0] == "sv" and "patient" in rows["post"][2].split()
        assert "Zelda Quorndon" in rows["episode"][1] and rows["episode"][2] == ""
        with app.test_request_context():
            results = search.search(AnonymousUserMixin(), "midwives", language="en")
            assert [h.url for h in results.groups["episode"]] == ["/episodes/ep"]
            hits = db.session.execute(
                text("SELECT rowid FROM search_fts WHERE search_fts MATCH 'stems : patient'")
            ).all()
            assert len(hits) == 1
        db.session.remove()
        db.engine.dispose()


def test_a_guest_bio_edited_later_is_found_and_the_old_one_is_not(app, sample_catalog, visitor):
    from coprod_study.models import Person

    person = db.session.scalar(select(Person).where(Person.name == "Viktor Haldane"))
    person.bio = "Sample guest: a luthier who builds violins."
    db.session.commit()
    _, hits = found(visitor, "luthier")
    assert hits["episode"] == [episode_url("care-between-visits")]
    results, hits = found(visitor, "carpenter")
    assert episode_url("care-between-visits") not in hits.get("episode", [])
