"""Assignment and Grade Services: a line item per assignment, and each learner's score
(answered required questions of all) posted when it changes, retried on the queue."""

import logging
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from coprod_study import policy
from coprod_study.courses import progress
from coprod_study.courses import service as course_service
from coprod_study.errors import Forbidden, NotFound
from coprod_study.extensions import db
from coprod_study.lti.service import claims as c
from coprod_study.lti.service import http, platform_api
from coprod_study.lti.service.contexts import remember_line_item
from coprod_study.models import (
    Assignment,
    Course,
    Episode,
    LtiContext,
    LtiGradePost,
    LtiIdentity,
    LtiLineItem,
    LtiPlatform,
    User,
)

log = logging.getLogger(__name__)
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
# Seconds before each retry; after the last the row stays failed until an educator retries.
RETRY_DELAYS = (30, 300, 1800, 7200)


def _now() -> datetime:
    return datetime.now(UTC)


def _scores_url(lineitem_url: str) -> str:
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def score_of(course: Course, assignment: Assignment, user: User) -> tuple[int, int, str, bool]:
    """(answered, required, comment, complete), as the course's progress page counts them."""
    cell = next((cell for cell in progress.my_cells(user, course) if cell.assignment.id == assignment.id), None)
    if cell is None:
        return 0, len(course_service.required_question_ids(assignment)), _("Not a learner of the course"), False
    return cell.answered, cell.required, cell.left, cell.complete


def _line_item(context: LtiContext, platform: LtiPlatform, assignment: Assignment, token: str,
               maximum: int) -> str:
    row = db.session.scalar(select(LtiLineItem).where(
        LtiLineItem.lti_context_id == context.id, LtiLineItem.assignment_id == assignment.id))
    if row is not None:
        return row.url
    if not context.lineitems_url:
        raise http.PlatformError(_("The LMS gave no grade book address for this course."))
    resource = f"assignment-{assignment.id}"
    separator = "&" if "?" in context.lineitems_url else "?"
    found, _response = http.get_json(
        context.lineitems_url + separator + urlencode({"resource_id": resource}),
        headers=platform_api.bearer(token, CONTAINER_TYPE),
    )
    items = [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []
    url = next((str(i["id"]) for i in items if i.get("resourceId") == resource and i.get("id")), None)
    if url is None:
        episode = db.session.get(Episode, assignment.episode_id)
        created = http.call("POST", context.lineitems_url, json={
            "scoreMaximum": max(maximum, 1),
            "label": _("Episode %(number)s: %(title)s", number=episode.number, title=episode.title)[:255],
            "resourceId": resource,
            "tag": "coprod-study",
        }, headers=platform_api.bearer(token, LINEITEM_TYPE, LINEITEM_TYPE)).json()
        url = str(created.get("id") or "")
        if not url:
            raise http.PlatformError(_("The LMS made no line item."))
    remember_line_item(context, assignment, url)
    return url


def _row(context_id: int, assignment_id: int, user_id: int) -> LtiGradePost:
    row = db.session.scalar(select(LtiGradePost).where(
        LtiGradePost.lti_context_id == context_id, LtiGradePost.assignment_id == assignment_id,
        LtiGradePost.user_id == user_id))
    if row is None:
        row = LtiGradePost(lti_context_id=context_id, assignment_id=assignment_id, user_id=user_id)
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
            return _row(context_id, assignment_id, user_id)
    return row


def post(context_id: int, assignment_id: int, user_id: int) -> int | None:
    """Send one learner's current score. Returns seconds until a retry, or None (sent,
    nothing to send, or retries used up: the row shows the failure to the educators)."""
    context = db.session.get(LtiContext, context_id)
    assignment = db.session.get(Assignment, assignment_id)
    user = db.session.get(User, user_id)
    if context is None or assignment is None or user is None or assignment.course_id != context.course_id:
        return None
    subject = db.session.scalar(select(LtiIdentity.subject).where(
        LtiIdentity.platform_id == context.platform_id, LtiIdentity.user_id == user_id))
    if subject is None:
        return None  # enrolled here by code: the LMS does not know them
    course = db.session.get(Course, context.course_id)
    platform = db.session.get(LtiPlatform, context.platform_id)
    given, maximum, comment, complete = score_of(course, assignment, user)
    row = _row(context_id, assignment_id, user_id)
    row.score_given, row.score_maximum, row.comment = given, maximum, comment
    row.status, row.updated_at = "queued", _now()
    row.attempts += 1
    db.session.commit()
    try:
        token = platform_api.access_token(platform, [c.SCOPE_LINEITEM, c.SCOPE_SCORE])
        lineitem = _line_item(context, platform, assignment, token, maximum)
        http.call("POST", _scores_url(lineitem), json={
            "userId": subject,
            "scoreGiven": given,
            "scoreMaximum": max(maximum, 1),
            "comment": comment,
            "timestamp": _now().isoformat(timespec="milliseconds"),
            "activityProgress": "Completed" if complete else "InProgress",
            "gradingProgress": "FullyGraded",
        }, headers=platform_api.bearer(token, content_type=SCORE_TYPE))
    except http.PlatformError as error:
        db.session.rollback()
        row = _row(context_id, assignment_id, user_id)
        row.status, row.last_error = "failed", error.message[:1000]
        db.session.commit()
        log.warning("Grade for user %s, assignment %s not sent: %s", user_id, assignment_id, error.message)
        attempt = row.attempts
        return RETRY_DELAYS[attempt - 1] if attempt <= len(RETRY_DELAYS) else None
    row = _row(context_id, assignment_id, user_id)
    row.status, row.sent_at, row.last_error = "sent", _now(), None
    db.session.commit()
    return None


def enqueue(triples) -> None:
    """Put each (context, assignment, learner) on the task queue; a failed enqueue is
    logged and left to an educator's retry."""
    from coprod_study.jobs.handle import jobs_for

    task = jobs_for().task("lti_post_grade")
    for triple in dict.fromkeys(triples):
        try:
            task(*triple)
        except Exception:
            log.exception("Could not enqueue the grade %s", triple)


def posts(course: Course, status: str | None = None) -> list[LtiGradePost]:
    stmt = (
        select(LtiGradePost)
        .join(LtiContext, LtiContext.id == LtiGradePost.lti_context_id)
        .where(LtiContext.course_id == course.id)
        .order_by(LtiGradePost.updated_at.desc(), LtiGradePost.id.desc())
    )
    if status:
        stmt = stmt.where(LtiGradePost.status == status)
    return list(db.session.scalars(stmt))


def retry(actor, course: Course, post_id: int | None = None) -> int:
    """Send again one failed grade (post_id) or every failed one of the course.

    :raise Forbidden: not an educator of the course.
    :raise NotFound: no such failed grade in this course.
    """
    if not policy.can_manage_course(actor, course):
        raise Forbidden(_("Only the course's educators may do this."))
    rows = [row for row in posts(course, "failed") if post_id is None or row.id == post_id]
    if post_id is not None and not rows:
        raise NotFound(_("There is no such failed grade in this course."))
    triples = [(row.lti_context_id, row.assignment_id, row.user_id) for row in rows]
    for row in rows:
        row.attempts = 0
        row.status = "queued"
    db.session.commit()
    # Nothing read between the commit and the enqueue: a worker (or an immediate queue)
    # must not wait on a transaction of this request.
    enqueue(triples)
    return len(triples)
