"""Search: catalog, transcripts and posts, with every visibility rule, on SQLite and PostgreSQL."""

import pytest
from markupsafe import escape

from coprod_study.catalog import transcript as transcripts
from coprod_study.discussion import service as discussion
from coprod_study.extensions import db
from coprod_study.groups import answers as answer_service
from coprod_study.moderation import service as moderation
from coprod_study.search import service as search
from tests import factories as f
from tests.conftest import login

VTT = b"""WEBVTT

00:00:01.000 --> 00:00:05.000
<v Host>Welcome to a conversation about zebrafish kindness.

00:01:10.000 --> 00:01:15.000
<v Guest>The nurse asked what mattered most to me.
"""


@pytest.fixture
def world(sample_catalog):
    facilitator = f.make_user(name="Fay")
    group = f.make_group(facilitator, name="Searchers")
    ann = f.add_member(group, f.make_user(name="Ann Anon"))
    bob = f.add_member(group, f.make_user(name="Bob"))
    outsider = f.make_user(name="Out")
    episode, question = f.first_question(group)
    answer_service.post_answer(bob, group, question, "Bob writes about kaleidoscope listening")
    return {"group": group, "facilitator": facilitator, "ann": ann, "bob": bob,
            "outsider": outsider, "episode": episode, "question": question}


def kinds(viewer, query):
    return {kind: [h.title for h in hits] for kind, hits in search.search(viewer, query).groups.items()}


def test_catalog_is_found_by_anyone(world):
    from flask_login import AnonymousUserMixin

    title_word = world["episode"].title.split()[-1]
    found = kinds(AnonymousUserMixin(), title_word)
    assert any(world["episode"].title in t for t in found.get("episode", []))


def test_transcript_hit_links_to_its_moment(world):
    transcripts.store_transcript(world["episode"], "en", "t.vtt", VTT)
    results = search.search(world["outsider"], "nurse mattered")
    hit = results.groups["segment"][0]
    assert hit.url.endswith("?lang=en#t=70")
    assert "<mark>nurse</mark>" in hit.snippet


def test_posts_only_for_members_and_after_posting(world):
    assert "answer" not in kinds(world["outsider"], "kaleidoscope")
    # Ann has not answered: post before you see others hides Bob's answer.
    assert "answer" not in kinds(world["ann"], "kaleidoscope")
    assert "answer" in kinds(world["facilitator"], "kaleidoscope")
    answer_service.post_answer(world["ann"], world["group"], world["question"], "Ann's own words")
    assert "answer" in kinds(world["ann"], "kaleidoscope")


def test_hidden_and_deleted_posts_drop_out(world):
    answer = db.session.scalar(db.select(answer_service.Answer).where(answer_service.Answer.user_id == world["bob"].id))
    moderation.hide(world["facilitator"], world["group"], "answer", answer.id, "Off topic")
    assert "answer" not in kinds(world["facilitator"], "kaleidoscope")
    moderation.restore(world["facilitator"], world["group"], "answer", answer.id)
    assert "answer" in kinds(world["facilitator"], "kaleidoscope")
    answer_service.delete_answer(world["bob"], answer)
    assert "answer" not in kinds(world["facilitator"], "kaleidoscope")


def test_anonymous_author_is_not_named_in_results(world, client):
    world["group"].allow_anonymous = True
    world["group"].post_first = False
    db.session.commit()
    thread = discussion.create_thread(world["facilitator"], world["group"], title="Open", body="Start")
    discussion.reply(world["ann"], thread, "quietly mentioning marzipan", anonymous=True)
    login(client, world["bob"])
    page = client.get("/search?q=marzipan").get_data(as_text=True)
    assert "marzipan" in page and "Anonymous learner" in page and "Ann Anon" not in page


def test_threads_are_searchable_by_title(world):
    discussion.create_thread(world["facilitator"], world["group"], title="Quokka week", body="x")
    assert "thread" in kinds(world["ann"], "quokka")
    assert "thread" not in kinds(world["outsider"], "quokka")


@pytest.mark.parametrize(
    "query",
    ['"', "*", "NEAR(", "AND OR", "x" * 10_000, "🙂 respect", "'; DROP TABLE users; --",
     "title:foo", "-", "(((", "a\x00b", "%", "_"],
)
def test_hostile_queries_never_fail(client, world, query):
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "results for" in page or "No results" in page or "Search" in page


def test_empty_query_shows_the_form_only(client):
    page = client.get("/search?q=").get_data(as_text=True)
    assert 'id="search-q"' in page and "No results" not in page


def test_reindex_rebuilds_the_same_results(app, world):
    before = kinds(world["facilitator"], "kaleidoscope")
    runner = app.test_cli_runner()
    db.session.commit()
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0 and "Indexed" in result.output
    db.session.rollback()
    assert kinds(world["facilitator"], "kaleidoscope") == before


# --- Kept results -------------------------------------------------------------------


def full_text_statements(run):
    """How many full-text queries `run()` sends (FTS5 MATCH or a tsquery)."""
    from sqlalchemy import event

    sent = []

    def record(_conn, _cursor, statement, *_rest):
        if "MATCH" in statement or "to_tsquery" in statement or "word_similarity(" in statement:
            sent.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        result = run()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(sent), result


def bob_answer(world):
    return db.session.scalar(
        db.select(answer_service.Answer).where(answer_service.Answer.user_id == world["bob"].id)
    )


def snippets(viewer, query):
    return [str(h.snippet) for hits in search.search(viewer, query).groups.values() for h in hits]


def test_a_repeated_search_is_answered_from_kept_results(world):
    first = full_text_statements(lambda: kinds(world["facilitator"], "kaleidoscope"))
    again = full_text_statements(lambda: kinds(world["facilitator"], "kaleidoscope"))
    assert first[0] == 1 and again[0] == 0
    assert again[1] == first[1] and "answer" in first[1]
    # Another reader with other rights gets a search of their own.
    # Finding nothing, theirs also looks for the word meant (a trigram look-up).
    outsider = full_text_statements(lambda: kinds(world["outsider"], "kaleidoscope"))
    assert outsider[0] == 2 and "answer" not in outsider[1]


def test_kept_results_give_way_to_new_edited_and_hidden_posts(world):
    facilitator = world["facilitator"]
    assert len(snippets(facilitator, "kaleidoscope")) == 1
    answer_service.post_answer(world["ann"], world["group"], world["question"],
                               "Ann also finds kaleidoscope ideas useful")
    assert len(snippets(facilitator, "kaleidoscope")) == 2
    answer_service.edit_answer(world["bob"], bob_answer(world), "Bob now writes of kaleidoscope walks")
    assert any("walks" in s for s in snippets(facilitator, "kaleidoscope"))
    assert not any("listening" in s for s in snippets(facilitator, "kaleidoscope"))
    moderation.hide(facilitator, world["group"], "answer", bob_answer(world).id, "Off topic")
    found = snippets(facilitator, "kaleidoscope")
    assert len(found) == 1 and "walks" not in found[0]


def test_an_edit_of_the_newest_document_is_seen(world):
    """On SQLite the edited document may come back with the very id it had (it was
    the newest); the generation tells the two apart."""
    assert any("listening" in s for s in snippets(world["facilitator"], "kaleidoscope"))
    answer_service.edit_answer(world["bob"], bob_answer(world), "Bob's kaleidoscope thoughts, redone")
    found = snippets(world["facilitator"], "kaleidoscope")
    assert len(found) == 1 and "redone" in found[0]


def test_removing_the_newest_document_and_adding_another_is_seen(world):
    """SQLite may give a new document the id of the newest one removed just before;
    the generation tells the two apart."""
    ann_answer = answer_service.post_answer(world["ann"], world["group"], world["question"],
                                            "kaleidoscope first try")
    assert any("first" in s for s in snippets(world["facilitator"], "kaleidoscope"))
    answer_service.delete_answer(world["ann"], ann_answer)
    discussion.create_thread(world["facilitator"], world["group"], title="Kaleidoscope club",
                             body="second try")
    found = kinds(world["facilitator"], "kaleidoscope")
    assert found.get("thread") == ["Kaleidoscope club"]
    assert not any("first" in s for s in snippets(world["facilitator"], "kaleidoscope"))


def test_a_reveal_opens_kept_results_to_readers_who_have_not_answered(world):
    assert "answer" not in kinds(world["ann"], "kaleidoscope")
    answer_service.reveal(world["facilitator"], world["group"], world["question"])
    assert "answer" in kinds(world["ann"], "kaleidoscope")


@pytest.mark.parametrize("extra", [False, True], ids=["catalog question", "group's question"])
def test_a_reveal_after_the_due_date_opens_results_as_the_question_page_does(
    sample_catalog, extra
):
    """A course's reveal after due opens the answers in search too, at each learner's
    own date: not before the due date, not without the reveal, not during an extension."""
    from datetime import UTC, datetime, timedelta

    from coprod_study.groups import service as group_service
    from coprod_study.models import Extension

    educator = f.make_user(role="educator")
    course = f.make_course(educator)
    group = f.make_course_group(course, educator, "Course searchers")
    ann, bob, cy = (f.enrol(course, f.make_user(name=name)) for name in ("Ann", "Bob", "Cy"))
    for person in (ann, bob, cy):
        f.place(course, group, person)
    episode, question = f.first_question(group)
    assignment = f.make_assignment(course, episode, due_in=timedelta(days=1),
                                   reveal_after_due=True)
    if extra:
        group_service.add_extra_question(educator, group, episode, "What would you ask?")
        question = group_service.questions_for(
            episode, group_service.extra_questions(group, [episode.id])
        )[-1]
    answer_service.post_answer(bob, group, question, "Bob writes about periscope listening")
    db.session.add(Extension(assignment_id=assignment.id, user_id=cy.id,
                             due_at=datetime.now(UTC) + timedelta(days=3)))
    db.session.commit()
    assert "answer" not in kinds(ann, "periscope")
    assignment.due_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    assert "answer" in kinds(ann, "periscope")
    assert "answer" not in kinds(cy, "periscope")  # her own date is still ahead
    assert answer_service.is_revealed(group, question) is True
    assignment.reveal_after_due = False
    db.session.commit()
    assert "answer" not in kinds(ann, "periscope")


def test_search_page_runs_few_queries_whatever_it_finds(client, world, count_queries):
    """At most 8 statements for a first search, fewer when it is found again, with
    answers, replies, thread posts and catalog documents among the hits."""

    def page_queries():
        with count_queries() as statements:
            page = client.get("/search?q=kaleidoscope").get_data(as_text=True)
        counted = [s for s in statements if s.split()[0].upper() not in ("BEGIN", "COMMIT")]
        return len(counted), page

    group, question = world["group"], world["question"]
    thread = discussion.create_thread(world["facilitator"], group, title="Kaleidoscope", body="x")
    for number in range(12):
        member = f.add_member(group)
        discussion.reply(member, thread, f"kaleidoscope post {number}")
        answer = answer_service.post_answer(member, group, question, f"kaleidoscope answer {number}")
        answer_service.post_reply(member, answer, f"kaleidoscope reply {number}")
    login(client, world["ann"])
    client.get("/search")  # shows (and so clears) the "Signed in" message
    answer_service.post_answer(world["ann"], group, question, "Ann's kaleidoscope")
    first, page = page_queries()
    again, page_again = page_queries()
    for kind in ("reply", "post", "answer"):
        assert page.count(f"kaleidoscope</mark> {kind}") == 12
    assert first <= 8 and again == first - 1
    # The same page, but for the CSRF token (signed with the time, to the second).
    assert without_tokens(page_again) == without_tokens(page)


def without_tokens(page):
    import re

    return re.sub(r'(csrf[^>]*?(?:value|content)=")[^"]+"', r'\1"', page)


def test_every_searchable_kind_names_the_attributes_its_document_is_made_of():
    from sqlalchemy import inspect as inspect_model

    assert set(search.SOURCES) == set(search.KINDS)
    for model, names in search.SOURCES.items():
        mapper = inspect_model(model)
        # An episode's document holds its guests too: a relationship, named the same way.
        columns = set(mapper.columns.keys()) | set(mapper.relationships.keys())
        assert set(names) <= columns, (model.__name__, set(names) - columns)


def _documents_and_generation():
    from coprod_study.models import SearchDocument, SearchGeneration

    ids = sorted(db.session.scalars(db.select(SearchDocument.id)))
    return ids, db.session.get(SearchGeneration, search.GENERATION_ID).value


def test_a_change_the_documents_do_not_show_rewrites_nothing(world):
    thread = discussion.create_thread(world["facilitator"], world["group"], title="Pins", body="x")
    before = _documents_and_generation()
    discussion.set_flags(world["facilitator"], thread, pinned=True)
    db.session.expire_all()
    assert _documents_and_generation() == before
    answer_service.edit_answer(world["bob"], bob_answer(world), "Bob rewrites his kaleidoscope")
    db.session.expire_all()
    ids, generation = _documents_and_generation()
    assert generation == before[1] + 1 and ids != before[0]


@pytest.mark.parametrize(
    "typed",
    ["[[draft]] and ]] then [[", "]]</mark><b>bold</b><mark>[[", "\x02quiet\x03 \x03 \x02"],
)
def test_typed_markers_show_as_typed_and_only_the_search_word_is_marked(world, typed):
    thread = discussion.create_thread(world["facilitator"], world["group"], title="Notes", body="x")
    discussion.reply(world["bob"], thread, f"zeppelin {typed} plan")
    world["episode"].summary = f"zeppelin {typed} summary"
    db.session.commit()
    # PostgreSQL's headline leaves HTML tags out of a snippet; the brackets stay.
    shown = typed.replace("\x02", "").replace("\x03", "")
    if db.engine.dialect.name == "postgresql":
        for tag in ("<mark>", "</mark>", "<b>", "</b>"):
            shown = shown.replace(tag, " ")
    for kind in ("post", "episode"):
        snippet = str(search.search(world["facilitator"], "zeppelin").groups[kind][0].snippet)
        assert snippet.count("<mark>") == 1 and snippet.count("</mark>") == 1, (kind, snippet)
        assert "<mark>zeppelin</mark>" in snippet, (kind, snippet)
        assert " ".join(str(escape(shown)).split()) in " ".join(snippet.split()), (kind, snippet)
        assert "<b>" not in snippet
