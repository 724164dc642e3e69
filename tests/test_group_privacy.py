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
# For an invite-only group, outsiders do not learn it exists.
INVITE_ONLY = {
    "group":    (GONE,   GONE,      OK,     OK,    OK,     OK,         OK),
    "members":  (GONE,   GONE,      DENY,   OK,    DENY,   OK,         OK),
    "episode":  (GONE,   GONE,      DENY,   OK,    DENY,   OK,         OK),
    "question": (GONE,   GONE,      DENY,   OK,    DENY,   OK,         OK),
    "history":  (LOGIN,  GONE,      DENY,   DENY,  DENY,   OK,         OK),
    "settings": (LOGIN,  GONE,      DENY,   DENY,  DENY,   OK,         OK),
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
    assert can_know_group(viewer, group) == (role not in ("visitor", "non_member"))
    assert can_view_group(viewer, group) == (role in ("member", "facilitator", "admin"))
    assert can_moderate(viewer, group) == (role in ("facilitator", "admin"))
