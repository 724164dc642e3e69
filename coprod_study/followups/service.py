"""Spaced follow-up mails through the outbox, once per person, episode and step; the opt-out."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from coprod_study.catalog.translations import for_episode
from coprod_study.extensions import db
from coprod_study.i18n import language_of
from coprod_study.models import (
    Answer,
    Episode,
    FollowUpOptOut,
    FollowUpSent,
    StudyGroup,
    StudyQuestion,
    User,
)

STEPS = (2, 7, 30)
# A step is sent only in the few days after it falls due, so that answers written
# long before follow-ups existed (or a worker that was down for weeks) do not
# bring a flood of mail about old answers.
WINDOW = timedelta(days=3)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="follow-up-unsubscribe")


def unsubscribe_token(user) -> str:
    return _serializer().dumps(user.id)


def user_for_token(token: str) -> User | None:
    if not token or len(token) > 200:
        return None
    try:
        user_id = _serializer().loads(token)
    except BadSignature:
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    return user if user is not None and user.deleted_at is None else None


def wants_follow_ups(user) -> bool:
    return db.session.get(FollowUpOptOut, user.id) is None


def set_follow_ups(user, wanted: bool) -> None:
    if wanted:
        db.session.execute(delete(FollowUpOptOut).where(FollowUpOptOut.user_id == user.id))
    elif db.session.get(FollowUpOptOut, user.id) is None:
        db.session.add(FollowUpOptOut(user_id=user.id))
    db.session.commit()


@dataclass
class Due:
    user_id: int
    episode_id: int
    step: int
    answer: Answer | None = None


def _due(now: datetime) -> list[Due]:
    """(person, episode, step) whose day has come: counted from the person's first answer
    to one of the episode's questions."""
    oldest = now - timedelta(days=max(STEPS)) - WINDOW
    first = func.min(Answer.created_at)
    rows = db.session.execute(
        select(Answer.user_id, StudyQuestion.episode_id, first)
        .join(StudyQuestion, StudyQuestion.id == Answer.study_question_id)
        .join(User, User.id == Answer.user_id)
        .where(
            Answer.deleted_at.is_(None),
            User.deleted_at.is_(None),
            # Someone who turned every e-mail off gets none of these either.
            User.email_preference != "off",
            Answer.user_id.not_in(select(FollowUpOptOut.user_id)),
        )
        .group_by(Answer.user_id, StudyQuestion.episode_id)
        .having(first >= oldest)
    ).all()
    sent = set(
        db.session.execute(
            select(FollowUpSent.user_id, FollowUpSent.episode_id, FollowUpSent.step_days).where(
                FollowUpSent.sent_at >= oldest
            )
        ).all()
    )
    due = []
    for user_id, episode_id, answered_at in rows:
        if answered_at.tzinfo is None:
            answered_at = answered_at.replace(tzinfo=UTC)
        for step in STEPS:
            starts = answered_at + timedelta(days=step)
            if starts <= now < starts + WINDOW and (user_id, episode_id, step) not in sent:
                due.append(Due(user_id, episode_id, step))
                break
    return due


def _pick_answers(due: list[Due]) -> None:
    """Each follow-up asks one of the questions the person answered, a different one each step."""
    answers: dict[tuple[int, int], list[Answer]] = defaultdict(list)
    for answer, episode_id in db.session.execute(
        select(Answer, StudyQuestion.episode_id)
        .join(StudyQuestion, StudyQuestion.id == Answer.study_question_id)
        .where(
            Answer.deleted_at.is_(None),
            Answer.user_id.in_({d.user_id for d in due}),
            StudyQuestion.episode_id.in_({d.episode_id for d in due}),
        )
        .order_by(StudyQuestion.position, Answer.created_at)
    ):
        mine = answers[(answer.user_id, episode_id)]
        if all(a.study_question_id != answer.study_question_id for a in mine):
            mine.append(answer)
    for item in due:
        mine = answers.get((item.user_id, item.episode_id))
        if mine:
            item.answer = mine[STEPS.index(item.step) % len(mine)]


def send_follow_ups(now: datetime | None = None) -> int:
    """Queue every follow-up that is due; the FollowUpSent rows, written in the mails'
    transaction, make a second run (or a second worker) send nothing."""
    now = now or datetime.now(UTC)
    due = _due(now)
    if not due:
        return 0
    _pick_answers(due)
    due = [d for d in due if d.answer is not None]
    if not due:
        return 0
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({d.user_id for d in due})))}
    episodes = {e.id: e for e in db.session.scalars(select(Episode).where(Episode.id.in_({d.episode_id for d in due})))}
    groups = {g.id: g for g in db.session.scalars(select(StudyGroup).where(StudyGroup.id.in_({d.answer.group_id for d in due})))}
    db.session.execute(
        insert(FollowUpSent),
        [{"user_id": d.user_id, "episode_id": d.episode_id, "step_days": d.step,
          "answer_id": d.answer.id, "sent_at": now} for d in due],
    )
    for item in due:
        _queue_mail(people[item.user_id], episodes[item.episode_id], groups[item.answer.group_id],
                    item)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return 0
    return len(due)


def _queue_mail(person: User, episode: Episode, group: StudyGroup, item: Due) -> None:
    from coprod_study.mail.outgoing import queue_mail

    base = current_app.config["BASE_URL"].rstrip("/")
    # Paths built by hand: this runs in the task queue, outside any request.
    answer_link = f"{base}/groups/{group.slug}/answers/{item.answer.id}"
    unsubscribe = f"{base}/follow-ups/unsubscribe/{unsubscribe_token(person)}"
    language = language_of(person)
    # The question as catalogued, in the person's language where it is translated.
    question = for_episode(episode, language).get("question", item.answer.study_question, "prompt")
    with force_locale(language):
        text = render_template(
            "email/follow_up.txt",
            person=person,
            episode=episode,
            question=question,
            days=item.step,
            answer_link=answer_link,
            unsubscribe=unsubscribe,
            site_name=current_app.config["SITE_NAME"],
        )
        subject = gettext("A question to think about again: episode %(number)s",
                          number=episode.number)
    queue_mail(
        person.email,
        subject,
        text,
        headers={
            # RFC 8058: mail apps offer one-click unsubscribe by POSTing to this URL.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        kind="follow_up",
    )
