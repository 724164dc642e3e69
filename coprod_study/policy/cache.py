"""What policy has read this request (memberships, course roles), forgotten once a commit changes them."""

from sqlalchemy import event
from sqlalchemy.orm import Session

# The tables the cached answers are read from: a commit that wrote one of them (or
# any rollback) empties the cache, so no later question in the request gets an old answer.
CACHED_TABLES = frozenset({"memberships", "course_members"})
CACHES = ("_memberships", "_course_roles")
_STALE = "policy_cache_stale"  # a key of Session.info


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def _request_cache(name: str) -> dict:
    """A dict kept on `g` for this request (a fresh one outside an app context).

    Reached without the `g` proxy: a long page asks policy questions thousands of times.
    """
    from flask.globals import _cv_app

    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return {}
    store = app_ctx.g.__dict__
    cache = store.get(name)
    if cache is None:
        cache = store[name] = {}
    return cache


def membership(user, group):
    """The viewer's membership row in `group` (any status), cached per request."""
    from sqlalchemy import select

    from coprod_study.extensions import db
    from coprod_study.models import Membership

    if not _signed_in(user):
        return None
    cache = _request_cache("_memberships")
    key = (user.id, group.id)
    if key not in cache:
        cache[key] = db.session.scalar(
            select(Membership).where(
                Membership.group_id == group.id, Membership.user_id == user.id
            )
        )
    return cache[key]


def remember_membership(user, group, row) -> None:
    """Seed the per-request cache with a membership loaded together with its group."""

    if _signed_in(user):
        _request_cache("_memberships")[(user.id, group.id)] = row


def remember_course_role(user, course, role: str | None) -> None:
    """Seed the per-request cache with a role loaded together with its course (or id)."""

    if _signed_in(user):
        _request_cache("_course_roles")[(user.id, getattr(course, "id", course))] = role


def course_role(user, course) -> str | None:
    """"educator", "learner" or None for the viewer in `course` (or a course id), cached."""
    from sqlalchemy import select

    from coprod_study.extensions import db
    from coprod_study.models import CourseMember

    if not _signed_in(user):
        return None
    course_id = getattr(course, "id", course)
    cache = _request_cache("_course_roles")
    key = (user.id, course_id)
    if key not in cache:
        cache[key] = db.session.scalar(
            select(CourseMember.role).where(
                CourseMember.course_id == course_id, CourseMember.user_id == user.id
            )
        )
    return cache[key]


def forget_memberships() -> None:
    """Empty this request's cache (the session events below do it after every commit
    that changed what it holds, and after every rollback)."""
    from flask.globals import _cv_app

    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        for name in CACHES:
            app_ctx.g.__dict__.pop(name, None)


def _note_flush(session, _flush_context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(obj), "__tablename__", None)
        if table in CACHED_TABLES:
            session.info[_STALE] = True
            return


def _note_statement(orm_execute_state) -> None:
    """A bulk INSERT, UPDATE or DELETE (one that bypasses the flush) on a cached table."""
    if not (orm_execute_state.is_insert or orm_execute_state.is_update
            or orm_execute_state.is_delete):
        return
    table = getattr(orm_execute_state.statement, "table", None)
    if getattr(table, "name", None) in CACHED_TABLES:
        orm_execute_state.session.info[_STALE] = True


def _after_commit(session) -> None:
    if session.info.pop(_STALE, False):
        forget_memberships()


def _after_rollback(session) -> None:
    session.info.pop(_STALE, None)
    forget_memberships()


event.listen(Session, "after_flush", _note_flush)
event.listen(Session, "do_orm_execute", _note_statement)
event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_rollback", _after_rollback)
