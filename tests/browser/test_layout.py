"""Layout at 1280 and 320 CSS pixels: a compact header with a menu, light member rows,
a tidy thread toolbar, a wide progress table, long text collapsed, tidy catalog cards."""

import pytest
from sqlalchemy import select

from coprod_study.discussion import service as discussion
from coprod_study.extensions import db
from coprod_study.groups import answers as answer_service
from coprod_study.models import Episode
from tests import factories as f
from tests.browser.test_groups_browser import sign_in
from tests.browser.test_keyboard import FOCUS_STATE, tab_to

pytestmark = pytest.mark.browser

WIDE = {"width": 1280, "height": 800}
NARROW = {"width": 320, "height": 640}
LONG_NAME = "Maximiliandervonundzuhohenlohe-Schillingsfürst-Waldenburg"
PARAGRAPH = " ".join(["Respect in the clinic starts with listening to what people bring."] * 10)
LAST_WORDS = "and that is where this long post ends."
LONG_BODY = "\n\n".join([PARAGRAPH] * 5) + f"\n\nIn the end, {LAST_WORDS}"
LONG_DESCRIPTION = "\n\n".join([PARAGRAPH] * 8) + f"\n\nWe close: {LAST_WORDS}"


def seed(language="en"):
    """An admin who is also an educator and facilitator, a group with a long description,
    a long answer and a long thread post, a course with two assignments; plain values."""
    admin = f.make_user(name="Ada Admin", email="ada@example.org", role="admin", language=language)
    group = f.make_group(admin, name="Tuesday Study Circle", description=LONG_DESCRIPTION)
    ann = f.add_member(group, f.make_user(name="Ann Learner"))
    max_ = f.add_member(group, f.make_user(name=LONG_NAME))
    course = f.make_course(admin, title="Coproduction in Practice")
    red_team = f.make_course_group(course, admin, "Red Team")
    for learner in (ann, max_):
        f.enrol(course, learner)
        f.place(course, red_team, learner)
    episode, question = f.first_question(group)
    f.make_assignment(course, episode)
    f.make_assignment(
        course, db.session.scalars(select(Episode).where(Episode.id != episode.id)).first()
    )
    answer_service.post_answer(ann, group, question, LONG_BODY)
    thread = discussion.create_thread(admin, group, title="Week one", body="Opening words")
    long_post = discussion.reply(ann, thread, LONG_BODY)
    discussion.reply(max_, thread, "A short reply.")
    urls = {
        "group": f"/groups/{group.slug}",
        "members": f"/groups/{group.slug}/members",
        "question": f"/groups/{group.slug}/episodes/{episode.slug}/questions/1",
        "thread": f"/groups/{group.slug}/threads/{thread.id}",
        "long post": f"post-{long_post.id}",
        "course": f"/courses/{course.code}",
        "progress": f"/courses/{course.code}/progress",
    }
    db.session.commit()
    db.session.remove()
    return urls


@pytest.fixture(autouse=True)
def short_waits(page):
    """A missing element fails in seconds, not Playwright's default 30."""
    page.set_default_timeout(5000)


def overflow(page):
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("language", ["en", "sv"])
def test_signed_in_navigation_fits_one_line_at_1280(live_server, page, language):
    seed(language)
    page.set_viewport_size(WIDE)
    sign_in(page, live_server, "ada@example.org")
    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == language
    tops = page.eval_on_selector_all(
        ".site-nav .nav-list > li", "items => items.map(i => Math.round(i.getBoundingClientRect().top))"
    )
    assert len(tops) >= 9  # episodes ... admin, notifications, account, sign out
    assert max(tops) - min(tops) <= 4, f"the navigation wraps at 1280 px: {tops}"
    assert page.locator(".site-header").bounding_box()["height"] <= 80


def test_header_fits_one_line_wide_and_folds_into_a_menu_narrow(live_server, page):
    seed()
    page.set_viewport_size(WIDE)
    sign_in(page, live_server, "ada@example.org")
    tops = page.eval_on_selector_all(
        ".site-nav .nav-list > li", "items => items.map(i => Math.round(i.getBoundingClientRect().top))"
    )
    assert len(tops) >= 9  # episodes ... admin, notifications, account, sign out
    assert max(tops) - min(tops) <= 4, f"the navigation wraps at 1280 px: {tops}"
    assert page.locator(".site-header").bounding_box()["height"] <= 80
    assert not page.locator(".menu-button").is_visible()

    page.set_viewport_size(NARROW)
    page.goto(live_server + "/")
    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= NARROW["height"] * 0.15, header
    assert overflow(page) <= 0
    episodes_link = page.locator(".site-nav").get_by_role("link", name="Episodes")
    assert not episodes_link.is_visible()
    # By keyboard: the skip link, the site name, then the menu button.
    state = tab_to(page, lambda s: s["tag"] == "summary")
    assert state["text"].startswith("Menu")
    page.keyboard.press("Enter")
    assert episodes_link.is_visible()
    assert page.locator(".menu-button").get_attribute("aria-expanded") is None  # native
    assert page.locator(".site-menu").get_attribute("open") is not None
    state = tab_to(page, lambda s: s["tag"] == "a", limit=3)
    assert state["text"] == "Episodes" and state["visible"]
    # Escape (an enhancement) closes the menu and gives focus back to its button.
    page.keyboard.press("Escape")
    assert not episodes_link.is_visible()
    assert page.evaluate(FOCUS_STATE)["tag"] == "summary"


def test_menu_works_without_javascript(live_server, browser):
    seed()
    context = browser.new_context(java_script_enabled=False, viewport=NARROW)
    page = context.new_page()
    sign_in(page, live_server, "ada@example.org")
    link = page.locator(".site-nav").get_by_role("link", name="Courses")
    assert not link.is_visible()
    page.locator(".menu-button").click()
    assert link.is_visible()
    # Wide, the menu button goes away and the links show, closed or not.
    page.set_viewport_size(WIDE)
    page.goto(live_server + "/")
    assert not page.locator(".menu-button").is_visible()
    assert link.is_visible()
    context.close()


def test_member_actions_sit_behind_a_manage_disclosure(live_server, page):
    urls = seed()
    page.set_viewport_size(WIDE)
    sign_in(page, live_server, "ada@example.org")
    page.goto(live_server + urls["members"])
    row = page.locator("tr", has_text="Ann Learner")
    remove = row.get_by_role("button", name="Remove")
    assert not remove.is_visible() and not row.get_by_role("button", name="Ban").is_visible()
    row.locator("summary", has_text="Manage").click()
    assert remove.is_visible()
    assert row.get_by_label("Reason for removing Ann Learner").is_visible()
    # Other rows stay closed.
    assert not page.locator("tr", has_text=LONG_NAME).get_by_role("button", name="Remove").is_visible()

    page.set_viewport_size(NARROW)
    page.goto(live_server + urls["members"])
    assert overflow(page) <= 0
    card = page.locator("tr", has_text=LONG_NAME)
    card.locator("summary", has_text="Manage").click()
    box = card.get_by_role("button", name="Ban").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= NARROW["width"]
    assert overflow(page) <= 0


def test_thread_tools_form_one_aligned_toolbar(live_server, page):
    urls = seed()
    page.set_viewport_size(WIDE)
    sign_in(page, live_server, "ada@example.org")
    page.goto(live_server + urls["thread"])
    toolbar = page.get_by_role("group", name="Facilitator tools")
    buttons = [toolbar.get_by_role("button", name=n) for n in ("Pin", "Lock", "Make it an announcement")]
    bottoms = [round(b.bounding_box()["y"] + b.bounding_box()["height"]) for b in buttons]
    assert max(bottoms) - min(bottoms) <= 2, f"toolbar buttons are not aligned: {bottoms}"
    reason = toolbar.get_by_label("Lock reason").bounding_box()
    lock = buttons[1].bounding_box()
    assert abs((reason["y"] + reason["height"]) - (lock["y"] + lock["height"])) <= 2
    # Every post action (links, buttons and disclosures) looks the same.
    styles = page.eval_on_selector_all(
        ".post-actions > a, .post-actions > form > button, .post-actions > details > summary",
        """els => els.map(e => { const s = getComputedStyle(e);
            return [s.fontSize, s.fontWeight, s.color, s.textDecorationLine, s.borderTopStyle,
                    s.listStyleType].join(' '); })""",
    )
    assert len(styles) >= 6
    assert len(set(styles)) == 1, set(styles)
    heights = page.eval_on_selector_all(
        ".post-actions > a, .post-actions > form > button, .post-actions > details > summary",
        "els => els.map(e => e.getBoundingClientRect().height)",
    )
    assert min(heights) >= 24  # WCAG 2.5.8 target size


def test_progress_table_uses_the_width_and_wraps_long_names(live_server, page):
    urls = seed()
    page.set_viewport_size(WIDE)
    sign_in(page, live_server, "ada@example.org")
    page.goto(live_server + urls["progress"])
    scroller = page.locator(".table-scroll")
    assert scroller.evaluate("e => e.scrollWidth <= e.clientWidth"), "the table scrolls at 1280 px"
    replies = page.get_by_role("columnheader", name="Replies").bounding_box()
    assert replies["x"] + replies["width"] <= WIDE["width"]
    name = page.get_by_role("rowheader", name=LONG_NAME).bounding_box()
    assert name["width"] <= 260, "a long name takes the room of the data columns"

    page.set_viewport_size(NARROW)
    page.goto(live_server + urls["progress"])
    assert overflow(page) <= 0
    # The table scrolls inside its own box, which says so and can be scrolled by keyboard.
    region = page.get_by_role("region", name="Learners and assignments of Coproduction in Practice")
    assert region.get_attribute("tabindex") == "0"
    assert page.locator(".scroll-hint").is_visible()


def test_course_page_spacing_and_a_large_enrol_code(live_server, page):
    urls = seed()
    page.set_viewport_size(WIDE)
    sign_in(page, live_server, "ada@example.org")
    page.goto(live_server + urls["course"])
    code = page.locator(".enrol-code")
    size = float(code.evaluate("e => getComputedStyle(e).fontSize").removesuffix("px"))
    assert size >= 24
    reset = page.get_by_role("button", name="Make a new enrol code (the old one stops working)")
    label = page.get_by_text("E-mail addresses of learners", exact=True)
    gap = label.bounding_box()["y"] - (reset.bounding_box()["y"] + reset.bounding_box()["height"])
    assert gap >= 16, f"the button touches the next label ({gap} px)"
    # With JavaScript, a button copies the code.
    copy = page.get_by_role("button", name="Copy the code")
    assert copy.is_visible()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    # The page's Permissions-Policy allows clipboard-write only, so the test cannot
    # read the clipboard back; it records what the real writeText was given once
    # that write has succeeded (a write the policy refused would reject).
    page.evaluate("""() => {
        const write = navigator.clipboard.writeText.bind(navigator.clipboard);
        window.copied = [];
        navigator.clipboard.writeText = (text) => write(text).then(() => { window.copied.push(text); });
    }""")
    copy.click()
    # "Copied" shows once the write has gone through (enhance.js).
    page.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("window.copied") == [code.inner_text().strip()]

    page.set_viewport_size(NARROW)
    page.goto(live_server + urls["course"])
    assert overflow(page) <= 0


@pytest.mark.parametrize("javascript", [True, False])
def test_long_text_is_collapsed_with_show_more(live_server, browser, javascript):
    urls = seed()
    context = browser.new_context(java_script_enabled=javascript, viewport=WIDE)
    page = context.new_page()
    sign_in(page, live_server, "ada@example.org")
    for path, where in ((urls["thread"], f"#{urls['long post']}"), (urls["group"], ".group-description"),
                        (urls["question"], ".answer")):
        page.goto(live_server + path)
        box = page.locator(f"{where} .collapsible").first
        body = box.locator(".collapsible-body")
        height = body.bounding_box()["height"]
        assert height <= 420, f"{path}: {height} px tall while collapsed"
        # Collapsed for the eye only: the whole text stays in the page's text.
        assert LAST_WORDS in body.inner_text()
        box.get_by_text("Show more").click()
        assert body.bounding_box()["height"] > height + 200
        assert box.get_by_text("Show less").is_visible()
    # A short post has no "Show more".
    page.goto(live_server + urls["thread"])
    assert page.locator(".post", has_text="A short reply.").locator(".collapsible").count() == 0
    context.close()


def test_catalog_cards_are_consistent(live_server, page, sample_catalog):
    for viewport in (WIDE, NARROW):
        page.set_viewport_size(viewport)
        page.goto(live_server + "/episodes")
        cards = page.locator(".episode-card")
        assert cards.count() >= 5
        # The sample catalog says so once, above the cards, not on each card.
        assert page.get_by_text("Sample content", exact=True).count() == 1
        assert cards.get_by_text("Sample content", exact=True).count() == 0
        for i in range(cards.count()):
            card = cards.nth(i)
            date = card.locator(".episode-date").bounding_box()
            length = card.locator(".episode-duration").bounding_box()
            assert abs(date["y"] - length["y"]) <= 2, f"date and duration on two lines in card {i}"
            summary = card.locator(".episode-summary").inner_text()
            assert 40 <= len(summary) <= 200 and not summary.startswith("Sample content")
        assert overflow(page) <= 0
