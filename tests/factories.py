"""Test helpers that create rows directly through the models and services."""

import itertools

from werkzeug.security import generate_password_hash

from coprod_study.account.service import hash_password
from coprod_study.extensions import db
from coprod_study.models import User

DEFAULT_PASSWORD = "a long test passphrase"
# scrypt reads its work factor from the stored hash, so checking the shared test
# password at each of the suite's sign-ins costs 70 ms with the app's own factor
# (N=32768) and about 2 ms with this one. Hashes the app makes (registration, a
# changed or reset password) keep the app's factor; test_auth checks it.
TEST_HASH_METHOD = "scrypt:1024:8:1"
_counter = itertools.count(1)
_password_hash = None


def _hash(password: str) -> str:
    # scrypt is slow on purpose; hash the common test password once per run.
    global _password_hash
    if password != DEFAULT_PASSWORD:
        return hash_password(password)
    if _password_hash is None:
        _password_hash = generate_password_hash(DEFAULT_PASSWORD, method=TEST_HASH_METHOD)
    return _password_hash


def make_user(
    role: str = "learner",
    email: str | None = None,
    name: str | None = None,
    password: str = DEFAULT_PASSWORD,
    **fields,
) -> User:
    number = next(_counter)
    user = User(
        email=(email or f"person{number}@example.org").lower(),
        display_name=name or f"Person {number}",
        password_hash=_hash(password),
        role=role,
        **fields,
    )
    db.session.add(user)
    db.session.commit()
    return user


def make_group(facilitator: User | None = None, **fields):
    """A group with `facilitator` (made if missing) as its facilitator."""
    from coprod_study.groups import service as groups

    facilitator = facilitator or make_user()
    fields.setdefault("name", f"Group {next(_counter)}")
    return groups.create_group(facilitator, **fields)


def add_member(group, user: User | None = None, role: str = "member", status: str = "active"):
    from coprod_study import policy
    from coprod_study.models import Membership

    user = user or make_user()
    db.session.add(Membership(group_id=group.id, user_id=user.id, role=role, status=status))
    db.session.commit()
    policy.forget_memberships()
    return user


def first_question(group, episode=None):
    """The group's question 1 of the first episode (by number)."""
    from sqlalchemy import select

    from coprod_study.groups import service as groups
    from coprod_study.models import Episode

    episode = episode or db.session.scalar(select(Episode).order_by(Episode.number))
    return episode, groups.get_question(group, episode, 1)


def make_answer(group, user: User, question, body: str = "My answer", **fields):
    from coprod_study.models import Answer

    answer = Answer(
        group_id=group.id,
        user_id=user.id,
        study_question_id=question.study_question_id,
        group_question_id=question.group_question_id,
        body=body,
        body_html=f"<p>{body}</p>",
        **fields,
    )
    db.session.add(answer)
    db.session.commit()
    return answer


# --- Courses ----------------------------------------------------------------------


def make_course(educator: User | None = None, **fields):
    """A course with `educator` (an educator made if missing) as its educator."""
    from coprod_study.courses import service as courses

    educator = educator or make_user(role="educator")
    number = next(_counter)
    fields.setdefault("title", f"Course {number}")
    fields.setdefault("code", f"C{number}")
    return courses.create_course(educator, **fields)


def enrol(course, user: User | None = None, role: str = "learner") -> User:
    from coprod_study import policy
    from coprod_study.models import CourseMember

    user = user or make_user()
    db.session.add(CourseMember(course_id=course.id, user_id=user.id, role=role))
    db.session.commit()
    policy.forget_memberships()
    return user


def make_assignment(course, episode=None, *, opens_in=None, due_in=None, **fields):
    """An assignment on `episode` (the first by number if missing); `opens_in` and
    `due_in` are timedeltas from now (default: opened a day ago, due in three days)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from coprod_study.models import Assignment, Episode

    now = datetime.now(UTC).replace(microsecond=0)
    episode = episode or db.session.scalar(select(Episode).order_by(Episode.number))
    fields.setdefault("opens_at", now + (opens_in if opens_in is not None else timedelta(days=-1)))
    fields.setdefault("due_at", now + (due_in if due_in is not None else timedelta(days=3)))
    assignment = Assignment(course_id=course.id, episode_id=episode.id, **fields)
    db.session.add(assignment)
    db.session.commit()
    return assignment


def make_course_group(course, educator: User, name: str | None = None, **fields):
    from coprod_study.courses import service as courses

    return courses.create_course_group(
        educator, course, name=name or f"Course group {next(_counter)}", **fields
    )


def place(course, group, user: User) -> None:
    """Put a learner into a course group, as an educator would."""
    from coprod_study import policy
    from coprod_study.models import Membership

    db.session.add(Membership(group_id=group.id, user_id=user.id, role="member", status="active"))
    db.session.commit()
    policy.forget_memberships()
