"""A newcomer's first hour (issue #17): time zones, wording, feeds, translations and
the small things a new user trips over, outside courses (see test_courses_newcomer.py)."""

import re

import pytest
from sqlalchemy import select

from coprod_study.account import service as accounts
from coprod_study.extensions import db
from coprod_study.models import Course
from tests import factories as f
from tests.conftest import login, post_form


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


# --- B9: the time zone field ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Europe/Stockholm", "Europe/Stockholm"),
        ("europe/stockholm", "Europe/Stockholm"),
        ("  EUROPE/STOCKHOLM ", "Europe/Stockholm"),
        ("Stockholm", "Europe/Stockholm"),
        ("new york", "America/New_York"),
        ("america/new york", "America/New_York"),
        ("cet", "CET"),
        ("utc", "UTC"),
        ("PST", "America/Los_Angeles"),
        ("cest", "Europe/Paris"),
        ("port-au-prince", "America/Port-au-Prince"),
        ("Mars/Olympus", None),
        ("", None),
        ("x" * 80, None),
    ],
)
def test_time_zones_are_matched_without_regard_to_case_with_cities_and_aliases(typed, zone):
    assert accounts.resolve_time_zone(typed) == zone


def test_the_account_page_stores_the_zone_meant(app, sample_catalog):
    user = f.make_user()
    client = signed_in(app, user)
    response = post_form(client, "/account", {
        "display_name": "Zoned", "language": "en", "time_zone": "stockholm",
        "email_preference": "daily",
    }, token_from="/account")
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.time_zone == "Europe/Stockholm"


def test_the_time_zone_field_offers_a_list_and_a_browser_suggestion(app, sample_catalog):
    client = signed_in(app, f.make_user())
    page = client.get("/account").get_data(as_text=True)
    assert 'list="time-zones"' in page and '<option value="Europe/Stockholm">' in page
    assert 'data-zone-for="time_zone"' in page
    assert "/static/js/timezone.js" in page
    script = client.get("/static/js/timezone.js").get_data(as_text=True)
    assert "resolvedOptions().timeZone" in script
    # The script only fills the field: it never sends the form.
    assert "submit()" not in script


def test_the_course_form_takes_a_zone_in_any_case(app, sample_catalog):
    client = signed_in(app, f.make_user(role="educator"))
    response = post_form(client, "/courses/new", {
        "title": "Zones", "code": "ZONES", "time_zone": "europe/stockholm",
        "placement": "educator",
    }, token_from="/courses/new")
    assert response.status_code == 302
    course = db.session.scalar(select(Course).where(Course.code == "ZONES"))
    assert course.time_zone == "Europe/Stockholm"


# --- B20, B26: a refused answer or reply stays on the question page, by Post/Redirect/Get ----


@pytest.fixture
def circle(sample_catalog):
    facilitator = f.make_user(name="Fay Facilitator")
    group = f.make_group(facilitator, name="Circle", post_first=False)
    ann = f.add_member(group, f.make_user(name="Ann Learner"))
    bob = f.add_member(group, f.make_user(name="Bob Learner"))
    episode, question = f.first_question(group)
    answer = f.make_answer(group, bob, question, "Bob thinks respect is earned")
    url = f"/groups/{group.slug}/episodes/{episode.slug}/questions/1"
    return {"group": group, "ann": ann, "bob": bob, "answer": answer, "url": url,
            "question": question}


def test_an_empty_reply_comes_back_to_the_question_with_the_message(app, circle):
    client = signed_in(app, circle["ann"])
    path = f"/groups/{circle['group'].slug}/answers/{circle['answer'].id}/replies"
    response = post_form(client, path, {"body": "   "}, token_from=circle["url"])
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(circle["url"]) and location.endswith("#reply-draft")
    page = client.get(location).get_data(as_text=True)
    assert "Your reply is not posted yet" in page
    assert "Write your reply before you post it." in page
    assert "Bob thinks respect is earned" in page
    assert f'action="{path}"' in page
    # The kept draft is shown once: reloading gives the plain question page.
    assert "Your reply is not posted yet" not in client.get(circle["url"]).get_data(as_text=True)


def test_a_reply_too_long_for_the_session_is_shown_on_the_question_page(app, circle):
    client = signed_in(app, circle["ann"])
    path = f"/groups/{circle['group'].slug}/answers/{circle['answer'].id}/replies"
    body = "w" * 20_001
    response = post_form(client, path, {"body": body}, token_from=circle["url"])
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your reply is not posted yet" in page and body in page
    assert "Bob thinks respect is earned" in page


def test_an_empty_answer_comes_back_by_a_redirect_with_the_message(app, circle):
    client = signed_in(app, circle["ann"])
    response = post_form(client, circle["url"], {"body": "", "action": "post"},
                         token_from=circle["url"])
    assert response.status_code == 303
    assert response.headers["Location"] == circle["url"] + "#your-answer"
    shown = client.get(response.headers["Location"])
    assert "Write your answer before you post it." in shown.get_data(as_text=True)


# --- B16, B17: wording on an empty question and on the thread form ------------------------


def test_a_question_with_no_answers_does_not_say_post_yours_to_see_them(app, sample_catalog):
    facilitator = f.make_user()
    group = f.make_group(facilitator, name="Quiet")
    learner = f.add_member(group, f.make_user())
    episode, _question = f.first_question(group)
    page = signed_in(app, learner).get(
        f"/groups/{group.slug}/episodes/{episode.slug}/questions/1"
    ).get_data(as_text=True)
    assert "0 answers, post yours" not in page
    assert "No one has answered yet: yours can be the first." in page


def test_the_thread_form_says_what_an_announcement_adds(app, sample_catalog):
    facilitator = f.make_user()
    group = f.make_group(facilitator, name="Talkers")
    page = signed_in(app, facilitator).get(f"/groups/{group.slug}/threads/new").get_data(
        as_text=True
    )
    assert "Announcement: notify every member" not in page
    assert "Mark it as an announcement" in page
    assert "Members are notified either way." in page
    assert 'id="announcement-hint"' in page


# --- B24: small wording issues ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-email", "Enter a valid e-mail address: it needs an @, as in name@example.org."),
        ("two@@example.org", "Enter a valid e-mail address, such as name@example.org."),
    ],
)
def test_e_mail_errors_are_in_our_own_words(client, sample_catalog, email, message):
    response = post_form(client, "/auth/register", {
        "email": email, "display_name": "New Person", "password": "a long enough passphrase",
        "confirm": "a long enough passphrase",
    }, token_from="/auth/register")
    page = response.get_data(as_text=True)
    assert message in page
    assert "email address must" not in page.lower()
    assert f'value="{email}"' in page


def test_enrolling_twice_is_a_notice_on_the_course_page(app, sample_catalog):
    course = f.make_course(title="Twice Lab")
    learner = f.make_user()
    f.enrol(course, learner)
    client = signed_in(app, learner)
    response = post_form(client, "/courses/enrol", {"code": course.enrol_code},
                         token_from="/courses")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/courses/{course.code}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are already enrolled in Twice Lab." in page
    assert "Please correct the fields marked below." not in page


def test_search_snippets_show_text_without_markdown(client, sample_catalog):
    page = client.get("/search?q=sample").get_data(as_text=True)
    assert "<mark>" in page.lower() or "<mark" in page
    assert "*Sample content" not in page and "*<mark>Sample" not in page


def test_search_snippet_markdown_is_taken_out():
    from coprod_study.search.service import plain_snippet

    assert plain_snippet("*Sample* and **\x02respect\x03** in [a link](https://x.org)") == (
        "Sample and \x02respect\x03 in a link"
    )
    # Typed brackets are text, not highlight markers (tests/test_search.py).
    assert plain_snippet("a [[draft]] here") == "a [[draft]] here"
    assert plain_snippet("snake_case stays, _this_ goes") == "snake_case stays, this goes"


def test_mark_all_as_read_only_with_something_unread(app, sample_catalog):
    from coprod_study.notifications import service as notifications

    user = f.make_user()
    client = signed_in(app, user)
    assert "Mark all as read" not in client.get("/notifications").get_data(as_text=True)
    notifications.notify([user.id], "course", "Something happened.", "/")
    db.session.commit()
    assert "Mark all as read" in client.get("/notifications").get_data(as_text=True)


# --- B21: the audit log in words -------------------------------------------------------------


def test_every_recorded_action_has_words():
    """Each action code the services write has a label."""
    import pathlib
    import re

    from coprod_study.models import AUDIT_ACTIONS

    root = pathlib.Path(__file__).resolve().parents[1] / "coprod_study"
    written = set()
    for path in root.rglob("*.py"):
        text = path.read_text()
        calls = re.findall(r"audit\.record\(\s*[^,()]+,\s*([^,]+),", text)
        calls += re.findall(r"_save\(\s*actor,\s*raw,\s*([^,]+),", text)
        for expression in calls:
            written |= set(re.findall(r'"([a-z_]+\.[a-z_]+)"', expression))
            for suffix in re.findall(r'f"\{target_type\}\.([a-z_]+)"', expression):
                written |= {f"{kind}.{suffix}" for kind in ("answer", "reply", "post")}
    assert {"flags.dismissed", "answer.hidden", "thread.pinned", "user.role_changed"} <= written
    assert written <= set(AUDIT_ACTIONS), sorted(written - set(AUDIT_ACTIONS))


def test_the_audit_log_speaks_in_words_and_pinning_is_logged(app, sample_catalog):
    from coprod_study.discussion import service as discussion
    from coprod_study.models import AuditEntry

    admin = f.make_user(role="admin", name="Ada Admin")
    facilitator = f.make_user(name="Fay Facilitator")
    group = f.make_group(facilitator, name="Pinners")
    thread = discussion.create_thread(facilitator, group, title="Read me first", body="Hello")
    discussion.set_flags(facilitator, thread, pinned=True)
    discussion.set_flags(facilitator, thread, pinned=True)  # already pinned: not logged again
    pins = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "thread.pinned")).all()
    assert len(pins) == 1
    client = signed_in(app, admin)
    page = client.get("/admin/audit").get_data(as_text=True)
    body = page.split("<tbody>")[1]
    assert "Pinned a thread" in body and "thread.pinned" not in body
    assert '<option value="thread.pinned">Pinned a thread</option>' in page
    empty = client.get("/admin/audit?action=course.left").get_data(as_text=True)
    assert "No entry matches these filters." in empty
    assert "Nothing has been recorded yet." not in empty


# --- B22: the podcast feed can be found ------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/episodes", "/contact"])
def test_every_page_points_to_the_podcast_feed(client, sample_catalog, path):
    page = client.get(path).get_data(as_text=True)
    head = page.split("</head>")[0]
    assert '<link rel="alternate" type="application/rss+xml"' in head
    assert 'href="/feed.xml"' in head
    footer = page.split('<footer class="site-footer">')[1]
    assert 'href="/feed.xml"' in footer and "Podcast feed (RSS)" in footer


# --- B11: the Swedish reader sees the Swedish episode titles everywhere ------------------------

SWEDISH_TITLE = "Respekt i rummet"
ENGLISH_TITLE = "Respect in the Room"


@pytest.fixture
def swedish(app, sample_catalog):
    from coprod_study.models import Episode

    reader = f.make_user(name="Svea Svensson", language="sv")
    group = f.make_group(reader, name="Studiecirkeln")
    episode = db.session.scalar(select(Episode).where(Episode.slug == "respect-in-the-room"))
    return {"reader": reader, "group": group, "episode": episode,
            "client": signed_in(app, reader)}


def test_swedish_titles_on_home_catalog_group_and_question_pages(swedish):
    client, group, episode = swedish["client"], swedish["group"], swedish["episode"]
    # The home page names episode 1 under "My due dates" (its newest four are others).
    course = f.make_course(title="Kursen")
    f.enrol(course, swedish["reader"])
    f.make_assignment(course, episode)
    for path in ("/", f"/courses/{course.code}", "/episodes", "/dimensions", f"/groups/{group.slug}",
                 f"/groups/{group.slug}/episodes/{episode.slug}",
                 f"/groups/{group.slug}/episodes/{episode.slug}/questions/1"):
        page = client.get(path).get_data(as_text=True)
        assert SWEDISH_TITLE in page, path
        assert ENGLISH_TITLE not in page, path


def test_swedish_titles_in_search_results(swedish):
    page = swedish["client"].get("/search?q=respect").get_data(as_text=True)
    assert f"Avsnitt 1: {SWEDISH_TITLE}" in page


def test_swedish_titles_in_the_calendar_feed(app, swedish):
    from coprod_study.courses import calendar as calendar_service

    course = f.make_course(title="Kursen")
    f.enrol(course, swedish["reader"])
    f.make_assignment(course, swedish["episode"])
    token = calendar_service.create_token(swedish["reader"])
    feed = app.test_client().get(f"/courses/calendar.ics?token={token}").get_data(as_text=True)
    unfolded = feed.replace("\r\n ", "")
    assert SWEDISH_TITLE in unfolded and ENGLISH_TITLE not in unfolded


def test_english_readers_keep_the_original_title(app, sample_catalog):
    page = signed_in(app, f.make_user(language="en")).get("/episodes").get_data(as_text=True)
    assert ENGLISH_TITLE in page and SWEDISH_TITLE not in page


def test_a_translated_episode_still_says_what_stays_in_english(swedish):
    page = swedish["client"].get("/episodes/respect-in-the-room").get_data(as_text=True)
    assert 'id="english-parts-notice"' in page
    assert "Dimensionernas namn och gästernas presentationer är inte översatta" in page


def test_one_unread_thread_is_singular_in_swedish(swedish):
    from coprod_study.discussion import service as discussion

    group = swedish["group"]
    other = f.add_member(group, f.make_user(name="Other Facilitator"), role="facilitator")
    discussion.create_thread(other, group, title="Läs mig", body="Hej")
    page = swedish["client"].get(f"/groups/{group.slug}").get_data(as_text=True)
    assert "1 oläst" in page and "1 olästa" not in page


# --- B12: text people write goes in its own direction ---------------------------------------


def test_user_written_text_and_fields_have_dir_auto(app, circle):
    import re

    from coprod_study.groups import answers as answer_service

    arabic = "الاحترام يبدأ بالاستماع."
    answer_service.post_answer(circle["ann"], circle["group"], circle["question"], arabic)
    page = signed_in(app, circle["ann"]).get(circle["url"]).get_data(as_text=True)
    assert re.search(r'<div class="prose" dir="auto"><p>' + arabic, page)
    reply_box = re.search(r'<textarea id="reply-body-\d+"[^>]*>', page).group(0)
    assert 'dir="auto"' in reply_box
    group_page = signed_in(app, circle["ann"]).get(f"/groups/{circle['group'].slug}")
    assert '<h1 dir="auto">Circle</h1>' in group_page.get_data(as_text=True)


def test_typed_fields_have_dir_auto(app, sample_catalog):
    page = signed_in(app, f.make_user()).get("/groups/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*dir="auto"[^>]*name="name"|<input[^>]*name="name"[^>]*dir="auto"',
                     page)
    assert re.search(r'<textarea[^>]*dir="auto"', page)



# --- B19: a moderation queue one can work through --------------------------------------------


def test_the_moderation_queue_folds_long_posts_and_links_to_their_context(app, circle):
    from coprod_study.moderation import service as moderation

    group = circle["group"]
    long_text = "A long answer. " * 700  # about 10,000 characters
    long_answer = f.make_answer(group, circle["ann"], circle["question"], long_text)
    moderation.flag(circle["bob"], group, "answer", long_answer.id, "off_topic")
    moderation.flag(circle["ann"], group, "answer", circle["answer"].id, "off_topic")
    facilitator = group.created_by
    page = signed_in(app, facilitator).get(f"/groups/{group.slug}/moderation").get_data(
        as_text=True
    )
    flags = page.split('id="flags"')[1].split('id="hidden"')[0]
    cards = flags.split('<article class="card">')[1:]
    long_card = next(card for card in cards if "A long answer." in card)
    short_card = next(card for card in cards if "Bob thinks respect is earned" in card)
    assert '<details class="long-post">' in long_card
    assert f"Show the whole post ({len(long_answer.body)} characters)" in long_card
    assert '<details class="long-post">' not in short_card
    assert f'href="/groups/{group.slug}/answers/{long_answer.id}">View in context</a>' in long_card
    assert f'href="/groups/{group.slug}/answers/{circle["answer"].id}">View in context</a>' in short_card
    assert 'class="moderation-actions"' in short_card and 'class="hide-form"' in short_card


def test_an_empty_thread_post_comes_back_to_the_thread_by_a_redirect(app, sample_catalog):
    from coprod_study.discussion import service as discussion

    facilitator = f.make_user()
    group = f.make_group(facilitator, name="Posters")
    thread = discussion.create_thread(facilitator, group, title="Talk here", body="Hello")
    path = f"/groups/{group.slug}/threads/{thread.id}"
    client = signed_in(app, facilitator)
    response = post_form(client, path, {"body": " "}, token_from=path)
    assert response.status_code == 303
    assert response.headers["Location"] == path + "#reply"
    page = client.get(path).get_data(as_text=True)
    assert "Write your post before you send it." in page
    assert "Write your post before you send it." not in client.get(path).get_data(as_text=True)
