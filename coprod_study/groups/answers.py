"""Answers to study questions inside a group and their replies: writing them, endorsing, revealing.

Reading a question's answers is in answer_state (where the viewer stands) and
answer_pages (a page of them); what every kind of post shares (edits with history,
deletion, hiding, flags, mentions) is in the post kernel, coprod_study.posts.
The names the views, the API and the templates call stay here.
"""

from datetime import UTC, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from coprod_study import policy
from coprod_study.errors import Conflict, Forbidden
from coprod_study.extensions import db
from coprod_study.groups.answer_pages import (  # noqa: F401  (their interface, kept here)
    ANSWER_ORDER,
    ANSWERS_PER_PAGE,
    PAGE_SIZES,
    Fingerprint,
    QuestionPage,
    _shown_answers,
    answer_page_number,
    answers_fingerprint,
    page_from_fingerprint,
    page_from_ids,
    question_page,
)
from coprod_study.groups.answer_state import (  # noqa: F401  (their interface, kept here)
    PageState,
    _question_filter,
    answer_summary,
    answer_summary_stmt,
    can_read_answer,
    get_answer,
    get_reply,
    is_revealed,
    own_answer,
    page_state,
)
from coprod_study.groups.service import Question
from coprod_study.models import Answer, QuestionReveal, Reply, Revision
from coprod_study.posts import kernel, mentions
from coprod_study.posts.kernel import check_post_rate, count_post
from coprod_study.posts.kinds import kind_of


def _now() -> datetime:
    return datetime.now(UTC)


def post_answer(
    user, group, question: Question, body: str, anonymous: bool = False, segment_id=None
) -> Answer:
    body = kernel.prepare(user, group, body, "answer", anonymous=anonymous)
    segment = None
    if segment_id:
        from coprod_study.catalog.transcript import segment_for_episode

        segment = segment_for_episode(question.episode_id, segment_id)
    check_post_rate(user)
    state = page_state(user, group, question)
    existing = state.own
    if existing is not None and existing.deleted_at is None:
        raise Conflict(_("You have already answered this question; edit your answer instead."))
    named, html = kernel.mark(group, body)
    if existing is not None:
        # Answering again after deleting brings the answer back, with history.
        db.session.add(kind_of(existing).revision(existing, existing.body, existing.created_at))
        existing.body, existing.body_html, existing.anonymous = body, html, anonymous
        existing.deleted_at = None
        existing.edited_at = _now()
        answer = existing
    else:
        answer = kernel.new(
            "answer", user, body, html, anonymous=anonymous, group_id=group.id,
            study_question_id=question.study_question_id,
            group_question_id=question.group_question_id, segment_id=getattr(segment, "id", None),
        )
    try:
        db.session.flush()
        _notify_mentions(user, group, answer, answer, named)
        if not state.sees_peers:
            # Their own answer opens the others: the mentions held back reach them now.
            _deliver_held_mentions(user, group, question)
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(
            _("You have already answered this question; edit your answer instead.")
        ) from error
    count_post(user)
    return answer


def _mention_text(kind: str, name: str, group):
    if kind == "reply":
        return _l("%(name)s mentioned you in a reply in %(group)s", name=name, group=group.name)
    return _l("%(name)s mentioned you in an answer in %(group)s", name=name, group=group.name)


def _notify_mentions(author, group, answer: Answer, post, named: dict[int, str]) -> set[int]:
    """Tell the members an answer or reply mentions, if they may read it now (post before
    you see others holds: the others hear of it when they post their own answer, see
    _deliver_held_mentions). Returns who was told."""
    from coprod_study.models import ANONYMOUS_LABEL, User
    from coprod_study.notifications import service as notifications
    from coprod_study.urls import path_for

    ids = set(named) - {author.id}
    if not ids:
        return set()
    readers = {
        person.id
        for person in db.session.scalars(select(User).where(User.id.in_(ids)))
        if can_read_answer(person, answer)
    }
    kind = "reply" if isinstance(post, Reply) else "answer"
    notifications.notify(
        readers,
        "mention",
        _mention_text(kind, ANONYMOUS_LABEL if post.anonymous else author.display_name, group),
        path_for("groups.answer_link", slug=group.slug, answer_id=answer.id),
        group=group,
        target_type=kind,
        target_id=post.id,
    )
    return readers


def _deliver_held_mentions(user, group, question: Question) -> None:
    """The mentions of `user` in the question's answers and replies that they could not
    read until now, each once."""
    from coprod_study.models import ANONYMOUS_LABEL, Notification
    from coprod_study.notifications import service as notifications
    from coprod_study.urls import path_for

    name = user.display_name.lower()
    told = set(
        db.session.execute(
            select(Notification.target_type, Notification.target_id).where(
                Notification.user_id == user.id, Notification.kind == "mention"
            )
        ).all()
    )
    live = (Answer.deleted_at.is_(None), Answer.hidden_at.is_(None))
    in_question = (Answer.group_id == group.id, _question_filter(Answer, question), *live)
    found = [
        ("answer", row, row)
        for row in db.session.scalars(
            select(Answer).where(*in_question, Answer.user_id != user.id, Answer.body.contains("@"))
        )
    ] + [
        ("reply", row, row.answer)
        for row in db.session.scalars(
            select(Reply).join(Answer, Answer.id == Reply.answer_id).where(
                *in_question, Reply.user_id != user.id, Reply.deleted_at.is_(None),
                Reply.hidden_at.is_(None), Reply.body.contains("@"),
            )
        )
    ]
    for kind, post, answer in found:
        if (kind, post.id) in told or name not in mentions.mentioned_names(post.body):
            continue
        author = ANONYMOUS_LABEL if post.anonymous else post.author.display_name
        notifications.notify(
            [user.id],
            "mention",
            _mention_text(kind, author, group),
            path_for("groups.answer_link", slug=group.slug, answer_id=answer.id),
            group=group,
            target_type=kind,
            target_id=post.id,
        )


def edit_answer(user, answer: Answer, body: str) -> Answer:
    return kernel.edit(user, answer, body)


def delete_answer(user, answer: Answer) -> None:
    kernel.delete(user, answer)


def endorse(actor, answer: Answer, endorsed: bool) -> None:
    if not policy.can_moderate(actor, answer.group):
        raise Forbidden(_("Only the group's facilitators may endorse answers."))
    if answer.deleted_at is not None:
        raise Conflict(_("A deleted answer cannot be endorsed."))
    answer.endorsed_at = _now() if endorsed else None
    answer.endorsed_by_id = actor.id if endorsed else None
    db.session.commit()


def reveal(actor, group, question: Question) -> bool:
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may reveal answers."))
    if is_revealed(group, question):
        return False
    db.session.add(
        QuestionReveal(
            group_id=group.id,
            study_question_id=question.study_question_id,
            group_question_id=question.group_question_id,
            revealed_by_id=actor.id,
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def _check_open(user, answer: Answer) -> None:
    """An answer takes replies from those who may read it, while it is neither deleted nor hidden."""
    if not can_read_answer(user, answer):
        raise Forbidden(_("Post your own answer first; then you can reply to others."))
    if answer.deleted_at is not None:
        raise Conflict(_("This answer was deleted; it takes no new replies."))
    if answer.hidden_at is not None:
        raise Conflict(_("A facilitator hid this answer; it takes no new replies."))


def post_reply(user, answer: Answer, body: str, anonymous: bool = False) -> Reply:
    group = answer.group
    body = kernel.prepare(user, group, body, "reply", anonymous=anonymous,
                          checks=lambda: _check_open(user, answer))
    check_post_rate(user)
    named, html = kernel.mark(group, body)
    reply = kernel.new("reply", user, body, html, anonymous=anonymous, answer_id=answer.id)
    db.session.flush()
    # One notification per person: a mention beats "replied to your answer".
    told = _notify_mentions(user, group, answer, reply, named)
    if (
        answer.user_id != user.id
        and answer.user_id not in told
        and policy.is_member(answer.author, group)
    ):
        from coprod_study.models import ANONYMOUS_LABEL
        from coprod_study.notifications import service as notifications
        from coprod_study.urls import path_for

        name = ANONYMOUS_LABEL if anonymous else user.display_name
        notifications.notify(
            [answer.user_id],
            "reply",
            _l("%(name)s replied to your answer in %(group)s", name=name, group=group.name),
            path_for("groups.answer_link", slug=group.slug, answer_id=answer.id),
            group=group,
            target_type="reply",
            target_id=reply.id,
        )
    db.session.commit()
    count_post(user)
    return reply


def edit_reply(user, reply: Reply, body: str) -> Reply:
    return kernel.edit(user, reply, body)


def delete_reply(user, reply: Reply) -> None:
    kernel.delete(user, reply)


def history(answer_or_reply) -> list[Revision]:
    return kernel.history(answer_or_reply)
