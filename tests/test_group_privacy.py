"""The group privacy table: every group URL x every kind of viewer."""

import pytest

from coprod_study.policy import can_know_group, can_moderate, can_view_group
from tests import factories as f
from tests.conftest import login

SECRET = "SECRET-ANSWER-TEXT"
ROLES = ["visitor", "non_member", "pending", "member", "removed", "facilitator", "admin"]


@pytest.fixture
def world(sample_catalog):
    def build(join_policy):
        facilitator = f.make_user(name="Fac")
        group = f.make_group(facilitator, name=f"Private {join_policy}", join_policy=join_policy)
        writer = f.add_member(group, f.make_user(name="Writer"))
        episode, question = f.first_question(group)
        answer = f.make_answer(group, writer, question, SECRET)
        viewers = {
            "visitor": None,
            "non_member": f.make_user(),
            "pending": f.add_member(group, status="pending"),
            "member": f.add_member(group),
            "removed": f.add_member(group, status="removed"),
            "facilitator": facilitator,
            "admin": f.make_user(role="admin"),
        }
        # The member has answered, so post-before-you-see does not hide the secret.
        f.make_answer(group, viewers["member"], question, "member's own answer")
        urls = {
            "group": f"/groups/{group.slug}",
            "members": f"/groups/{group.slug}/members",
            "episode": f"/groups/{group.slug}/episodes/{episode.slug}",
            "question": f"/groups/{group.slug}/episodes/{episode.slug}/questions/1",
            "history": f"/groups/{group.slug}/answers/{answer.id}/history",
            "settings": f"/groups/{group.slug}/settings",
        }
        return group, viewers, urls

    return build


OK, LOGIN, DENY, GONE = 200, 302, 403, 404

# For a group listed to the public (open or request to join).
LISTED = {
    #            visitor non_member pending member removed facilitator admin
    "group":    (OK,     OK,        OK,     OK,    OK,     OK,         OK),
    "members":  (DENY,   DENY,      DENY,   OK,    DENY,   OK,         OK),
    "episode":  (DENY,   DENY,      DENY,   OK,    DENY,   OK,         OK),
    "question": (DENY,   DENY,      DENY,   OK,    DENY,   OK,         OK),
    "history":  (LOGIN,  DENY,      DENY,   DENY,  DENY,   OK,         OK),
    "settings": (LOGIN,  DENY,      DENY,   DENY,  DENY,   OK,         OK),
}
# For an invite-only group, outsiders do not learn it exists; a removed member is
# outside it again (issue 27).
INVITE_ONLY = {
    "group":    (GONE,   GONE,      OK,     OK,    GONE,   OK,         OK),
    "members":  (GONE,   GONE,      DENY,   OK,    GONE,   OK,         OK),
    "episode":  (GONE,   GONE,      DENY,   OK,    GONE,   OK,         OK),
    "question": (GONE,   GONE,      DENY,   OK,    GONE,   OK,         OK),
    "history":  (LOGIN,  GONE,      DENY,   DENY,  GONE,   OK,         OK),
    "settings": (LOGIN,  GONE,      DENY,   DENY,  GONE,   OK,         OK),
}
SEES_SECRET = {"member", "facilitator", "admin"}

CASES = [
    (policy_name, table, page, role)
    for policy_name, table in (("request", LISTED), ("open", LISTED), ("invite", INVITE_ONLY))
    for page in table
    for role in ROLES
]


@pytest.mark.parametrize(("join_policy", "table", "page", "role"), CASES)
def test_privacy_table(client, world, join_policy, table, page, role):
    group, viewers, urls = world(join_policy)
    if viewers[role] is not None:
        login(client, viewers[role])
    response = client.get(urls[page])
    expected = table[page][ROLES.index(role)]
    assert response.status_code == expected, (page, role, response.status_code)
    body = response.get_data(as_text=True)
    if role not in SEES_SECRET or expected != OK:
        assert SECRET not in body
        assert "Writer" not in body  # nor the member list
    elif page in ("question", "history"):
        assert SECRET in body


@pytest.mark.parametrize("role", ROLES)
def test_policy_answers_directly(world, role):
    group, viewers, _ = world("invite")
    viewer = viewers[role]
    from flask_login import AnonymousUserMixin

    viewer = viewer or AnonymousUserMixin()
    assert can_know_group(viewer, group) == (role not in ("visitor", "non_member", "removed"))
    assert can_view_group(viewer, group) == (role in ("member", "facilitator", "admin"))
    assert can_moderate(viewer, group) == (role in ("facilitator", "admin"))


# --- Outside means outside ---------------------------------------------------------------

NEW_NAME = "Renamed Hideaway"
NEW_DESCRIPTION = "Walrusword describes the group now."


def _depart(how, group, facilitator, person):
    from coprod_study.groups import service as group_service
    from coprod_study.moderation import service as moderation

    if how == "removed":
        group_service.remove_member(facilitator, group, person.id, "Moved on.")
    elif how == "banned":
        moderation.ban(facilitator, group, person.id, "Not welcome.")
    else:
        group_service.leave(person, group)


@pytest.mark.parametrize("how", ["removed", "banned", "left"])
def test_a_renamed_invite_only_group_never_reaches_those_outside_it(
    app, client, sample_catalog, outbox, how
):
    """Join by the link, write, be notified, then be removed, banned or leave; the group
    is renamed afterwards. No page, API answer, search, notification, digest or export
    gives them its new name or description, and every group URL is 404."""
    from datetime import UTC, datetime

    from coprod_study.account import personal_data
    from coprod_study.discussion import service as discussion
    from coprod_study.groups import answers as answer_service
    from coprod_study.groups import service as group_service
    from coprod_study.moderation import service as moderation
    from coprod_study.notifications import digests
    from tests.api_support import auth

    facilitator = f.make_user(name="Fac")
    group = f.make_group(
        facilitator, name="Quiet Circle", join_policy="invite", description="About the circle."
    )
    person = f.make_user(name="Departing Person", email_preference="daily")
    group_service.join_by_invite(person, group.invite_code)
    staying = f.add_member(group, f.make_user(name="Staying Member"))
    episode, question = f.first_question(group)
    answer = answer_service.post_answer(person, group, question, "Pelicanword is my answer.")
    answer_service.post_reply(facilitator, answer, "A reply the person is told about.")
    thread = discussion.create_thread(facilitator, group, title="A thread", body="Its opening.")
    discussion.reply(person, thread, "Pelicanword in a thread post.")
    staying_answer = f.make_answer(group, staying, question, "The staying member's answer.")
    moderation.flag(person, group, "answer", staying_answer.id, "other", "Please look.")
    headers = auth(person)

    _depart(how, group, facilitator, person)
    group_service.update_group(
        facilitator, group, name=NEW_NAME, description=NEW_DESCRIPTION, join_policy="invite",
        post_first=True, allow_anonymous=False,
    )
    digests.send_digest(person, datetime.now(UTC))

    login(client, person)
    base = f"/groups/{group.slug}"
    for path in (
        base, f"{base}/members", f"{base}/episodes/{episode.slug}",
        f"{base}/episodes/{episode.slug}/questions/1", f"{base}/threads/{thread.id}",
        f"{base}/answers/{answer.id}", f"{base}/moderation", f"{base}/settings",
    ):
        response = client.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert NEW_NAME not in response.get_data(as_text=True)
        assert "Walrusword" not in response.get_data(as_text=True)
    for path in (
        f"/api/v1{base}", f"/api/v1{base}/members", f"/api/v1{base}/threads",
        f"/api/v1{base}/episodes/{episode.slug}/questions",
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, (path, response.status_code)
        assert "Walrusword" not in response.get_data(as_text=True)
    for path in ("/", "/groups", "/notifications", "/search?q=Walrusword", "/search?q=Pelicanword"):
        body = client.get(path).get_data(as_text=True)
        # The search page repeats the query, so only the name is looked for.
        assert NEW_NAME not in body, path
    for path in ("/api/v1/groups", "/api/v1/notifications"):
        assert NEW_NAME not in client.get(path, headers=headers).get_data(as_text=True)
    for mail in outbox():
        texts = [mail["Subject"]] + [
            part.get_content() for part in mail.walk() if part.get_content_maintype() == "text"
        ]
        assert NEW_NAME not in " ".join(texts)

    export = personal_data.export_data(person)
    assert NEW_NAME not in str(export) and "Walrusword" not in str(export)
    labels = [item["group"] for key in ("answers", "thread_posts", "flags_filed")
              for item in export[key]]
    labels += [item["group"] for item in export["group_memberships"]]
    assert labels and group.slug not in labels
    assert all(label == "a group you left" for label in labels)
    assert all(item["group_name"] == "a group you left" for item in export["group_memberships"])

    # The control: someone still in the group sees the new name.
    other = app.test_client()
    login(other, staying)
    assert NEW_NAME in other.get(base).get_data(as_text=True)
