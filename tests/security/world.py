"""A seeded world for the security suites: one person per role, private text, a value for every URL part."""

import re
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from coprod_study.extensions import db
from tests import factories as f

# One word each, so that search finds them too.
SECRET = "Xylophonesecret"
COURSE_SECRET = "Quokkacoursesecret"
# Searched for instead of SECRET, which the search page would echo back.
SEARCH_WORD = "Marimbaword"
# The name of the author of the matrix group's anonymous posts.
ANONYMOUS_NAME = "Zebulonanon"
# The invite-only group's name and description, given after its outsiders left.
INVITE_NAME = "Okapinamed circle"
INVITE_DESCRIPTION = "Okapidescribed: where the circle meets now."
# An answer in a course group.
COURSE_GROUP_SECRET = "Tapircoursegroup"
COURSE_SEARCH_WORD = "Capybaraword"

ROLES = (
    "visitor",
    "learner",
    "pending",
    "member",
    "removed",
    "banned",
    "left",
    "other_facilitator",
    "facilitator",
    "other_educator",
    "former_educator",
    "educator",
    "co_educator",
    "admin",
)
# Who may read the group's content (answers, replies, threads) and the course's.
SEES_GROUP = frozenset({"member", "facilitator", "admin"})
SEES_COURSE = frozenset({"member", "educator", "co_educator", "admin"})


@dataclass
class World:
    user_ids: dict  # role -> user id, or None for the visitor
    values: dict  # URL variable -> value, and "endpoint:variable" overrides
    query: dict  # endpoint -> query string parameters
    tokens: dict = field(default_factory=dict)  # role -> API token secret
    ids: dict = field(default_factory=dict)  # anything else a test may want
    # Worlds of their own inside this one: "invite" (an invite-only group that its
    # outsiders left) and "course" (a course group and its educators).
    scenes: dict = field(default_factory=dict)

    def user(self, role: str):
        from coprod_study.models import User

        user_id = self.user_ids[role]
        return None if user_id is None else db.session.get(User, user_id)

    def path(self, rule) -> str:
        """The rule's URL with every variable filled from the world.

        :raise KeyError: a variable the world has no value for (add one in build()).
        """
        values = {}
        for name in rule.arguments:
            blueprint = rule.endpoint.rpartition(".")[0]
            for key in (f"{rule.endpoint}:{name}", f"{blueprint}.:{name}", name):
                if key in self.values:
                    values[name] = self.values[key]
                    break
            else:
                raise KeyError(
                    f"tests/security/world.py has no value for <{name}> of {rule.endpoint} "
                    f"({rule.rule}); add one to build()"
                )
        path = rule.rule
        for name, value in values.items():
            path = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(value), path)
        query = self.query.get(rule.endpoint)
        if query:
            from urllib.parse import urlencode

            path += "?" + urlencode(query)
        return path


def build() -> World:
    """Seed the world through the services (the sample catalog must be loaded)."""
    from coprod_study.account import service as accounts
    from coprod_study.account import tokens as api_tokens
    from coprod_study.courses import calendar
    from coprod_study.courses import service as course_service
    from coprod_study.discussion import service as discussion
    from coprod_study.groups import answers as answer_service
    from coprod_study.groups import service as group_service
    from coprod_study.models import (
        CourseInvite,
        Episode,
        Inquiry,
        Notification,
        OutboxMessage,
        Transcript,
    )
    from coprod_study.moderation import service as moderation
    from coprod_study.notifications import digests

    episode = db.session.scalar(
        select(Episode).join(Transcript, Transcript.episode_id == Episode.id).order_by(Episode.number)
    )
    facilitator = f.make_user(role="facilitator", name="Matrix Facilitator")
    group = f.make_group(
        facilitator, name="Matrix group", join_policy="request", description="A group for the matrix.",
        allow_anonymous=True,
    )
    question = group_service.get_question(group, episode, 1)
    writer = f.add_member(group, f.make_user(name="Matrix Writer"))
    member = f.add_member(group, f.make_user(name="Matrix Member"))
    pending = f.add_member(group, f.make_user(name="Matrix Pending"), status="pending")
    removed = f.add_member(group, f.make_user(name="Matrix Removed"), status="removed")
    banned = f.add_member(group, f.make_user(name="Matrix Banned"))
    moderation.ban(facilitator, group, banned.id, "For the matrix.")
    left = f.add_member(group, f.make_user(name="Matrix Left"))
    group_service.leave(left, group)
    anonymous = f.add_member(group, f.make_user(name=ANONYMOUS_NAME))
    answer = answer_service.post_answer(writer, group, question, f"{SECRET} {SEARCH_WORD} is in this answer.")
    own_answer = answer_service.post_answer(member, group, question, "The member's own answer.")
    reply = answer_service.post_reply(member, answer, f"A reply that says {SECRET} {SEARCH_WORD}.")
    thread = discussion.create_thread(
        facilitator, group, title=f"Thread about {SECRET}", body=f"Opening {SECRET}.", episode=episode
    )
    post = discussion.reply(writer, thread, f"A post with {SECRET} {SEARCH_WORD} in it.")
    own_post = discussion.reply(member, thread, "The member's own post.")
    extra = group_service.add_extra_question(facilitator, group, episode, "An extra question?")
    anonymous_answer = answer_service.post_answer(
        anonymous, group, question, f"An answer whose author stays anonymous ({SEARCH_WORD}).", anonymous=True
    )
    answer_service.post_reply(anonymous, answer, f"A reply whose author stays anonymous ({SEARCH_WORD}).", anonymous=True)
    discussion.reply(anonymous, thread, f"A thread post whose author stays anonymous ({SEARCH_WORD}).", anonymous=True)
    moderation.flag(member, group, "answer", answer.id, "other", "Please look at this.")

    other_facilitator = f.make_user(role="facilitator", name="Other Facilitator")
    f.make_group(other_facilitator, name="Another group", join_policy="open")

    educator = f.make_user(role="educator", name="Matrix Educator")
    course = f.make_course(educator, title="Matrix course", code="MATRIX1", placement="choice")
    course_group = f.make_course_group(course, educator, name="Matrix course group")
    f.enrol(course, member)
    # The course group holds private text too, written by a learner placed in it.
    course_writer = f.enrol(course, f.make_user(name="Matrix Course Writer"))
    course_service.place_learner(educator, course, course_writer.id, course_group.id)
    course_question = group_service.get_question(course_group, episode, 1)
    answer_service.post_answer(
        course_writer, course_group, course_question, f"{SECRET} {SEARCH_WORD} in the course group."
    )
    # Educators added once the course's groups exist: they have no membership row in
    # them. One of them is then taken off the course (no service does that yet).
    co_educator = f.make_user(role="educator", name="Matrix Co-educator")
    former_educator = f.make_user(role="educator", name="Matrix Former Educator")
    for person in (co_educator, former_educator):
        course_service.add_educator(educator, course, person.email)
    f.take_off_course(course, former_educator)
    now = course_service.to_local(course_service.now_utc(), course.time_zone).replace(
        second=0, microsecond=0
    )
    assignment = course_service.create_assignment(
        educator,
        course,
        episode_id=episode.id,
        opens_at=now - timedelta(days=1),
        due_at=now + timedelta(days=3),
        instructions=f"Course instructions: {COURSE_SECRET}.",
    )
    course_service.grant_extension(educator, assignment, member.id, now + timedelta(days=5))
    course_service.add_learners(educator, course, "invitee@example.org")
    invite = db.session.scalar(select(CourseInvite).where(CourseInvite.course_id == course.id))

    learning = _learning(member, episode, assignment, educator)

    other_educator = f.make_user(role="educator", name="Other Educator")
    f.make_course(other_educator, title="Another course", code="OTHER1")

    learner = f.make_user(name="Matrix Learner")
    admin = f.make_user(role="admin", name="Matrix Admin")

    inquiry = Inquiry(
        name="Someone", email="someone@example.org", subject="A question", message="Hello there."
    )
    db.session.add(inquiry)
    db.session.commit()

    users = {
        "visitor": None,
        "learner": learner,
        "pending": pending,
        "member": member,
        "removed": removed,
        "banned": banned,
        "left": left,
        "other_facilitator": other_facilitator,
        "facilitator": facilitator,
        "other_educator": other_educator,
        "former_educator": former_educator,
        "educator": educator,
        "co_educator": co_educator,
        "admin": admin,
    }
    api_token = api_tokens.create_token(member, "matrix", "write")
    calendar_secret = calendar.create_token(member)
    from coprod_study.models import CalendarToken

    calendar_token = db.session.scalar(
        select(CalendarToken).where(CalendarToken.user_id == member.id)
    )
    notification = db.session.scalar(
        select(Notification).where(Notification.user_id == member.id).order_by(Notification.id)
    )
    segment = db.session.scalar(
        select(Transcript).where(Transcript.episode_id == episode.id, Transcript.language == "en")
    ).segments[0]

    from coprod_study.lti.service import registration as lti_registration

    lms = lti_registration.save_platform(admin, None, {
        "name": "Matrix LMS", "issuer": "https://lms.example.org", "client_id": "matrix-tool",
        "deployment_ids": "matrix-deployment", "auth_url": "https://lms.example.org/auth",
        "token_url": "https://lms.example.org/token", "jwks_url": "https://lms.example.org/jwks",
    })
    values = {
        "slug": group.slug,
        "platform_id": lms.id,
        "lti_origins": ("https://lms.example.org",),
        # The catalog, its admin pages and the API's catalog name episodes by slug.
        "catalog.:slug": episode.slug,
        "admin.:slug": episode.slug,
        "api.episode:slug": episode.slug,
        "episode_slug": episode.slug,
        "number": 1,
        "answer_id": answer.id,
        "reply_id": reply.id,
        # Edits and deletions aim at the member's own posts, so that someone may make them.
        "groups.edit_answer:answer_id": own_answer.id,
        "groups.delete_answer:answer_id": own_answer.id,
        "api.edit_answer:answer_id": own_answer.id,
        "discussion.edit_post:post_id": own_post.id,
        "discussion.delete_post:post_id": own_post.id,
        "api.edit_post:post_id": own_post.id,
        "post_id": post.id,
        "thread_id": thread.id,
        "question_id": extra.id,
        "target_type": "answer",
        "target_id": answer.id,
        "change": "pin",
        "action": "approve",
        "user_id": member.id,
        "groups.member_action:user_id": pending.id,
        "moderation.ban:user_id": writer.id,
        "admin.change_role:user_id": learner.id,
        "invite": group.invite_code,
        "code": course.code,
        "assignment_id": assignment.id,
        "token_id": api_token.token.id,
        "courses.revoke_calendar_link:token_id": calendar_token.id,
        "token": "unused",
        "auth.reset_with_token:token": accounts.make_reset_token(member),
        "notifications.unsubscribe:token": digests.unsubscribe_token(member),
        "courses.invite:token": invite.token,
        "notification_id": notification.id,
        "api.read_notification:notification_id": notification.id,
        "inquiry_id": inquiry.id,
        # The course invitation's mail, still in the outbox.
        "outbox_id": db.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id)),
        "segment_id": segment.id,
        "language": "en",
        "kind": "questions",
        "index": 1,
        "filename": "css/site.css",
        **learning,
    }
    query = {
        "search.index": {"q": SEARCH_WORD},
        # More accounts than a page holds: the search narrows them (the page echoes
        # the query, which is only part of the name).
        "admin.users": {"q": ANONYMOUS_NAME[:7]},
        "courses.personal_calendar": {"token": calendar_secret},
        "courses.course_calendar": {"token": calendar_secret},
    }
    from tests.api_support import token_for

    tokens = {role: token_for(user) for role, user in users.items() if user is not None}
    return World(
        user_ids={role: getattr(user, "id", None) for role, user in users.items()},
        values=values,
        query=query,
        tokens=tokens,
        ids={
            "group": group.id,
            "answer": answer.id,
            "writer": writer.id,
            "episode": episode.id,
            "enrol_code": course.enrol_code,
            "course_group": course_group.id,
            "other_episode": db.session.scalar(
                select(Episode.id).where(Episode.id != episode.id).order_by(Episode.number)
            ),
            "other_educator_email": other_educator.email,
            "pending": pending.id,
            "learner": learner.id,
            "question_number": 1,
            "anonymous_answer": anonymous_answer.id,
        },
        scenes={"invite": _invite_only_scene(episode), "course": _course_scene(admin, other_educator)},
    )


def _learning(member, episode, assignment, educator) -> dict:
    """The member's private reflection (holding SECRET) and certificate; the assignment's
    checkpoints and the member's extension of one: the URL values that name them."""
    from sqlalchemy import delete

    from coprod_study.certificates import service as certificates
    from coprod_study.courses import checkpoints
    from coprod_study.courses import service as course_service
    from coprod_study.followups import service as followups
    from coprod_study.models import Certificate, ListeningProgress
    from coprod_study.reflections import service as reflections

    db.session.add(ListeningProgress(user_id=member.id, episode_id=episode.id, listened=True))
    db.session.commit()
    reflection = reflections.save_reflection(
        member, episode, {"learned": f"My private {SECRET}.", "will_try": "", "for_whom": ""}
    )
    # Unmarked again afterwards, so that marking it listened still writes for everyone.
    db.session.execute(delete(ListeningProgress).where(ListeningProgress.user_id == member.id))
    db.session.commit()
    certificate = Certificate(
        public_id="matrixcertificate", user_id=member.id, holder_name=member.display_name,
        title="Matrix certificate", episodes=[{"number": episode.number, "title": episode.title,
                                               "listened_on": "2026-12-01", "seconds": 60}],
        audio_seconds=60,
    )
    db.session.add(certificate)
    db.session.commit()
    local = course_service.to_local(assignment.due_at, assignment.course.time_zone)
    checkpoints.save_checkpoints(assignment, answers_due=local - timedelta(days=1),
                                 replies_required=1, replies_due=local)
    learner_ids = {member.id}
    extension = checkpoints.grant_extension(educator, assignment, learner_ids, member.id,
                                            "answers", local + timedelta(days=1))
    return {
        "reflection_id": reflection.id,
        "reflections.new:slug": episode.slug,
        "certificate_id": certificate.id,
        "certificates.verify:code": certificates.code_of(certificate),
        "extension_id": extension.id,
        "followups.unsubscribe:token": followups.unsubscribe_token(member),
    }


def _scene_user(name: str, **fields):
    from tests.api_support import token_for

    user = f.make_user(name=name, **fields)
    return user, token_for(user)


def _invite_only_scene(episode) -> dict:
    """An invite-only group that three people joined by its link, wrote in, then were
    removed from, banned from or left; renamed after that."""
    from coprod_study.discussion import service as discussion
    from coprod_study.groups import answers as answer_service
    from coprod_study.groups import service as group_service
    from coprod_study.moderation import service as moderation

    facilitator = f.make_user(role="facilitator", name="Invite Facilitator")
    group = f.make_group(
        facilitator, name="Hidden circle", join_policy="invite", description="Before the rename."
    )
    question = group_service.get_question(group, episode, 1)
    people, tokens = {}, {}
    for role in ("member", "removed", "banned", "left"):
        people[role], tokens[role] = _scene_user(f"Invite {role.title()}")
        group_service.join_by_invite(people[role], group.invite_code)
    answers = {
        role: answer_service.post_answer(person, group, question, f"The {role} person's answer.")
        for role, person in people.items()
    }
    thread = discussion.create_thread(facilitator, group, title="Circle thread", body="Its opening.")
    post = discussion.reply(people["member"], thread, "The member's thread post.")
    reply = answer_service.post_reply(people["member"], answers["removed"], "A reply.")
    extra = group_service.add_extra_question(facilitator, group, episode, "A circle question?")
    moderation.flag(people["removed"], group, "answer", answers["member"].id, "other", "Look.")
    group_service.remove_member(facilitator, group, people["removed"].id, "Moved on.")
    moderation.ban(facilitator, group, people["banned"].id, "Not welcome.")
    group_service.leave(people["left"], group)
    group_service.update_group(
        facilitator, group, name=INVITE_NAME, description=INVITE_DESCRIPTION,
        join_policy="invite", post_first=True, allow_anonymous=False,
    )
    return {
        "slug": group.slug,
        "user_ids": {role: person.id for role, person in people.items()},
        "tokens": tokens,
        "values": {
            "slug": group.slug,
            "answer_id": answers["member"].id,
            "reply_id": reply.id,
            "post_id": post.id,
            "thread_id": thread.id,
            "question_id": extra.id,
            "target_id": answers["member"].id,
            "user_id": people["member"].id,
        },
    }


def _course_scene(admin, other_educator) -> dict:
    """A course group run by its educators: the one who made it (who has a membership
    row), a co-educator added through the service (who has none) and an educator taken
    off the course; learners placed in it, one who answered and one who did not, whose
    assignment revealed the answers after its due date; and a learner left unplaced."""
    from coprod_study.courses import service as course_service
    from coprod_study.discussion import service as discussion
    from coprod_study.groups import answers as answer_service
    from coprod_study.groups import service as group_service
    from coprod_study.models import Assignment, Episode
    from tests.api_support import token_for

    lead, lead_token = _scene_user("Course Lead", role="educator")
    course = f.make_course(lead, title="Scene course", code="SCENE1")
    group = f.make_course_group(course, lead, name="Scene course group")
    people = {"educator": lead}
    tokens = {"educator": lead_token}
    for role in ("co_educator", "former_educator"):
        people[role], tokens[role] = _scene_user(f"Course {role}", role="educator")
        course_service.add_educator(lead, course, people[role].email)
    # No service takes an educator off a course yet: the row goes as a later one would.
    f.take_off_course(course, people["former_educator"])
    for role in ("answered", "late", "unplaced"):
        people[role], tokens[role] = _scene_user(f"Course {role}")
        f.enrol(course, people[role])
        if role != "unplaced":
            course_service.place_learner(lead, course, people[role].id, group.id)
    episode = db.session.scalar(select(Episode).order_by(Episode.number.desc()))
    now = course_service.to_local(course_service.now_utc(), course.time_zone).replace(
        second=0, microsecond=0
    )
    assignment = course_service.create_assignment(
        lead, course, episode_id=episode.id, opens_at=now - timedelta(days=2),
        due_at=now + timedelta(days=1), reveal_after_due=True,
    )
    question = group_service.get_question(group, episode, 1)
    answer = answer_service.post_answer(
        people["answered"], group, question,
        f"{COURSE_GROUP_SECRET} {COURSE_SEARCH_WORD} is in this answer.",
    )
    thread = discussion.create_thread(lead, group, title="Course thread", body="Its opening.")
    post = discussion.reply(people["answered"], thread, "A course thread post.")
    # The due date passes: the course reveals the answers to those who have not answered.
    db.session.get(Assignment, assignment.id).due_at = course_service.now_utc() - timedelta(hours=1)
    db.session.commit()
    for role, person in (("admin", admin), ("other_educator", other_educator)):
        people[role], tokens[role] = person, token_for(person)
    return {
        "slug": group.slug,
        "user_ids": {role: person.id for role, person in people.items()},
        "tokens": tokens,
        "values": {
            "slug": group.slug,
            "episode_slug": episode.slug,
            "number": 1,
            "answer_id": answer.id,
            "post_id": post.id,
            "thread_id": thread.id,
            "target_id": answer.id,
            "user_id": people["answered"].id,
            "code": course.code,
        },
    }
