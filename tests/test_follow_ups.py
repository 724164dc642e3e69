"""Spaced follow-ups: 2, 7 and 30 days after answering, once each, one-click unsubscribe, the setting."""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from coprod_study.extensions import db
from coprod_study.followups import service as followups
from coprod_study.groups import service as group_service
from coprod_study.models import Episode, FollowUpOptOut, FollowUpSent, OutboxMessage
from tests import factories as f
from tests.conftest import login, post_form

ANSWERED = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def answered(user, questions=2):
    """The person answers the first episode's first `questions` questions on ANSWERED."""
    episode = db.session.scalar(select(Episode).order_by(Episode.number))
    group = f.make_group(name=f"Follow {user.id}")
    answers = [
        f.make_answer(group, user, group_service.get_question(group, episode, n),
                      body=f"Answer {n}", created_at=ANSWERED + timedelta(minutes=n))
        for n in range(1, questions + 1)
    ]
    return episode, group, answers


def test_each_step_goes_once_in_its_window_asking_another_question(app, sample_catalog, outbox):
    learner = f.make_user(name="Fiona", language="en")
    episode, group, answers = answered(learner)
    assert followups.send_follow_ups(ANSWERED + timedelta(days=1)) == 0
    assert followups.send_follow_ups(ANSWERED + timedelta(days=2, hours=1)) == 1
    assert followups.send_follow_ups(ANSWERED + timedelta(days=2, hours=2)) == 0
    assert followups.send_follow_ups(ANSWERED + timedelta(days=7, hours=1)) == 1
    # A worker that was down for the whole window of day 30 sends nothing late.
    assert followups.send_follow_ups(ANSWERED + timedelta(days=40)) == 0
    rows = db.session.scalars(select(FollowUpSent).order_by(FollowUpSent.step_days)).all()
    assert [(r.step_days, r.answer_id) for r in rows] == [(2, answers[0].id), (7, answers[1].id)]
    mails = outbox()
    assert len(mails) == 2
    first = mails[0]
    assert first["To"] == learner.email
    assert f"episode {episode.number}" in first["Subject"]
    body = first.get_content()
    assert answers[0].study_question.prompt in body
    assert f"/groups/{group.slug}/answers/{answers[0].id}" in body
    assert answers[1].study_question.prompt in mails[1].get_content()
    unsubscribe = " ".join(str(first["List-Unsubscribe"]).split()).strip("<>")
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in body


def test_one_click_unsubscribe_stops_them(app, sample_catalog):
    learner = f.make_user()
    answered(learner)
    token = followups.unsubscribe_token(learner)
    client = app.test_client()
    page = client.get(f"/follow-ups/unsubscribe/{token}")
    assert page.status_code == 200 and learner.email in page.get_data(as_text=True)
    assert db.session.get(FollowUpOptOut, learner.id) is None  # a GET changes nothing
    # RFC 8058: the mail app POSTs "List-Unsubscribe=One-Click", with no session or token.
    done = client.post(f"/follow-ups/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "no more follow-up e-mails" in done.get_data(as_text=True)
    assert db.session.get(FollowUpOptOut, learner.id) is not None
    assert followups.send_follow_ups(ANSWERED + timedelta(days=2, hours=1)) == 0
    assert client.post("/follow-ups/unsubscribe/forged.token").status_code == 400
    assert db.session.scalar(select(OutboxMessage)) is None


def test_the_account_page_setting(app, sample_catalog):
    learner = f.make_user()
    client = app.test_client()
    login(client, learner)
    page = client.get("/account").get_data(as_text=True)
    assert "Send me spaced follow-ups" in page
    assert re.search(r'<input [^>]*checked[^>]*name="follow_ups-wanted"', page)
    response = post_form(client, "/account/follow-ups", {}, token_from="/account")
    assert response.status_code == 302
    assert not followups.wants_follow_ups(learner)
    post_form(client, "/account/follow-ups", {"follow_ups-wanted": "y"}, token_from="/account")
    assert followups.wants_follow_ups(learner)
    # Without the CSRF token nothing changes.
    assert client.post("/account/follow-ups", data={}).status_code == 400
    assert followups.wants_follow_ups(learner)


def test_swedish_readers_get_swedish_mail_and_e_mail_off_means_none(app, sample_catalog, outbox):
    swede = f.make_user(language="sv")
    answered(swede)
    quiet = f.make_user(email_preference="off")
    answered(quiet)
    assert followups.send_follow_ups(ANSWERED + timedelta(days=2, hours=1)) == 1
    mail = outbox()[0]
    assert mail["To"] == swede.email
    assert mail["Subject"].startswith("En fråga att tänka på igen: avsnitt")
    assert "För att stoppa uppföljningarna:" in mail.get_content()
    client = app.test_client()
    login(client, swede)
    assert "Skicka mig uppföljningar med mellanrum" in client.get("/account").get_data(as_text=True)
