"""Checkpoints: answers by one date, N replies to peers by a later one, with extensions,
on the progress page, its CSV, the calendar feeds and in reminders."""

from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from coprod_study.courses import calendar as calendar_service
from coprod_study.courses import checkpoint_reminders, checkpoint_reports, progress
from coprod_study.courses import checkpoints as checkpoint_service
from coprod_study.errors import Forbidden
from coprod_study.extensions import db
from coprod_study.models import Answer, AuditEntry, CheckpointExtension, Notification, Reply
from tests import test_courses_progress as progress_tests
from tests.conftest import post_form
from tests.test_courses_progress import NOW, read_csv, signed_in

course = progress_tests.course  # the progress tests' course: Ann on time, Bob late, Cat extended


def local(delta):
    """A wall-clock time in the course's zone (UTC) as the form takes it."""
    return (NOW + delta).replace(tzinfo=None)


def set_checkpoints(course):
    """Answers were due 36 hours ago; one reply to a peer is due tomorrow. Bob replies to Ann."""
    checkpoint_service.save_checkpoints(
        course["first"], answers_due=local(timedelta(hours=-36)), replies_required=1,
        replies_due=local(timedelta(days=1)),
    )
    ann_answer = db.session.scalars(
        select(Answer).where(Answer.user_id == course["ann"].id).order_by(Answer.id)
    ).first()
    db.session.add(Reply(answer_id=ann_answer.id, user_id=course["bob"].id, body="Good point here",
                         body_html="<p>Good point here</p>", created_at=NOW - timedelta(hours=1)))
    db.session.add(CheckpointExtension(assignment_id=course["first"].id, user_id=course["cat"].id,
                                       kind="answers", due_at=NOW + timedelta(hours=40)))
    db.session.commit()


def states(course):
    table = progress.progress_table(course["course"], now=NOW)
    return checkpoint_reports.for_table(table, now=NOW)


def test_each_checkpoint_has_its_own_status_and_extension(course):
    set_checkpoints(course)
    table = states(course)
    first = course["first"].id
    ann_answers = table.state(course["ann"].id, first, "answers")
    assert (ann_answers.done, ann_answers.required, ann_answers.status) == (2, 2, "on_time")
    bob_answers = table.state(course["bob"].id, first, "answers")
    assert bob_answers.status == "late" and bob_answers.timing == "late"
    cat_answers = table.state(course["cat"].id, first, "answers")
    assert cat_answers.extended and cat_answers.status == "due_soon" and cat_answers.done == 0
    # Ann's replies are under her own answer: not replies to peers.
    ann_replies = table.state(course["ann"].id, first, "replies")
    assert (ann_replies.done, ann_replies.required, ann_replies.status) == (0, 1, "due_soon")
    bob_replies = table.state(course["bob"].id, first, "replies")
    assert (bob_replies.done, bob_replies.status) == (1, "on_time")
    # The second assignment has none.
    assert table.state(course["ann"].id, course["second"].id, "answers") is None


def test_the_form_refuses_replies_due_before_the_answers_and_keeps_the_input(app, course):
    client = signed_in(app, course["educator"])
    path = f"/courses/PROG/assignments/{course['first'].id}/checkpoints"
    response = post_form(client, path, {
        "checkpoint-answers_due": "2030-05-02T10:00",
        "checkpoint-replies_required": "3",
        "checkpoint-replies_due": "2030-05-01T10:00",
    }, token_from=path)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The replies are due after the answers: choose a later date." in body
    assert 'value="2030-05-01T10:00"' in body and 'value="3"' in body
    assert checkpoint_service.checkpoints_for([course["first"].id]) == {}
    no_count = post_form(client, path, {"checkpoint-replies_due": "2030-05-03T10:00"},
                         token_from=path)
    assert "Say how many replies to peers are due by that date." in no_count.get_data(as_text=True)
    saved = post_form(client, path, {
        "checkpoint-answers_due": "2030-05-02T10:00",
        "checkpoint-replies_required": "3",
        "checkpoint-replies_due": "2030-05-09T10:00",
    }, token_from=path)
    assert saved.status_code == 302
    checkpoint = checkpoint_service.checkpoints_for([course["first"].id])[course["first"].id]
    assert checkpoint.replies_required == 3
    assert checkpoint.replies_due_at.isoformat().startswith("2030-05-09T10:00")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "course.checkpoints_set"))
    assert entry.actor_id == course["educator"].id and entry.details["replies_required"] == 3
    # A learner of the course cannot set them, through the page or the service.
    learner = signed_in(app, course["ann"])
    assert learner.get(path).status_code == 403
    with pytest.raises(Forbidden):
        checkpoint_service.save_checkpoints(course["first"], answers_due=None, replies_required=0,
                                            replies_due=None, actor=course["ann"])
    assert checkpoint_service.checkpoints_for([course["first"].id])


def test_extensions_of_a_checkpoint_through_the_page(app, course):
    set_checkpoints(course)
    client = signed_in(app, course["educator"])
    path = f"/courses/PROG/assignments/{course['first'].id}/checkpoints"
    early = post_form(client, path + "/extensions", {
        "extension-user_id": str(course["ann"].id), "extension-kind": "replies",
        "extension-due_at": local(timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    }, token_from=path)
    assert early.status_code == 400
    assert "An extension must be later than the checkpoint" in early.get_data(as_text=True)
    granted = post_form(client, path + "/extensions", {
        "extension-user_id": str(course["ann"].id), "extension-kind": "replies",
        "extension-due_at": local(timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
    }, token_from=path)
    assert granted.status_code == 302
    row = db.session.scalar(select(CheckpointExtension).where(
        CheckpointExtension.user_id == course["ann"].id))
    assert row.kind == "replies"
    assert states(course).state(course["ann"].id, course["first"].id, "replies").extended
    removed = post_form(client, f"{path}/extensions/{row.id}/delete", token_from=path)
    assert removed.status_code == 302
    assert db.session.get(CheckpointExtension, row.id) is None
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.subject_user_id == course["ann"].id)
    ).all()
    assert "course.checkpoint_extension_granted" in actions
    assert "course.checkpoint_extension_removed" in actions


def test_progress_page_and_csv_show_both_checkpoints(app, course):
    set_checkpoints(course)
    client = signed_in(app, course["educator"])
    page = client.get("/courses/PROG/progress").get_data(as_text=True)
    assert "answers by" in page and "1 reply to peers by" in page
    assert "Answers checkpoint:" in page and "Replies checkpoint (1/1):" in page
    rows = read_csv(client.get("/courses/PROG/progress.csv"))
    first = str(course["first"].id)
    by_name = {r["learner_name"]: r for r in rows if r["assignment_id"] == first}
    assert by_name["Ann"]["answers_checkpoint"] == "on time"
    assert by_name["Bob"]["answers_checkpoint"] == "late"
    assert by_name["Cat"]["answers_checkpoint"] in ("due_soon", "open")
    assert by_name["Bob"]["replies_checkpoint"] == "on time"
    assert by_name["Bob"]["replies_to_peers"] == "1" and by_name["Bob"]["replies_required"] == "1"
    assert by_name["Ann"]["answers_due_at_utc"].endswith("Z")
    second = [r for r in rows if r["assignment_id"] == str(course["second"].id)]
    assert second[0]["answers_checkpoint"] == ""


def test_calendar_feeds_carry_the_checkpoints_and_a_learners_extension(app, course):
    set_checkpoints(course)
    raw = calendar_service.create_token(course["cat"])
    feed = app.test_client().get(f"/courses/calendar.ics?token={raw}")
    events = {str(e["uid"]): e for e in Calendar.from_ical(feed.data).walk("VEVENT")}
    answers = next(e for uid, e in events.items() if uid.startswith("answers-"))
    replies = next(e for uid, e in events.items() if uid.startswith("replies-"))
    assert answers["dtstart"].dt == NOW + timedelta(hours=40)  # Cat's extension
    assert "Answers due: episode" in str(answers["summary"])
    assert "1 reply to peers due" in str(replies["summary"])
    educator_raw = calendar_service.create_token(course["educator"])
    feed = app.test_client().get(f"/courses/PROG/calendar.ics?token={educator_raw}")
    events = [e for e in Calendar.from_ical(feed.data).walk("VEVENT")
              if str(e["uid"]).startswith("answers-")]
    assert events[0]["dtstart"].dt == (NOW - timedelta(hours=36)).replace(second=0)


def test_reminders_cover_both_checkpoints_once(app, course):
    set_checkpoints(course)
    sent = checkpoint_reminders.send_checkpoint_reminders(now=NOW)
    notes = db.session.scalars(select(Notification).where(Notification.kind == "assignment_due")).all()
    by_user = {}
    for note in notes:
        by_user.setdefault(note.user_id, []).append(note.message)
    # Cat: answers (extended, due in 40 hours) and replies; Ann: replies; Bob met both.
    assert sent == 3
    assert len(by_user[course["cat"].id]) == 2
    assert any("Answers due" in m for m in by_user[course["cat"].id])
    assert len(by_user[course["ann"].id]) == 1 and "Replies to peers due" in by_user[course["ann"].id][0]
    assert course["bob"].id not in by_user
    assert checkpoint_reminders.send_checkpoint_reminders(now=NOW) == 0
