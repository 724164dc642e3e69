"""Flags, hiding, restoring, bans and the audit trail."""

import pytest
from sqlalchemy import func, select

from coprod_study.discussion import service as discussion
from coprod_study.extensions import db
from coprod_study.groups import service as group_service
from coprod_study.models import Answer, AuditEntry, Flag, Membership, Notification
from coprod_study.moderation import service as moderation
from tests import factories as f
from tests.conftest import login, post_form


@pytest.fixture
def scene(sample_catalog):
    facilitator = f.make_user(name="Fay")
    group = f.make_group(facilitator, name="Mod group")
    members = [f.add_member(group, f.make_user(name=f"Member {n}")) for n in range(4)]
    episode, question = f.first_question(group)
    answer = f.make_answer(group, members[0], question, "A questionable answer")
    for member in members[1:]:
        f.make_answer(group, member, question, f"answer by {member.display_name}")
    url = f"/groups/{group.slug}/episodes/{episode.slug}/questions/1"
    return {"group": group, "facilitator": facilitator, "members": members, "answer": answer, "url": url}


def flag_url(scene, target_type="answer", target_id=None):
    return f"/groups/{scene['group'].slug}/flag/{target_type}/{target_id or scene['answer'].id}"


def test_member_flags_once_and_facilitators_hear(client, scene):
    login(client, scene["members"][1])
    response = post_form(client, flag_url(scene), {"reason": "off_topic"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Flag)) == 1
    note = db.session.scalar(select(Notification).where(Notification.kind == "flag"))
    assert note.user_id == scene["facilitator"].id
    response = post_form(client, flag_url(scene), {"reason": "off_topic"}, follow_redirects=True)
    assert "already flagged" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Flag)) == 1


def test_cannot_flag_own_post_or_without_reason_text(client, scene):
    login(client, scene["members"][0])
    response = post_form(client, flag_url(scene), {"reason": "harassment"}, follow_redirects=True)
    assert "cannot flag your own post" in response.get_data(as_text=True)
    login(other := client.application.test_client(), scene["members"][1])
    response = post_form(other, flag_url(scene), {"reason": "other", "text": ""}, follow_redirects=True)
    assert "Say briefly what is wrong" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Flag)) == 0


def test_three_flags_hide_until_review(client, scene, app):
    for member in scene["members"][1:4]:
        moderation.flag(member, scene["group"], "answer", scene["answer"].id, "inappropriate")
    db.session.expire_all()
    assert scene["answer"].hidden_at is not None
    login(client, scene["members"][1])
    page = client.get(scene["url"]).get_data(as_text=True)
    assert "Hidden by a facilitator" in page and "A questionable answer" not in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "answer.auto_hidden"))
    assert entry.group_id == scene["group"].id


def test_hide_and_restore_with_reason_shown_to_author_and_facilitators(client, scene):
    login(client, scene["facilitator"])
    response = post_form(
        client, f"/groups/{scene['group'].slug}/hide/answer/{scene['answer'].id}", {"reason": ""},
        follow_redirects=True,
    )
    assert "Give a reason" in response.get_data(as_text=True)
    post_form(client, f"/groups/{scene['group'].slug}/hide/answer/{scene['answer'].id}", {"reason": "Personal details"})
    db.session.expire_all()
    assert scene["answer"].hidden_reason == "Personal details"
    login(author := client.application.test_client(), scene["members"][0])
    page = author.get(scene["url"]).get_data(as_text=True)
    assert "A questionable answer" in page and "Personal details" in page
    login(peer := client.application.test_client(), scene["members"][2])
    page = peer.get(scene["url"]).get_data(as_text=True)
    assert "A questionable answer" not in page and "Personal details" not in page
    assert "Hidden by a facilitator" in page
    queue = client.get(f"/groups/{scene['group'].slug}/moderation").get_data(as_text=True)
    assert "A questionable answer" in queue and "Hid an answer" in queue
    post_form(client, f"/groups/{scene['group'].slug}/restore/answer/{scene['answer'].id}")
    db.session.expire_all()
    assert scene["answer"].hidden_at is None
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["answer.hidden", "answer.restored"]


def test_members_cannot_moderate(client, scene):
    login(client, scene["members"][1])
    base = f"/groups/{scene['group'].slug}"
    assert client.get(base + "/moderation").status_code == 403
    assert post_form(client, f"{base}/hide/answer/{scene['answer'].id}", {"reason": "x"}).status_code == 403
    assert post_form(client, f"{base}/members/{scene['members'][2].id}/ban").status_code == 403
    db.session.expire_all()
    assert scene["answer"].hidden_at is None
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_facilitator_of_another_group_cannot_moderate_this_one(client, scene):
    outsider = f.make_user()
    f.make_group(outsider, name="Elsewhere")
    login(client, outsider)
    response = post_form(client, f"/groups/{scene['group'].slug}/hide/answer/{scene['answer'].id}", {"reason": "x"})
    assert response.status_code == 403
    db.session.expire_all()
    assert scene["answer"].hidden_at is None


def test_banned_person_cannot_rejoin_by_any_way(client, scene):
    group = scene["group"]
    victim = scene["members"][3]
    login(client, scene["facilitator"])
    post_form(client, f"/groups/{group.slug}/members/{victim.id}/ban", {"message": "Abuse"})
    row = db.session.scalar(select(Membership).where(Membership.user_id == victim.id))
    assert row.status == "banned"
    for attempt in (
        lambda: group_service.join(victim, group),
        lambda: group_service.join_by_invite(victim, group.invite_code),
    ):
        with pytest.raises(Exception, match="banned"):
            attempt()
    login(banned := client.application.test_client(), victim)
    assert banned.get(scene["url"]).status_code == 403
    response = post_form(banned, f"/groups/join/{group.invite_code}", follow_redirects=True)
    assert "banned" in response.get_data(as_text=True)
    db.session.expire_all()
    assert row.status == "banned"


def test_a_banned_person_cannot_leave_the_ban_behind(client, scene):
    """Leaving would delete the ban's row, and with it the ban: it is refused, on the
    page and in the service, and the person still cannot join again."""
    group = scene["group"]
    victim = scene["members"][3]
    moderation.ban(scene["facilitator"], group, victim.id, "Abuse")
    login(client, victim)
    response = post_form(client, f"/groups/{group.slug}/leave", follow_redirects=True)
    assert "You are not a member of this group." in response.get_data(as_text=True)
    with pytest.raises(Exception, match="not a member"):
        group_service.leave(victim, group)
    db.session.expire_all()
    row = db.session.scalar(
        select(Membership).where(Membership.user_id == victim.id, Membership.group_id == group.id)
    )
    assert row is not None and row.status == "banned"
    with pytest.raises(Exception, match="banned"):
        group_service.join_by_invite(victim, group.invite_code)


def test_flagging_thread_posts_and_dismissing(client, scene):
    thread = discussion.create_thread(scene["facilitator"], scene["group"], title="T", body="Opening")
    post = discussion.reply(scene["members"][0], thread, "rude words")
    login(client, scene["members"][1])
    post_form(client, flag_url(scene, "post", post.id), {"reason": "harassment"})
    login(fac := client.application.test_client(), scene["facilitator"])
    queue = fac.get(f"/groups/{scene['group'].slug}/moderation").get_data(as_text=True)
    assert "rude words" in queue and "Harassment" in queue
    post_form(fac, f"/groups/{scene['group'].slug}/dismiss/post/{post.id}")
    flag = db.session.scalar(select(Flag))
    assert flag.resolution == "dismissed" and flag.resolved_by_id == scene["facilitator"].id


def test_admin_audit_filters(client, scene):
    other = f.make_group(name="Other group")
    moderation.hide(scene["facilitator"], scene["group"], "answer", scene["answer"].id, "Reason A")
    group_service.reset_invite(other.created_by, other)
    admin = f.make_user(role="admin")
    login(client, admin)
    def rows(path):
        # The table's rows only: the action filter lists every action.
        return client.get(path).get_data(as_text=True).split("<tbody>")[1]

    page = rows(f"/admin/audit?group={scene['group'].slug}")
    assert "Hid an answer" in page and "Reset a group" not in page
    page = rows("/admin/audit?action=group.")
    assert "Reset a group" in page and "Hid an answer" not in page
    page = rows(f"/admin/audit?actor={scene['facilitator'].email}")
    assert "Hid an answer" in page and "Reset a group" not in page
    answer_count = db.session.scalar(select(func.count()).select_from(Answer))
    assert answer_count == 4


def queue_url(scene):
    return f"/groups/{scene['group'].slug}/moderation"


def hide_url(scene, target_type="answer", target_id=None):
    return f"/groups/{scene['group'].slug}/hide/{target_type}/{target_id or scene['answer'].id}"


def test_hiding_from_the_queue_without_a_reason_says_so_next_to_the_field(client, scene):
    moderation.flag(scene["members"][1], scene["group"], "answer", scene["answer"].id, "off_topic")
    login(client, scene["facilitator"])
    response = post_form(
        client, hide_url(scene), {"reason": "   ", "next": queue_url(scene)}, token_from=queue_url(scene)
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    field_id = f"hide-reason-answer-{scene['answer'].id}"
    assert f'aria-describedby="{field_id}-error"' in page
    assert f'id="{field_id}-error"' in page and "Give a reason; the author will see it." in page
    assert "A questionable answer" in page  # still the moderation page, with the flag
    db.session.expire_all()
    assert scene["answer"].hidden_at is None
    # Too long: the message, and what was typed stays in the field.
    typed = "x" * 1001
    response = post_form(
        client, hide_url(scene), {"reason": typed, "next": queue_url(scene)}, token_from=queue_url(scene)
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Keep the reason under 1000 characters." in page and f'value="{typed}"' in page


def test_the_author_of_a_hidden_post_is_told_why(client, scene):
    author = scene["members"][0]
    moderation.hide(scene["facilitator"], scene["group"], "answer", scene["answer"].id, "Names a patient")
    note = db.session.scalar(select(Notification).where(Notification.user_id == author.id))
    assert note.kind == "moderation"
    assert "Names a patient" in note.message and scene["group"].name in note.message
    assert note.url.endswith(f"/answers/{scene['answer'].id}")
    # Nobody else hears of it.
    others = db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.kind == "moderation")
    )
    assert others == 1


def test_an_automatically_hidden_post_tells_its_author_too(client, scene):
    for member in scene["members"][1:4]:
        moderation.flag(member, scene["group"], "answer", scene["answer"].id, "inappropriate")
    note = db.session.scalar(
        select(Notification).where(
            Notification.user_id == scene["members"][0].id, Notification.kind == "moderation"
        )
    )
    assert note is not None and "awaiting review" in note.message


def test_no_reply_box_under_a_hidden_answer_and_no_reply_to_it(client, scene):
    from coprod_study.errors import Conflict
    from coprod_study.groups import answers as answer_service

    answer = scene["answer"]
    moderation.hide(scene["facilitator"], scene["group"], "answer", answer.id, "Off topic")
    login(client, scene["members"][1])
    page = client.get(scene["url"]).get_data(as_text=True)
    assert f'id="reply-body-{answer.id}"' not in page
    others = db.session.scalars(select(Answer.id).where(Answer.id != answer.id)).all()
    assert all(f'id="reply-body-{other}"' in page for other in others)
    with pytest.raises(Conflict):
        answer_service.post_reply(scene["members"][1], answer, "Replying anyway")
    response = post_form(client, f"/groups/{scene['group'].slug}/answers/{answer.id}/replies",
                         {"body": "Replying anyway"}, token_from=scene["url"])
    assert response.status_code == 409
    assert "hidden" in response.get_data(as_text=True)
