"""The catalog: its loader and CLI commands, and the catalog pages."""

import re
import shutil
import tomllib
from textwrap import dedent

import pytest
from sqlalchemy import func, select

from coprod_study.catalog import service as catalog
from coprod_study.extensions import db
from coprod_study.models import (
    AuditEntry,
    Dimension,
    Episode,
    EpisodeGuest,
    ListeningProgress,
    Person,
    Reference,
    StudyQuestion,
    Takeaway,
    User,
)
from coprod_study.models.catalog import dimension_relations, episode_related_dimensions
from tests.conftest import csrf_token, login, post_form

COUNTED = [
    Dimension,
    Episode,
    EpisodeGuest,
    Person,
    Takeaway,
    StudyQuestion,
    Reference,
    dimension_relations,
    episode_related_dimensions,
]
EPISODE = "respect-in-the-room"


def row_counts() -> dict[str, int]:
    db.session.expire_all()
    counts = {}
    for model in COUNTED:
        table = getattr(model, "__table__", model)
        counts[table.name] = db.session.scalar(select(func.count()).select_from(table))
    return counts


def queries(statements: list[str]) -> list[str]:
    """The statements that read or write, without transaction control."""
    return [s for s in statements if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]


def sample_text() -> str:
    return catalog.sample_catalog_path().read_text()


def sample_episode_count() -> int:
    return len(tomllib.loads(sample_text())["episodes"])


def write(tmp_path, text: str, name="catalog.toml"):
    path = tmp_path / name
    path.write_text(dedent(text))
    # The sample names transcript files beside it; bring them along.
    transcripts = catalog.sample_catalog_path().parent / "transcripts"
    if transcripts.is_dir() and not (tmp_path / "transcripts").exists():
        shutil.copytree(transcripts, tmp_path / "transcripts")
    return path


VALID_HEAD = """
[[dimensions]]
slug = "respect"
name = "Respect"
description = "Treat each other as partners."
related = ["knowing"]

[[dimensions]]
slug = "knowing"
name = "Knowing"
"""


def episode_toml(slug="good-one", number=1, **overrides) -> str:
    fields = {
        "slug": f'"{slug}"',
        "number": str(number),
        "title": '"A good episode"',
        "dimension": '"respect"',
        "duration": '"12:30"',
        "audio_url": '"https://media.example.org/a.mp3"',
    }
    fields.update(overrides)
    head = "\n".join(f"{key} = {value}" for key, value in fields.items() if value is not None)
    takeaway_kind = fields.pop("_kind", '"key_lesson"')
    return f"""
[[episodes]]
{head}

  [[episodes.guests]]
  name = "Guest One"
  bio = "Invented."

  [[episodes.takeaways]]
  kind = {takeaway_kind}
  text = "Listen."

  [[episodes.questions]]
  prompt = "First?"

  [[episodes.questions]]
  prompt = "Second?"
  audiences = ["learners"]

  [[episodes.references]]
  citation = "Someone. A paper. 2020."
  doi = "10.1234/abc.def"
"""


# --- the loader ----------------------------------------------------------------


def test_sample_catalog_loads_with_the_promised_shape(app):
    result = catalog.load_file(catalog.sample_catalog_path())
    episodes = db.session.scalars(select(Episode).order_by(Episode.number)).all()
    assert len(episodes) >= 4
    assert result.created == len(episodes) == sample_episode_count()
    assert (result.updated, result.unchanged) == (0, 0)
    dois = 0
    for episode in episodes:
        assert episode.is_sample
        assert episode.dimension is not None
        assert episode.audio_url and episode.duration_seconds
        assert 1 <= len(episode.guests) <= 2
        assert all(g.person.bio for g in episode.guests)
        assert 3 <= len(episode.takeaways) <= 5
        assert 4 <= len(episode.questions) <= 6
        assert [q.position for q in episode.questions] == list(range(1, len(episode.questions) + 1))
        assert 3 <= len(episode.references) <= 5
        dois += sum(1 for r in episode.references if r.doi)
        assert "<script" not in episode.summary_html
    assert dois >= 3
    first = episodes[0]
    # The packaged sample recording's length (scripts/make_sample_audio.py).
    assert first.duration_seconds == 5 * 60 + 17
    assert {t.kind for t in first.takeaways} <= {"key_lesson", "idea_to_ponder", "start_applying"}


def test_loading_twice_changes_nothing(app):
    catalog.load_file(catalog.sample_catalog_path())
    counts = row_counts()
    question_ids = sorted(db.session.scalars(select(StudyQuestion.id)))
    result = catalog.load_file(catalog.sample_catalog_path())
    assert result.created == 0
    assert result.updated == 0
    assert result.unchanged == sample_episode_count()
    assert row_counts() == counts
    assert sorted(db.session.scalars(select(StudyQuestion.id))) == question_ids


def test_editing_a_question_updates_it_in_place(app, tmp_path):
    catalog.load_file(catalog.sample_catalog_path())
    episode = db.session.scalar(select(Episode).where(Episode.slug == EPISODE))
    question = episode.questions[1]
    question_id, old_prompt = question.id, question.prompt
    counts = row_counts()

    text = sample_text()
    assert text.count(old_prompt) == 1
    path = write(tmp_path, text.replace(old_prompt, "An edited prompt?"))
    result = catalog.load_file(path)

    assert (result.created, result.updated) == (0, 1)
    assert result.unchanged == sample_episode_count() - 1
    db.session.expire_all()
    edited = db.session.get(StudyQuestion, question_id)
    assert edited.prompt == "An edited prompt?"
    assert edited.position == 2
    assert row_counts() == counts


def test_adding_and_removing_questions(app, tmp_path):
    base = VALID_HEAD + episode_toml()
    catalog.load_file(write(tmp_path, base))
    first_id = db.session.scalar(select(StudyQuestion.id).where(StudyQuestion.position == 1))
    fewer = base.replace(
        '  [[episodes.questions]]\n  prompt = "Second?"\n  audiences = ["learners"]\n', ""
    )
    result = catalog.load_file(write(tmp_path, fewer, "fewer.toml"))
    assert result.updated == 1
    db.session.expire_all()
    assert db.session.scalars(select(StudyQuestion.id)).all() == [first_id]


def test_a_new_episode_is_created_next_to_existing_ones(app, tmp_path):
    catalog.load_file(write(tmp_path, VALID_HEAD + episode_toml()))
    result = catalog.load_file(
        write(tmp_path, VALID_HEAD + episode_toml() + episode_toml("second", 2), "two.toml")
    )
    assert (result.created, result.updated, result.unchanged) == (1, 0, 1)
    # The guest is one person appearing in two episodes.
    assert row_counts()["people"] == 1
    assert row_counts()["episode_guests"] == 2


def test_swapping_episode_numbers_loads(app, tmp_path):
    catalog.load_file(write(tmp_path, VALID_HEAD + episode_toml("a", 1) + episode_toml("b", 2)))
    result = catalog.load_file(
        write(tmp_path, VALID_HEAD + episode_toml("a", 2) + episode_toml("b", 1), "swap.toml")
    )
    assert result.updated == 2
    db.session.expire_all()
    numbers = {
        slug: number for slug, number in db.session.execute(select(Episode.slug, Episode.number))
    }
    assert numbers == {"a": 2, "b": 1}


def test_a_number_held_by_an_episode_outside_the_file_is_a_problem(app, tmp_path):
    catalog.load_file(write(tmp_path, VALID_HEAD + episode_toml("a", 1) + episode_toml("b", 2)))
    before = row_counts()
    problems = _refused(write(tmp_path, VALID_HEAD + episode_toml("c", 2), "c.toml"))
    assert problems == ['episode "c": number 2 is used by episode "b", which is not in this file']
    assert row_counts() == before


def _refused(path) -> list[str]:
    with pytest.raises(catalog.CatalogError) as caught:
        catalog.load_file(path)
    return caught.value.problems


def test_a_bad_file_is_refused_as_a_whole_with_every_problem_named(app, tmp_path):
    bad = episode_toml("broken-one", 2, title='""').replace(
        '  [[episodes.questions]]\n  prompt = "Second?"',
        '  [[episodes.questions]]\n  prompt = "Second?"\n\n'
        '  [[episodes.questions]]\n  prompt = "   "',
    )
    # The first episode is valid: it must not be written either.
    path = write(tmp_path, VALID_HEAD + episode_toml("fine-first", 1) + bad)
    before = row_counts()
    problems = _refused(path)
    assert 'episode "broken-one": question 3: empty prompt' in problems
    assert 'episode "broken-one": empty title' in problems
    assert not any("fine-first" in problem for problem in problems)
    assert row_counts() == before
    assert before["episodes"] == 0


def test_a_bad_file_leaves_an_existing_catalog_untouched(app, tmp_path):
    catalog.load_file(catalog.sample_catalog_path())
    before = row_counts()
    prompts = db.session.scalars(select(StudyQuestion.prompt).order_by(StudyQuestion.id)).all()
    text = sample_text().replace('slug = "care-between-visits"', 'slug = "Care Between"')
    text = text.replace("Respect in the Room", "Changed Title", 1)
    problems = _refused(write(tmp_path, text))
    assert any("slug must be lowercase" in p for p in problems)
    assert row_counts() == before
    assert db.session.scalar(select(Episode.title).where(Episode.number == 1)) == (
        "Respect in the Room"
    )
    assert (
        db.session.scalars(select(StudyQuestion.prompt).order_by(StudyQuestion.id)).all() == prompts
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            VALID_HEAD + episode_toml(dimension='"nowhere"'),
            'episode "good-one": dimension "nowhere" is not defined',
        ),
        (
            VALID_HEAD + episode_toml("one", 1) + episode_toml("two", 1),
            'episode "two": number 1 used twice',
        ),
        (
            VALID_HEAD + episode_toml("one", 1) + episode_toml("one", 2),
            'episode "one": slug used twice',
        ),
        (
            VALID_HEAD + episode_toml(number='"seven"'),
            'episode "good-one": number must be a positive whole number',
        ),
        (
            VALID_HEAD + episode_toml().replace('"key_lesson"', '"hot_take"'),
            'episode "good-one": takeaway 1: kind must be one of',
        ),
        (
            VALID_HEAD + episode_toml().replace('["learners"]', '["learners", "aliens"]'),
            'episode "good-one": question 2: audiences must be chosen from',
        ),
        (
            VALID_HEAD + episode_toml().replace('"10.1234/abc.def"', '"doi:not-a-doi"'),
            'episode "good-one": reference 1: doi must look like 10.1234/abc',
        ),
        (
            VALID_HEAD + episode_toml(duration='"about an hour"'),
            'episode "good-one": duration must be mm:ss, h:mm:ss or whole seconds',
        ),
        (
            VALID_HEAD + episode_toml(duration='"12:75"'),
            'episode "good-one": duration must be',
        ),
        (
            VALID_HEAD + episode_toml(duration="-5"),
            'episode "good-one": duration must be',
        ),
        (
            VALID_HEAD + episode_toml(audio_url='"javascript:alert(1)"'),
            'episode "good-one": audio_url must be an http(s) URL',
        ),
        (
            VALID_HEAD + episode_toml(published='"last spring"'),
            'episode "good-one": published must be a date',
        ),
        (
            VALID_HEAD + episode_toml(slug="Not A Slug"),
            "slug must be lowercase letters, digits and hyphens",
        ),
        (
            VALID_HEAD + episode_toml(related_dimensions='["ghost"]'),
            'episode "good-one": related_dimensions must list defined dimension slugs',
        ),
        (
            VALID_HEAD.replace('related = ["knowing"]', 'related = ["respect"]') + episode_toml(),
            'dimension "respect": a dimension cannot relate to itself',
        ),
        (
            VALID_HEAD.replace('related = ["knowing"]', 'related = ["elsewhere"]') + episode_toml(),
            'dimension "respect": related dimension "elsewhere" is not defined',
        ),
        (
            VALID_HEAD + episode_toml().replace('  name = "Guest One"\n', ""),
            'episode "good-one": guest 1: empty name',
        ),
        (
            VALID_HEAD + episode_toml().replace('citation = "Someone. A paper. 2020."', ""),
            'episode "good-one": reference 1: empty citation',
        ),
        (VALID_HEAD, "catalog: no episodes"),
    ],
    ids=[
        "unknown-dimension",
        "duplicate-number",
        "duplicate-slug",
        "number-not-int",
        "bad-takeaway-kind",
        "bad-audience",
        "bad-doi",
        "bad-duration-words",
        "bad-duration-seconds",
        "negative-duration",
        "bad-audio-url",
        "bad-date",
        "bad-slug",
        "unknown-related-dimension",
        "self-related-dimension",
        "undefined-dimension-relation",
        "guest-without-name",
        "reference-without-citation",
        "no-episodes",
    ],
)
def test_bad_files_are_refused_with_a_named_problem(app, tmp_path, text, expected):
    problems = _refused(write(tmp_path, text))
    assert any(expected in problem for problem in problems), problems
    assert row_counts()["episodes"] == 0


def test_a_guest_listed_twice_in_one_episode_is_a_problem_not_a_crash(app, tmp_path):
    text = VALID_HEAD + episode_toml().replace(
        "  [[episodes.takeaways]]",
        '  [[episodes.guests]]\n  name = "Guest One"\n  bio = "Invented."\n\n'
        "  [[episodes.takeaways]]",
    )
    problems = _refused(write(tmp_path, text))
    assert any('episode "good-one": guest 2' in problem for problem in problems), problems
    assert row_counts()["episodes"] == 0


def test_one_guest_with_two_different_bios_is_a_problem(app, tmp_path):
    second = episode_toml("second", 2).replace('bio = "Invented."', 'bio = "Someone else."')
    problems = _refused(write(tmp_path, VALID_HEAD + episode_toml() + second))
    assert any("Guest One" in problem and "bio" in problem for problem in problems), problems


def test_invalid_toml_is_refused(app, tmp_path):
    problems = _refused(write(tmp_path, '[[episodes]]\nslug = "unterminated\n'))
    assert len(problems) == 1
    assert "not valid TOML" in problems[0]
    assert row_counts()["episodes"] == 0


def test_a_missing_file_is_refused(app, tmp_path):
    problems = _refused(tmp_path / "nowhere.toml")
    assert "no such file" in problems[0]


@pytest.mark.parametrize(
    "text",
    ['episodes = "not a list"', "episodes = [1, 2]", "[[dimensions]]\nslug = 5\n"],
    ids=["episodes-not-list", "episodes-not-tables", "slug-not-text"],
)
def test_badly_shaped_documents_are_refused_not_crashed(app, tmp_path, text):
    problems = _refused(write(tmp_path, text))
    assert problems


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("38:20", 2300), ("1:02:30", 3750), (90, 90), ("0:05", 5)],
)
def test_parse_duration(value, seconds):
    assert catalog.parse_duration(value) == seconds


@pytest.mark.parametrize(("seconds", "text"), [(2300, "38:20"), (3750, "1:02:30"), (None, "")])
def test_format_duration(seconds, text):
    assert catalog.format_duration(seconds) == text


# --- the command line ------------------------------------------------------------


@pytest.fixture
def runner(app):
    # The CLI runs in its own app context and session; end ours so it can write.
    db.session.commit()

    class Runner:
        def invoke(self, *args, **kwargs):
            db.session.commit()
            result = app.test_cli_runner().invoke(*args, **kwargs)
            db.session.expire_all()
            return result

    return Runner()


def test_cli_load_catalog(app, runner, tmp_path):
    result = runner.invoke(args=["load-catalog", str(catalog.sample_catalog_path())])
    assert result.exit_code == 0, result.output
    count = sample_episode_count()
    assert f"Catalog loaded: {count} created, 0 updated, 0 unchanged." in result.output
    assert row_counts()["episodes"] == count
    again = runner.invoke(args=["load-catalog", str(catalog.sample_catalog_path())])
    assert f"0 created, 0 updated, {count} unchanged." in again.output


def test_cli_load_catalog_refuses_a_bad_file(app, runner, tmp_path):
    path = write(
        tmp_path,
        VALID_HEAD + episode_toml("fine", 1) + episode_toml("bad", 2, dimension='"nowhere"'),
    )
    result = runner.invoke(args=["load-catalog", str(path)])
    assert result.exit_code != 0
    assert 'episode "bad": dimension "nowhere" is not defined' in result.output
    assert "Nothing was loaded: 1 problem(s)." in result.output
    assert "Traceback" not in result.output
    assert row_counts()["episodes"] == 0


def test_cli_create_admin_with_password_from_environment(app, runner):
    result = runner.invoke(
        args=["create-admin", "Boss@Example.org", "--name", "The Boss"],
        env={"COPROD_ADMIN_PASSWORD": "a sturdy admin passphrase"},
    )
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.org" in result.output
    admin = db.session.scalar(select(User).where(User.email == "boss@example.org"))
    assert admin.role == "admin"
    assert admin.display_name == "The Boss"
    client = app.test_client()
    login(client, "boss@example.org", password="a sturdy admin passphrase")
    assert client.get("/admin/").status_code == 200


def test_cli_create_admin_refuses_a_weak_password(app, runner):
    result = runner.invoke(
        args=["create-admin", "boss@example.org"], env={"COPROD_ADMIN_PASSWORD": "password123"}
    )
    assert result.exit_code != 0
    assert "too common" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_cli_create_admin_promotes_an_existing_account(app, runner, make_user):
    user = make_user(email="old@example.org")
    result = runner.invoke(args=["create-admin", "OLD@example.org"])
    assert result.exit_code == 0, result.output
    assert "it is now an admin" in result.output
    db.session.refresh(user)
    assert user.role == "admin"


def test_cli_set_role_changes_the_role_and_audits_it(app, runner, make_user):
    user = make_user(email="fac@example.org")
    result = runner.invoke(args=["set-role", "FAC@example.org", "facilitator"])
    assert result.exit_code == 0, result.output
    assert "fac@example.org is now facilitator." in result.output
    db.session.refresh(user)
    assert user.role == "facilitator"
    entry = db.session.scalar(select(AuditEntry))
    assert entry.actor_id is None
    assert entry.subject_user_id == user.id
    assert entry.details == {"from": "learner", "to": "facilitator"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set-role", "fac@example.org", "overlord"], "Unknown role 'overlord'"),
        (["set-role", "nobody@example.org", "admin"], "No account with the e-mail"),
    ],
    ids=["unknown-role", "unknown-email"],
)
def test_cli_set_role_errors(app, runner, make_user, args, message):
    user = make_user(email="fac@example.org")
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    db.session.refresh(user)
    assert user.role == "learner"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


# --- pages -------------------------------------------------------------------------


def test_episode_list_shows_every_episode(client, sample_catalog):
    page = client.get("/episodes").get_data(as_text=True)
    titles = db.session.scalars(select(Episode.title)).all()
    assert len(titles) == sample_episode_count()
    for title in titles:
        assert title in page
    assert "Sample content" in page


def test_episode_list_filters_by_dimension(client, sample_catalog):
    page = client.get("/episodes?dimension=co-execution").get_data(as_text=True)
    assert "Care Between Visits" in page  # main dimension
    assert "Planning the Next Step Together" in page  # related dimension
    assert "Respect in the Room" not in page
    assert '<option value="co-execution" selected>' in page


def test_episode_list_with_an_unknown_dimension_says_so(client, sample_catalog):
    response = client.get("/episodes?dimension=no-such-thing")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is no such dimension; showing every episode." in page
    assert "Respect in the Room" in page and "Care Between Visits" in page


def test_episode_page_shows_everything(client, sample_catalog):
    response = client.get(f"/episodes/{EPISODE}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (
        '<audio controls preload="none" src="/static/audio/sample/respect-in-the-room.mp3"'
        in page
    )
    assert "5:17" in page
    assert "Marta Ellison" in page and "Tomas Reyes" in page
    headings = re.findall(r"<h3>([^<]+)</h3>", page)
    assert headings[:3] == ["Key lessons", "Ideas to ponder", "Start applying it"]
    key_lessons = page.split("<h3>Key lessons</h3>")[1].split("</ul>")[0]
    assert key_lessons.count("<li>") == 2
    assert [int(n) for n in re.findall(r'<li value="(\d+)">', page)] == [1, 2, 3, 4, 5]
    assert '<span class="tag tag-light">Practitioners</span>' in page
    assert '<span class="tag tag-light">Patients and families</span>' in page
    assert 'href="https://doi.org/10.1136/bmjqs-2015-004315"' in page
    assert "Boyle D, Harris M." in page  # a reference without DOI or URL
    assert "sample content written for this app" in page
    assert "Sign in</a> to keep track" in page
    assert "Mark as listened" not in page


def test_episode_page_filters_questions_by_audience(client, sample_catalog):
    page = client.get(f"/episodes/{EPISODE}?audience=researchers").get_data(as_text=True)
    assert "How could you observe or measure mutual respect" in page
    assert "Think of a health care visit where you felt fully respected" not in page
    assert "Which routines in your unit" not in page
    assert re.findall(r'<li value="(\d+)">', page) == ["4"]  # keeps its number
    assert '<option value="researchers" selected>' in page


def test_episode_page_ignores_an_unknown_audience(client, sample_catalog):
    page = client.get(f"/episodes/{EPISODE}?audience=martians").get_data(as_text=True)
    assert len(re.findall(r'<li value="\d+">', page)) == 5


def test_unknown_episode_is_a_styled_404(client, sample_catalog):
    response = client.get("/episodes/no-such-episode")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in page
    assert "/static/css/site.css" in page
    assert "Skip to content" in page


def test_mark_as_listened_and_unmark(client, sample_catalog, make_user):
    user = make_user()
    login(client, user)
    episode = db.session.scalar(select(Episode).where(Episode.slug == EPISODE))
    page = client.get(f"/episodes/{EPISODE}").get_data(as_text=True)
    assert "Mark as listened" in page

    response = post_form(
        client,
        f"/episodes/{EPISODE}/listened",
        {"listened": "1"},
        token_from=f"/episodes/{EPISODE}",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/episodes/{EPISODE}"
    progress = db.session.get(ListeningProgress, (user.id, episode.id))
    assert progress is not None and progress.listened is True
    page = client.get(f"/episodes/{EPISODE}").get_data(as_text=True)
    assert '<span class="badge">Listened</span>' in page
    assert "Marked as listened." in page
    assert '<span class="badge">Listened</span>' in client.get("/episodes").get_data(as_text=True)

    post_form(
        client,
        f"/episodes/{EPISODE}/listened",
        {"listened": "0"},
        token_from=f"/episodes/{EPISODE}",
    )
    db.session.expire_all()
    progress = db.session.get(ListeningProgress, (user.id, episode.id))
    assert progress.listened is False
    page = client.get(f"/episodes/{EPISODE}").get_data(as_text=True)
    assert '<span class="badge">Listened</span>' not in page
    assert "No longer marked as listened." in page
    count = db.session.scalar(select(func.count()).select_from(ListeningProgress))
    assert count == 1


def test_listening_is_per_person(app, sample_catalog, make_user):
    first, second = make_user(), make_user()
    one, two = app.test_client(), app.test_client()
    login(one, first)
    login(two, second)
    post_form(one, f"/episodes/{EPISODE}/listened", {"listened": "1"})
    assert '<span class="badge">Listened</span>' not in two.get(f"/episodes/{EPISODE}").get_data(
        as_text=True
    )


def test_visitor_cannot_mark_as_listened(client, sample_catalog):
    response = client.post(
        f"/episodes/{EPISODE}/listened",
        data={"listened": "1", "csrf_token": csrf_token(client, f"/episodes/{EPISODE}")},
    )
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(ListeningProgress)) == 0


def test_mark_listened_for_an_unknown_episode_is_404(client, sample_catalog, make_user):
    login(client, make_user())
    response = post_form(client, "/episodes/nope/listened", {"listened": "1"})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(ListeningProgress)) == 0


def test_dimensions_page_shows_every_dimension_and_relations_both_ways(client, sample_catalog):
    page = client.get("/dimensions").get_data(as_text=True)
    dimensions = db.session.scalars(select(Dimension)).all()
    assert len(dimensions) >= 4
    sections = {}
    for dimension in dimensions:
        assert f">{dimension.name}</h2>" in page
        section = re.search(rf'<section id="{dimension.slug}".*?</section>', page, re.S).group(0)
        sections[dimension.slug] = section
    one_way = 0
    for dimension in dimensions:
        for other in dimension.relates_to:
            # Listed under A as related to B, and under B linking back to A.
            assert f'href="#{other.slug}"' in sections[dimension.slug]
            assert f'href="#{dimension.slug}"' in sections[other.slug]
            if dimension not in other.relates_to:
                one_way += 1
    assert one_way >= 1  # the sample has relations written down one way only
    # The episodes of a dimension are listed with it.
    assert 'href="/episodes/respect-in-the-room"' in sections["mutual-respect"]
    assert "Also touched on in:" in sections["co-design"]


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"


def test_home_shows_new_episodes(client, sample_catalog):
    page = client.get("/").get_data(as_text=True)
    assert "New episodes" in page
    assert "Improving With Those We Serve" in page  # the newest
    assert "Respect in the Room" not in page  # the oldest, fifth of five
    assert "My study groups" not in page
    assert "Create an account" in page


def test_home_for_signed_in_shows_my_groups_and_due_dates(client, sample_catalog, make_user):
    login(client, make_user())
    page = client.get("/").get_data(as_text=True)
    assert "My study groups" in page
    assert "My due dates" in page
    assert "Create an account" not in page


def test_home_with_an_empty_catalog(client):
    assert "No episodes are in the catalog yet." in client.get("/").get_data(as_text=True)


def test_episode_page_runs_few_queries(client, sample_catalog, make_user, count_queries):
    login(client, make_user())
    client.get("/")  # the welcome message: a page that shows one is not kept
    with count_queries() as first:
        assert client.get(f"/episodes/{EPISODE}").status_code == 200
    with count_queries() as other:
        assert client.get("/episodes/improving-with-those-we-serve").status_code == 200
    assert len(queries(first)) <= 12, first
    assert len(queries(other)) == len(queries(first))


def test_episode_list_runs_a_constant_number_of_queries(
    client, app, tmp_path, sample_catalog, count_queries
):
    with count_queries() as five:
        client.get("/episodes")
    text = sample_text() + "\n".join(
        episode_toml(f"extra-{n}", 100 + n, dimension='"mutual-respect"').replace(
            '"Guest One"', f'"Guest {n}"'
        )
        for n in range(5)
    )
    catalog.load_file(write(tmp_path, text))
    assert row_counts()["episodes"] == sample_episode_count() + 5
    with count_queries() as ten:
        client.get("/episodes")
    assert len(queries(ten)) == len(queries(five)) <= 12


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data
