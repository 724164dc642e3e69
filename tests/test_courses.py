"""Courses: creating, enrolling, invitations, co-educators, course groups, assignments."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from coprod_study import policy
from coprod_study.courses import service as course_service
from coprod_study.extensions import db
from coprod_study.groups import answers as answer_service
from coprod_study.groups import service as group_service
from coprod_study.models import (
    Answer,
    Assignment,
    AuditEntry,
    Course,
    CourseInvite,
    CourseMember,
    Episode,
    ListeningProgress,
    Membership,
    Notification,
    StudyGroup,
    User,
)
from tests import factories as f
from tests.conftest import login, post_form


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


def role_in(course, user):
    db.session.expire_all()
    return db.session.scalar(
        select(CourseMember.role).where(
            CourseMember.course_id == course.id, CourseMember.user_id == user.id
        )
    )


def episode(number: int) -> Episode:
    return db.session.scalar(select(Episode).where(Episode.number == number))


COURSE_FORM = {
    "title": "Coproduction in Practice",
    "code": "cop-101",
    "term": "Spring 2026",
    "time_zone": "Europe/Stockholm",
    "description": "We meet **weekly**. <script>alert(1)</script>",
    "placement": "educator",
}


# --- Creating a course --------------------------------------------------------------


def test_an_educator_creates_a_course_and_teaches_it(app, sample_catalog):
    educator = f.make_user(role="educator", name="Eda")
    client = signed_in(app, educator)
    response = post_form(client, "/courses/new", COURSE_FORM)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/courses/COP-101")
    course = db.session.scalar(select(Course).where(Course.code == "COP-101"))
    assert course.time_zone == "Europe/Stockholm" and course.term == "Spring 2026"
    assert "<strong>weekly</strong>" in course.description_html
    assert "<script" not in course.description_html
    assert re.fullmatch(r"[A-Z2-9]{8}", course.enrol_code)
    assert role_in(course, educator) == "educator"
    page = client.get("/courses/cop-101").get_data(as_text=True)
    assert "Coproduction in Practice" in page and course.enrol_code in page
    assert count(AuditEntry, AuditEntry.action == "course.created") == 1


@pytest.mark.parametrize(
    ("role", "status"),
    [("learner", 403), ("facilitator", 403), ("educator", 200), ("admin", 200)],
)
def test_only_educators_and_admins_may_create_courses(app, role, status):
    client = signed_in(app, f.make_user(role=role))
    assert client.get("/courses/new").status_code == status
    response = post_form(client, "/courses/new", {**COURSE_FORM, "code": f"X-{role}"})
    assert response.status_code == (302 if status == 200 else 403)
    assert count(Course) == (1 if status == 200 else 0)


def test_visitors_are_sent_to_sign_in(client):
    for path in ("/courses", "/courses/new", "/courses/ANY", "/courses/ANY/progress"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"code": "cop-101"}, "The code COP-101 is taken by another course"),
        ({"code": "COP-101"}, "The code COP-101 is taken by another course"),
        ({"code": "no spaces"}, "Use letters, digits, hyphens and underscores only"),
        ({"code": "new"}, "“new” is reserved"),
        ({"code": ""}, "Give the course a code"),
        ({"title": ""}, "Give the course a title."),
        ({"time_zone": "Mars/Olympus"}, "Enter a time zone by its IANA name"),
        ({"placement": "lottery"}, "Not a valid choice"),
        ({"description": "x" * 20_001}, "the limit is 20,000 characters"),
    ],
)
def test_bad_course_form_keeps_input_and_writes_nothing(app, data, message):
    educator = f.make_user(role="educator")
    f.make_course(educator, code="COP-101", title="Existing")
    client = signed_in(app, educator)
    form = {**COURSE_FORM, "code": "fresh-code", "term": "Keep this term", **data}
    response = post_form(client, "/courses/new", form)
    page = response.get_data(as_text=True)
    assert response.status_code in (400, 409)
    assert message in page
    assert 'value="Keep this term"' in page
    assert count(Course) == 1
    assert count(CourseMember) == 1


# --- Enrolling ---------------------------------------------------------------------------


def test_a_learner_enrols_with_the_code(app):
    course = f.make_course(title="Listening Lab")
    learner = f.make_user()
    client = signed_in(app, learner)
    response = post_form(
        client, "/courses/enrol", {"code": f"  {course.enrol_code.lower()} "}, token_from="/courses"
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/courses/{course.code}")
    assert role_in(course, learner) == "learner"
    assert "Listening Lab" in client.get("/courses").get_data(as_text=True)
    again = post_form(client, "/courses/enrol", {"code": course.enrol_code}, token_from="/courses")
    # Nothing to correct: a notice on the course page (test_newcomer.py), not a form error.
    assert again.status_code == 302
    assert "already enrolled" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert count(CourseMember, CourseMember.user_id == learner.id) == 1


def test_a_wrong_enrol_code_writes_nothing(app):
    f.make_course()
    client = signed_in(app, f.make_user())
    response = post_form(client, "/courses/enrol", {"code": "WRONG123"}, token_from="/courses")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "No course has this enrol code" in page and 'value="WRONG123"' in page
    assert count(CourseMember, CourseMember.role == "learner") == 0


def test_wrong_enrol_codes_are_rate_limited(app):
    f.make_course()
    client = signed_in(app, f.make_user())
    for _ in range(10):
        post_form(client, "/courses/enrol", {"code": "WRONG123"}, token_from="/courses")
    response = post_form(client, "/courses/enrol", {"code": "WRONG123"}, token_from="/courses")
    assert response.status_code == 429
    assert "Too many wrong codes" in response.get_data(as_text=True)


def test_resetting_the_enrol_code_retires_the_old_one(app):
    educator = f.make_user(role="educator")
    course = f.make_course(educator)
    old = course.enrol_code
    client = signed_in(app, educator)
    response = post_form(client, f"/courses/{course.code}/enrol-code", token_from="/courses")
    assert response.status_code == 302
    db.session.refresh(course)
    assert course.enrol_code != old
    learner_client = signed_in(app, f.make_user())
    refused = post_form(learner_client, "/courses/enrol", {"code": old}, token_from="/courses")
    assert refused.status_code == 400
    accepted = post_form(
        learner_client, "/courses/enrol", {"code": course.enrol_code}, token_from="/courses"
    )
    assert accepted.status_code == 302


def test_only_educators_reset_the_enrol_code(app):
    course = f.make_course()
    learner = f.enrol(course)
    client = signed_in(app, learner)
    old = course.enrol_code
    assert post_form(client, f"/courses/{course.code}/enrol-code").status_code == 403
    db.session.refresh(course)
    assert course.enrol_code == old


# --- Adding learners by e-mail, invitations, co-educators -------------------------------


def test_educators_add_registered_learners_and_invite_unknown_addresses(app, outbox):
    educator = f.make_user(role="educator", name="Eda")
    course = f.make_course(educator, title="Care Together")
    known = f.make_user(email="known@example.org", name="Kim")
    already = f.enrol(course, f.make_user(email="already@example.org"))
    client = signed_in(app, educator)
    response = post_form(
        client,
        f"/courses/{course.code}/learners",
        {"emails": "Known@Example.org, new.person@example.org\nalready@example.org"},
    )
    assert response.status_code == 302
    assert role_in(course, known) == "learner"
    assert role_in(course, already) == "learner"
    invite = db.session.scalar(select(CourseInvite))
    assert invite.email == "new.person@example.org" and invite.accepted_at is None
    assert count(Notification, Notification.user_id == known.id, Notification.kind == "course") == 1
    assert "new.person@example.org" in client.get(f"/courses/{course.code}").get_data(as_text=True)
    mails = outbox()
    assert len(mails) == 1 and mails[0]["To"] == "new.person@example.org"
    body = mails[0].get_content()
    assert f"/courses/invite/{invite.token}" in body and "Care Together" in body

    # Signing up through the link enrols the new person.
    newcomer = app.test_client()
    page = newcomer.get(f"/courses/invite/{invite.token}").get_data(as_text=True)
    assert 'value="new.person@example.org"' in page
    response = post_form(
        newcomer,
        f"/courses/invite/{invite.token}",
        {
            "email": "new.person@example.org",
            "display_name": "Nia",
            "password": "a fresh long passphrase",
            "confirm": "a fresh long passphrase",
        },
        token_from=f"/courses/invite/{invite.token}",
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/courses/{course.code}")
    nia = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
    assert role_in(course, nia) == "learner"
    assert newcomer.get(f"/courses/{course.code}").status_code == 200
    # The link works once.
    assert app.test_client().get(f"/courses/invite/{invite.token}").status_code == 404


def test_a_signed_in_person_accepts_an_invitation(app, outbox):
    educator = f.make_user(role="educator")
    course = f.make_course(educator)
    course_service.add_learners(educator, course, "someone@example.org")
    token = db.session.scalar(select(CourseInvite.token))
    person = f.make_user(email="other-address@example.org")
    client = signed_in(app, person)
    page = client.get(f"/courses/invite/{token}").get_data(as_text=True)
    assert "Enrol in the course" in page
    response = post_form(client, f"/courses/invite/{token}", token_from=f"/courses/invite/{token}")
    assert response.status_code == 302
    assert role_in(course, person) == "learner"


def test_a_bad_address_in_the_list_adds_nobody(app, outbox):
    educator = f.make_user(role="educator")
    course = f.make_course(educator)
    f.make_user(email="known@example.org")
    client = signed_in(app, educator)
    response = post_form(
        client,
        f"/courses/{course.code}/learners",
        {"emails": "known@example.org, not-an-address"},
        token_from=f"/courses/{course.code}",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "“not-an-address” is not a valid e-mail address" in page
    assert "known@example.org, not-an-address" in page
    assert count(CourseMember, CourseMember.role == "learner") == 0
    assert count(CourseInvite) == 0 and outbox() == []


def test_unknown_invitation_token_is_404(client):
    assert client.get("/courses/invite/not-a-token").status_code == 404


def test_co_educators_share_the_course(app):
    educator = f.make_user(role="educator")
    course = f.make_course(educator)
    colleague = f.make_user(email="colleague@example.org")
    client = signed_in(app, educator)
    response = post_form(
        client, f"/courses/{course.code}/educators", {"email": "colleague@example.org"}
    )
    assert response.status_code == 302
    assert role_in(course, colleague) == "educator"
    colleague_client = signed_in(app, colleague)
    assert colleague_client.get(f"/courses/{course.code}/progress").status_code == 200
    assert colleague_client.get(f"/courses/{course.code}/assignments/new").status_code == 200
    unknown = post_form(
        client, f"/courses/{course.code}/educators", {"email": "nobody@example.org"}
    )
    assert unknown.status_code == 400
    assert "No account uses this address" in unknown.get_data(as_text=True)
    assert count(CourseMember, CourseMember.role == "educator") == 2


@pytest.mark.parametrize("who", ["outsider", "learner", "other_educator"])
def test_course_pages_are_for_its_people(app, who):
    course = f.make_course()
    other = f.make_course()
    people = {
        "outsider": f.make_user(),
        "learner": f.enrol(course),
        "other_educator": db.session.scalar(
            select(User).join(CourseMember).where(CourseMember.course_id == other.id)
        ),
    }
    client = signed_in(app, people[who])
    status = client.get(f"/courses/{course.code}").status_code
    assert status == (200 if who == "learner" else 404)
    manage = client.get(f"/courses/{course.code}/assignments/new").status_code
    assert manage == (403 if who == "learner" else 404)
    assert client.get("/courses/NO-SUCH").status_code == 404


def test_admins_see_every_course(app):
    course = f.make_course(title="Hidden From Others")
    client = signed_in(app, f.make_user(role="admin"))
    assert "Hidden From Others" in client.get("/courses").get_data(as_text=True)
    assert client.get(f"/courses/{course.code}").status_code == 200
    assert client.get(f"/courses/{course.code}/progress").status_code == 200


# --- Course groups and placement ------------------------------------------------------------


@pytest.fixture
def course_setup(sample_catalog):
    educator = f.make_user(role="educator", name="Eda Educator")
    co_educator = f.make_user(name="Cole Coeducator")
    course = f.make_course(educator, title="Course With Groups", time_zone="Europe/Stockholm")
    f.enrol(course, co_educator, role="educator")
    ann = f.enrol(course, f.make_user(name="Ann Learner"))
    bob = f.enrol(course, f.make_user(name="Bob Learner"))
    return {
        "educator": educator, "co": co_educator, "course": course, "ann": ann, "bob": bob,
    }


def test_educators_make_course_groups_and_facilitate_all_of_them(app, course_setup):
    s = course_setup
    client = signed_in(app, s["educator"])
    response = post_form(
        client, f"/courses/{s['course'].code}/groups", {"name": "Red Team", "post_first": "y"}
    )
    assert response.status_code == 302
    group = db.session.scalar(select(StudyGroup).where(StudyGroup.name == "Red Team"))
    assert group.course_id == s["course"].id and group.join_policy == "invite"
    # The co-educator has no membership row, yet facilitates the group.
    assert policy.membership(s["co"], group) is None
    assert policy.can_moderate(s["co"], group) and policy.can_view_group(s["co"], group)
    f.place(s["course"], group, s["ann"])
    assert not policy.can_moderate(s["ann"], group)
    episode_, question = f.first_question(group, episode(1))
    f.make_assignment(s["course"], episode(1))
    f.make_answer(group, s["ann"], question, "Ann's private thoughts")
    co_client = signed_in(app, s["co"])
    url = f"/groups/{group.slug}/episodes/{episode_.slug}/questions/1"
    page = co_client.get(url).get_data(as_text=True)
    assert "Ann&#39;s private thoughts" in page or "Ann's private thoughts" in page
    # An outsider does not learn that the invite-only group exists.
    assert signed_in(app, f.make_user()).get(f"/groups/{group.slug}").status_code == 404


def test_a_course_groups_members_page_names_the_course_educators(app, course_setup):
    s = course_setup
    group = f.make_course_group(s["course"], s["educator"], "Violet")
    f.place(s["course"], group, s["ann"])
    page = signed_in(app, s["ann"]).get(f"/groups/{group.slug}/members").get_data(as_text=True)
    educators = page.split('id="course-educators"')[1].split("</section>")[0]
    assert "Eda Educator" in educators and "Cole Coeducator" in educators
    assert "Ann Learner" not in educators
    plain = f.make_group(s["educator"])
    page = signed_in(app, s["educator"]).get(f"/groups/{plain.slug}/members")
    assert 'id="course-educators"' not in page.get_data(as_text=True)


def test_a_learner_cannot_make_course_groups(app, course_setup):
    s = course_setup
    client = signed_in(app, s["ann"])
    response = post_form(client, f"/courses/{s['course'].code}/groups", {"name": "Mine"})
    assert response.status_code == 403
    assert count(StudyGroup) == 0


def test_a_course_group_shows_only_assigned_episodes(app, course_setup):
    s = course_setup
    group = f.make_course_group(s["course"], s["educator"], "Blue")
    assert group_service.group_episodes(group) == []
    f.make_assignment(s["course"], episode(2))
    f.make_assignment(s["course"], episode(4))
    assert [e.number for e in group_service.group_episodes(group)] == [2, 4]
    plain = f.make_group(f.make_user())
    assert len(group_service.group_episodes(plain)) == 5
    page = signed_in(app, s["educator"]).get(f"/groups/{group.slug}").get_data(as_text=True)
    assert episode(2).title in page and episode(4).title in page
    assert episode(1).title not in page


def test_an_unassigned_episode_is_not_open_in_a_course_group(app, course_setup):
    """The group page lists only assigned episodes; their direct URLs, the API, the
    thread form and the moment page hold to the same rule."""
    from coprod_study.models import Transcript, TranscriptSegment
    from tests.api_support import auth, is_problem

    s = course_setup
    group = f.make_course_group(s["course"], s["educator"], "Indigo")
    f.place(s["course"], group, s["ann"])
    assignment = f.make_assignment(s["course"], episode(2))
    assigned, unassigned = episode(2), episode(1)
    ann, educator = signed_in(app, s["ann"]), signed_in(app, s["educator"])
    base = f"/groups/{group.slug}/episodes"
    for client in (ann, educator):
        assert client.get(f"{base}/{assigned.slug}").status_code == 200
        assert client.get(f"{base}/{assigned.slug}/questions/1").status_code == 200
        assert client.get(f"{base}/{unassigned.slug}").status_code == 404
        assert client.get(f"{base}/{unassigned.slug}/questions/1").status_code == 404
    said = ann.get(f"{base}/{unassigned.slug}").get_data(as_text=True)
    assert "Indigo studies the episodes its course assigns" in said
    assert "its course assigns" not in ann.get(f"{base}/no-such-episode").get_data(as_text=True)
    # Answering an unassigned episode's question writes nothing.
    response = post_form(
        ann, f"{base}/{unassigned.slug}/questions/1", {"body": "Early thoughts"},
        token_from=f"{base}/{assigned.slug}/questions/1",
    )
    assert response.status_code == 404
    assert count(Answer, Answer.group_id == group.id) == 0
    # Nor can a facilitator add a question of the group's own to it.
    response = post_form(
        educator, f"{base}/{unassigned.slug}/questions", {"prompt": "Why now?"},
        token_from=f"{base}/{assigned.slug}",
    )
    assert response.status_code == 404
    # The API answers 404 as well.
    api = app.test_client()
    headers = auth(s["ann"], "read")
    api_base = f"/api/v1/groups/{group.slug}/episodes"
    assert api.get(f"{api_base}/{assigned.slug}/questions", headers=headers).status_code == 200
    missing = api.get(f"{api_base}/{unassigned.slug}/questions", headers=headers)
    assert is_problem(missing, 404)
    assert api.get(
        f"{api_base}/{unassigned.slug}/questions/1/answers", headers=headers
    ).status_code == 404
    # A thread can be about an assigned episode only.
    form_page = educator.get(f"/groups/{group.slug}/threads/new").get_data(as_text=True)
    assert f'value="{assigned.id}"' in form_page
    assert f'value="{unassigned.id}"' not in form_page
    # The moment page (episode 1 has the sample transcript) offers the group once the
    # course assigns the episode.
    segment_id = db.session.scalar(
        select(TranscriptSegment.id).join(Transcript)
        .where(Transcript.episode_id == unassigned.id).order_by(TranscriptSegment.id)
    )
    moment = f"/episodes/{unassigned.slug}/moments/{segment_id}"
    page = ann.get(moment).get_data(as_text=True)
    assert "Discuss this moment" in page and "Indigo" not in page
    f.make_assignment(s["course"], unassigned)
    assert "Indigo" in ann.get(moment).get_data(as_text=True)
    # An answer left behind when the assignment moves to another episode links to the
    # group's page, not to the episode the group no longer studies.
    item, question = f.first_question(group, assigned)
    answer = f.make_answer(group, s["ann"], question, "Before the change")
    assignment.episode_id = episode(3).id
    db.session.commit()
    response = ann.get(f"/groups/{group.slug}/answers/{answer.id}")
    assert response.status_code == 302
    assert response.headers["Location"].split("#")[0].endswith(f"/groups/{group.slug}")


def test_educators_place_and_move_learners(app, course_setup):
    s = course_setup
    red = f.make_course_group(s["course"], s["educator"], "Red")
    blue = f.make_course_group(s["course"], s["educator"], "Blue")
    client = signed_in(app, s["co"])
    path = f"/courses/{s['course'].code}/learners/{s['ann'].id}/place"
    token_page = f"/courses/{s['course'].code}"
    assert post_form(client, path, {"group_id": red.id}, token_from=token_page).status_code == 302
    assert policy.is_member(s["ann"], red)
    assert post_form(client, path, {"group_id": blue.id}, token_from=token_page).status_code == 302
    policy.forget_memberships()
    assert not policy.is_member(s["ann"], red) and policy.is_member(s["ann"], blue)
    assert count(Membership, Membership.user_id == s["ann"].id) == 1
    assert count(Notification, Notification.user_id == s["ann"].id,
                 Notification.kind == "course") == 2
    # A group of another course, or nonsense, is refused; Ann stays where she is.
    foreign = f.make_course_group(f.make_course(s["educator"]), s["educator"], "Elsewhere")
    response = post_form(client, path, {"group_id": foreign.id}, token_from=token_page)
    assert response.status_code == 302
    policy.forget_memberships()
    assert policy.is_member(s["ann"], blue) and not policy.is_member(s["ann"], foreign)
    # Someone who is not a learner of the course cannot be placed.
    stranger_path = f"/courses/{s['course'].code}/learners/{f.make_user().id}/place"
    assert post_form(
        client, stranger_path, {"group_id": red.id}, token_from=token_page
    ).status_code == 404
    # Taking a learner out of every group.
    assert post_form(client, path, {"group_id": 0}, token_from=token_page).status_code == 302
    assert count(Membership, Membership.user_id == s["ann"].id) == 0


def test_an_educator_removes_a_learner_and_a_learner_leaves(app, course_setup):
    from coprod_study.models import Extension

    s = course_setup
    code = s["course"].code
    group = f.make_course_group(s["course"], s["educator"], "Amber")
    for person in (s["ann"], s["bob"]):
        f.place(s["course"], group, person)
    assignment = f.make_assignment(s["course"], episode(1))
    for person in (s["ann"], s["bob"]):
        db.session.add(Extension(assignment_id=assignment.id, user_id=person.id,
                                 due_at=assignment.due_at + timedelta(days=2)))
    item, question = f.first_question(group, episode(1))
    f.make_answer(group, s["ann"], question, "Ann stays on record")
    db.session.add(Notification(user_id=s["ann"].id, kind="reply", message="Unread in Amber",
                                url=f"/groups/{group.slug}", group_id=group.id))
    db.session.commit()
    # Ann is in another course too, which her removal leaves alone.
    other = f.make_course(f.make_user(role="educator"))
    f.enrol(other, s["ann"])

    educator = signed_in(app, s["co"])
    remove = f"/courses/{code}/learners/{s['ann'].id}/remove"
    # The course page links to a page that says what removing changes; it changes nothing.
    assert f'href="{remove}"' in educator.get(f"/courses/{code}").get_data(as_text=True)
    confirm = educator.get(remove).get_data(as_text=True)
    assert "Remove Ann Learner from Course With Groups?" in confirm
    assert "Ann Learner leaves Amber; their answers stay there." in confirm
    assert "Their extension is dropped." in confirm
    assert role_in(s["course"], s["ann"]) == "learner"
    response = post_form(educator, remove, {}, token_from=f"/courses/{code}")
    assert response.status_code == 302
    assert role_in(s["course"], s["ann"]) is None and role_in(other, s["ann"]) == "learner"
    assert count(Membership, Membership.user_id == s["ann"].id) == 0
    assert count(Extension, Extension.user_id == s["ann"].id) == 0
    assert count(Extension, Extension.user_id == s["bob"].id) == 1
    assert count(Answer, Answer.user_id == s["ann"].id) == 1
    assert count(Notification, Notification.user_id == s["ann"].id,
                 Notification.message == "Unread in Amber") == 0
    assert count(Notification, Notification.user_id == s["ann"].id,
                 Notification.message.contains("no longer a learner")) == 1
    assert count(AuditEntry, AuditEntry.action == "course.learner_removed",
                 AuditEntry.subject_user_id == s["ann"].id) == 1
    flashed = educator.get(f"/courses/{code}").get_data(as_text=True)
    assert "Ann Learner is no longer a learner of the course." in flashed
    page = educator.get(f"/courses/{code}").get_data(as_text=True)
    assert "Ann Learner" not in page and "Bob Learner" in page
    progress = educator.get(f"/courses/{code}/progress").get_data(as_text=True)
    assert "Ann Learner" not in progress
    ann = signed_in(app, s["ann"])
    assert ann.get(f"/courses/{code}").status_code == 404
    assert ann.get(f"/groups/{group.slug}").status_code == 404
    # Removing her again, or removing an educator, is a 404 that writes nothing.
    for user_id in (s["ann"].id, s["co"].id):
        assert post_form(educator, f"/courses/{code}/learners/{user_id}/remove", {},
                         token_from=f"/courses/{code}").status_code == 404
    assert role_in(s["course"], s["co"]) == "educator"

    # Bob cannot remove anyone; he can leave.
    bob = signed_in(app, s["bob"])
    carl = f.enrol(s["course"], f.make_user(name="Carl Learner"))
    assert post_form(bob, f"/courses/{code}/learners/{carl.id}/remove", {},
                     token_from=f"/courses/{code}").status_code == 403
    assert role_in(s["course"], carl) == "learner"
    page = bob.get(f"/courses/{code}").get_data(as_text=True)
    assert f'href="/courses/{code}/leave"' in page
    confirm = bob.get(f"/courses/{code}/leave").get_data(as_text=True)
    assert "Leave Course With Groups?" in confirm and "You leave Amber" in confirm
    assert f'action="/courses/{code}/leave"' in confirm
    assert role_in(s["course"], s["bob"]) == "learner"
    response = post_form(bob, f"/courses/{code}/leave", {}, token_from=f"/courses/{code}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/courses")
    assert role_in(s["course"], s["bob"]) is None
    assert count(Membership, Membership.user_id == s["bob"].id) == 0
    assert count(AuditEntry, AuditEntry.action == "course.left",
                 AuditEntry.subject_user_id == s["bob"].id) == 1
    # An educator has nothing to leave this way.
    assert post_form(educator, f"/courses/{code}/leave", {},
                     token_from=f"/courses/{code}").status_code == 403
    # Enrolling again with the code brings Bob back.
    db.session.refresh(s["course"])
    post_form(bob, "/courses/enrol", {"code": s["course"].enrol_code}, token_from="/courses")
    assert role_in(s["course"], s["bob"]) == "learner"


def test_learners_choose_a_group_only_when_the_course_lets_them(app, course_setup):
    s = course_setup
    red = f.make_course_group(s["course"], s["educator"], "Red")
    blue = f.make_course_group(s["course"], s["educator"], "Blue")
    client = signed_in(app, s["ann"])
    path = f"/courses/{s['course'].code}/choose-group"
    page_path = f"/courses/{s['course'].code}"
    assert "Your educator will place you in a group" in client.get(page_path).get_data(
        as_text=True
    )
    assert post_form(client, path, {"group_id": red.id}, token_from=page_path).status_code == 403
    assert count(Membership, Membership.user_id == s["ann"].id) == 0
    educator_client = signed_in(app, s["educator"])
    post_form(educator_client, f"/courses/{s['course'].code}/placement",
              {"placement": "choice"}, token_from=page_path)
    db.session.refresh(s["course"])
    assert s["course"].placement == "choice"
    page = client.get(page_path).get_data(as_text=True)
    assert "Choose your group" in page and "Blue" in page
    assert post_form(client, path, {"group_id": red.id}, token_from=page_path).status_code == 302
    assert post_form(client, path, {"group_id": blue.id}, token_from=page_path).status_code == 302
    policy.forget_memberships()
    assert policy.is_member(s["ann"], blue) and not policy.is_member(s["ann"], red)
    missing = post_form(client, path, {"group_id": 99999}, token_from=page_path)
    assert missing.status_code == 400
    assert "Choose one of this course&#39;s groups." in missing.get_data(as_text=True)


# --- Assignments ------------------------------------------------------------------------------


def assignment_form(**data):
    return {
        "episode_id": str(episode(3).id),
        "opens_at": "2026-03-02T09:00",
        "due_at": "2026-03-30T17:00",
        "instructions": "Listen, then *answer*.",
        "required_questions": "",
        # These dates have passed; confirming that is tested in test_courses_newcomer.py.
        "confirm_past_due": "y",
        **data,
    }


def test_an_educator_assigns_an_episode_in_the_course_time_zone(app, course_setup):
    s = course_setup
    client = signed_in(app, s["educator"])
    path = f"/courses/{s['course'].code}/assignments/new"
    response = post_form(
        client, path, assignment_form(required_questions="3, 1", reveal_after_due="y"),
        token_from=path,
    )
    assert response.status_code == 302
    assignment = db.session.scalar(select(Assignment))
    # Stockholm: CET (UTC+1) on 2 March, CEST (UTC+2) on 30 March.
    assert assignment.opens_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert assignment.due_at == datetime(2026, 3, 30, 15, 0, tzinfo=UTC)
    assert assignment.required_questions == [1, 3]
    assert assignment.reveal_after_due is True
    assert "<em>answer</em>" in assignment.instructions_html
    assert count(Notification, Notification.kind == "course",
                 Notification.user_id.in_([s["ann"].id, s["bob"].id])) == 2


def test_editing_an_assignment_keeps_its_local_times(app, course_setup):
    s = course_setup
    client = signed_in(app, s["educator"])
    post_form(client, f"/courses/{s['course'].code}/assignments/new", assignment_form(),
              token_from=f"/courses/{s['course'].code}")
    assignment = db.session.scalar(select(Assignment))
    path = f"/courses/{s['course'].code}/assignments/{assignment.id}/edit"
    page = client.get(path).get_data(as_text=True)
    assert 'value="2026-03-30T17:00"' in page and 'value="2026-03-02T09:00"' in page
    response = post_form(client, path, assignment_form(due_at="2026-04-01T12:00"), token_from=path)
    assert response.status_code == 302
    db.session.refresh(assignment)
    assert assignment.due_at == datetime(2026, 4, 1, 10, 0, tzinfo=UTC)
    assert assignment.revision == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"due_at": "2026-03-01T09:00"}, "The due date must come after the opening date."),
        ({"due_at": "2026-03-02T09:00"}, "The due date must come after the opening date."),
        ({"episode_id": "99999"}, "Choose an episode from the catalog."),
        ({"episode_id": "not-a-number"}, "Choose an episode from the catalog."),
        ({"episode_id": ""}, "Choose an episode from the catalog."),
        ({"due_at": "next tuesday"}, "Enter a date and time, such as 2026-03-30 17:00."),
        ({"due_at": ""}, "Enter the due date and time."),
        ({"required_questions": "1, 9"}, "“9” is not a question of episode 3"),
        ({"required_questions": "one"}, "“one” is not a question of episode 3"),
        # Stockholm skips 02:00-03:00 on 29 March 2026.
        ({"due_at": "2026-03-29T02:30"}, "does not exist in Europe/Stockholm"),
        ({"instructions": "y" * 20_001}, "the limit is 20,000 characters"),
    ],
)
def test_bad_assignments_are_refused_and_nothing_is_written(app, course_setup, data, message):
    s = course_setup
    client = signed_in(app, s["educator"])
    path = f"/courses/{s['course'].code}/assignments/new"
    form = assignment_form(**{"instructions": "Keep these instructions", **data})
    response = post_form(client, path, form, token_from=path)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    if "instructions" not in data:
        assert "Keep these instructions" in page
    assert count(Assignment) == 0
    assert count(Notification) == 0


def test_an_episode_is_assigned_once_per_course(app, course_setup):
    s = course_setup
    f.make_assignment(s["course"], episode(3))
    client = signed_in(app, s["educator"])
    path = f"/courses/{s['course'].code}/assignments/new"
    response = post_form(client, path, assignment_form(), token_from=path)
    assert response.status_code == 409
    assert "already assigned in this course" in response.get_data(as_text=True)
    assert count(Assignment) == 1


def test_learners_cannot_assign(app, course_setup):
    s = course_setup
    client = signed_in(app, s["ann"])
    path = f"/courses/{s['course'].code}/assignments/new"
    assert client.get(path).status_code == 403
    assert post_form(client, path, assignment_form()).status_code == 403
    assert count(Assignment) == 0


# --- Extensions ---------------------------------------------------------------------------------


def test_an_extension_changes_only_that_learners_status(app, course_setup):
    from coprod_study.courses import progress

    s = course_setup
    assignment = f.make_assignment(s["course"], episode(1), due_in=timedelta(hours=-2))
    client = signed_in(app, s["educator"])
    path = f"/courses/{s['course'].code}/assignments/{assignment.id}/extensions"
    later = course_service.to_local(
        datetime.now(UTC) + timedelta(days=2), s["course"].time_zone
    ).strftime("%Y-%m-%dT%H:%M")
    response = post_form(client, path, {"user_id": s["ann"].id, "due_at": later}, token_from=path)
    assert response.status_code == 302
    ann_cell = progress.my_cells(s["ann"], s["course"])[0]
    bob_cell = progress.my_cells(s["bob"], s["course"])[0]
    assert ann_cell.extended and ann_cell.status == "due_soon"
    assert not bob_cell.extended and bob_cell.status == "overdue"
    assert "Extensions" in client.get(f"/courses/{s['course'].code}").get_data(as_text=True)
    assert "Ann Learner" in client.get(path).get_data(as_text=True)


@pytest.mark.parametrize(
    ("who", "due", "message"),
    [
        ("ann", "2000-01-01T10:00", "An extension must be later than the assignment"),
        ("stranger", "2099-01-01T10:00", "Choose a learner of this course."),
        ("educator", "2099-01-01T10:00", "Choose a learner of this course."),
        ("ann", "", "Enter the new due date and time."),
    ],
)
def test_bad_extensions_are_refused(app, course_setup, who, due, message):
    s = course_setup
    assignment = f.make_assignment(s["course"], episode(1))
    people = {"ann": s["ann"], "stranger": f.make_user(), "educator": s["educator"]}
    client = signed_in(app, s["educator"])
    path = f"/courses/{s['course'].code}/assignments/{assignment.id}/extensions"
    response = post_form(client, path, {"user_id": people[who].id, "due_at": due}, token_from=path)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    from coprod_study.models import Extension

    assert count(Extension) == 0


# --- Reveal after the due date ----------------------------------------------------------------


@pytest.mark.parametrize(("reveal", "past_due", "sees"), [
    (True, True, True), (True, False, False), (False, True, False),
])
def test_answers_are_revealed_after_the_due_date_when_asked(
    app, course_setup, reveal, past_due, sees
):
    s = course_setup
    group = f.make_course_group(s["course"], s["educator"], "Green")
    f.place(s["course"], group, s["ann"])
    f.place(s["course"], group, s["bob"])
    due_in = timedelta(hours=-1) if past_due else timedelta(days=1)
    f.make_assignment(
        s["course"], episode(1), due_in=due_in, opens_in=timedelta(days=-3),
        reveal_after_due=reveal,
    )
    item, question = f.first_question(group, episode(1))
    f.make_answer(group, s["bob"], question, "Bob's considered answer")
    assert answer_service.is_revealed(group, question) is sees
    page = signed_in(app, s["ann"]).get(
        f"/groups/{group.slug}/episodes/{item.slug}/questions/1"
    ).get_data(as_text=True)
    assert ("considered answer" in page) is sees
    # A plain group with the same episode is not affected.
    plain = f.make_group(s["bob"])
    assert answer_service.is_revealed(plain, f.first_question(plain, episode(1))[1]) is False


def test_an_extension_keeps_the_others_answers_closed_until_its_own_date(
    app, course_setup, count_queries
):
    """Reveal after due opens the answers at the course's date, but not to a learner
    whose extension runs later and who has not answered yet."""
    from coprod_study.models import Extension

    s = course_setup
    group = f.make_course_group(s["course"], s["educator"], "Teal")
    carl = f.enrol(s["course"], f.make_user(name="Carl Learner"))
    for person in (s["ann"], s["bob"], carl):
        f.place(s["course"], group, person)
    assignment = f.make_assignment(
        s["course"], episode(1), due_in=timedelta(hours=-1), opens_in=timedelta(days=-3),
        reveal_after_due=True,
    )
    extension = Extension(assignment_id=assignment.id, user_id=s["ann"].id,
                          due_at=datetime.now(UTC) + timedelta(days=2))
    db.session.add(extension)
    db.session.commit()
    item, question = f.first_question(group, episode(1))
    f.make_answer(group, s["bob"], question, "Bob's considered answer")
    url = f"/groups/{group.slug}/episodes/{item.slug}/questions/1"
    ann, carl_client = signed_in(app, s["ann"]), signed_in(app, carl)
    assert "considered answer" in carl_client.get(url).get_data(as_text=True)
    assert "considered answer" not in ann.get(url).get_data(as_text=True)
    # A co-educator (no membership: the course makes them its groups' facilitator)
    # reads a course group's question in at most 8 statements, even when the page
    # of answers is not kept and must be loaded.
    from coprod_study.fragments import cache_for

    educator = signed_in(app, s["co"])
    educator.get(url)
    cache_for(app).clear()
    with count_queries() as statements:
        page = educator.get(url).get_data(as_text=True)
    assert "considered answer" in page
    assert len([q for q in statements if q.split()[0].upper() != "BEGIN"]) <= 8
    # Once Ann's own date has passed, she reads them too.
    extension.due_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    assert "considered answer" in ann.get(url).get_data(as_text=True)


# --- What learners see: the course page and "My due dates" -------------------------------------


def test_learners_see_their_assignments_and_what_is_left(app, course_setup):
    s = course_setup
    group = f.make_course_group(s["course"], s["educator"], "Yellow")
    f.place(s["course"], group, s["ann"])
    soon = f.make_assignment(s["course"], episode(1), due_in=timedelta(days=2),
                             required_questions=[1, 2, 3, 4, 5])
    late = f.make_assignment(s["course"], episode(2), due_in=timedelta(days=-1),
                             opens_in=timedelta(days=-5))
    done = f.make_assignment(s["course"], episode(3), due_in=timedelta(days=10),
                             required_questions=[1])
    for number in (1, 2):
        f.make_answer(group, s["ann"], group_service.get_question(group, episode(1), number))
    f.make_answer(group, s["ann"], f.first_question(group, episode(3))[1])
    db.session.add(ListeningProgress(user_id=s["ann"].id, episode_id=episode(3).id, listened=True))
    db.session.commit()
    client = signed_in(app, s["ann"])
    home = client.get("/").get_data(as_text=True)
    due_block = home.split('id="my-due"')[1].split("</section>")[0]
    assert "2 of 5 questions answered, not marked listened" in due_block
    assert "Overdue" in due_block and "Due soon" in due_block and "Done" in due_block
    assert soon.episode.title in due_block and late.episode.title in due_block
    assert done.episode.title in due_block
    assert "Nothing is due." not in due_block
    course_page = client.get(f"/courses/{s['course'].code}").get_data(as_text=True)
    assert "Yellow" in course_page and "2 of 5 questions answered" in course_page
    assert "All done" in course_page
    # Someone with no courses sees the plain message.
    other = signed_in(app, f.make_user()).get("/").get_data(as_text=True)
    assert "Nothing is due." in other


def test_the_site_nav_links_to_courses(app, course_setup):
    page = signed_in(app, course_setup["ann"]).get("/").get_data(as_text=True)
    assert 'href="/courses"' in page


def test_course_page_runs_few_queries_whatever_the_course_size(app, course_setup, count_queries):
    s = course_setup
    course = s["course"]

    def statements(user):
        client = signed_in(app, user)
        client.get(f"/courses/{course.code}")
        with count_queries() as sent:
            page = client.get(f"/courses/{course.code}").get_data(as_text=True)
        return len([q for q in sent if q.split()[0].upper() != "BEGIN"]), page

    group = f.make_course_group(course, s["educator"], "Indigo")
    f.place(course, group, s["ann"])
    f.make_assignment(course, episode(1))
    small = statements(s["educator"]), statements(s["ann"])
    for number in range(12):
        other = f.make_course_group(course, s["educator"], f"Group {number}")
        for _ in range(3):
            f.place(course, other, f.enrol(course, f.make_user()))
    f.make_assignment(course, episode(2))
    f.enrol(course, f.make_user(name="Second Educator"), role="educator")
    (educator_count, educator_page), (learner_count, learner_page) = (
        statements(s["educator"]), statements(s["ann"])
    )
    assert educator_count == small[0][0] and learner_count == small[1][0]
    assert educator_count <= 8 and learner_count <= 8
    # What the counts cover is on the page: groups with their learners, both
    # assignments, the educators; the learner sees their own group.
    assert "Group 11" in educator_page and "Second Educator" in educator_page
    assert "(3 learners)" in educator_page and "Indigo</a> (1 learner)" in educator_page
    assert "Indigo" in learner_page
