"""WCAG 1.4.10 reflow: at 320 CSS pixels no page scrolls sideways (wide tables scroll
inside their own box)."""

import pytest

from coprod_study.extensions import db
from coprod_study.services import answers as answer_service
from tests import factories as f
from tests.browser.test_groups_browser import sign_in

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 800}
# A link with no place to break: it must wrap, not widen the page.
LONG_LINK = "https://example.org/" + "/".join(["a-rather-long-path-segment"] * 6)


def test_pages_reflow_at_320_pixels(app, live_server, page):
    educator = f.make_user(name="Fay Facilitator", email="fay@example.org", role="educator")
    group = f.make_group(educator, name="Tuesday Study Circle")
    ann = f.add_member(group, f.make_user(name="Ann Learner"))
    course = f.make_course(educator, title="Coproduction in Practice")
    f.enrol(course, ann)
    f.place(course, f.make_course_group(course, educator, "Red Team"), ann)
    f.make_assignment(course)
    episode, question = f.first_question(group)
    answer_service.post_answer(educator, group, question, f"See {LONG_LINK} for more.")
    paths = [
        "/", "/episodes", f"/episodes/{episode.slug}", f"/episodes/{episode.slug}/transcript",
        "/dimensions", "/groups", f"/groups/{group.slug}", f"/groups/{group.slug}/members",
        f"/groups/{group.slug}/episodes/{episode.slug}/questions/1",
        f"/groups/{group.slug}/threads/new", "/search?q=segment", "/notifications",
        "/account", "/courses", f"/courses/{course.code}",
        f"/courses/{course.code}/progress", f"/courses/{course.code}/assignments/new",
        "/contact",
    ]
    question_page = paths[8]
    db.session.commit()
    db.session.remove()
    page.set_viewport_size(NARROW)
    sign_in(page, live_server, "fay@example.org")
    too_wide = {}
    for path in paths:
        response = page.goto(live_server + path)
        assert response.status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > NARROW["width"]:
            too_wide[path] = width
    assert too_wide == {}
    # The long link is on the question page, wrapped within the viewport.
    page.goto(live_server + question_page)
    box = page.locator(f'a[href="{LONG_LINK}"]').bounding_box()
    assert box is not None and box["x"] + box["width"] <= NARROW["width"]
