"""Study groups: forming, joining, members and the group's own questions.

The modules here split the service at its seams; this package names their
public functions in one place, so callers keep writing `group_service.join(...)`.
A module inside the feature imports the submodule it needs, not this package."""

from coprod_study.groups.service.episodes import (  # noqa: F401
    OWN_QUESTION_ORDER,
    ListedEpisode,
    Question,
    episode_of_answer,
    extra_questions,
    extra_questions_by_group,
    get_episode,
    get_group_episode,
    get_question,
    group_episodes,
    groups_studying,
    listed_questions,
    question_episode_id,
    questions_for,
    studied_in,
)
from coprod_study.groups.service.groups import (  # noqa: F401
    MAX_MESSAGE,
    MAX_NAME,
    MAX_QUESTION,
    RESERVED_SLUGS,
    check_markdown,
    create_group,
    facilitated_groups,
    get_group,
    joinable_groups_stmt,
    member_counts,
    my_groups,
    new_invite_code,
    slugify,
    update_group,
)
from coprod_study.groups.service.membership import (  # noqa: F401
    check_removal,
    decide_request,
    group_for_invite,
    join,
    join_by_invite,
    leave,
    members,
    remove_member,
    reset_invite,
    set_member_role,
)
from coprod_study.groups.service.own_questions import (  # noqa: F401
    add_extra_question,
    edit_extra_question,
    get_extra_question,
    move_extra_question,
    study_question,
)
