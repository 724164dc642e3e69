"""/account: API tokens, the data export and deleting the account ("Former member")."""

import json
import re

import pytest
from sqlalchemy import func, select

from coprod_study.account import personal_data
from coprod_study.account import tokens as api_tokens
from coprod_study.discussion import service as discussion
from coprod_study.extensions import db
from coprod_study.groups.answers import post_reply
from coprod_study.models import (
    Answer,
    ApiToken,
    AuditEntry,
    CourseMember,
    ListeningProgress,
    Membership,
    Notification,
    Reply,
    Revision,
    User,
)
from tests import factories as f
from tests.api_support import bearer, token_for
from tests.conftest import login, post_form

SECRET_RE = re.compile(r'id="new-token" value="(cps_[^"]+)"')


# --- API tokens ------------------------------------------------------------------------------------


def test_making_a_token_shows_it_once_and_stores_only_its_hash(client, make_user, sample_catalog):
    user = make_user()
    login(client, user)
    response = post_form(
        client, "/account/tokens/new", {"name": "My script", "scope": "write", "lifetime": "30"},
        token_from="/account/tokens/new",
    )
    assert response.status_code == 200
    secret = SECRET_RE.search(response.get_data(as_text=True)).group(1)
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert token.name == "My script" and token.scope == "write"
    assert token.token_hash == api_tokens.hash_token(secret) != secret
    assert token.expires_at is not None
    # The account page lists it by its prefix, never the secret again.
    page = client.get("/account").get_data(as_text=True)
    assert "My script" in page and token.prefix in page
    assert secret not in page
    assert client.get("/api/v1/me", headers=bearer(secret)).get_json()["id"] == user.id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "scope": "read", "lifetime": "90"}, "Give the token a name."),
        ({"name": "x" * 81, "scope": "read", "lifetime": "90"}, "at most 80"),
        ({"name": "ok", "scope": "admin", "lifetime": "90"}, "Not a valid choice"),
        ({"name": "ok", "scope": "read", "lifetime": "7"}, "Not a valid choice"),
    ],
)
def test_bad_token_input_keeps_the_form_and_makes_nothing(client, make_user, data, message):
    login(client, make_user())
    response = post_form(client, "/account/tokens/new", data, token_from="/account/tokens/new")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_revoking_a_token_stops_it_and_others_cannot_revoke_it(app, client, make_user, sample_catalog):
    owner, other = make_user(), make_user()
    secret = token_for(owner)
    token = db.session.scalar(select(ApiToken))
    login(client, other)
    assert post_form(client, f"/account/tokens/{token.id}/revoke", token_from="/account").status_code == 404
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    owner_client = app.test_client()
    login(owner_client, owner)
    response = post_form(owner_client, f"/account/tokens/{token.id}/revoke", token_from="/account")
    assert response.status_code == 302
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    page = owner_client.get("/account").get_data(as_text=True)
    assert "is revoked" in page  # the message, then the list without it
    assert token.prefix not in page


def test_a_person_has_at_most_twenty_live_tokens(app, make_user):
    user = make_user()
    for number in range(api_tokens.MAX_ACTIVE_TOKENS):
        api_tokens.create_token(user, f"t{number}", "read")
    from coprod_study.errors import DomainError

    with pytest.raises(DomainError):
        api_tokens.create_token(user, "one too many", "read")


# --- Export ------------------------------------------------------------------------------------------


@pytest.fixture
def writer_world(sample_catalog):
    facilitator = f.make_user(name="Fran Facilitator")
    group = f.make_group(facilitator, name="Tuesday circle")
    writer = f.add_member(group, f.make_user(name="Wanda Writer", email="wanda@example.org"))
    episode, question = f.first_question(group)
    answer = f.make_answer(group, writer, question, "Wanda's thoughts on respect")
    db.session.add(Revision(answer_id=answer.id, body="Wanda's first draft", written_at=answer.created_at))
    lead = f.make_answer(group, facilitator, question, "The facilitator's answer")
    reply = post_reply(writer, lead, "Wanda replies")
    thread = discussion.create_thread(facilitator, group, title="Check-in", body="How was the week?")
    post = discussion.reply(writer, thread, "Wanda posts in the thread")
    db.session.add(ListeningProgress(user_id=writer.id, episode_id=episode.id, listened=True))
    db.session.commit()
    return {"facilitator": facilitator, "group": group, "writer": writer, "answer": answer,
            "reply": reply, "post": post, "thread": thread, "episode": episode}


def test_the_export_holds_everything_the_person_wrote(client, writer_world):
    writer = writer_world["writer"]
    course = f.make_course(code="EXP1")
    f.enrol(course, writer)
    login(client, writer)
    response = client.get("/account/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "wanda@example.org"
    assert data["account"]["display_name"] == "Wanda Writer"
    assert data["answers"][0]["body"] == "Wanda's thoughts on respect"
    assert data["answers"][0]["earlier_versions"][0]["body"] == "Wanda's first draft"
    assert data["answers"][0]["episode"] == writer_world["episode"].slug
    assert [r["body"] for r in data["replies"]] == ["Wanda replies"]
    assert [p["body"] for p in data["thread_posts"]] == ["Wanda posts in the thread"]
    assert data["group_memberships"][0]["group"] == writer_world["group"].slug
    assert data["course_enrolments"] == [
        {"course": "EXP1", "title": course.title, "role": "learner",
         "since": data["course_enrolments"][0]["since"]}
    ]
    assert data["listening"][0]["listened"] is True
    assert any("Check-in" in n["message"] for n in data["notifications"])
    # Nobody else's words.
    assert "The facilitator's answer" not in response.get_data(as_text=True)


def test_the_export_needs_a_signed_in_person(client):
    assert client.get("/account/export").status_code == 302


# --- Deleting the account --------------------------------------------------------------------------


def test_a_wrong_password_deletes_nothing(client, writer_world):
    writer = writer_world["writer"]
    login(client, writer)
    response = post_form(client, "/account/delete", {"password": "not my password"}, token_from="/account/delete")
    assert response.status_code == 400
    assert "That is not your password." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, writer.id).display_name == "Wanda Writer"
    assert db.session.get(User, writer.id).deleted_at is None


def test_deleting_the_account_keeps_the_words_under_former_member(app, client, writer_world):
    writer, group, facilitator = writer_world["writer"], writer_world["group"], writer_world["facilitator"]
    writer_id = writer.id
    token_for(writer)
    login(client, writer)
    response = post_form(client, "/account/delete", {"password": f.DEFAULT_PASSWORD}, token_from="/account/delete")
    assert response.status_code == 302
    assert client.get("/account").status_code == 302  # signed out
    db.session.expire_all()
    gone = db.session.get(User, writer_id)
    assert gone.display_name == "Former member"
    assert gone.email != "wanda@example.org" and gone.deleted_at is not None
    # The words stay, with their history.
    assert db.session.get(Answer, writer_world["answer"].id).body == "Wanda's thoughts on respect"
    assert db.session.scalar(select(func.count()).select_from(Revision)) == 1
    # Personal data is gone.
    for model in (Membership, CourseMember, ListeningProgress, ApiToken, Notification):
        assert db.session.scalar(
            select(func.count()).select_from(model).where(model.user_id == writer_id)
        ) == 0
    assert db.session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "user.deleted_account")
    ) == 1

    # Nowhere shows the name: the question page, the history, search, the API, notifications.
    viewer = app.test_client()
    login(viewer, facilitator)
    episode = writer_world["episode"]
    pages = [
        f"/groups/{group.slug}/episodes/{episode.slug}/questions/1",
        f"/groups/{group.slug}/answers/{writer_world['answer'].id}/history",
        f"/groups/{group.slug}/threads/{writer_world['thread'].id}",
        "/search?q=Wanda",
        "/notifications",
        f"/groups/{group.slug}/members",
    ]
    for path in pages:
        body = viewer.get(path).get_data(as_text=True)
        assert "Wanda Writer" not in body, path
    question_page = viewer.get(pages[0]).get_data(as_text=True)
    assert "Former member" in question_page and "Wanda's thoughts on respect" in question_page
    api = viewer.get(
        f"/api/v1/groups/{group.slug}/episodes/{episode.slug}/questions/1/answers",
        headers=bearer(token_for(facilitator)),
    ).get_json()
    former = next(a for a in api["items"] if a["body"] == "Wanda's thoughts on respect")
    assert former["author"] == {"name": "Former member", "id": None, "you": False}
    assert "Wanda Writer" not in str(api)
    messages = db.session.scalars(select(Notification.message)).all()
    assert messages and not any("Wanda Writer" in m for m in messages)
    assert any("Former member" in m for m in messages)


def test_the_address_can_register_again_and_the_old_password_is_dead(app, client, writer_world):
    writer = writer_world["writer"]
    personal_data.delete_account(writer, f.DEFAULT_PASSWORD)
    response = post_form(
        client, "/auth/login", {"email": "wanda@example.org", "password": f.DEFAULT_PASSWORD},
        token_from="/auth/login",
    )
    assert response.status_code != 302
    response = post_form(
        client,
        "/auth/register",
        {"email": "wanda@example.org", "display_name": "Wanda Again",
         "password": "a brand new passphrase", "confirm": "a brand new passphrase"},
        token_from="/auth/register",
    )
    assert response.status_code == 302
    again = db.session.scalar(select(User).where(User.email == "wanda@example.org"))
    assert again.id != writer.id and again.display_name == "Wanda Again"
    # The new account does not inherit the old words.
    assert db.session.get(Answer, writer_world["answer"].id).user_id == writer.id


def test_the_only_facilitator_of_a_group_with_members_must_hand_over_first(client, writer_world):
    facilitator = writer_world["facilitator"]
    login(client, facilitator)
    page = client.get("/account/delete").get_data(as_text=True)
    assert "only facilitator of Tuesday circle" in page
    response = post_form(client, "/account/delete", {"password": f.DEFAULT_PASSWORD}, token_from="/account")
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, facilitator.id).deleted_at is None


def test_the_last_admin_cannot_delete_their_account(client, make_user):
    admin = make_user(role="admin")
    login(client, admin)
    response = post_form(client, "/account/delete", {"password": f.DEFAULT_PASSWORD}, token_from="/account")
    assert response.status_code == 400
    assert "only admin" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).deleted_at is None


def test_delete_needs_the_password_field(client, make_user):
    user = make_user()
    login(client, user)
    response = post_form(client, "/account/delete", {"password": ""}, token_from="/account")
    assert response.status_code == 400
    assert "Type your password." in response.get_data(as_text=True)


def test_replies_to_a_deleted_persons_answer_stay_readable(client, writer_world):
    lead = writer_world["answer"]
    other = f.add_member(writer_world["group"], f.make_user(name="Ollie"))
    f.make_answer(writer_world["group"], other, f.first_question(writer_world["group"])[1], "Ollie's")
    post_reply(other, lead, "Ollie replies to Wanda")
    personal_data.delete_account(writer_world["writer"], f.DEFAULT_PASSWORD)
    login(client, other)
    page = client.get(
        f"/groups/{writer_world['group'].slug}/episodes/{writer_world['episode'].slug}/questions/1"
    ).get_data(as_text=True)
    assert "Ollie replies to Wanda" in page and "Former member" in page
    assert db.session.scalar(select(func.count()).select_from(Reply)) == 2
