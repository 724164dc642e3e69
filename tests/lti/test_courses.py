"""Deep linking, launching the link, roster sync and grade passback, against the fake platform."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import requests
from sqlalchemy import select

from coprod_study.extensions import db
from coprod_study.models import (
    Assignment,
    AuditEntry,
    Course,
    CourseMember,
    Episode,
    LtiGradePost,
    LtiLineItem,
    User,
)
from tests.conftest import csrf_token, post_form
from tests.lti.platform import INSTRUCTOR, LEARNER
from tests.lti.support import launch

pytestmark = pytest.mark.usefixtures("sample_catalog")
RETURN_FORM = re.compile(r'<form method="post" action="([^"]+)" id="deep-link-return">\s*<input type="hidden" name="JWT" value="([^"]+)">')


def _due(days: int = 14) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT17:00")


def _episode() -> Episode:
    return db.session.scalars(select(Episode).order_by(Episode.number)).first()


def deep_link(client, platform, question: str = "") -> dict:
    """The instructor launches "add a link", picks the first episode, and the LMS gets it."""
    assert launch(client, platform, "instructor", "deep_link").status_code == 302
    episode = _episode()
    response = post_form(client, "/lti/deep-link", {
        "episode_id": str(episode.id), "question": question, "due_at": _due(),
    }, token_from="/lti/deep-link")
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body[:1500]
    action, token = RETURN_FORM.search(body).groups()
    assert f"form-action 'self' {platform.base}" in response.headers["Content-Security-Policy"]
    returned = requests.post(unescape(action), data={"JWT": unescape(token)}, timeout=10)
    assert returned.status_code == 200, returned.text[:500]
    return platform.links[str(len(platform.links))]


def _course() -> Course:
    return db.session.scalar(select(Course))


def test_deep_linking_assigns_the_episode_and_returns_a_signed_link(client, platform, registered):
    link = deep_link(client, platform)
    assignment = db.session.scalar(select(Assignment))
    episode = _episode()
    assert assignment.episode_id == episode.id and assignment.course_id == _course().id
    assert link["custom"] == {"assignment_id": str(assignment.id)}
    assert link["url"] == "http://localhost/lti/launch"
    assert link["title"].startswith(f"Episode {episode.number}: ")
    line = platform.line_items[link["line_item"]]
    assert line["scoreMaximum"] == len(episode.questions)
    assert line["resourceId"] == f"assignment-{assignment.id}"
    # The choice is spent: the page asks for a new launch.
    again = client.get("/lti/deep-link")
    assert again.status_code == 403 and "from your LMS course" in again.get_data(as_text=True)


def test_a_bad_due_date_is_shown_on_the_form_and_keeps_the_choice(client, platform, registered):
    assert launch(client, platform, "instructor", "deep_link").status_code == 302
    episode = _episode()
    response = post_form(client, "/lti/deep-link", {
        "episode_id": str(episode.id), "question": "", "due_at": "next tuesday",
    }, token_from="/lti/deep-link")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Enter a date and time" in body
    assert f'<option selected value="{episode.id}">' in body
    assert db.session.scalar(select(Assignment)) is None


def test_a_learner_launch_opens_the_assignment_and_an_answer_posts_the_grade(app, client, platform, registered):
    link = deep_link(client, platform, question="2")
    learner = app.test_client()
    response = launch(learner, platform, "learner", "link:1")
    assert response.status_code == 302
    episode = _episode()
    course = _course()
    target = response.headers["Location"]
    assert re.search(rf"/groups/[\w-]+/episodes/{episode.slug}/questions/2$", target), target
    person = db.session.scalar(select(User).where(User.display_name == "Lars Learner"))
    role = db.session.scalar(select(CourseMember.role).where(
        CourseMember.course_id == course.id, CourseMember.user_id == person.id))
    assert role == "learner"
    line_url = db.session.scalar(select(LtiLineItem.url))
    assert line_url == link["line_item"]

    page = learner.get(target)
    assert page.status_code == 200
    answered = post_form(learner, target, {"body": "Patients bring knowledge nobody else has."},
                         token_from=target)
    assert answered.status_code == 302, answered.get_data(as_text=True)[:1000]
    score = platform.scores[-1]
    assert score["userId"] == "lms-user-learner" and score["lineitem"] == link["line_item"]
    assert score["scoreGiven"] == 1 and score["scoreMaximum"] == len(episode.questions)
    assert score["activityProgress"] == "InProgress" and score["gradingProgress"] == "FullyGraded"
    assert "1 of" in score["comment"]
    row = db.session.scalar(select(LtiGradePost))
    assert row.status == "sent" and row.score_given == 1


def test_an_extension_posts_the_grade_again(app, client, platform, registered):
    deep_link(client, platform)
    learner = app.test_client()
    assert launch(learner, platform, "learner", "link:1").status_code == 302
    sent = len(platform.scores)
    course, assignment = _course(), db.session.scalar(select(Assignment))
    person = db.session.scalar(select(User).where(User.display_name == "Lars Learner"))
    response = post_form(client, f"/courses/{course.code}/assignments/{assignment.id}/extensions",
                         {"user_id": str(person.id), "due_at": _due(30)},
                         token_from=f"/courses/{course.code}/assignments/{assignment.id}/extensions")
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    assert len(platform.scores) == sent + 1
    assert platform.scores[-1]["userId"] == "lms-user-learner"
    assert platform.scores[-1]["scoreGiven"] == 0


def test_a_failed_grade_is_shown_to_the_educator_and_sent_again(app, client, platform, registered):
    deep_link(client, platform)
    learner = app.test_client()
    target = launch(learner, platform, "learner", "link:1").headers["Location"] + "/questions/1"
    platform.fail_scores = True
    post_form(learner, target, {"body": "An answer while the LMS is down."}, token_from=target)
    row = db.session.scalar(select(LtiGradePost))
    assert row.status == "failed" and "503" in row.last_error and row.attempts == 1
    course = _course()
    page = client.get(f"/lti/courses/{course.code}")
    body = page.get_data(as_text=True)
    assert "1 grade could not be sent." in body and "503" in body and "Lars Learner" in body
    assert learner.get(f"/lti/courses/{course.code}").status_code == 404
    platform.fail_scores = False
    response = post_form(client, f"/lti/courses/{course.code}/grades/retry",
                         {"post_id": str(row.id)}, token_from=f"/lti/courses/{course.code}")
    assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(LtiGradePost, row.id)
    assert row.status == "sent" and platform.scores[-1]["scoreGiven"] == 1


def test_roster_sync_adds_changes_and_removes_and_is_audited(app, client, platform, registered):
    deep_link(client, platform)
    learner = app.test_client()
    assert launch(learner, platform, "learner", "link:1").status_code == 302
    course = _course()
    platform.members = [
        {"user_id": "lms-user-instructor", "name": "Ingrid Instructor", "roles": [INSTRUCTOR]},
        {"user_id": "lms-user-new", "name": "Nora New", "email": "nora@lms.example", "roles": [LEARNER]},
        {"user_id": "lms-user-ta", "name": "Tove Assistant",
         "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"]},
        {"user_id": "lms-user-gone", "name": "Gunnar Gone", "roles": [LEARNER], "status": "Inactive"},
    ]
    response = post_form(client, f"/lti/courses/{course.code}/roster", {},
                         token_from=f"/lti/courses/{course.code}")
    assert response.status_code == 302
    page = client.get(f"/lti/courses/{course.code}").get_data(as_text=True)
    assert "Roster synced: 2 added, 0 changed role, 1 removed." in page
    roles = dict(db.session.execute(
        select(User.display_name, CourseMember.role).join(CourseMember, CourseMember.user_id == User.id)
        .where(CourseMember.course_id == course.id)).all())
    assert roles == {"Ingrid Instructor": "educator", "Nora New": "learner", "Tove Assistant": "educator"}
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"lti.roster_synced", "lti.member_added", "course.learner_removed"} <= actions
    # Lars comes back as an instructor: his role changes.
    platform.members.append({"user_id": "lms-user-learner", "name": "Lars Learner", "roles": [INSTRUCTOR]})
    post_form(client, f"/lti/courses/{course.code}/roster", {}, token_from=f"/lti/courses/{course.code}")
    page = client.get(f"/lti/courses/{course.code}").get_data(as_text=True)
    assert "Roster synced: 1 added, 0 changed role, 0 removed." in page
    platform.members[-1]["roles"] = [LEARNER]
    post_form(client, f"/lti/courses/{course.code}/roster", {}, token_from=f"/lti/courses/{course.code}")
    page = client.get(f"/lti/courses/{course.code}").get_data(as_text=True)
    assert "Roster synced: 0 added, 1 changed role, 0 removed." in page
    assert "lti.role_changed" in set(db.session.scalars(select(AuditEntry.action)))


def test_only_the_courses_educators_sync_and_retry(app, client, platform, registered, make_user):
    deep_link(client, platform)
    course = _course()
    from tests.conftest import login

    stranger = app.test_client()
    login(stranger, make_user(role="educator"))
    for path in (f"/lti/courses/{course.code}/roster", f"/lti/courses/{course.code}/grades/retry"):
        response = stranger.post(path, data={"csrf_token": csrf_token(stranger)})
        assert response.status_code == 404
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "lti.roster_synced")) is None


def test_removing_an_answer_posts_the_lower_score(app, client, platform, registered):
    from coprod_study.models import Answer

    deep_link(client, platform)
    learner = app.test_client()
    target = launch(learner, platform, "learner", "link:1").headers["Location"] + "/questions/1"
    post_form(learner, target, {"body": "An answer to take back."}, token_from=target)
    assert platform.scores[-1]["scoreGiven"] == 1
    answer = db.session.scalar(select(Answer))
    slug = target.split("/groups/")[1].split("/")[0]
    response = post_form(learner, f"/groups/{slug}/answers/{answer.id}/delete", {}, token_from=target)
    assert response.status_code == 302
    assert platform.scores[-1]["scoreGiven"] == 0


def test_a_deleted_account_cannot_come_back_through_the_lms(app, client, platform, registered):
    from coprod_study.models import LtiIdentity

    assert launch(client, platform, "instructor", "deep_link").status_code == 302
    user = db.session.get(User, db.session.scalar(select(LtiIdentity.user_id)))
    user.deleted_at = datetime.now(UTC)
    db.session.commit()
    response = launch(app.test_client(), platform, "instructor", "deep_link")
    assert response.status_code == 400
    assert "was deleted here" in response.get_data(as_text=True)
