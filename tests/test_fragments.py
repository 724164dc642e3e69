"""Rendered posts kept per process (coprod_study.fragments): found again only by
readers with the same rights, and never shown once the post has changed."""

import re

import pytest
from flask import current_app

from coprod_study.csrf_slots import PLACEHOLDER
from coprod_study.extensions import db
from coprod_study.fragments import BoundedCache, cache_for
from coprod_study.groups import answers as answer_service
from coprod_study.models import Post, Reply
from coprod_study.moderation import service as moderation
from tests import factories as f
from tests.conftest import login


@pytest.fixture
def circle(sample_catalog):
    facilitator = f.make_user(name="Fay Facilitator")
    group = f.make_group(facilitator, name="Circle", allow_anonymous=True)
    ann = f.add_member(group, f.make_user(name="Ann Anonymous"))
    bob = f.add_member(group, f.make_user(name="Bob Peer"))
    cat = f.add_member(group, f.make_user(name="Cat Peer"))
    episode, question = f.first_question(group)
    secret = f.make_answer(group, ann, question, "Ann's thought", anonymous=True)
    f.make_answer(group, bob, question, "Bob's thought")
    f.make_answer(group, cat, question, "Cat's thought")
    db.session.add(Reply(answer_id=secret.id, user_id=bob.id, body="Bob replies",
                         body_html="<p>Bob replies</p>"))
    db.session.commit()
    return {
        "group": group, "facilitator": facilitator, "ann": ann, "bob": bob, "cat": cat,
        "answer": secret, "url": f"/groups/{group.slug}/episodes/{episode.slug}/questions/1",
    }


def _page(client, person, url):
    client.post("/auth/logout", data={"csrf_token": _token(client)})
    client.delete_cookie("session")
    login(client, person)
    return client.get(url).get_data(as_text=True)


def _token(client):
    page = client.get("/").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return found.group(1) if found else ""


def test_a_second_reader_with_the_same_rights_gets_the_kept_html(app, client, circle):
    _page(client, circle["bob"], circle["url"])
    cache = cache_for(current_app)
    hits = cache.hits
    page = _page(client, circle["cat"], circle["url"])
    # Cat sees Bob's answer and the reply the way Bob's first visit rendered them
    # for a peer; Bob's own answer differed for Bob (his edit links), not for Cat.
    assert cache.hits > hits
    assert "Bob&#39;s thought" in page or "Bob's thought" in page


def test_an_anonymous_author_stays_hidden_from_peers_after_a_facilitator_looked(client, circle):
    facilitator_page = _page(client, circle["facilitator"], circle["url"])
    assert "Ann Anonymous (anonymous to peers)" in facilitator_page
    peer_page = _page(client, circle["cat"], circle["url"])
    assert "Ann Anonymous" not in peer_page
    assert "Anonymous learner" in peer_page


def test_an_edit_or_a_hide_shows_at_once(client, circle):
    first = _page(client, circle["cat"], circle["url"])
    assert "Bob replies" in first
    reply = db.session.query(Reply).filter_by(body="Bob replies").one()
    answer_service.edit_reply(circle["bob"], reply, "Bob changed his mind")
    second = client.get(circle["url"]).get_data(as_text=True)
    assert "Bob changed his mind" in second and "Bob replies" not in second
    moderation.hide(circle["facilitator"], circle["group"], "reply", reply.id, "Off topic")
    db.session.commit()
    third = client.get(circle["url"]).get_data(as_text=True)
    assert "Bob changed his mind" not in third
    assert "Hidden by a facilitator." in third


def test_forms_in_kept_posts_carry_this_readers_token(client, circle):
    _page(client, circle["bob"], circle["url"])
    page = _page(client, circle["cat"], circle["url"])
    assert PLACEHOLDER not in page
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', page))
    assert len(tokens) == 1
    # The flag form of a kept post works with Cat's session.
    action = re.search(r'action="(/groups/[^"]+/flag/answer/\d+)"', page).group(1)
    response = client.post(action, data={"csrf_token": tokens.pop(), "reason": "off_topic"})
    assert response.status_code == 302
    assert "Thank you" in client.get(circle["url"]).get_data(as_text=True)


def test_the_reader_language_is_part_of_the_key(client, circle):
    english = _page(client, circle["cat"], circle["url"])
    assert ">Flag<" in english
    circle["cat"].language = "sv"
    db.session.commit()
    swedish = client.get(circle["url"]).get_data(as_text=True)
    assert ">Flag<" not in swedish and ">Flagga<" in swedish


def test_thread_posts_are_kept_too_and_follow_edits(client, circle):
    from coprod_study.discussion import service as discussion

    thread = discussion.create_thread(
        circle["facilitator"], circle["group"], title="Week one", body="Opening words"
    )
    url = f"/groups/{circle['group'].slug}/threads/{thread.id}"
    assert "Opening words" in _page(client, circle["bob"], url)
    post = db.session.query(Post).filter_by(thread_id=thread.id).one()
    discussion.edit_post(circle["facilitator"], post, "Better opening words")
    assert "Better opening words" in client.get(url).get_data(as_text=True)


def test_the_cache_is_bounded_in_bytes_and_forgets_the_least_recent():
    item = BoundedCache.cost("x" * 100)
    cache = BoundedCache(2 * item)
    cache.put("a", "a" * 100)
    cache.put("b", "b" * 100)
    assert cache.get("a") == "a" * 100
    cache.put("c", "c" * 100)
    assert cache.get("b") is None and cache.get("a") and cache.get("c")
    assert len(cache) == 2 and cache.used == 2 * item
    # Something bigger than the whole budget is not kept, and pushes nothing out.
    cache.put("huge", "h" * 10_000)
    assert cache.get("huge") is None and len(cache) == 2
    # Putting a key again replaces its entry without counting it twice.
    cache.put("a", "A" * 100)
    assert cache.get("a") == "A" * 100 and cache.used == 2 * item
    empty = BoundedCache(0)
    empty.put("a", "1")
    assert empty.get("a") is None


def test_a_cache_of_size_zero_still_renders_every_post(app, client, circle):
    app.config["FRAGMENT_CACHE_MB"] = 0
    app.extensions.pop("post_fragments", None)
    page = _page(client, circle["cat"], circle["url"])
    assert "Bob&#39;s thought" in page or "Bob's thought" in page
    assert len(cache_for(app)) == 0


def test_a_renamed_author_shows_under_the_new_name(client, circle):
    assert "Bob Peer" in _page(client, circle["cat"], circle["url"])
    circle["bob"].display_name = "Robert Peer"
    db.session.commit()
    page = client.get(circle["url"]).get_data(as_text=True)
    assert "Robert Peer" in page and "Bob Peer" not in page


# --- Whole pages of answers ------------------------------------------------------------


def _statements(app, client, url):
    from sqlalchemy import event

    seen = []

    def count(conn, cursor, statement, *args):
        if statement.split()[0].upper() != "BEGIN":
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        html = client.get(url).get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return html, len(seen)


def test_peers_share_a_kept_page_of_answers_without_loading_them(app, client, circle):
    # The layer under whole kept pages (coprod_study.page_cache), which would
    # otherwise answer the second request without reaching it.
    app.config["PAGE_CACHE_MB"] = 0
    _page(client, circle["bob"], circle["url"])
    _page(client, circle["cat"], circle["url"])
    cache_for(app).clear()
    first, loaded = _statements(app, client, circle["url"])
    again, kept = _statements(app, client, circle["url"])
    assert again == first.replace(_token_in(first), _token_in(again))
    # The kept page skips the query that loads answers, replies and their authors.
    assert kept == loaded - 1
    assert loaded <= 7


def _token_in(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_a_new_answer_or_reply_shows_on_a_kept_page_at_once(client, circle):
    _page(client, circle["cat"], circle["url"])
    client.get(circle["url"])
    dan = f.add_member(circle["group"], f.make_user(name="Dan Newcomer"))
    episode, question = f.first_question(circle["group"])
    f.make_answer(circle["group"], dan, question, "Dan arrives late")
    assert "Dan arrives late" in client.get(circle["url"]).get_data(as_text=True)
    answer = db.session.query(Reply).first().answer
    answer_service.post_reply(circle["facilitator"], answer, "A word from Fay")
    assert "A word from Fay" in client.get(circle["url"]).get_data(as_text=True)


def test_edit_links_of_a_kept_page_stay_with_their_author(client, circle):
    from coprod_study.models import Answer

    bob_page = _page(client, circle["bob"], circle["url"])
    bob_answer = db.session.query(Answer).filter_by(user_id=circle["bob"].id).one()
    edit = f"/answers/{bob_answer.id}/edit"
    assert edit in bob_page
    cat_page = _page(client, circle["cat"], circle["url"])
    assert edit not in cat_page
    assert "Endorse" not in cat_page
    fay_page = _page(client, circle["facilitator"], circle["url"])
    assert "Endorse" in fay_page and edit not in fay_page


def test_the_reply_form_of_a_kept_page_works_for_its_reader(client, circle):
    _page(client, circle["bob"], circle["url"])
    page = _page(client, circle["cat"], circle["url"])
    action = re.search(r'action="(/groups/[^"]+/answers/\d+/replies)"', page).group(1)
    response = client.post(action, data={"csrf_token": _token_in(page), "body": "Cat agrees"})
    assert response.status_code == 302
    assert "Cat agrees" in client.get(circle["url"]).get_data(as_text=True)


def test_endorsing_or_a_group_setting_changes_a_kept_page(client, circle):
    from coprod_study.models import Answer

    page = _page(client, circle["cat"], circle["url"])
    assert "Endorsed by a facilitator" not in page
    assert "Reply anonymously to peers" in page
    bob_answer = db.session.query(Answer).filter_by(user_id=circle["bob"].id).one()
    answer_service.endorse(circle["facilitator"], bob_answer, True)
    assert "Endorsed by a facilitator" in client.get(circle["url"]).get_data(as_text=True)
    circle["group"].allow_anonymous = False
    db.session.commit()
    assert "Reply anonymously to peers" not in client.get(circle["url"]).get_data(as_text=True)


# --- Keys made of what the templates read ---------------------------------------------------


def _extended(view_type):
    """`view_type` with one field more, as a change that shows something new would add."""
    from dataclasses import field, make_dataclass

    return make_dataclass(
        view_type.__name__, [("badge", str, field(default=""))], bases=(view_type,), frozen=True
    )


def test_a_new_field_of_a_post_view_changes_its_key(app, client, circle):
    """The post template reads a PostView and the kept HTML is keyed by that view: a
    field added to it is in the key without anyone listing it, and the row it was
    made from (not compared) is not."""
    from dataclasses import asdict, fields, replace

    from coprod_study.posts.view import PostView, key_of, post_view

    with app.test_request_context():
        view = post_view(circle["bob"], circle["group"], circle["answer"], "answer", True)
    assert key_of(view) == key_of(replace(view, source=object()))
    assert key_of(view) != key_of(replace(view, hidden_reason="Off topic"))
    extended = _extended(PostView)
    values = {f.name: getattr(view, f.name) for f in fields(view)}
    one, two = extended(**values, badge="one"), extended(**values, badge="two")
    assert key_of(one) != key_of(two)
    assert set(asdict(one)) - set(asdict(view)) == {"badge"}


def test_a_new_field_of_a_section_view_changes_its_key(app, circle):
    from dataclasses import fields, replace

    from coprod_study.groups.service import get_question
    from coprod_study.models import Episode
    from coprod_study.posts.view import SectionView, key_of, section_view

    episode = db.session.scalar(db.select(Episode).order_by(Episode.number))
    question = get_question(circle["group"], episode, 1)
    with app.test_request_context():
        section = section_view(circle["cat"], circle["group"], question, 1, 20)
    assert key_of(section) != key_of(replace(section, prompt="Reworded?"))
    extended = _extended(SectionView)
    values = {f.name: getattr(section, f.name) for f in fields(section)}
    assert key_of(extended(**values, badge="one")) != key_of(extended(**values, badge="two"))


def test_the_post_template_reads_nothing_but_its_view(app, circle):
    """Rendered from a view alone (no post or group in its context): a field the
    template read from elsewhere would fail here, or would not follow the view."""
    from dataclasses import replace

    from flask import render_template

    from coprod_study.posts.view import post_view

    with app.test_request_context():
        view = post_view(circle["facilitator"], circle["group"], circle["answer"], "answer", True)
        html = render_template("groups/_post.html", view=view, post_csrf="-")
        changed = render_template(
            "groups/_post.html", view=replace(view, author_label="Someone Else", can_edit=False),
            post_csrf="-",
        )
    assert "Ann Anonymous (anonymous to peers)" in html and "Someone Else" not in html
    assert "Someone Else" in changed and "Ann Anonymous" not in changed


def test_a_post_that_quotes_a_moment_changes_key_when_the_quote_may_have(app, circle):
    """The quote of a post's transcript moment is read from the segment, its transcript
    and episode when rendered; their tables' counters are in the key instead, so a
    renumbered episode or a new transcript is not shown from old kept HTML. A post
    without a moment does not depend on them."""
    from coprod_study.models import Episode
    from coprod_study.posts.view import key_of, post_view

    answer = circle["answer"]
    original = answer.segment_id

    def key(segment_id):
        answer.segment_id = segment_id
        try:
            with app.test_request_context():
                return key_of(post_view(circle["bob"], circle["group"], answer, "answer", True))
        finally:
            answer.segment_id = original

    quoting, plain = key(1), key(None)
    episode = db.session.scalar(db.select(Episode).order_by(Episode.number))
    episode.title = episode.title + " (revised)"
    db.session.commit()
    assert key(1) != quoting
    assert key(None) == plain
