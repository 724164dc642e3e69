"""@-mentions in answers, replies and thread posts: who hears of them, and how they look."""

import pytest
from sqlalchemy import select

from coprod_study.discussion import service as discussion
from coprod_study.extensions import db
from coprod_study.groups import answers as answer_service
from coprod_study.markup import render_markdown
from coprod_study.models import Notification
from tests import factories as f
from tests.conftest import login


@pytest.fixture
def owls(sample_catalog):
    """Night Owls: Lena facilitates; Sam and Maryam are members; Olle is not in it."""
    lena = f.make_user(name="Lena Lindqvist")
    group = f.make_group(lena, name="Night Owls")
    sam = f.add_member(group, f.make_user(name="Sam Okoro 🙂"))
    maryam = f.add_member(group, f.make_user(name="Maryam"))
    olle = f.make_user(name="Olle Outsider")
    episode, question = f.first_question(group)
    url = f"/groups/{group.slug}/episodes/{episode.slug}/questions/1"
    return {"group": group, "lena": lena, "sam": sam, "maryam": maryam, "olle": olle,
            "episode": episode, "question": question, "url": url}


def notes(user, kind=None):
    stmt = select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(db.session.scalars(stmt))


def test_a_mention_in_an_answer_notifies_the_member_once_and_is_highlighted(owls):
    answer = answer_service.post_answer(
        owls["sam"], owls["group"], owls["question"],
        "@[Lena Lindqvist] what do you think? @[lena lindqvist] again, and @[Olle Outsider].",
    )
    [note] = notes(owls["lena"])
    assert note.kind == "mention"
    assert "Sam Okoro 🙂 mentioned you in an answer in Night Owls" in note.message
    assert note.url.endswith(f"/answers/{answer.id}")
    assert (note.target_type, note.target_id) == ("answer", answer.id)
    assert '<span class="mention">@Lena Lindqvist</span>' in answer.body_html
    # Not a member: no highlight, no notification.
    assert "@[Olle Outsider]" in answer.body_html
    assert notes(owls["olle"]) == []


def test_post_first_holds_a_mention_back_until_the_member_answers(owls):
    """A mentioned member who has not answered yet may not read the answer: they get
    nothing (not even the author's name) until they post their own answer; then the
    mention arrives, once."""
    answer = answer_service.post_answer(
        owls["sam"], owls["group"], owls["question"], "I agree with @Maryam on this."
    )
    assert notes(owls["maryam"]) == []
    answer_service.post_answer(owls["maryam"], owls["group"], owls["question"], "My own view.")
    [note] = notes(owls["maryam"], "mention")
    assert (note.target_type, note.target_id) == ("answer", answer.id)
    # Answering again after deleting does not repeat it.
    own = answer_service.own_answer(owls["maryam"], owls["group"], owls["question"])
    answer_service.delete_answer(owls["maryam"], own)
    answer_service.post_answer(owls["maryam"], owls["group"], owls["question"], "Back again.")
    assert len(notes(owls["maryam"], "mention")) == 1


def test_without_post_first_the_mention_arrives_at_once(owls):
    owls["group"].post_first = False
    db.session.commit()
    answer = answer_service.post_answer(owls["sam"], owls["group"], owls["question"], "Over to @Maryam.")
    assert '<span class="mention">@Maryam</span>.' in answer.body_html
    assert [n.kind for n in notes(owls["maryam"])] == ["mention"]


def test_a_mention_in_a_reply_beats_the_reply_notice_and_respects_post_first(owls):
    group, question = owls["group"], owls["question"]
    answer = answer_service.post_answer(owls["sam"], group, question, "Sam's answer")
    answer_service.post_answer(owls["maryam"], group, question, "Maryam's answer")
    reply = answer_service.post_reply(
        owls["maryam"], answer, "Thanks @[Lena Lindqvist] and @[Sam Okoro 🙂]!"
    )
    # Sam wrote the answer and is mentioned: one notification, the mention.
    assert [n.kind for n in notes(owls["sam"])] == ["mention"]
    assert "mentioned you in a reply in Night Owls" in notes(owls["sam"])[0].message
    # The facilitator always reads the answers.
    [lena_note] = notes(owls["lena"])
    assert (lena_note.kind, lena_note.target_type, lena_note.target_id) == ("mention", "reply", reply.id)
    assert reply.body_html.count('class="mention"') == 2
    # A member who has not answered cannot read the reply: held back until they answer.
    newcomer = f.add_member(group, f.make_user(name="Nia"))
    answer_service.post_reply(owls["maryam"], answer, "And @Nia too.")
    assert notes(newcomer) == []
    answer_service.post_answer(newcomer, group, question, "Nia's answer")
    assert [n.target_type for n in notes(newcomer, "mention")] == ["reply"]


def test_anonymous_answers_do_not_name_their_author_in_the_mention(owls):
    owls["group"].allow_anonymous = True
    db.session.commit()
    answer_service.post_answer(
        owls["sam"], owls["group"], owls["question"], "@[Lena Lindqvist] quietly", anonymous=True
    )
    [note] = notes(owls["lena"])
    assert "Sam" not in note.message and "Anonymous" in note.message


def test_hiding_an_answer_withdraws_its_unread_mentions(owls):
    from coprod_study.moderation import service as moderation

    answer = answer_service.post_answer(
        owls["sam"], owls["group"], owls["question"], "@[Lena Lindqvist] look"
    )
    f.add_member(owls["group"], owls["olle"], role="facilitator")
    moderation.hide(owls["olle"], owls["group"], "answer", answer.id, "Off topic")
    assert notes(owls["lena"], "mention") == []


def test_thread_posts_highlight_mentions_too(owls):
    thread = discussion.create_thread(
        owls["lena"], owls["group"], title="Week 1", body="Welcome @Maryam and @[Sam Okoro 🙂]"
    )
    first = discussion.thread_posts(thread)[0]
    assert first.body_html.count('<span class="mention">') == 2
    post = discussion.reply(owls["sam"], thread, "Hi @[Lena Lindqvist]")
    assert '<span class="mention">@Lena Lindqvist</span>' in post.body_html
    assert [n.kind for n in notes(owls["lena"])] == ["mention"]


def test_an_edit_keeps_mentions_highlighted(owls):
    answer = answer_service.post_answer(owls["sam"], owls["group"], owls["question"], "First")
    answer_service.edit_answer(owls["sam"], answer, "Now with @[Lena Lindqvist]")
    assert '<span class="mention">@Lena Lindqvist</span>' in answer.body_html


def test_typed_html_never_makes_a_mention_span():
    html = str(render_markdown('<span class="mention">@x</span> @[x]', ["x"]))
    assert html.count("<span") == 1 and "&lt;span" in html
    assert str(render_markdown("@[x]")) == "<p>@[x]</p>"  # no member names: plain text


def test_the_answer_and_reply_forms_teach_the_syntax(client, owls):
    answer_service.post_answer(owls["sam"], owls["group"], owls["question"], "Sam's answer")
    login(client, owls["maryam"])
    page = client.get(owls["url"]).get_data(as_text=True)
    assert page.count("@[Their Name]") == 1  # the answer form
    answer_service.post_answer(owls["maryam"], owls["group"], owls["question"], "Mine")
    page = client.get(owls["url"]).get_data(as_text=True)
    assert "@[Their Name]" in page.split('id="reply-body-')[1]  # the reply box's hint


def test_a_mentioned_name_with_markup_in_it_stays_text(owls):
    odd = f.add_member(owls["group"], f.make_user(name='<img src=x onerror="alert(1)">'))
    answer = answer_service.post_answer(
        owls["sam"], owls["group"], owls["question"], '@[<img src=x onerror="alert(1)">] hello'
    )
    assert "<img" not in answer.body_html
    assert '<span class="mention">@&lt;img src=x onerror=&#34;alert(1)&#34;&gt;</span>' in answer.body_html
    assert odd.id  # a member, so the mention is marked
