"""Certificates of participation: who may have one, issuing, revoking, verifying a code."""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, Signer
from sqlalchemy import func, select

from coprod_study.errors import DomainError, NotFound
from coprod_study.extensions import db
from coprod_study.models import (
    Answer,
    Assignment,
    Certificate,
    Course,
    CourseMember,
    Episode,
    ListeningProgress,
    Reflection,
    StudyQuestion,
)


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt="certificate", sep=".")


def code_of(certificate: Certificate) -> str:
    """The verification code: the certificate's public id and its signature."""
    return _signer().sign(certificate.public_id).decode()


def verify(code: str) -> tuple[str, Certificate | None]:
    """("genuine" | "revoked" | "unknown", the certificate if the code is one of ours)."""
    if not code or len(code) > 100:
        return "unknown", None
    try:
        public_id = _signer().unsign(code).decode()
    except BadSignature:
        return "unknown", None
    certificate = db.session.scalar(select(Certificate).where(Certificate.public_id == public_id))
    if certificate is None or certificate.user_id is None:
        return "unknown", None
    return ("revoked" if certificate.revoked_at else "genuine"), certificate


@dataclass
class Progress:
    """What one person has done per episode: listened when, reflected, questions answered."""

    listened: dict[int, datetime]
    reflected: dict[int, datetime]
    answered: dict[int, set[int]]  # episode id -> numbers of the study questions answered
    first_answer: dict[int, datetime]
    last_answer: dict[int, datetime]


def progress_of(user) -> Progress:
    listened = dict(
        db.session.execute(
            select(ListeningProgress.episode_id, ListeningProgress.updated_at).where(
                ListeningProgress.user_id == user.id, ListeningProgress.listened.is_(True)
            )
        ).all()
    )
    reflected = dict(
        db.session.execute(
            select(Reflection.episode_id, Reflection.updated_at).where(Reflection.user_id == user.id)
        ).all()
    )
    answered: dict[int, set[int]] = {}
    first: dict[int, datetime] = {}
    last: dict[int, datetime] = {}
    for episode_id, position, earliest, latest in db.session.execute(
        select(
            StudyQuestion.episode_id,
            StudyQuestion.position,
            func.min(Answer.created_at),
            func.max(Answer.created_at),
        )
        .join(StudyQuestion, StudyQuestion.id == Answer.study_question_id)
        .where(Answer.user_id == user.id, Answer.deleted_at.is_(None))
        .group_by(StudyQuestion.episode_id, StudyQuestion.position)
    ):
        answered.setdefault(episode_id, set()).add(position)
        first[episode_id] = min(first.get(episode_id, earliest), earliest)
        last[episode_id] = max(last.get(episode_id, latest), latest)
    return Progress(listened, reflected, answered, first, last)


def _question_numbers(episode: Episode) -> set[int]:
    return {q.position for q in episode.questions}


def episode_done(progress: Progress, episode: Episode, required: set[int] | None = None) -> bool:
    """Listened, reflected on, and every (required) study question answered."""
    needed = _question_numbers(episode) if required is None else required
    return (
        episode.id in progress.listened
        and episode.id in progress.reflected
        and needed <= progress.answered.get(episode.id, set())
    )


def _episodes() -> list[Episode]:
    return list(db.session.scalars(select(Episode).order_by(Episode.number)).unique())


def eligible_episodes(user, progress: Progress | None = None) -> list[Episode]:
    progress = progress or progress_of(user)
    return [e for e in _episodes() if episode_done(progress, e)]


def _required(assignment: Assignment) -> set[int]:
    if assignment.required_questions is None:
        return _question_numbers(assignment.episode)
    return set(assignment.required_questions)


def eligible_courses(user, progress: Progress | None = None) -> list[Course]:
    """Courses the person is a learner in whose every assignment they have done."""
    progress = progress or progress_of(user)
    mine = select(CourseMember.course_id).where(
        CourseMember.user_id == user.id, CourseMember.role == "learner"
    )
    by_course: dict[int, list[Assignment]] = {}
    for assignment in db.session.scalars(
        select(Assignment).where(Assignment.course_id.in_(mine)).order_by(Assignment.due_at)
    ):
        by_course.setdefault(assignment.course_id, []).append(assignment)
    done = [
        course_id
        for course_id, items in by_course.items()
        if all(episode_done(progress, a.episode, _required(a)) for a in items)
    ]
    if not done:
        return []
    return list(db.session.scalars(select(Course).where(Course.id.in_(done)).order_by(Course.title)))


def my_certificates(user) -> list[Certificate]:
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.user_id == user.id)
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


def _snapshot(progress: Progress, episodes: list[Episode]) -> dict:
    items, moments = [], []
    for episode in episodes:
        listened = progress.listened[episode.id]
        items.append(
            {
                "number": episode.number,
                "title": episode.title,
                "listened_on": listened.date().isoformat(),
                "seconds": episode.duration_seconds or 0,
            }
        )
        moments += [listened, progress.reflected[episode.id]]
        moments += [m[episode.id] for m in (progress.first_answer, progress.last_answer)
                    if episode.id in m]
    return {
        "episodes": items,
        "audio_seconds": sum(item["seconds"] for item in items),
        "first_activity_on": min(moments),
        "last_activity_on": max(moments),
    }


def issue(user, *, episode: Episode | None = None, course: Course | None = None) -> Certificate:
    """A certificate for one episode or one course the person has done; the live one
    they already hold for it, if any.

    :raise DomainError: they have not done it yet.
    """
    progress = progress_of(user)
    if episode is not None:
        if not episode_done(progress, episode):
            raise DomainError(_("Listen to the episode, answer its questions and write your reflection first."))
        episodes, title = [episode], _("Episode %(number)s: %(title)s", number=episode.number,
                                       title=episode.title)
    elif course is not None:
        if course not in eligible_courses(user, progress):
            raise DomainError(_("Finish every assignment of the course and reflect on each episode first."))
        episodes = sorted(
            {a.episode for a in db.session.scalars(
                select(Assignment).where(Assignment.course_id == course.id))},
            key=lambda e: e.number,
        )
        title = course.title
    else:
        raise NotFound(_("There is no such episode or course."))
    existing = db.session.scalar(
        select(Certificate).where(
            Certificate.user_id == user.id,
            Certificate.revoked_at.is_(None),
            Certificate.course_id == course.id if course else Certificate.course_id.is_(None),
            Certificate.title == title,
        )
    )
    if existing is not None:
        return existing
    certificate = Certificate(
        public_id=secrets.token_urlsafe(12),
        user_id=user.id,
        course_id=course.id if course else None,
        holder_name=user.display_name,
        title=title[:300],
        issued_at=datetime.now(UTC),
        **_snapshot(progress, episodes),
    )
    db.session.add(certificate)
    db.session.commit()
    return certificate


def own_certificate(user, certificate_id: int) -> Certificate:
    """:raise NotFound: no such certificate, or it is someone else's."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.user_id != user.id:
        raise NotFound(_("There is no such certificate."))
    return certificate


def revoke(user, certificate_id: int) -> Certificate:
    certificate = own_certificate(user, certificate_id)
    if certificate.revoked_at is None:
        certificate.revoked_at = datetime.now(UTC)
        db.session.commit()
    return certificate
