"""Two learners and a facilitator in Chromium: post before you see others, locks and unread counts."""

import pytest

from coprod_study.discussion import service as discussion
from coprod_study.extensions import db
from coprod_study.groups import answers as answer_service
from tests import factories as f

pytestmark = pytest.mark.browser
PASSWORD = f.DEFAULT_PASSWORD


def sign_in(page, base, email):
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def hook_dialogs(page):
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def test_post_before_you_see_others(live_server, browser, sample_catalog, tmp_path):
    group = f.make_group(name="Browser circle")
    ann = f.add_member(group, f.make_user(name="Ann"))
    bob = f.add_member(group, f.make_user(name="Bob"))
    episode, question = f.first_question(group)
    answer_service.post_answer(bob, group, question, "Bob's view <script>alert('xss')</script> [x](javascript:alert(2))")
    for name in ("Cy", "Di"):
        peer = f.add_member(group, f.make_user(name=name))
        answer_service.post_answer(peer, group, question, f"{name} answers")
    url = f"{live_server}/groups/{group.slug}/episodes/{episode.slug}/questions/1"
    ann_email = ann.email
    db.session.remove()

    context = browser.new_context()
    page = context.new_page()
    dialogs = hook_dialogs(page)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, live_server, ann_email)
    page.goto(url)
    notice = page.locator("#post-first-notice")
    assert notice.inner_text() == "3 answers, post yours to see them."
    assert "Bob's view" not in page.content()

    page.get_by_label("Your answer").fill("Ann's own *answer*")
    page.get_by_role("button", name="Post answer").click()
    page.wait_for_load_state()
    body = page.content()
    assert "Bob's view" in body and "Ann's own <em>answer</em>" in body
    assert page.locator("#post-first-notice").count() == 0
    page.screenshot(path=str(tmp_path / "question.png"), full_page=True)
    assert (tmp_path / "question.png").stat().st_size > 0
    # The script in Bob's answer is shown as text and never runs.
    assert page.locator('a[href^="javascript"]').count() == 0
    assert dialogs == []
    assert problems == []
    context.close()


def test_lock_message_and_unread_counts(live_server, browser, sample_catalog):
    facilitator = f.make_user(name="Fay")
    group = f.make_group(facilitator, name="Browser threads")
    learner = f.add_member(group, f.make_user(name="Lee"))
    thread = discussion.create_thread(facilitator, group, title="Week one", body="Opening words")
    group_url = f"{live_server}/groups/{group.slug}"
    thread_url = f"{group_url}/threads/{thread.id}"
    fac_email, lee_email = facilitator.email, learner.email
    db.session.remove()

    fac_context = browser.new_context()
    fac = fac_context.new_page()
    sign_in(fac, live_server, fac_email)
    learner_context = browser.new_context()
    lee = learner_context.new_page()
    sign_in(lee, live_server, lee_email)

    lee.goto(group_url)
    assert lee.locator(".unread").first.inner_text() == "1 unread"
    assert "1" in lee.locator(".nav-count").inner_text()

    fac.goto(thread_url)
    fac.get_by_role("button", name="Pin").click()
    fac.wait_for_load_state()
    fac.get_by_label("Lock reason").fill("We move on to week two")
    fac.get_by_role("button", name="Lock").click()
    fac.wait_for_load_state()
    assert "Locked" in fac.content() and "Unpin" in fac.content()

    lee.goto(thread_url)
    assert "This thread is locked: We move on to week two" in lee.locator("#locked-notice").inner_text()
    assert lee.get_by_label("Your post").count() == 0
    lee.goto(group_url)
    assert lee.locator(".unread").count() == 0
    assert "Pinned" in lee.locator(".thread-list").inner_text()
    fac_context.close()
    learner_context.close()
