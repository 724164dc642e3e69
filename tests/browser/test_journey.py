"""A newcomer's first visit, in a real browser."""

import pytest
from sqlalchemy import select

from coprod_study.extensions import db
from coprod_study.models import ListeningProgress, User

pytestmark = pytest.mark.browser

PASSWORD = "a browser passphrase"
EPISODE_TITLE = "Respect in the Room"


def nav(page):
    return page.get_by_role("navigation", name="Main")


def test_register_sign_out_sign_in_listen_sign_out(live_server, page, tmp_path):
    page.goto(f"{live_server}/auth/register")
    page.get_by_label("E-mail address").fill("Browser@Example.org")
    page.get_by_label("Display name").fill("Browser Person")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{live_server}/")
    assert "Welcome, Browser Person." in page.content()
    # The session cookie (not Secure over plain HTTP) comes back: we are signed in.
    assert nav(page).get_by_role("link", name="Browser Person").is_visible()

    nav(page).get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/")
    assert nav(page).get_by_role("link", name="Sign in").is_visible()

    nav(page).get_by_role("link", name="Sign in").click()
    page.get_by_label("E-mail address").fill("browser@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")
    assert "Signed in as Browser Person." in page.content()

    nav(page).get_by_role("link", name="Episodes").click()
    page.get_by_role("link", name=EPISODE_TITLE).click()
    page.wait_for_url(f"{live_server}/episodes/respect-in-the-room")
    assert page.locator("audio").count() == 1
    assert page.get_by_role("heading", name="Study questions").is_visible()

    page.get_by_role("button", name="Mark as listened").click()
    page.wait_for_url(f"{live_server}/episodes/respect-in-the-room")
    badge = page.locator(".badge", has_text="Listened")
    badge.wait_for()
    assert badge.is_visible()
    assert page.get_by_role("button", name="Mark as not listened").is_visible()

    screenshot = tmp_path / "episode.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.exists()
    assert screenshot.stat().st_size > 1000

    nav(page).get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/")
    assert nav(page).get_by_role("link", name="Sign in").is_visible()
    assert "Sign in" in nav(page).inner_text()
    assert "Browser Person" not in nav(page).inner_text()

    assert page.problems == []

    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == "browser@example.org"))
    progress = db.session.scalar(
        select(ListeningProgress).where(ListeningProgress.user_id == user.id)
    )
    assert progress.listened is True
    db.session.commit()


def test_tab_first_reaches_the_skip_link(live_server, page):
    page.goto(f"{live_server}/auth/login")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.className, document.activeElement.textContent,"
        " document.activeElement.getAttribute('href')]"
    )
    assert focused == ["skip-link", "Skip to content", "#main"]
    assert page.locator(".skip-link").is_visible()  # shown while focused
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    assert page.problems == []
