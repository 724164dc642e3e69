"""/admin/episodes: editing the catalog in the browser, as strictly as the catalog file."""

import re

import pytest
from sqlalchemy import func, select

from coprod_study.catalog import export as catalog_export
from coprod_study.catalog import service as catalog
from coprod_study.extensions import db
from coprod_study.models import (
    Answer,
    AuditEntry,
    Chapter,
    ContentTranslation,
    Episode,
    Person,
    StudyQuestion,
    Transcript,
)
from tests import factories as f
from tests.conftest import login, post_form

EPISODE = "respect-in-the-room"
EDIT = f"/admin/episodes/{EPISODE}"


@pytest.fixture
def admin_client(client, sample_catalog):
    login(client, f.make_user(role="admin"))
    return client


def episode() -> Episode:
    db.session.expire_all()
    return db.session.scalar(select(Episode).where(Episode.slug == EPISODE))


def fields(**changes) -> dict:
    data = {
        "slug": EPISODE,
        "number": "1",
        "title": "Respect in the Room",
        "dimension": "mutual-respect",
        "related_dimensions": ["shared-knowing", "co-design"],
        "published": "2024-03-05",
        "audio_url": "https://media.example.org/coproduction/ep01.mp3",
        "duration": "38:20",
        "host": "Paul Batalden",
        "summary": "A summary.",
        "sample": "y",
    }
    data.update(changes)
    return data


def errors(response) -> str:
    return " ".join(re.findall(r'class="(?:error|form-errors)"[^>]*>(.*?)</(?:p|div)>', response.get_data(as_text=True), re.S))


# --- Who may edit ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["learner", "facilitator", "educator"])
def test_only_admins_edit_the_catalog(client, sample_catalog, role):
    login(client, f.make_user(role=role))
    for path in ("/admin/episodes", "/admin/episodes/new", EDIT):
        assert client.get(path).status_code == 403
    response = post_form(client, f"{EDIT}/takeaways/add", {"takeaways-new-kind": "key_lesson", "takeaways-new-text": "x"})
    assert response.status_code == 403
    assert "x" not in [t.text for t in episode().takeaways]


def test_visitors_are_sent_to_sign_in(client, sample_catalog):
    assert client.get("/admin/episodes").status_code == 302


def test_the_editor_shows_everything_with_labels(admin_client):
    page = admin_client.get(EDIT).get_data(as_text=True)
    for text in ("Marta Ellison", "Respect shows in behaviour", "Think of a health care visit",
                 "Coproduction of healthcare service", "Opening", "Upload or replace a transcript"):
        assert text in page
    # Every input has a label.
    ids = set(re.findall(r'<(?:input|textarea|select)[^>]*\sid="([^"]+)"', page))
    labelled = set(re.findall(r'<label[^>]*for="([^"]+)"', page))
    hidden = {
        re.search(r'id="([^"]+)"', tag).group(1)
        for tag in re.findall(r"<input[^>]*>", page)
        if 'type="hidden"' in tag and 'id="' in tag
    }
    assert ids - hidden - labelled == set()
    assert "<script" not in page.split("</head>")[1]


# --- The episode's fields ---------------------------------------------------------------------------


def test_editing_the_fields_saves_and_audits(admin_client):
    response = post_form(admin_client, EDIT, fields(title="Respect, Revisited", duration="40:00", host=""))
    assert response.status_code == 302
    item = episode()
    assert (item.title, item.duration_seconds, item.host_name) == ("Respect, Revisited", 2400, None)
    assert db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc())) == "catalog.episode_updated"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"slug": "Not A Slug"}, "Slug must be lowercase letters"),
        ({"slug": "what-each-of-us-knows"}, "used by episode 2"),
        ({"number": "2"}, "Number 2 is used by episode &#34;what-each-of-us-knows&#34;"),
        ({"number": "0"}, "Number must be a positive whole number"),
        ({"number": "one"}, "Not a valid integer"),
        ({"title": ""}, "Enter a title."),
        ({"audio_url": "ftp://example.org/x.mp3"}, "Audio URL must be an http(s) URL"),
        ({"duration": "forty"}, "Duration must be mm:ss"),
        ({"published": "2024-13-45"}, "Not a valid date"),
        ({"dimension": "no-such"}, "Not a valid choice"),
    ],
)
def test_bad_fields_are_refused_like_the_file_and_keep_what_was_typed(admin_client, changes, message):
    before = (episode().title, episode().number, episode().slug)
    response = post_form(admin_client, EDIT, fields(**changes, summary="Typed summary kept"))
    assert response.status_code == 400
    assert message in errors(response)
    assert "Typed summary kept" in response.get_data(as_text=True)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    item = episode()
    assert (item.title, item.number, item.slug) == before


def test_renaming_the_slug_keeps_the_episode(admin_client):
    original = episode().id
    response = post_form(admin_client, EDIT, fields(slug="respect-first"))
    assert response.headers["Location"] == "/admin/episodes/respect-first"
    assert db.session.scalar(select(Episode.id).where(Episode.slug == "respect-first")) == original
    assert db.session.scalar(select(func.count()).select_from(Episode)) == 5


def test_creating_an_episode(admin_client):
    response = post_form(admin_client, "/admin/episodes/new", fields(
        slug="a-new-one", number="6", title="A New One", related_dimensions=[], published="", audio_url="",
        duration="", host="", summary="", sample="",
    ), token_from="/admin/episodes/new")
    assert response.status_code == 302
    made = db.session.scalar(select(Episode).where(Episode.slug == "a-new-one"))
    assert made.number == 6 and made.is_sample is False
    response = post_form(admin_client, "/admin/episodes/new", fields(slug="a-new-one", number="7"), token_from="/admin/episodes/new")
    assert response.status_code == 400 and "used by episode 6" in response.get_data(as_text=True)


def test_deleting_an_episode_only_without_answers(admin_client):
    group = f.make_group()
    _, question = f.first_question(group)
    f.make_answer(group, group.created_by, question, "Kept")
    response = post_form(admin_client, f"{EDIT}/delete")
    assert response.status_code == 302
    assert episode() is not None
    assert "cannot be deleted" in admin_client.get(EDIT).get_data(as_text=True)
    slug = db.session.scalar(select(Episode.slug).where(Episode.number == 5))
    assert post_form(admin_client, f"/admin/episodes/{slug}/delete").status_code == 302
    assert db.session.scalar(select(Episode).where(Episode.slug == slug)) is None
    assert db.session.scalar(select(func.count()).select_from(Episode)) == 4


# --- Items and their order ---------------------------------------------------------------------------


def test_add_edit_move_and_delete_a_takeaway(admin_client):
    add = post_form(admin_client, f"{EDIT}/takeaways/add", {"takeaways-new-kind": "start_applying", "takeaways-new-text": "Try it tomorrow"})
    assert add.status_code == 302
    texts = [t.text for t in episode().takeaways]
    assert texts[-1] == "Try it tomorrow"
    last = len(texts)
    assert post_form(admin_client, f"{EDIT}/takeaways/{last}/move", {"direction": "up"}).status_code == 302
    assert [t.text for t in episode().takeaways][last - 2] == "Try it tomorrow"
    save = post_form(admin_client, f"{EDIT}/takeaways/{last - 1}", {
        f"takeaways-{last - 1}-kind": "key_lesson", f"takeaways-{last - 1}-text": "Try it today"})
    assert save.status_code == 302
    assert [t.text for t in episode().takeaways][last - 2] == "Try it today"
    assert post_form(admin_client, f"{EDIT}/takeaways/{last - 1}/delete").status_code == 302
    assert "Try it today" not in [t.text for t in episode().takeaways]
    assert len(episode().takeaways) == last - 1


def test_moving_takeaways_carries_their_translations(admin_client):
    def swedish():
        item = episode()
        rows = {r.entity_id: r.text for r in db.session.scalars(select(ContentTranslation).where(
            ContentTranslation.entity == "takeaway", ContentTranslation.language == "sv"))}
        return [(t.text, rows.get(t.id)) for t in item.takeaways]

    before = swedish()
    assert before[0][1] and before[1][1]
    post_form(admin_client, f"{EDIT}/takeaways/1/move", {"direction": "down"})
    assert swedish() == [before[1], before[0], *before[2:]]


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("takeaways", {"kind": "key_lesson", "text": ""}, "Write the takeaway."),
        ("takeaways", {"kind": "key_lesson", "text": "   "}, "Write the takeaway."),
        ("takeaways", {"kind": "bogus", "text": "x"}, "Not a valid choice"),
        ("references", {"citation": "A book", "url": "javascript:alert(1)"}, "url must be an http(s) URL"),
        ("references", {"citation": "A book", "doi": "not-a-doi"}, "doi must look like 10.1234/abc"),
        ("guests", {"name": "Marta Ellison", "bio": "Someone"}, "is listed twice"),
        ("chapters", {"title": "Late", "start": "2:00:00"}, "starts after the end of the episode"),
        ("chapters", {"title": "Odd", "start": "ten"}, "start must be mm:ss"),
        ("chapters", {"title": "Twin", "start": "0:39"}, "increasing order"),
        ("questions", {"prompt": "x" * 20_001}, "prompt is longer than 20000"),
    ],
)
def test_bad_items_are_refused_like_the_file(admin_client, kind, data, message):
    before = catalog_export.episode_document(episode())
    response = post_form(admin_client, f"{EDIT}/{kind}/add", {f"{kind}-new-{k}": v for k, v in data.items()})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert catalog_export.episode_document(episode()) == before


def test_chapters_stay_in_time_order(admin_client):
    post_form(admin_client, f"{EDIT}/chapters/add", {"chapters-new-title": "Early aside", "chapters-new-start": "0:20"})
    titles = [c.title for c in db.session.scalars(select(Chapter).join(Episode).where(Episode.slug == EPISODE).order_by(Chapter.position))]
    assert titles[:3] == ["Opening", "Early aside", "The nurse who stopped finishing sentences"]


def test_a_known_guest_keeps_their_bio(admin_client):
    slug = "what-each-of-us-knows"
    post_form(admin_client, f"/admin/episodes/{slug}/guests/add", {"guests-new-name": "Marta Ellison", "guests-new-bio": ""})
    bio = db.session.scalar(select(Person.bio).where(Person.name == "Marta Ellison"))
    assert bio.startswith("Sample guest: an invented community nurse")


def test_moving_a_question_moves_its_answers_with_it(admin_client):
    group = f.make_group()
    _, question = f.first_question(group)
    answer = f.make_answer(group, group.created_by, question, "About question one")
    first_prompt = episode().questions[0].prompt
    assert post_form(admin_client, f"{EDIT}/questions/1/move", {"direction": "down"}).status_code == 302
    moved = db.session.get(StudyQuestion, answer.study_question_id)
    assert moved.position == 2 and moved.prompt == first_prompt
    # The group page numbers it 2 now, with its answer.
    page = admin_client.get(f"/groups/{group.slug}/episodes/{EPISODE}/questions/2").get_data(as_text=True)
    assert "About question one" in page


def test_a_question_with_answers_cannot_be_deleted(admin_client):
    group = f.make_group()
    _, question = f.first_question(group)
    f.make_answer(group, group.created_by, question, "Precious")
    count = len(episode().questions)
    response = post_form(admin_client, f"{EDIT}/questions/1/delete")
    assert response.status_code == 302
    assert len(episode().questions) == count
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 1
    assert "has 1 answer" in admin_client.get(EDIT).get_data(as_text=True)
    # One without answers goes, and the rest close up.
    assert post_form(admin_client, f"{EDIT}/questions/2/delete").status_code == 302
    assert [q.position for q in episode().questions] == list(range(1, count))


def test_a_changed_wording_stays_on_earlier_answers_for_facilitators(admin_client, app):
    facilitator = f.make_user(name="Fay")
    group = f.make_group(facilitator)
    member = f.add_member(group, f.make_user())
    _, question = f.first_question(group)
    old_prompt = question.prompt
    f.make_answer(group, member, question, "Answered before the change")
    response = post_form(admin_client, f"{EDIT}/questions/1", {"questions-1-prompt": "A sharper question?", "questions-1-audiences": ["learners"]})
    assert response.status_code == 302
    assert episode().questions[0].prompt == "A sharper question?"
    assert db.session.scalar(select(Answer.question_text)) == old_prompt
    url = f"/groups/{group.slug}/episodes/{EPISODE}/questions/1"
    lead = app.test_client()
    login(lead, facilitator)
    page = lead.get(url).get_data(as_text=True)
    assert "Answered the earlier wording" in page and old_prompt in page
    peer = app.test_client()
    login(peer, member)
    assert "Answered the earlier wording" not in peer.get(url).get_data(as_text=True)
    # A second change keeps the wording the answer was written to.
    post_form(admin_client, f"{EDIT}/questions/1", {"questions-1-prompt": "Third wording?"})
    assert db.session.scalar(select(Answer.question_text)) == old_prompt


def test_a_catalog_file_that_rewords_a_question_keeps_it_too(app, sample_catalog, tmp_path):
    group = f.make_group()
    _, question = f.first_question(group)
    f.make_answer(group, group.created_by, question, "Mine")
    text = catalog.sample_catalog_path().read_text().replace(question.prompt, "Reworded in the file?")
    path = catalog.sample_catalog_path().parent / "reworded-test.toml"
    path.write_text(text)
    try:
        catalog.load_file(path)
    finally:
        path.unlink()
    assert db.session.scalar(select(Answer.question_text)) == question.prompt


# --- Transcripts ---------------------------------------------------------------------------------------

VTT = b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Host>Hello and welcome.\n\n00:00:05.000 --> 00:00:07.000\nGoodbye.\n"


def upload(client, language, data, name="t.vtt"):
    from io import BytesIO

    from tests.conftest import csrf_token

    return client.post(
        f"{EDIT}/transcripts",
        data={"csrf_token": csrf_token(client, EDIT), "language": language, "file": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def transcript(language):
    db.session.expire_all()
    return db.session.scalar(
        select(Transcript).join(Episode).where(Episode.slug == EPISODE, Transcript.language == language)
    )


def test_upload_replace_and_delete_a_transcript(admin_client):
    assert upload(admin_client, "de", VTT).status_code == 302
    assert len(transcript("de").segments) == 2
    assert upload(admin_client, "de", VTT.replace(b"Goodbye.", b"Farewell.")).status_code == 302
    assert transcript("de").segments[-1].text == "Farewell."
    assert post_form(admin_client, f"{EDIT}/transcripts/de/delete").status_code == 302
    assert transcript("de") is None
    assert post_form(admin_client, f"{EDIT}/transcripts/de/delete").status_code == 404


def test_a_bad_transcript_names_the_line_and_keeps_the_old_one(admin_client):
    before = transcript("en").vtt
    bad = b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nFine.\n\n00:00:09 --> nonsense\nBroken.\n"
    response = upload(admin_client, "en", bad)
    assert response.status_code == 400
    assert "Line 6" in response.get_data(as_text=True)
    assert transcript("en").vtt == before
    assert upload(admin_client, "xx", VTT).status_code == 400


# --- Export after editing ---------------------------------------------------------------------------------


def test_an_edit_in_the_browser_exports_and_loads_back_unchanged(admin_client, tmp_path):
    post_form(admin_client, f"{EDIT}/takeaways/add", {"takeaways-new-kind": "key_lesson", "takeaways-new-text": "From the browser"})
    post_form(admin_client, f"{EDIT}/questions/add", {"questions-new-prompt": "Browser question?", "questions-new-audiences": ["researchers"]})
    path = tmp_path / "catalog.toml"
    catalog_export.export_catalog(path)
    assert "From the browser" in path.read_text()
    result = catalog.load_file(path)
    assert (result.created, result.updated) == (0, 0)


def test_a_group_question_reworded_by_its_facilitator_keeps_the_wording(app, sample_catalog):
    from coprod_study.groups import service as group_service

    facilitator = f.make_user()
    group = f.make_group(facilitator)
    extra = group_service.add_extra_question(facilitator, group, episode(), "Our own question?")
    member = f.add_member(group, f.make_user())
    question = next(q for q in group_service.questions_for(episode(), [extra]) if q.is_extra)
    f.make_answer(group, member, question, "Answer to our own")
    db.session.expire_all()  # the prompt is set without being read first
    group_service.edit_extra_question(facilitator, group, extra.id, "Our sharper question?")
    assert db.session.scalar(select(Answer.question_text)) == "Our own question?"


# --- One save for the whole page ----------------------------------------------------------------


def whole_page(**changes) -> dict:
    """What the editor's one form sends: the fields and every item as the page shows it."""
    current = episode()
    data = {**fields(), "whole_page": "1"}
    for index, question in enumerate(current.questions, start=1):
        data[f"questions-{index}-prompt"] = question.prompt
        data[f"questions-{index}-audiences"] = list(question.audiences or [])
    for index, takeaway in enumerate(current.takeaways, start=1):
        data[f"takeaways-{index}-kind"] = takeaway.kind
        data[f"takeaways-{index}-text"] = takeaway.text
    data.update(changes)
    return data


def test_the_editor_is_one_form_with_one_save(admin_client):
    page = admin_client.get(EDIT).get_data(as_text=True)
    editor = page.split('<form method="post" action="/admin/episodes/respect-in-the-room" id="episode-editor"')[1]
    editor = editor.split("</form>")[0]
    assert 'name="questions-1-prompt"' in editor and 'name="questions-2-prompt"' in editor
    assert 'name="title"' in editor and 'name="takeaways-new-text"' in editor
    assert "Save all changes" in editor and "Save question 1" not in page
    # Move, delete and add buttons belong to the same form, so they carry what was typed.
    assert 'formaction="/admin/episodes/respect-in-the-room/questions/2/move"' in editor


def test_saving_keeps_every_edit_on_the_page(admin_client):
    response = post_form(admin_client, EDIT, whole_page(**{
        "questions-1-prompt": "First question, reworded?",
        "questions-2-prompt": "Second question, reworded?",
        "title": "Respect, Revisited",
    }))
    assert response.status_code == 302
    current = episode()
    assert [q.prompt for q in current.questions][:2] == [
        "First question, reworded?", "Second question, reworded?",
    ]
    assert current.title == "Respect, Revisited"
    assert "All changes are saved." in admin_client.get(EDIT).get_data(as_text=True)


def test_a_bad_item_refuses_the_page_and_keeps_everything_typed(admin_client):
    before = [q.prompt for q in episode().questions]
    response = post_form(admin_client, EDIT, whole_page(**{
        "questions-1-prompt": "Kept wording?",
        "questions-2-prompt": "",
        "takeaways-1-text": "A kept takeaway",
    }))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Write the question." in page
    assert "Kept wording?" in page and "A kept takeaway" in page
    assert [q.prompt for q in episode().questions] == before


def test_move_carries_the_edits_typed_on_the_page(admin_client):
    response = post_form(admin_client, f"{EDIT}/questions/2/move", whole_page(**{
        "direction": "up", "questions-1-prompt": "Edited before the move?",
    }))
    assert response.status_code == 302
    prompts = [q.prompt for q in episode().questions]
    assert prompts[1] == "Edited before the move?"


def test_adding_from_the_page_keeps_the_other_edits(admin_client):
    count = len(episode().takeaways)
    response = post_form(admin_client, f"{EDIT}/takeaways/add", whole_page(**{
        "takeaways-new-kind": "start_applying", "takeaways-new-text": "Try it tomorrow",
        "questions-1-prompt": "Edited while adding?",
    }))
    assert response.status_code == 302
    current = episode()
    assert len(current.takeaways) == count + 1 and current.takeaways[-1].text == "Try it tomorrow"
    assert current.questions[0].prompt == "Edited while adding?"


def test_deleting_a_chapter_whose_start_was_just_changed_deletes_that_chapter(admin_client):
    def chapters():
        db.session.expire_all()
        return [(c.title, c.start_seconds) for c in db.session.scalars(
            select(Chapter).join(Episode).where(Episode.slug == EPISODE).order_by(Chapter.position)
        )]

    before = chapters()
    data = whole_page()
    for index, (title, start) in enumerate(before, start=1):
        data[f"chapters-{index}-title"] = title
        data[f"chapters-{index}-start"] = f"{start // 60}:{start % 60:02d}"
    # The first chapter moves to the end by its new start, and is deleted in the same press.
    data["chapters-1-start"] = "38:00"
    response = post_form(admin_client, f"{EDIT}/chapters/1/delete", data)
    assert response.status_code == 302
    assert [title for title, _start in chapters()] == [title for title, _start in before[1:]]
