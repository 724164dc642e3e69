"""The same rules as SQL: visible_*(stmt, viewer) narrows a query to what the viewer may read."""

from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from coprod_study.policy.cache import (
    _signed_in,
    remember_course_role,
    remember_membership,
)
from coprod_study.policy.rules import answer_scope, can_moderate, has_site_role


def visible_answers(stmt, viewer, group, *, has_answered: bool, revealed: bool):
    """Filter a select(Answer) to what the viewer may read in this group."""
    from coprod_study.models import Answer

    stmt = stmt.where(Answer.group_id == group.id)
    scope = answer_scope(viewer, group, has_answered=has_answered, revealed=revealed)
    if scope == "none":
        return stmt.where(False)
    if scope == "own":
        return stmt.where(Answer.user_id == viewer.id)
    return stmt


def readable_groups_stmt(viewer, *columns):
    """The groups whose content the viewer reads (rules.can_view_group, but for admins,
    who read every group): rows of (group, their active membership or None, their
    course role or None, *columns). An active member, or an educator of the group's
    course, with or without a membership row."""
    from coprod_study.models import CourseMember, Membership, StudyGroup

    return (
        select(StudyGroup, Membership, CourseMember.role, *columns)
        .outerjoin(
            Membership,
            and_(Membership.group_id == StudyGroup.id, Membership.user_id == viewer.id,
                 Membership.status == "active"),
        )
        .outerjoin(
            CourseMember,
            and_(CourseMember.course_id == StudyGroup.course_id,
                 CourseMember.user_id == viewer.id, CourseMember.role == "educator"),
        )
        .where(or_(Membership.id.is_not(None), CourseMember.user_id.is_not(None)))
        .order_by(StudyGroup.id)
    )


def readable_groups(viewer, *columns) -> list:
    """readable_groups_stmt's rows, each group's answers kept for the rest of the
    request (so asking rules about these groups costs no query)."""
    from coprod_study.extensions import db

    if not _signed_in(viewer):
        return []
    rows = db.session.execute(readable_groups_stmt(viewer, *columns)).all()
    for group, membership, course_role, *_rest in rows:
        if membership is not None:
            remember_membership(viewer, group, membership)
        if course_role is not None:
            remember_course_role(viewer, group.course_id, course_role)
    return rows


def moderator_ids(group) -> list[int]:
    """Who moderates the group (rules.can_moderate, but for admins): its active
    facilitators and the educators of its course, with or without a membership row."""
    from coprod_study.extensions import db
    from coprod_study.models import CourseMember, Membership

    facilitators = select(Membership.user_id).where(
        Membership.group_id == group.id, Membership.status == "active",
        Membership.role == "facilitator",
    )
    if group.course_id is None:
        return list(db.session.scalars(facilitators))
    educators = select(CourseMember.user_id).where(
        CourseMember.course_id == group.course_id, CourseMember.role == "educator"
    )
    return sorted(set(db.session.scalars(facilitators.union(educators))))


def question_ref(group_id, study_question_id, group_question_id) -> str:
    """One question in one group, as a search document names it."""
    if study_question_id is not None:
        return f"{group_id}:s:{study_question_id}"
    return f"{group_id}:g:{group_question_id}"


@dataclass
class DocumentVisibility:
    """What a viewer may find in search: `clause` (a WHERE clause on search_documents),
    the groups they read by id, a `signature` equal for two viewers exactly when their
    clauses are, and the `columns` asked for, read with the groups (None without any)."""

    clause: object
    groups: dict
    signature: tuple
    columns: tuple | None = None


def _opened_questions(viewer, gated: list, groups: dict, after_due) -> set:
    """In post-before-you-see-others groups, the questions whose answers the viewer may
    read: answered by them, revealed by a facilitator or, in a course, after the due date
    (`after_due(group_ids, viewer)`: the course's selects of them, a course rule)."""
    from coprod_study.extensions import db
    from coprod_study.models import Answer, QuestionReveal

    answered = select(Answer.group_id, Answer.study_question_id, Answer.group_question_id).where(
        Answer.user_id == viewer.id, Answer.group_id.in_(gated), Answer.deleted_at.is_(None)
    )
    revealed = select(
        QuestionReveal.group_id, QuestionReveal.study_question_id, QuestionReveal.group_question_id
    ).where(QuestionReveal.group_id.in_(gated))
    in_courses = [g for g in gated if groups[g].course_id is not None]
    by_date = after_due(in_courses, viewer) if in_courses and after_due is not None else []
    opened = db.session.execute(answered.union_all(revealed, *by_date)).all()
    return {question_ref(*row) for row in opened}


def search_visibility(viewer, *columns, after_due=None) -> DocumentVisibility:
    """Catalog documents, plus the posts of the groups the viewer reads that
    post-before-you-see-others lets them read (the question pages' rule).

    `after_due(group_ids, viewer)` gives the questions a course revealed after their
    due date (courses.service.reveal.revealed_after_due_questions), as the question
    pages get `revealed` from the course: policy decides, the course knows its dates."""
    from coprod_study.models import SearchDocument

    public = SearchDocument.group_id.is_(None)
    if not _signed_in(viewer):
        return DocumentVisibility(public, {}, ("public",))
    if has_site_role(viewer, "admin"):
        return DocumentVisibility(SearchDocument.id.is_not(None), {}, ("all",))
    rows = readable_groups(viewer, *columns)
    groups = {row[0].id: row[0] for row in rows}
    if not groups:
        return DocumentVisibility(public, groups, ("public",))
    read = tuple(rows[0][3:])
    gated = [g.id for g in groups.values() if g.post_first and not can_moderate(viewer, g)]
    member_docs = SearchDocument.group_id.in_(list(groups))
    if not gated:
        signature = ("groups", tuple(sorted(groups)))
        return DocumentVisibility(or_(public, member_docs), groups, signature, read)
    open_refs = _opened_questions(viewer, gated, groups, after_due)
    clause = or_(
        public,
        and_(
            member_docs,
            or_(
                SearchDocument.group_id.not_in(gated),
                SearchDocument.question_ref.is_(None),
                SearchDocument.author_id == viewer.id,
                SearchDocument.question_ref.in_(open_refs or {"-"}),
            ),
        ),
    )
    signature = ("gated", tuple(sorted(groups)), tuple(sorted(gated)), viewer.id,
                 tuple(sorted(open_refs)))
    return DocumentVisibility(clause, groups, signature, read)


def visible_search_documents(stmt, viewer, *, after_due=None):
    """Filter a select over search_documents to what the viewer may find."""
    return stmt.where(search_visibility(viewer, after_due=after_due).clause)
