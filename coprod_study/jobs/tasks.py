"""Task bodies: deliver one mail, the heartbeat sweep, digests, reminders and follow-ups on a schedule."""

import logging

from huey import crontab

log = logging.getLogger(__name__)

# Periodic tasks run on every consumer's schedule; the claims in the database make
# a second run of the same minute send nothing.
DIGEST_SCHEDULE = crontab(minute="*")
REMINDER_SCHEDULE = crontab(minute="*/10")
SWEEP_SCHEDULE = crontab(minute="*")


def deliver_mail(message_id: int) -> str:
    from coprod_study.jobs.handle import jobs_for
    from coprod_study.mail import outbox

    outcome = outbox.deliver(message_id)
    if outcome.retry_in is not None:
        jobs_for().task("deliver_mail").schedule(args=(message_id,), delay=outcome.retry_in)
    return outcome.status


def sweep() -> int:
    """Give back the rows of workers that died, and enqueue what is due (also the
    rows whose enqueue was lost, e.g. Redis was down when the change committed)."""
    from coprod_study.jobs.handle import jobs_for
    from coprod_study.mail import outbox

    outbox.recover_stale()
    due = outbox.due_ids()
    jobs_for().enqueue_delivery(due)
    return len(due)


def heartbeat() -> None:
    """Run through the queue by each consumer every few seconds: /healthz reads the time
    it last ran, so it shows that a worker takes tasks, not only that one was started."""
    from coprod_study.jobs.handle import jobs_for

    jobs_for().beat()
    sweep()


def send_digests() -> int:
    from coprod_study.notifications import digests

    return digests.send_digests()


def send_reminders() -> int:
    from coprod_study.courses import reminders

    return reminders.send_reminders().notified


def lti_post_grade(context_id: int, assignment_id: int, user_id: int) -> None:
    """Post one learner's score to the LMS; on failure, schedule the next attempt."""
    from coprod_study.jobs.handle import jobs_for
    from coprod_study.lti.service import grades

    delay = grades.post(context_id, assignment_id, user_id)
    if delay is not None:
        jobs_for().task("lti_post_grade").schedule(
            args=(context_id, assignment_id, user_id), delay=delay
        )


def send_follow_ups() -> int:
    from coprod_study.followups import service

    return service.send_follow_ups()


def send_checkpoint_reminders() -> int:
    from coprod_study.courses import checkpoint_reminders

    return checkpoint_reminders.send_checkpoint_reminders()


def register(huey, in_app) -> dict:
    """The app's tasks on its huey instance, by name."""
    return {
        "deliver_mail": huey.task(name="deliver_mail")(in_app(deliver_mail)),
        "heartbeat": huey.task(name="heartbeat")(in_app(heartbeat)),
        "lti_post_grade": huey.task(name="lti_post_grade")(in_app(lti_post_grade)),
        "sweep": huey.periodic_task(SWEEP_SCHEDULE, name="sweep_outbox")(in_app(sweep)),
        "send_digests": huey.periodic_task(DIGEST_SCHEDULE, name="send_digests")(
            in_app(send_digests)
        ),
        "send_reminders": huey.periodic_task(REMINDER_SCHEDULE, name="send_reminders")(
            in_app(send_reminders)
        ),
        "send_follow_ups": huey.periodic_task(REMINDER_SCHEDULE, name="send_follow_ups")(
            in_app(send_follow_ups)
        ),
        "send_checkpoint_reminders": huey.periodic_task(
            REMINDER_SCHEDULE, name="send_checkpoint_reminders"
        )(in_app(send_checkpoint_reminders)),
    }
