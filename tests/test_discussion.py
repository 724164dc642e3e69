"""Facilitator threads: posting, quoting, locks, pins, following and unread counts."""

import re

import pytest
from sqlalchemy import func, select

from coprod_study.discussion import service as discussion
from coprod_study.extensions import db
from coprod_study.models import Notification, Post, PostRevision, Thread, ThreadFollow
from tests import factories as f
from tests.conftest import login, post_form


def notes_for(user, kind=None):
    stmt = select(Notification).where(Notification.user_id == user.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return db.session.scalars(stmt).all()


@pytest.fixture
def room(sample_catalog):
    facilitator = f.make_user(name="Fay")
    group = f.make_group(facilitator, name="Room")
    ann = f.add_member(group, f.make_user(name="Ann"))
    bob = f.add_member(group, f.make_user(name="Bob Smith"))
    return {"group": group, "facilitator": facilitator, "ann": ann, "bob": bob}


def start(room, **fields):
    fields.setdefault("title", "Week 1")
    fields.setdefault("body", "What stayed with you?")
    return discussion.create_thread(room["facilitator"], room["group"], **fields)


def test_facilitator_starts_a_thread_members_follow_and_are_notified(client, room):
    login(client, room["facilitator"])
    episode = f.first_question(room["group"])[0]
    response = post_form(
        client,
        f"/groups/{room['group'].slug}/threads/new",
        {"title": "Respect", "body": "Listen from **2:30**", "episode": episode.id, "moment": "2:30"},
    )
    assert response.status_code == 302
    thread = db.session.scalar(select(Thread))
    assert thread.moment_seconds == 150 and thread.episode_id == episode.id
    follows = db.session.scalars(select(ThreadFollow.user_id).where(ThreadFollow.thread_id == thread.id)).all()
    assert set(follows) == {room["facilitator"].id, room["ann"].id, room["bob"].id}
    assert [n.kind for n in notes_for(room["ann"])] == ["new_thread"]
    assert notes_for(room["facilitator"]) == []  # never the author
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<strong>2:30</strong>" in page and "at 02:30" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": ""}, "Give the thread a title."),
        ({"body": ""}, "Write the opening post."),
        ({"moment": "99:99"}, "mm:ss"),
        ({"moment": "1:00"}, "Choose the episode"),
    ],
)
def test_bad_thread_input(client, room, data, message):
    login(client, room["facilitator"])
    form = {"title": "Kept title", "body": "Kept body", **data}
    response = post_form(client, f"/groups/{room['group'].slug}/threads/new", form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert ("Kept title" in page) or not form["title"]
    assert db.session.scalar(select(func.count()).select_from(Thread)) == 0


def test_members_cannot_start_threads(client, room):
    login(client, room["ann"])
    response = post_form(client, f"/groups/{room['group'].slug}/threads/new", {"title": "x", "body": "y"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Thread)) == 0


def test_reply_notifies_watchers_but_not_the_author_or_muted(client, room):
    thread = start(room)
    discussion.set_follow(room["bob"], thread, "muted")
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    login(client, room["ann"])
    url = f"/groups/{room['group'].slug}/threads/{thread.id}"
    assert post_form(client, url, {"body": "It was the silence.", "action": "post"}).status_code == 302
    assert [n.kind for n in notes_for(room["facilitator"])] == ["thread_post"]
    assert notes_for(room["ann"]) == [] and notes_for(room["bob"]) == []


def test_quote_reply_and_mention(client, room):
    thread = start(room)
    first = db.session.scalar(select(Post).where(Post.thread_id == thread.id))
    discussion.set_follow(room["ann"], thread, "normal")
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    login(client, room["bob"])
    url = f"/groups/{room['group'].slug}/threads/{thread.id}"
    page = client.get(f"{url}?quote={first.id}").get_data(as_text=True)
    assert "Quoting Fay" in page
    post_form(client, url, {"body": "Agreed, @Ann and @[Bob Smith]", "quote": first.id, "action": "post"})
    assert [n.kind for n in notes_for(room["facilitator"])] == ["reply"]
    assert [n.kind for n in notes_for(room["ann"])] == ["mention"]
    assert notes_for(room["bob"]) == []  # mentioning yourself does nothing
    page = client.get(url).get_data(as_text=True)
    assert "Fay wrote:" in page


def test_locked_thread_takes_no_posts(client, room):
    thread = start(room)
    login(client, room["ann"])
    url = f"/groups/{room['group'].slug}/threads/{thread.id}"
    assert post_form(client, url + "/lock", {"reason": "no"}).status_code == 403
    discussion.set_flags(room["facilitator"], thread, locked=True, lock_reason="Week is over")
    page = client.get(url).get_data(as_text=True)
    assert "This thread is locked: Week is over" in page
    before = db.session.scalar(select(func.count()).select_from(Post))
    response = post_form(client, url, {"body": "one more", "action": "post"})
    assert response.status_code == 409
    assert "locked" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Post)) == before


def test_pinned_first_then_by_activity_with_unread_counts(client, room):
    old = start(room, title="Old pinned")
    newer = start(room, title="Newer")
    discussion.set_flags(room["facilitator"], old, pinned=True)
    discussion.reply(room["bob"], newer, "fresh")
    discussion.reply(room["bob"], newer, "fresher")
    login(client, room["ann"])
    page = client.get(f"/groups/{room['group'].slug}").get_data(as_text=True)
    assert page.index("Old pinned") < page.index("Newer")
    assert "3 unread" in page  # the opening post and two replies
    client.get(f"/groups/{room['group'].slug}/threads/{newer.id}")
    page = client.get(f"/groups/{room['group'].slug}").get_data(as_text=True)
    assert "3 unread" not in page and "1 unread" in page  # "Old pinned" opening post


def test_follow_toggle_without_javascript(client, room):
    thread = start(room)
    login(client, room["ann"])
    url = f"/groups/{room['group'].slug}/threads/{thread.id}"
    post_form(client, url + "/follow", {"level": "muted"})
    assert discussion.follow_level(room["ann"], thread) == "muted"
    assert re.search(r'<input checked[^>]*value="muted"', client.get(url).get_data(as_text=True))


def test_announcement_notifies_every_member(client, room):
    thread = start(room, title="Plain")
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    login(client, room["facilitator"])
    post_form(client, f"/groups/{room['group'].slug}/threads/{thread.id}/announce")
    assert [n.kind for n in notes_for(room["ann"])] == ["announcement"]
    assert [n.kind for n in notes_for(room["bob"])] == ["announcement"]


def test_edit_history_and_delete(client, room):
    thread = start(room)
    post = discussion.reply(room["ann"], thread, "first words")
    login(client, room["ann"])
    base = f"/groups/{room['group'].slug}/posts/{post.id}"
    post_form(client, base + "/edit", {"body": "second words", "action": "save"})
    db.session.expire_all()
    assert post.body == "second words"
    assert db.session.scalar(select(PostRevision.body)) == "first words"
    # The author sees their own post's history; another member does not.
    assert "first words" in client.get(base + "/history").get_data(as_text=True)
    login(peer := client.application.test_client(), room["bob"])
    assert peer.get(base + "/history").status_code == 403
    login(fac := client.application.test_client(), room["facilitator"])
    assert "first words" in fac.get(base + "/history").get_data(as_text=True)
    post_form(client, base + "/delete")
    page = fac.get(f"/groups/{room['group'].slug}/threads/{thread.id}").get_data(as_text=True)
    assert "This post was deleted" in page and "second words" not in page


def test_removed_member_is_not_notified(client, room):
    from coprod_study.groups import service as group_service

    thread = start(room)
    group_service.remove_member(room["facilitator"], room["group"], room["bob"].id)
    assert notes_for(room["bob"]) == []  # unread ones about the group went too
    discussion.reply(room["ann"], thread, "after the removal, @[Bob Smith]")
    assert notes_for(room["bob"]) == []


def test_anonymous_post_never_names_the_author_in_notifications(client, room):
    room["group"].allow_anonymous = True
    db.session.commit()
    thread = start(room)
    db.session.execute(Notification.__table__.delete())
    db.session.commit()
    discussion.reply(room["ann"], thread, "quietly, @[Bob Smith]", anonymous=True)
    messages = [n.message for n in db.session.scalars(select(Notification))]
    assert messages and all("Ann" not in m for m in messages)
    assert any("Anonymous learner" in m for m in messages)
    login(client, room["bob"])
    page = client.get(f"/groups/{room['group'].slug}/threads/{thread.id}").get_data(as_text=True)
    assert "quietly" in page and ">Ann<" not in page


def test_thread_page_query_count_is_constant(app, client, room, count_queries):
    app.config["POST_LIMIT"] = "1000/minute"
    thread = start(room)
    login(client, room["ann"])
    url = f"/groups/{room['group'].slug}/threads/{thread.id}"

    def measure():
        client.get(url)
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    small = measure()
    for number in range(60):
        discussion.reply(room["bob"] if number % 2 else room["facilitator"], thread, f"post {number}")
    assert measure() == small
