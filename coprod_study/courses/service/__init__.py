"""Courses: enrolment, course groups, assignments, extensions and invitations.

The modules here split the service at its seams; this package names their
public functions in one place, so callers keep writing `course_service.enrol(...)`.
A module inside the feature imports the submodule it needs (`courses.service.clock`),
not this package."""

from coprod_study.courses.service.assignments import (  # noqa: F401
    PastDueDate,
    assignments,
    create_assignment,
    get_assignment,
    parse_required,
    required_question_ids,
    update_assignment,
)
from coprod_study.courses.service.clock import (  # noqa: F401
    format_in_zone,
    now_utc,
    to_local,
    to_utc,
    zone,
)
from coprod_study.courses.service.course_groups import (  # noqa: F401
    Departure,
    choose_group,
    create_course_group,
    departure,
    place_learner,
    remove_learner,
    set_placement,
)
from coprod_study.courses.service.courses import (  # noqa: F401
    CODE_PATTERN,
    ENROL_ALPHABET,
    ENROL_LENGTH,
    MAX_CODE,
    MAX_EMAILS,
    MAX_TERM,
    MAX_TITLE,
    RESERVED_CODES,
    all_courses_stmt,
    clean_code,
    course_path,
    create_course,
    get_course,
    my_courses,
    new_enrol_code,
    reset_enrol_code,
    update_course,
)
from coprod_study.courses.service.enrolment import (  # noqa: F401
    ENROL_FAILURE_LIMIT,
    AddResult,
    AlreadyEnrolled,
    accept_invite,
    add_educator,
    add_learners,
    enrol,
    invite_for_token,
    parse_emails,
    pending_invites,
)
from coprod_study.courses.service.extensions import (  # noqa: F401
    extensions,
    grant_extension,
    remove_extension,
)
from coprod_study.courses.service.reveal import (  # noqa: F401
    GroupAssignment,
    group_assignment,
    revealed_after_due,
    revealed_after_due_clause,
    revealed_after_due_questions,
)
from coprod_study.courses.service.roster import (  # noqa: F401
    course_groups,
    group_counts,
    group_educators,
    learner_groups,
    learner_ids_stmt,
    members,
    members_by_role,
    placements,
)
