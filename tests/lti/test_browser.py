"""The whole LTI path in Chromium, inside an iframe of a page the fake platform serves:
deep link, launch the link, answer, grade posted.

The tool is addressed as http://localhost and the platform as http://127.0.0.1, two
sites, so the frame is a real third-party context. Chromium treats http://localhost as
a secure origin and keeps its `Secure` cookies, so the launch cookies (SameSite=None;
Secure) work there without TLS; a deployment serves the tool over HTTPS.
"""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from coprod_study.extensions import db
from coprod_study.models import Episode, LtiGradePost
from tests.lti.platform import FakePlatform

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def tool_and_platform(app, sample_catalog, make_user):
    from coprod_study.lti.service import registration

    db.session.commit()
    db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    platform = FakePlatform(f"http://localhost:{server.server_port}").start()
    registration.save_platform(make_user(role="admin"), None, platform.registration())
    db.session.commit()
    db.session.remove()
    try:
        yield platform
    finally:
        platform.stop()
        server.shutdown()
        thread.join(timeout=10)


def _problems(page) -> list[str]:
    found = []
    page.on("console", lambda m: found.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: found.append(str(e)))
    return found


def _wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_deep_link_launch_answer_and_grade_inside_the_lms_frame(browser, tool_and_platform):  # noqa: F811
    platform = tool_and_platform
    episode = db.session.scalars(select(Episode).order_by(Episode.number)).first()
    episode_id, question_count = episode.id, len(episode.questions)
    db.session.remove()
    due = (datetime.now(UTC) + timedelta(days=14)).strftime("%Y-%m-%dT17:00")

    instructor = browser.new_context()
    page = instructor.new_page()
    problems = _problems(page)
    page.goto(f"{platform.base}/course?as=instructor&message=deep_link")
    frame = page.frame_locator("#tool")
    frame.get_by_label("Episode").select_option(str(episode_id))
    frame.get_by_label("What the link opens").select_option("1")
    frame.get_by_label("Due").fill(due)
    frame.get_by_role("button", name="Create the link").click()
    frame.get_by_role("button", name="Add the link to Fake LMS").click()
    frame.get_by_role("heading", name="Link added").wait_for()
    assert platform.links["1"]["custom"]["question"] == "1"
    instructor.close()

    learner = browser.new_context()
    page = learner.new_page()
    problems += _problems(page)
    page.goto(f"{platform.base}/course?as=learner&message=link:1")
    frame = page.frame_locator("#tool")
    frame.get_by_label("Your answer").fill("Coproduction starts when we ask what matters to the patient.")
    frame.get_by_role("button", name="Post answer").click()
    frame.get_by_text("Coproduction starts when we ask what matters").first.wait_for()
    assert _wait_for(lambda: platform.scores), "no grade reached the platform"
    score = platform.scores[-1]
    assert score["userId"] == "lms-user-learner"
    assert (score["scoreGiven"], score["scoreMaximum"]) == (1, question_count)
    assert db.session.scalar(select(LtiGradePost.status)) == "sent"
    learner.close()
    assert not [p for p in problems if "frame" in p.lower() or "cookie" in p.lower()], problems
