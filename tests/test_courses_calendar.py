"""Due dates in time: time zones across daylight saving, calendar feeds, reminders."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from coprod_study.courses import calendar as calendar_service
from coprod_study.courses import due as due_service
from coprod_study.courses import reminders
from coprod_study.courses import service as course_service
from coprod_study.extensions import db
from coprod_study.groups import service as group_service
from coprod_study.models import (
    Assignment,
    CalendarToken,
    Episode,
    Extension,
    ListeningProgress,
    Notification,
    ReminderSent,
)
from tests import factories as f
from tests.conftest import login, post_form

NOW = datetime.now(UTC).replace(microsecond=0)


def episode(number: int) -> Episode:
    return db.session.scalar(select(Episode).where(Episode.number == number))


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- Time zones and daylight saving -----------------------------------------------------------


def test_due_dates_are_right_across_daylight_saving_in_two_zones(app, sample_catalog):
    """New York moves its clocks on 8 March 2026, Stockholm on 29 March: between the
    two the zones are five hours apart, not six."""
    educator = f.make_user(role="educator", time_zone="America/New_York")
    course = f.make_course(educator, code="DST", time_zone="America/New_York")
    stockholm = f.enrol(course, f.make_user(time_zone="Europe/Stockholm"))
    new_york = f.enrol(course, f.make_user(time_zone="America/New_York"))
    client = signed_in(app, educator)
    path = "/courses/DST/assignments/new"
    for number, due in ((1, "2026-03-06T09:00"), (2, "2026-03-20T09:00"), (3, "2026-04-02T09:00")):
        response = post_form(
            client, path,
            {"episode_id": episode(number).id, "opens_at": "2026-03-01T09:00", "due_at": due,
             "confirm_past_due": "y"},
            token_from=path,
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    stored = db.session.scalars(select(Assignment.due_at).order_by(Assignment.due_at)).all()
    assert stored == [
        datetime(2026, 3, 6, 14, 0, tzinfo=UTC),   # EST, UTC-5
        datetime(2026, 3, 20, 13, 0, tzinfo=UTC),  # EDT, UTC-4
        datetime(2026, 4, 2, 13, 0, tzinfo=UTC),   # EDT, UTC-4
    ]
    page = signed_in(app, stockholm).get("/courses/DST").get_data(as_text=True)
    assert "Fri 6 Mar 2026, 15:00 CET (Europe/Stockholm)" in page
    assert "Fri 20 Mar 2026, 14:00 CET (Europe/Stockholm)" in page
    assert "Thu 2 Apr 2026, 15:00 CEST (Europe/Stockholm)" in page
    page = signed_in(app, new_york).get("/courses/DST").get_data(as_text=True)
    assert "Fri 6 Mar 2026, 09:00 EST (America/New_York)" in page
    assert "Fri 20 Mar 2026, 09:00 EDT (America/New_York)" in page
    assert "Thu 2 Apr 2026, 09:00 EDT (America/New_York)" in page


def test_time_helpers():
    assert course_service.format_in_zone(datetime(2026, 7, 1, 12, tzinfo=UTC), "UTC") == (
        "Wed 1 Jul 2026, 12:00 UTC"
    )
    # The repeated hour when clocks go back: the first one is meant.
    first = course_service.to_utc(datetime(2026, 10, 25, 2, 30), "Europe/Stockholm", "due_at")
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    with pytest.raises(Exception, match="does not exist"):
        course_service.to_utc(datetime(2026, 3, 8, 2, 30), "America/New_York", "due_at")


# --- Calendar feeds -------------------------------------------------------------------------------


@pytest.fixture
def feeds(app, sample_catalog):
    educator = f.make_user(role="educator")
    course = f.make_course(educator, code="CAL", title="Calendar Course")
    other = f.make_course(educator, code="ELSE", title="Other Course")
    learner = f.enrol(course, f.make_user(name="Lee"))
    f.enrol(other, learner)
    first = f.make_assignment(course, episode(1), due_in=timedelta(days=3))
    second = f.make_assignment(course, episode(2), due_in=timedelta(days=9))
    elsewhere = f.make_assignment(other, episode(3), due_in=timedelta(days=5))
    client = signed_in(app, learner)
    response = post_form(client, "/courses/calendar/links", token_from="/account")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    token = re.search(r"/courses/calendar\.ics\?token=([\w-]+)", page).group(1)
    assert f"/courses/CAL/calendar.ics?token={token}" in page
    return {
        "educator": educator, "course": course, "other": other, "learner": learner,
        "first": first, "second": second, "elsewhere": elsewhere, "token": token,
        "client": client,
    }


def events(response):
    assert response.status_code == 200
    assert response.content_type == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.get_data())
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_the_personal_feed_parses_and_keeps_its_uids(app, feeds):
    client = app.test_client()
    url = f"/courses/calendar.ics?token={feeds['token']}"
    first_fetch = client.get(url)
    found = events(first_fetch)
    assert len(found) == 3
    uid = f"assignment-{feeds['first'].id}@localhost"
    assert found[uid].decoded("DTSTART") == feeds["first"].due_at
    assert "Calendar Course" in str(found[uid]["DESCRIPTION"])
    # Fetched again: the same events, byte for byte.
    assert client.get(url).get_data() == first_fetch.get_data()
    # An extension moves the learner's event, under the same UID, with a higher SEQUENCE.
    later = NOW + timedelta(days=6)
    course_service.grant_extension(
        feeds["educator"], feeds["first"], feeds["learner"].id,
        course_service.to_local(later, feeds["course"].time_zone),
    )
    moved = events(client.get(url))
    assert set(moved) == set(found)
    assert moved[uid].decoded("DTSTART") == later.replace(second=0)
    assert int(moved[uid]["SEQUENCE"]) > int(found[uid]["SEQUENCE"])


def test_editing_an_assignment_updates_the_same_event(app, feeds):
    url = f"/courses/CAL/calendar.ics?token={feeds['token']}"
    before = events(app.test_client().get(url))
    assignment = feeds["second"]
    new_due = course_service.to_local(assignment.due_at + timedelta(days=1), "UTC")
    course_service.update_assignment(
        feeds["educator"], assignment, episode_id=assignment.episode_id,
        opens_at=course_service.to_local(assignment.opens_at, "UTC"), due_at=new_due,
    )
    after = events(app.test_client().get(url))
    assert set(after) == set(before) and len(after) == 2
    uid = f"assignment-{assignment.id}@localhost"
    assert after[uid].decoded("DTSTART") == assignment.due_at
    assert int(after[uid]["SEQUENCE"]) == int(before[uid]["SEQUENCE"]) + 1


def test_a_course_feed_holds_only_that_course(app, feeds):
    found = events(app.test_client().get(f"/courses/ELSE/calendar.ics?token={feeds['token']}"))
    assert list(found) == [f"assignment-{feeds['elsewhere'].id}@localhost"]
    stranger_course = f.make_course(code="NOTMINE")
    response = app.test_client().get(f"/courses/NOTMINE/calendar.ics?token={feeds['token']}")
    assert response.status_code == 404
    assert stranger_course.code == "NOTMINE"
    assert app.test_client().get(
        f"/courses/MISSING/calendar.ics?token={feeds['token']}"
    ).status_code == 404


@pytest.mark.parametrize("how", ["revoked", "expired", "unknown", "missing"])
def test_a_dead_token_gives_404(app, feeds, how):
    token = feeds["token"]
    row = db.session.scalar(select(CalendarToken))
    if how == "revoked":
        page = feeds["client"].get("/account").get_data(as_text=True)
        assert "Revoke" in page
        response = post_form(
            feeds["client"], f"/courses/calendar/links/{row.id}/revoke", token_from="/account"
        )
        assert response.status_code == 302
    elif how == "expired":
        row.expires_at = NOW - timedelta(minutes=1)
        db.session.commit()
    elif how == "unknown":
        token = "x" * 43
    query = "" if how == "missing" else f"?token={token}"
    for path in ("/courses/calendar.ics", "/courses/CAL/calendar.ics"):
        response = app.test_client().get(path + query)
        assert response.status_code == 404
        assert b"BEGIN:VCALENDAR" not in response.get_data()


def test_tokens_are_stored_hashed_and_revoked_only_by_their_owner(app, feeds):
    row = db.session.scalar(select(CalendarToken))
    assert row.token_hash != feeds["token"] and len(row.token_hash) == 64
    other = signed_in(app, f.make_user())
    response = post_form(other, f"/courses/calendar/links/{row.id}/revoke", token_from="/account")
    assert response.status_code == 404
    db.session.refresh(row)
    assert row.revoked_at is None
    assert calendar_service.user_for_token(feeds["token"]).id == feeds["learner"].id


# --- Reminders ------------------------------------------------------------------------------------


@pytest.fixture
def reminder_course(app, sample_catalog):
    educator = f.make_user(role="educator")
    course = f.make_course(educator, code="REM", title="Reminder Course")
    group = f.make_course_group(course, educator, "Only")
    ann = f.enrol(course, f.make_user(name="Ann", email_preference="immediately",
                                      time_zone="Europe/Stockholm"))
    bob = f.enrol(course, f.make_user(name="Bob", email_preference="daily"))
    cat = f.enrol(course, f.make_user(name="Cat", email_preference="immediately"))
    dan = f.enrol(course, f.make_user(name="Dan", email_preference="immediately"))
    for person in (ann, bob, cat, dan):
        f.place(course, group, person)
    assignment = f.make_assignment(
        course, episode(1), due_in=timedelta(hours=24), required_questions=[1]
    )
    # Cat is done; Dan has until next week.
    f.make_answer(group, cat, group_service.get_question(group, episode(1), 1))
    db.session.add(ListeningProgress(user_id=cat.id, episode_id=episode(1).id, listened=True))
    db.session.add(Extension(assignment_id=assignment.id, user_id=dan.id,
                             due_at=NOW + timedelta(days=7)))
    db.session.commit()
    return {"course": course, "assignment": assignment, "ann": ann, "bob": bob, "cat": cat,
            "dan": dan, "group": group}


def reminded(user) -> int:
    return count(Notification, Notification.user_id == user.id,
                 Notification.kind == "assignment_due")


def test_reminders_go_once_to_those_who_still_have_work(app, reminder_course, outbox):
    s = reminder_course
    result = reminders.send_reminders()
    assert (result.notified, result.emailed) == (2, 1)
    assert [reminded(s[k]) for k in ("ann", "bob", "cat", "dan")] == [1, 1, 0, 0]
    message = db.session.scalar(
        select(Notification.message).where(Notification.user_id == s["ann"].id)
    )
    assert "(Europe/Stockholm)" in message and "Respect in the Room" in message
    mails = outbox()
    assert len(mails) == 1 and mails[0]["To"] == s["ann"].email
    assert "0 of 1 question answered, not marked listened" in mails[0].get_content()
    # Idempotent: running again sends nothing more.
    assert reminders.send_reminders().notified == 0
    assert [reminded(s[k]) for k in ("ann", "bob", "cat", "dan")] == [1, 1, 0, 0]
    assert len(outbox()) == 1
    assert count(ReminderSent) == 2


def test_the_digest_does_not_mail_a_reminder_twice(app, reminder_course, outbox):
    from coprod_study.notifications import digests

    reminders.send_reminders()
    digests.send_digests()
    to_ann = [m for m in outbox() if m["To"] == reminder_course["ann"].email]
    assert len(to_ann) == 1


def test_extensions_and_windows_decide_when_a_reminder_goes(app, reminder_course):
    s = reminder_course
    assert reminders.send_reminders(now=NOW - timedelta(hours=30)).notified == 0
    reminders.send_reminders()
    assert reminded(s["dan"]) == 0
    # Six days on, the course's date has passed but Dan's extension is two days away.
    later = NOW + timedelta(days=5, hours=1)
    assert reminders.send_reminders(now=later).notified == 1
    assert reminded(s["dan"]) == 1
    assert reminders.send_reminders(now=later).notified == 0


def test_assignments_not_open_yet_are_not_reminded(app, sample_catalog):
    course = f.make_course(code="SOON")
    learner = f.enrol(course)
    f.make_assignment(course, episode(2), opens_in=timedelta(hours=2), due_in=timedelta(hours=30))
    assert reminders.send_reminders().notified == 0
    assert reminded(learner) == 0


def test_the_command_line_sends_reminders(app, reminder_course):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "Reminded 2 learner(s)" in result.output and "1 e-mail(s) queued" in result.output
    again = runner.invoke(args=["send-reminders"])
    assert "Reminded 0 learner(s)" in again.output


def test_due_within_feeds_the_email_digest(app, reminder_course):
    items = due_service.due_within(reminder_course["ann"], days=7)
    assert len(items) == 1
    assert items[0].url == "/courses/REM" and "REM" in items[0].title
    assert "(Europe/Stockholm)" in items[0].due_text
    assert due_service.due_within(reminder_course["cat"], days=7) == []
