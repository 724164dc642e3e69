"""The request's policy cache (memberships, course roles) is emptied in one place: after a
commit that wrote what it holds, and after any rollback; never by hand in a service."""

from sqlalchemy import delete

from coprod_study import policy
from coprod_study.extensions import db
from coprod_study.models import CourseMember, Membership, Thread
from tests import factories as f


def test_a_commit_that_adds_or_removes_a_membership_empties_the_cache(app):
    group = f.make_group(f.make_user(name="Cache Facilitator"))
    person = f.make_user(name="Cache Person")
    assert not policy.is_member(person, group)  # now cached as "no row"
    db.session.add(Membership(group_id=group.id, user_id=person.id, role="member", status="active"))
    db.session.commit()
    assert policy.is_member(person, group)
    # A bulk statement that bypasses the flush counts too.
    db.session.execute(delete(Membership).where(Membership.user_id == person.id))
    db.session.commit()
    assert not policy.is_member(person, group)


def test_a_course_role_follows_its_commit(app):
    educator = f.make_user(role="educator", name="Cache Educator")
    course = f.make_course(educator)
    group = f.make_course_group(course, educator, "Cache course group")
    colleague = f.make_user(role="educator", name="Cache Colleague")
    assert not policy.can_moderate(colleague, group)
    db.session.add(CourseMember(course_id=course.id, user_id=colleague.id, role="educator"))
    db.session.commit()
    assert policy.can_moderate(colleague, group)
    f.take_off_course(course, colleague)
    assert not policy.can_moderate(colleague, group)


def test_a_rollback_empties_it_and_other_commits_keep_it(app, count_queries):
    group = f.make_group(f.make_user(name="Keep Facilitator"))
    person = f.add_member(group, f.make_user(name="Keep Person"))
    assert policy.is_member(person, group)
    thread = Thread(group_id=group.id, author_id=person.id, title="Unrelated")
    db.session.add(thread)
    db.session.commit()
    with count_queries() as statements:
        assert policy.is_member(person, group)
    assert not _membership_reads(statements), "a commit that wrote no membership kept the cache"
    db.session.add(Membership(group_id=group.id, user_id=person.id, role="member", status="active"))
    db.session.rollback()
    with count_queries() as statements:
        assert policy.is_member(person, group)
    assert len(_membership_reads(statements)) == 1, "the rollback emptied the cache"


def _membership_reads(statements) -> list[str]:
    """Lookups of a person's membership (a kept row refreshed after a commit is not one)."""
    return [s for s in statements if "FROM memberships" in s and "memberships.id = " not in s]
