"""The learning features' part of a person's data export and of deleting an account."""

from sqlalchemy import delete, select

from coprod_study.extensions import db
from coprod_study.models import (
    Certificate,
    CheckpointExtension,
    CheckpointReminderSent,
    Episode,
    FollowUpOptOut,
    FollowUpSent,
    Reflection,
)


def _when(value) -> str | None:
    return value.isoformat() if value else None


def export(user) -> dict:
    reflections = db.session.execute(
        select(Reflection, Episode.slug)
        .join(Episode, Episode.id == Reflection.episode_id)
        .where(Reflection.user_id == user.id)
        .order_by(Episode.number)
    ).all()
    return {
        "reflections": [
            {"episode": slug, "what_i_learned": r.learned, "what_i_will_try": r.will_try,
             "for_whom": r.for_whom, "created_at": _when(r.created_at),
             "updated_at": _when(r.updated_at)}
            for r, slug in reflections
        ],
        "certificates": [
            {"title": c.title, "name": c.holder_name, "episodes": c.episodes,
             "audio_seconds": c.audio_seconds, "issued_at": _when(c.issued_at),
             "revoked_at": _when(c.revoked_at)}
            for c in db.session.scalars(
                select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.id)
            )
        ],
        "follow_ups": {
            "wanted": db.session.get(FollowUpOptOut, user.id) is None,
            "sent": [
                {"episode_id": f.episode_id, "after_days": f.step_days, "sent_at": _when(f.sent_at)}
                for f in db.session.scalars(
                    select(FollowUpSent).where(FollowUpSent.user_id == user.id).order_by(FollowUpSent.id)
                )
            ],
        },
    }


def delete_for(user_id: int) -> None:
    """In the caller's transaction: everything of the person's here goes, certificates
    too (their verification page then says "unknown")."""
    for model in (Reflection, Certificate, FollowUpSent, FollowUpOptOut, CheckpointExtension,
                  CheckpointReminderSent):
        db.session.execute(
            delete(model).where(model.user_id == user_id).execution_options(
                synchronize_session=False)
        )
