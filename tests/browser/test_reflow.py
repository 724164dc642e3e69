"""WCAG 1.4.10 reflow: at 320 CSS pixels no page scrolls sideways (wide tables scroll
inside their own box)."""

import pytest
from sqlalchemy import select

from coprod_study.discussion import service as discussion
from coprod_study.extensions import db
from coprod_study.groups import answers as answer_service
from coprod_study.models import Episode
from tests import factories as f
from tests.browser.test_groups_browser import sign_in

pytestmark = pytest.mark.browser

NARROW = {"width": 320, "height": 800}
# A link with no place to break: it must wrap, not widen the page.
LONG_LINK = "https://example.org/" + "/".join(["a-rather-long-path-segment"] * 6)
# A display name with no place to break, and an e-mail address as long.
LONG_NAME = "Maximiliandervonundzuhohenlohe-Schillingsfürst-Waldenburg"
LONG_EMAIL = "maximilian.von.hohenlohe-schillingsfuerst@example.org"


def test_pages_reflow_at_320_pixels(app, live_server, page):
    educator = f.make_user(name="Fay Facilitator", email="fay@example.org", role="educator")
    group = f.make_group(educator, name="Tuesday Study Circle")
    ann = f.add_member(group, f.make_user(name="Ann Learner"))
    max_ = f.add_member(group, f.make_user(name=LONG_NAME, email=LONG_EMAIL))
    course = f.make_course(educator, title="Coproduction in Practice")
    red_team = f.make_course_group(course, educator, "Red Team")
    for learner in (ann, max_):
        f.enrol(course, learner)
        f.place(course, red_team, learner)
    episode, question = f.first_question(group)
    # Two assignments: the progress table has a column of cells for each.
    f.make_assignment(course, episode)
    f.make_assignment(
        course, db.session.scalars(select(Episode).where(Episode.id != episode.id)).first()
    )
    answer_service.post_answer(educator, group, question, f"See {LONG_LINK} for more.")
    thread = discussion.create_thread(educator, group, title="Week one", body="Opening words")
    discussion.reply(max_, thread, f"{LONG_NAME} was here.")
    paths = [
        "/", "/episodes", f"/episodes/{episode.slug}", f"/episodes/{episode.slug}/transcript",
        "/dimensions", "/groups", f"/groups/{group.slug}", f"/groups/{group.slug}/members",
        f"/groups/{group.slug}/episodes/{episode.slug}/questions/1",
        f"/groups/{group.slug}/threads/new", "/search?q=segment", "/notifications",
        "/account", "/courses", f"/courses/{course.code}",
        f"/courses/{course.code}/progress", f"/courses/{course.code}/assignments/new",
        "/contact", f"/groups/{group.slug}/threads/{thread.id}",
    ]
    question_page = paths[8]
    learner_paths = [f"/courses/{course.code}", f"/groups/{group.slug}"]
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
    # A learner with the long name sees their own assignments as cards.
    page.context.clear_cookies()
    sign_in(page, live_server, LONG_EMAIL)
    for path in learner_paths:
        page.goto(live_server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > NARROW["width"]:
            too_wide[f"{path} as a learner"] = width
    assert too_wide == {}


def test_admin_and_account_tables_scroll_in_their_own_box_at_320_pixels(app, live_server, page):
    from coprod_study.account import service as accounts
    from coprod_study.mail.outgoing import queue_mail

    admin = f.make_user(name="Ada Admin", email="ada@example.org", role="admin")
    learner = f.make_user(name=LONG_NAME, email=LONG_EMAIL)
    accounts.set_role(admin, learner, "facilitator")  # a row in the audit log
    queue_mail(LONG_EMAIL, "A subject long enough to need room " * 3, "Text", kind="reset")
    db.session.commit()
    db.session.remove()
    page.set_viewport_size(NARROW)
    sign_in(page, live_server, "ada@example.org")
    too_wide = {}
    for path in ("/admin", "/admin/users", "/admin/outbox", "/admin/audit", "/account"):
        response = page.goto(live_server + path)
        assert response.status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > NARROW["width"]:
            too_wide[path] = width
        # Each wide table sits in a named box that the keyboard reaches.
        for box in page.locator("div.table-scroll").all():
            assert box.get_attribute("tabindex") == "0" and box.get_attribute("aria-label"), path
    assert too_wide == {}
    page.goto(live_server + "/admin/outbox")
    assert page.locator("div.table-scroll table").count() == 1
