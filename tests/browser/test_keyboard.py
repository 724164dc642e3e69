"""A keyboard-only newcomer: register, join a group, answer a question, follow a thread.

Elements are reached by pressing Tab (or Shift+Tab) until document.activeElement
matches, and are used with Enter, Space or typing; nothing is clicked. Every element
that takes focus on the way must show a visible focus indicator.
"""

import pytest
from sqlalchemy import select

from coprod_study.discussion import service as discussion
from coprod_study.extensions import db
from coprod_study.groups import answers as answer_service
from coprod_study.models import StudyGroup, User
from tests import factories as f

pytestmark = pytest.mark.browser

PASSWORD = "a keyboard passphrase"
TAB_LIMIT = 200

FOCUS_STATE = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow && style.boxShadow !== 'none';
    const label = (el.getAttribute('aria-label') || el.innerText || el.value || '').trim();
    return {
        tag: el.tagName.toLowerCase(),
        id: el.id,
        name: el.getAttribute('name'),
        type: el.getAttribute('type'),
        text: label.slice(0, 60),
        href: el.getAttribute('href'),
        visible: Boolean(outline || shadow),
    };
}"""


def tab_to(page, matches, backwards=False, limit=TAB_LIMIT):
    """Press Tab (or Shift+Tab) until the focused element satisfies `matches`, a
    function of the focus state; assert each focused element shows its focus."""
    key = "Shift+Tab" if backwards else "Tab"
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        state = page.evaluate(FOCUS_STATE)
        if state is None:
            continue
        seen.append(state)
        assert state["visible"], f"no visible focus indicator on {state}"
        if matches(state):
            return state
    raise AssertionError(f"never reached the element after {limit} presses; saw {seen[-10:]}")


def press_and_wait(page, key):
    with page.expect_navigation():
        page.keyboard.press(key)


def link(text):
    return lambda s: s["tag"] == "a" and s["text"] == text


def button(text):
    return lambda s: s["tag"] == "button" and s["text"] == text


def field(element_id):
    return lambda s: s["id"] == element_id


def test_keyboard_only_walk(live_server, page):
    facilitator = f.make_user(role="facilitator", name="Fay Facilitator")
    group = f.make_group(facilitator, name="Keyboard circle")
    peer = f.add_member(group, f.make_user(name="Pat Peer"))
    episode, question = f.first_question(group)
    answer_service.post_answer(peer, group, question, "Pat's answer, hidden until I post.")
    thread = discussion.create_thread(facilitator, group, title="Week one", body="Opening words")
    group_name, group_path = group.name, f"/groups/{group.slug}"
    episode_path = f"{group_path}/episodes/{episode.slug}"
    question_path = f"{episode_path}/questions/1"
    thread_id = thread.id
    thread_path = f"{group_path}/threads/{thread_id}"
    db.session.remove()

    page.goto(f"{live_server}/")

    # Register.
    tab_to(page, link("Register"))
    press_and_wait(page, "Enter")
    assert page.url == f"{live_server}/auth/register"
    for element_id, text in (
        ("email", "keys@example.org"),
        ("display_name", "Kim Keys"),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ):
        tab_to(page, field(element_id))
        page.keyboard.type(text)
    tab_to(page, button("Create account"))
    press_and_wait(page, "Enter")
    assert page.url == f"{live_server}/"
    assert "Welcome, Kim Keys." in page.content()

    # Join a group.
    tab_to(page, link("Study groups"))
    press_and_wait(page, "Enter")
    tab_to(page, link(group_name))
    press_and_wait(page, "Enter")
    tab_to(page, button("Join the group"))
    press_and_wait(page, "Space")
    assert page.url == f"{live_server}{group_path}"
    assert f"You joined {group_name}." in page.content()

    # Answer the first question: open the episode's collapsed list of questions first.
    tab_to(page, lambda s: s["tag"] == "a" and s["href"] == episode_path)
    tab_to(page, lambda s: s["tag"] == "summary")
    page.keyboard.press("Enter")
    tab_to(page, lambda s: s["tag"] == "a" and s["href"] == question_path)
    press_and_wait(page, "Enter")
    assert "Pat's answer" not in page.content()
    tab_to(page, lambda s: s["tag"] == "textarea")
    page.keyboard.type("Respect starts with *listening*.")
    tab_to(page, button("Post answer"))
    press_and_wait(page, "Enter")
    body = page.content()
    assert "Respect starts with <em>listening</em>." in body
    assert "Pat's answer, hidden until I post." in body

    # Back to the group (Shift+Tab to the group's link above) and follow its thread.
    tab_to(page, link(group_name), backwards=True)
    press_and_wait(page, "Enter")
    tab_to(page, lambda s: s["tag"] == "a" and s["href"] == thread_path)
    press_and_wait(page, "Enter")
    assert page.get_by_role("heading", name="Week one").is_visible()
    # A radio group is one Tab stop (its checked option); its arrow keys choose the option.
    current = tab_to(page, lambda s: s["name"] == "level")
    assert current["id"] != "level-0"
    page.keyboard.press("ArrowUp")
    state = page.evaluate(FOCUS_STATE)
    assert state["id"] == "level-0" and state["visible"], state
    assert page.evaluate("() => document.activeElement.checked")
    tab_to(page, button("Save"))
    press_and_wait(page, "Enter")
    assert "Your notification setting for this thread is saved." in page.content()
    assert page.locator("#level-0").is_checked()

    assert page.problems == []
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == "keys@example.org"))
    group = db.session.scalar(select(StudyGroup).where(StudyGroup.name == group_name))
    thread = discussion.get_thread(group, thread_id)
    assert discussion.follow_level(user, thread) == "watching"
    db.session.commit()
