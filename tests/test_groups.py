"""Study groups: forming, listing, joining, members and the group's own questions."""

import re

import pytest
from flask import url_for
from sqlalchemy import func, inspect, select, text

from coprod_study.extensions import db
from coprod_study.groups import service as group_service
from coprod_study.models import Answer, AuditEntry, GroupQuestion, Membership, StudyGroup
from tests import factories as f
from tests.conftest import login, post_form


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def membership_of(group, user):
    db.session.expire_all()
    return db.session.scalar(
        select(Membership).where(Membership.group_id == group.id, Membership.user_id == user.id)
    )


GROUP_FORM = {
    "name": "Reading Circle",
    "description": "We meet on **Tuesdays**. <script>alert(1)</script>",
    "join_policy": "open",
    "post_first": "y",
}


def test_forming_a_group_makes_the_creator_its_facilitator(client, sample_catalog):
    creator = f.make_user(name="Fay")
    login(client, creator)
    response = post_form(client, "/groups/new", GROUP_FORM)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/groups/reading-circle")
    group = db.session.scalar(select(StudyGroup).where(StudyGroup.slug == "reading-circle"))
    assert group.post_first is True and group.allow_anonymous is False
    assert "<strong>Tuesdays</strong>" in group.description_html
    assert "<script" not in group.description_html
    assert membership_of(group, creator).role == "facilitator"
    page = client.get("/groups/reading-circle").get_data(as_text=True)
    assert "Tuesdays" in page and "Settings" in page


def test_group_slugs_are_unique(client, sample_catalog):
    login(client, f.make_user())
    post_form(client, "/groups/new", GROUP_FORM)
    response = post_form(client, "/groups/new", GROUP_FORM)
    assert response.headers["Location"].endswith("/groups/reading-circle-2")
    reserved = f.make_group(name="New")
    assert reserved.slug == "new-2"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "Give the group a name."),
        ({"name": "x" * 121}, "the limit is 120 characters"),
        ({"description": "y" * 20_001}, "the limit is 20,000 characters"),
        ({"join_policy": "secret"}, "Not a valid choice"),
    ],
)
def test_bad_group_form_keeps_input_and_writes_nothing(client, data, message):
    login(client, f.make_user())
    before = count(StudyGroup)
    form = {**GROUP_FORM, "description": "Keep this text", **data}
    response = post_form(client, "/groups/new", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    if "description" not in data:
        assert "Keep this text" in page
    assert count(StudyGroup) == before


def test_group_creation_can_be_reserved_to_facilitators(app, client):
    app.config["GROUP_CREATION_ROLE"] = "facilitator"
    learner = f.make_user()
    login(client, learner)
    assert "Form a new group" not in client.get("/groups").get_data(as_text=True)
    assert client.get("/groups/new").status_code == 403
    assert post_form(client, "/groups/new", GROUP_FORM).status_code == 403
    assert count(StudyGroup) == 0
    learner.role = "facilitator"
    db.session.commit()
    assert post_form(client, "/groups/new", GROUP_FORM).status_code == 302


def test_copying_extra_questions_from_a_group_i_facilitate(client, sample_catalog):
    facilitator = f.make_user()
    source = f.make_group(facilitator, name="Spring cohort")
    episode, _ = f.first_question(source)
    group_service.add_extra_question(facilitator, source, episode, "What surprised you?")
    other = f.make_group(name="Not mine")
    group_service.add_extra_question(other.created_by, other, episode, "Secret question")
    login(client, facilitator)
    page = client.get("/groups/new").get_data(as_text=True)
    assert "Spring cohort" in page and "Not mine" not in page
    response = post_form(
        client, "/groups/new", {**GROUP_FORM, "name": "Autumn cohort", "copy_from": source.id}
    )
    assert response.status_code == 302
    copied = db.session.scalars(
        select(GroupQuestion.prompt).join(StudyGroup).where(StudyGroup.slug == "autumn-cohort")
    ).all()
    assert copied == ["What surprised you?"]
    # Someone else's group is not offered and cannot be forced.
    response = post_form(
        client, "/groups/new", {**GROUP_FORM, "name": "Sneaky", "copy_from": other.id}
    )
    assert response.status_code == 400
    assert count(StudyGroup) == 3


def test_group_list_shows_mine_and_joinable_but_never_invite_only(client):
    me = f.make_user()
    mine = f.make_group(me, name="Alpha mine")
    f.make_group(name="Beta open", join_policy="open")
    f.make_group(name="Gamma request", join_policy="request")
    f.make_group(name="Delta hidden", join_policy="invite")
    login(client, me)
    page = client.get("/groups").get_data(as_text=True)
    mine_section, joinable_section = page.split("Groups you can join")
    assert mine.name in mine_section
    assert "Beta open" in joinable_section and "Gamma request" in joinable_section
    assert "Alpha mine" not in joinable_section
    assert "Delta hidden" not in page


def test_group_list_is_paginated(client):
    for number in range(25):
        f.make_group(name=f"Group {number:02d}")
    first = client.get("/groups").get_data(as_text=True)
    second = client.get("/groups?page=2").get_data(as_text=True)
    assert "Group 00" in first and "Group 24" not in first
    assert "Group 24" in second and "Page 2 of 2" in second


def test_open_group_join_and_join_twice(client, sample_catalog):
    group = f.make_group(join_policy="open")
    learner = f.make_user()
    login(client, learner)
    page = client.get(f"/groups/{group.slug}").get_data(as_text=True)
    assert "Join the group" in page
    assert post_form(client, f"/groups/{group.slug}/join").status_code == 302
    assert membership_of(group, learner).status == "active"
    response = post_form(client, f"/groups/{group.slug}/join")
    assert response.status_code == 409
    assert "already a member" in response.get_data(as_text=True)
    assert count(Membership) == 2


def test_request_to_join_is_approved_with_a_message(client, sample_catalog):
    facilitator = f.make_user()
    group = f.make_group(facilitator, join_policy="request")
    learner = f.make_user(name="Asker")
    login(client, learner)
    post_form(client, f"/groups/{group.slug}/join", {"message": "I work on ward 5"})
    assert membership_of(group, learner).status == "pending"
    page = client.get(f"/groups/{group.slug}").get_data(as_text=True)
    assert "waiting for a facilitator" in page
    assert client.get(f"/groups/{group.slug}/members").status_code == 403

    facilitator_client = client.application.test_client()
    login(facilitator_client, facilitator)
    members_page = facilitator_client.get(f"/groups/{group.slug}/members").get_data(as_text=True)
    assert "Asker" in members_page and "I work on ward 5" in members_page
    response = post_form(
        facilitator_client,
        f"/groups/{group.slug}/members/{learner.id}/approve",
        {"message": "Welcome!"},
    )
    assert response.status_code == 302
    row = membership_of(group, learner)
    assert row.status == "active" and row.decision_message == "Welcome!"
    assert client.get(f"/groups/{group.slug}/members").status_code == 200
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "group.request_approved"))
    assert entry.subject_user_id == learner.id and entry.reason == "Welcome!"


def test_declined_request_can_be_made_again(client):
    facilitator = f.make_user()
    group = f.make_group(facilitator, join_policy="request")
    learner = f.make_user()
    group_service.join(learner, group, "please")
    group_service.decide_request(facilitator, group, learner.id, approve=False, message="Full")
    assert membership_of(group, learner) is None
    group_service.join(learner, group, "again")
    assert membership_of(group, learner).status == "pending"


def test_invite_link_join_and_reset(client):
    facilitator = f.make_user()
    group = f.make_group(facilitator, join_policy="invite")
    old_code = group.invite_code
    assert len(old_code) >= 32
    learner = f.make_user()
    login(client, learner)
    assert client.get(f"/groups/{group.slug}").status_code == 404
    page = client.get(f"/groups/join/{old_code}").get_data(as_text=True)
    assert group.name in page and "Join the group" in page
    assert post_form(client, f"/groups/join/{old_code}").status_code == 302
    assert membership_of(group, learner).status == "active"

    group_service.reset_invite(facilitator, group)
    late = f.make_user()
    late_client = client.application.test_client()
    login(late_client, late)
    response = late_client.get(f"/groups/join/{old_code}")
    assert response.status_code == 404
    assert "not valid" in response.get_data(as_text=True)
    response = post_form(late_client, f"/groups/join/{old_code}")
    assert response.status_code == 404
    assert membership_of(group, late) is None
    assert post_form(late_client, f"/groups/join/{group.invite_code}").status_code == 302
    assert membership_of(group, late).status == "active"


def test_invite_link_for_visitor_asks_to_sign_in(client):
    group = f.make_group(join_policy="invite")
    response = client.get(f"/groups/join/{group.invite_code}")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_reset_invite_from_members_page(client):
    facilitator = f.make_user()
    group = f.make_group(facilitator, join_policy="invite")
    old_code = group.invite_code
    login(client, facilitator)
    page = client.get(f"/groups/{group.slug}/members").get_data(as_text=True)
    assert old_code in page
    post_form(client, f"/groups/{group.slug}/invite/reset")
    db.session.expire_all()
    assert group.invite_code != old_code
    assert old_code not in client.get(f"/groups/{group.slug}/members").get_data(as_text=True)


def test_leave_and_last_facilitator_cannot_leave(client):
    facilitator = f.make_user()
    group = f.make_group(facilitator)
    learner = f.add_member(group)
    login(client, learner)
    assert post_form(client, f"/groups/{group.slug}/leave").status_code == 302
    assert membership_of(group, learner) is None
    facilitator_client = client.application.test_client()
    login(facilitator_client, facilitator)
    response = post_form(facilitator_client, f"/groups/{group.slug}/leave", follow_redirects=True)
    assert "only facilitator" in response.get_data(as_text=True)
    assert membership_of(group, facilitator).status == "active"


def test_promote_demote_and_remove(client, sample_catalog):
    facilitator = f.make_user()
    group = f.make_group(facilitator)
    learner = f.add_member(group, f.make_user(name="Lee"))
    login(client, facilitator)
    post_form(client, f"/groups/{group.slug}/members/{learner.id}/promote")
    assert membership_of(group, learner).role == "facilitator"
    post_form(client, f"/groups/{group.slug}/members/{learner.id}/demote")
    assert membership_of(group, learner).role == "member"
    response = post_form(
        client,
        f"/groups/{group.slug}/members/{learner.id}/remove",
        {"message": "Spam", "confirm": "yes"},
        follow_redirects=True,
    )
    assert "Lee is removed" in response.get_data(as_text=True)
    assert membership_of(group, learner).status == "removed"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "group.member_removed"))
    assert entry.actor_id == facilitator.id and entry.reason == "Spam"
    # Removal is not a ban: the person may come back through the open door.
    group_service.join(learner, group)
    assert membership_of(group, learner).status == "active"


def test_members_cannot_manage_members(client):
    group = f.make_group()
    learner = f.add_member(group)
    other = f.add_member(group)
    login(client, learner)
    for action in ("promote", "remove", "approve"):
        response = post_form(client, f"/groups/{group.slug}/members/{other.id}/{action}")
        assert response.status_code == 403
    assert membership_of(group, other).role == "member"
    assert membership_of(group, other).status == "active"
    assert post_form(client, f"/groups/{group.slug}/invite/reset").status_code == 403


def test_group_page_shows_progress_and_counts(client, sample_catalog):
    group = f.make_group()
    learner = f.add_member(group)
    peer = f.add_member(group)
    episode, question = f.first_question(group)
    f.make_answer(group, learner, question)
    f.make_answer(group, peer, question)
    login(client, learner)
    page = client.get(f"/groups/{group.slug}").get_data(as_text=True)
    total = len(episode.questions)
    assert f"You answered 1 of {total} questions" in page
    assert "(2 answers, answered by you)" in page
    numbers = re.findall(r"Episode (\d+):", page)
    assert numbers == sorted(numbers, key=int) and len(numbers) >= 4
    # The links made for the list are the questions' own addresses.
    with client.application.test_request_context():
        for number in (1, total):
            url = url_for("groups.question", slug=group.slug, episode_slug=episode.slug,
                          number=number)
            assert f'href="{url}"' in page
    f.make_answer(group, peer, group_service.get_question(group, episode, 2), "Only one")
    page = client.get(f"/groups/{group.slug}").get_data(as_text=True)
    assert "(1 answer)" in page and "(0 answers)" in page


def test_group_page_runs_the_same_statements_whatever_it_lists(client, sample_catalog,
                                                                count_queries):
    """Every episode with its questions and dimension, the answer counts and the
    threads: a fixed number of statements for 1 or 6 episodes and 2 or 12 answers,
    and nothing the page shows is left to load later."""
    from coprod_study.models import Episode, StudyQuestion

    # The statements that build the page; a kept one answers in two (test_page_cache).
    client.application.config["PAGE_CACHE_MB"] = 0
    group = f.make_group()
    learner = f.add_member(group)
    login(client, learner)

    def statements_for_page():
        client.get(f"/groups/{group.slug}")
        with count_queries() as statements:
            page = client.get(f"/groups/{group.slug}").get_data(as_text=True)
        return page, [q for q in statements if q.split()[0].upper() != "BEGIN"]

    small_page, small = statements_for_page()
    dimension_id = db.session.scalar(select(Episode.dimension_id))
    episode = Episode(slug="sixth-episode", number=6, title="A Sixth Episode",
                      dimension_id=dimension_id)
    db.session.add(episode)
    db.session.flush()
    db.session.add_all(StudyQuestion(episode_id=episode.id, position=n, prompt=f"Sixth {n}?")
                       for n in range(1, 4))
    db.session.commit()
    for episode_ in db.session.scalars(select(Episode)):
        for number in (1, 2):
            question = group_service.get_question(group, episode_, number)
            f.make_answer(group, f.add_member(group), question)
    big_page, big = statements_for_page()
    assert "A Sixth Episode" in big_page and "Sixth 3?" in big_page
    assert "A Sixth Episode" not in small_page
    assert len(big) == len(small) <= 7, big


def test_a_missing_question_number_says_so_and_writes_nothing(client, sample_catalog):
    group = f.make_group()
    learner = f.add_member(group)
    episode, _question = f.first_question(group)
    login(client, learner)
    base = f"/groups/{group.slug}/episodes/{episode.slug}/questions"
    for number in (0, len(episode.questions) + 1):
        response = client.get(f"{base}/{number}")
        assert response.status_code == 404
        page = response.get_data(as_text=True)
        assert f"Episode {episode.number} has no question {number}." in page
    response = post_form(client, f"{base}/99", {"body": "Lost?", "action": "post"})
    assert response.status_code == 404
    assert "has no question 99." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 0


def test_group_episodes_lists_plain_rows_in_order(app):
    """Episodes by number, each with its dimension's name and its catalog
    questions by position, numbered from 1; an episode without questions is listed
    too, and the group's own questions are numbered after the catalog's."""
    from coprod_study.models import Dimension, Episode, StudyQuestion

    dimension = Dimension(slug="trust", name="Trust", position=1)
    other = Dimension(slug="voice", name="Voice", position=2)
    db.session.add_all([dimension, other])
    db.session.flush()
    second = Episode(slug="second", number=2, title="Second", dimension_id=dimension.id)
    first = Episode(slug="first", number=1, title="First", dimension_id=other.id)
    third = Episode(slug="third", number=3, title="Third", dimension_id=dimension.id)
    db.session.add_all([second, first, third])
    db.session.flush()
    db.session.add_all([
        StudyQuestion(episode_id=second.id, position=2, prompt="Second, two?", audiences=["staff"]),
        StudyQuestion(episode_id=second.id, position=1, prompt="Second, one?"),
        StudyQuestion(episode_id=first.id, position=1, prompt="First, one?"),
    ])
    db.session.commit()
    facilitator = f.make_user(role="facilitator")
    group = f.make_group(facilitator)
    own = group_service.add_extra_question(facilitator, group, second, "Our own?")

    listed = group_service.group_episodes(group)
    assert [(e.number, e.title, e.dimension_name) for e in listed] == [
        (1, "First", "Voice"), (2, "Second", "Trust"), (3, "Third", "Trust")
    ]
    assert [(q.number, q.prompt, q.audiences) for q in listed[1].questions] == [
        (1, "Second, one?", ()), (2, "Second, two?", ("staff",))
    ]
    assert listed[2].questions == []
    questions = group_service.listed_questions(listed[1], group_service.extra_questions(group))
    assert [(q.number, q.prompt, q.key) for q in questions][-1] == (3, "Our own?", ("g", own.id))
    # The same numbers and keys as the question pages use.
    for question in questions:
        found = group_service.get_question(group, second, question.number)
        assert (found.prompt, found.key) == (question.prompt, question.key)


def test_answer_counts_are_read_from_the_index_alone(app):
    """The group and episode pages count answers per question without reading the
    answers' rows (a group of 250 with 2,700 answers: 4 ms by the rows, 0.3 ms by the
    index)."""
    from coprod_study.groups.answers import answer_summary_stmt

    statement = answer_summary_stmt(1, 2)
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
            plan = " ".join(
                str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
            )
            assert "COVERING INDEX ix_answers_group_summary" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
        indexes = {
            index["name"]: index["column_names"]
            for index in inspect(connection).get_indexes("answers")
        }
    assert indexes["ix_answers_group_summary"] == [
        "group_id", "study_question_id", "group_question_id", "user_id", "deleted_at"
    ]


def test_extra_questions_are_numbered_after_the_catalog_and_reorder(client, sample_catalog):
    facilitator = f.make_user()
    group = f.make_group(facilitator)
    episode, _ = f.first_question(group)
    base = len(episode.questions)
    login(client, facilitator)
    url = f"/groups/{group.slug}/episodes/{episode.slug}"
    post_form(client, url + "/questions", {"prompt": "First extra"})
    post_form(client, url + "/questions", {"prompt": "Second extra"})
    response = post_form(client, url + "/questions", {"prompt": ""})
    assert response.status_code == 400 and "Write the question." in response.get_data(as_text=True)
    page = client.get(f"{url}/questions/{base + 1}").get_data(as_text=True)
    assert "First extra" in page
    second = db.session.scalar(select(GroupQuestion).where(GroupQuestion.prompt == "Second extra"))
    post_form(client, f"/groups/{group.slug}/questions/{second.id}/move", {"direction": "up"})
    assert "Second extra" in client.get(f"{url}/questions/{base + 1}").get_data(as_text=True)
    post_form(client, f"/groups/{group.slug}/questions/{second.id}/edit", {"prompt": "Reworded"})
    assert "Reworded" in client.get(f"{url}/questions/{base + 1}").get_data(as_text=True)
    # Another group does not see them.
    other = f.make_group(facilitator)
    assert client.get(f"/groups/{other.slug}/episodes/{episode.slug}/questions/{base + 1}").status_code == 404


def test_get_question_reads_the_groups_own_questions_only_past_the_catalogs(
    app, sample_catalog, count_queries
):
    from coprod_study.errors import NotFound

    facilitator = f.make_user()
    group = f.make_group(facilitator)
    episode, _ = f.first_question(group)
    base = len(episode.questions)
    for prompt in ("First extra", "Second extra"):
        group_service.add_extra_question(facilitator, group, episode, prompt)
    episode = group_service.get_group_episode(group, episode.slug)
    with count_queries() as statements:
        first = group_service.get_question(group, episode, 1)
    assert statements == [] and first.study_question_id == episode.questions[0].id
    assert [group_service.get_question(group, episode, base + n).prompt for n in (1, 2)] == [
        "First extra", "Second extra"
    ]
    extra = group_service.get_question(group, episode, base + 2)
    assert extra.number == base + 2 and extra.is_extra and extra.episode_id == episode.id
    # The same numbering as the episode page's list.
    listed = group_service.questions_for(episode, group_service.extra_questions(group))
    assert [(q.number, q.prompt) for q in listed] == [
        (n, group_service.get_question(group, episode, n).prompt) for n in range(1, base + 3)
    ]
    for missing in (0, -1, base + 3):
        with pytest.raises(NotFound):
            group_service.get_question(group, episode, missing)


def test_members_cannot_add_questions(client, sample_catalog):
    group = f.make_group()
    learner = f.add_member(group)
    episode, _ = f.first_question(group)
    login(client, learner)
    response = post_form(
        client, f"/groups/{group.slug}/episodes/{episode.slug}/questions", {"prompt": "Mine"}
    )
    assert response.status_code == 403
    assert count(GroupQuestion) == 0


def test_settings_change_join_policy(client):
    facilitator = f.make_user()
    group = f.make_group(facilitator)
    login(client, facilitator)
    response = post_form(
        client,
        f"/groups/{group.slug}/settings",
        {"name": "Renamed", "description": "", "join_policy": "invite"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert group.name == "Renamed" and group.join_policy == "invite"
    assert group.post_first is False  # unchecked box


def test_remove_asks_first_and_says_the_invite_link_still_works(client, sample_catalog):
    facilitator = f.make_user()
    group = f.make_group(facilitator, join_policy="invite")
    learner = f.add_member(group, f.make_user(name="Lee"))
    old_code = group.invite_code
    login(client, facilitator)
    remove_url = f"/groups/{group.slug}/members/{learner.id}/remove"
    members_url = f"/groups/{group.slug}/members"
    # The first press asks: nothing changes yet, the reason typed is kept.
    response = post_form(client, remove_url, {"message": "Off-topic posts"}, token_from=members_url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert membership_of(group, learner).status == "active"
    assert "Remove Lee from the group?" in page
    assert 'value="Off-topic posts"' in page
    assert "can come back through the invite link" in page
    assert f'action="/groups/{group.slug}/members/{learner.id}/ban"' in page
    assert 'name="reset_invite"' in page
    # Confirmed: removed; the message says the old link still lets them in.
    response = post_form(
        client, remove_url, {"message": "Off-topic posts", "confirm": "yes"},
        token_from=members_url, follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert membership_of(group, learner).status == "removed"
    assert "Lee is removed from the group. The invite link still works for them" in page
    # The members page lists them as removed, with a way to ban them.
    assert f'action="/groups/{group.slug}/members/{learner.id}/ban"' in page
    # Removal is not a ban: the old link lets them back in.
    group_service.join_by_invite(learner, old_code)
    assert membership_of(group, learner).status == "active"


def test_remove_and_reset_the_invite_link_in_one_step(client, sample_catalog):
    facilitator = f.make_user()
    group = f.make_group(facilitator, join_policy="invite")
    learner = f.add_member(group, f.make_user(name="Lee"))
    old_code = group.invite_code
    login(client, facilitator)
    response = post_form(
        client, f"/groups/{group.slug}/members/{learner.id}/remove",
        {"confirm": "yes", "reset_invite": "y"}, follow_redirects=True,
    )
    assert "the invite link is new" in response.get_data(as_text=True)
    db.session.expire_all()
    assert membership_of(group, learner).status == "removed"
    assert group.invite_code != old_code
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"group.member_removed", "group.invite_reset"} <= actions
    assert client.get(f"/groups/join/{old_code}").status_code == 404
