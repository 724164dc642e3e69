"""Answers and replies: post before you see others, edits, deletes, endorsements, anonymity."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from coprod_study.extensions import db
from coprod_study.groups import answers as answer_service
from coprod_study.models import Answer, Reply, Revision
from tests import factories as f
from tests.conftest import login, post_form


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def circle(sample_catalog):
    """A group with a facilitator, learner A (no answer yet) and learners B, C who answered."""
    facilitator = f.make_user(name="Fay Facilitator")
    group = f.make_group(facilitator, name="Circle")
    a = f.add_member(group, f.make_user(name="Ann Learner"))
    b = f.add_member(group, f.make_user(name="Bob Learner"))
    c = f.add_member(group, f.make_user(name="Cat Learner"))
    episode, question = f.first_question(group)
    b_answer = f.make_answer(group, b, question, "Bob thinks respect is earned")
    f.make_answer(group, c, question, "Cat thinks listening matters")
    db.session.add(
        Reply(answer_id=b_answer.id, user_id=c.id, body="Cat replies", body_html="<p>Cat replies</p>")
    )
    db.session.commit()
    url = f"/groups/{group.slug}/episodes/{episode.slug}/questions/1"
    return {
        "group": group, "facilitator": facilitator, "a": a, "b": b, "c": c,
        "episode": episode, "question": question, "url": url, "b_answer": b_answer,
    }


def test_post_first_hides_peers_until_you_post(client, circle):
    login(client, circle["a"])
    page = client.get(circle["url"]).get_data(as_text=True)
    assert "2 answers, post yours to see them" in page
    assert "Bob thinks" not in page and "Cat replies" not in page
    response = post_form(client, circle["url"], {"body": "Ann says *hello*", "action": "post"})
    assert response.status_code == 302
    page = client.get(circle["url"]).get_data(as_text=True)
    assert "Bob thinks respect is earned" in page and "Cat replies" in page
    assert "<em>hello</em>" in page
    assert "post yours to see them" not in page
    assert "3 answers" in page


def test_facilitator_always_sees_answers(client, circle):
    login(client, circle["facilitator"])
    page = client.get(circle["url"]).get_data(as_text=True)
    assert "Bob thinks respect is earned" in page and "Cat replies" in page


def test_reveal_opens_answers_to_everyone(client, circle):
    login(client, circle["a"])
    assert post_form(client, circle["url"] + "/reveal").status_code == 403
    facilitator_client = client.application.test_client()
    login(facilitator_client, circle["facilitator"])
    assert post_form(facilitator_client, circle["url"] + "/reveal").status_code == 302
    page = client.get(circle["url"]).get_data(as_text=True)
    assert "Bob thinks respect is earned" in page


def test_without_post_first_everyone_sees_answers(client, circle):
    circle["group"].post_first = False
    db.session.commit()
    login(client, circle["a"])
    assert "Bob thinks respect is earned" in client.get(circle["url"]).get_data(as_text=True)


def test_peer_cannot_reply_before_answering(client, circle):
    login(client, circle["a"])
    response = post_form(
        client, f"/groups/{circle['group'].slug}/answers/{circle['b_answer'].id}/replies",
        {"body": "sneaky"},
    )
    assert response.status_code == 404
    assert count(Reply) == 1


def test_one_answer_per_learner_per_question(client, circle):
    login(client, circle["b"])
    response = post_form(client, circle["url"], {"body": "Second try", "action": "post"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "already answered" in page
    assert count(Answer) == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write your answer before you post it."),
        ("   ", "Write your answer before you post it."),
        ("z" * 20_001, "the limit is 20,000 characters"),
    ],
)
def test_bad_answers_keep_text_and_write_nothing(client, circle, body, message):
    login(client, circle["a"])
    response = post_form(client, circle["url"], {"body": body, "action": "post"})
    if len(body) < 1500:
        # Short text comes back by Post/Redirect/Get (see test_newcomer.py); text too
        # long for the session cookie is shown at once.
        assert response.status_code == 303
        response = client.get(response.headers["Location"])
    else:
        assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    if body.strip():
        assert body in page
    assert count(Answer) == 2


def test_question_that_does_not_exist_is_404(client, circle):
    login(client, circle["a"])
    episode = circle["episode"]
    base = f"/groups/{circle['group'].slug}/episodes/{episode.slug}/questions"
    assert client.get(f"{base}/99").status_code == 404
    assert client.get(f"{base}/0").status_code == 404
    assert post_form(client, f"{base}/99", {"body": "x", "action": "post"}).status_code == 404
    assert client.get(f"/groups/{circle['group'].slug}/episodes/nope/questions/1").status_code == 404
    assert count(Answer) == 2


def test_preview_renders_without_saving(client, circle):
    login(client, circle["a"])
    response = post_form(client, circle["url"], {"body": "**bold** idea", "action": "preview"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Preview" in page and "<strong>bold</strong>" in page
    assert "**bold** idea" in page  # still in the textarea
    assert count(Answer) == 2


def test_edit_keeps_history_for_the_author_and_facilitators(client, circle):
    login(client, circle["b"])
    answer = circle["b_answer"]
    edit_url = f"/groups/{circle['group'].slug}/answers/{answer.id}/edit"
    assert "Bob thinks" in client.get(edit_url).get_data(as_text=True)
    response = post_form(client, edit_url, {"body": "Bob changed his mind", "action": "save"})
    assert response.status_code == 302
    db.session.expire_all()
    assert answer.body == "Bob changed his mind" and answer.edited_at is not None
    assert [r.body for r in answer_service.history(answer)] == ["Bob thinks respect is earned"]
    history_url = f"/groups/{circle['group'].slug}/answers/{answer.id}/history"
    page = client.get(circle["url"]).get_data(as_text=True)
    # The author sees a "history" link next to "edited", and the page behind it.
    assert "edited" in page and f'href="{history_url}"' in page
    own = client.get(history_url)
    assert own.status_code == 200 and "Bob thinks respect is earned" in own.get_data(as_text=True)
    login(peer := client.application.test_client(), circle["c"])
    peer_page = peer.get(circle["url"]).get_data(as_text=True)
    assert "edited" in peer_page and f'href="{history_url}"' not in peer_page
    assert peer.get(history_url).status_code == 403
    facilitator_client = client.application.test_client()
    login(facilitator_client, circle["facilitator"])
    history = facilitator_client.get(history_url).get_data(as_text=True)
    assert "Bob thinks respect is earned" in history and "Bob changed his mind" in history


def test_only_the_author_edits_or_deletes(client, circle):
    login(client, circle["c"])
    answer = circle["b_answer"]
    base = f"/groups/{circle['group'].slug}/answers/{answer.id}"
    assert client.get(base + "/edit").status_code == 403
    assert post_form(client, base + "/edit", {"body": "hijack"}).status_code == 403
    assert post_form(client, base + "/delete").status_code == 302
    db.session.expire_all()
    assert answer.body == "Bob thinks respect is earned" and answer.deleted_at is None


def test_delete_leaves_a_placeholder_with_replies(client, circle):
    login(client, circle["b"])
    answer = circle["b_answer"]
    post_form(client, f"/groups/{circle['group'].slug}/answers/{answer.id}/delete")
    db.session.expire_all()
    assert answer.deleted_at is not None
    login(other := client.application.test_client(), circle["c"])
    page = other.get(circle["url"]).get_data(as_text=True)
    assert "This answer was deleted" in page
    assert "Bob thinks" not in page and "Cat replies" in page
    # Bob may answer again; the old text goes to the history.
    response = post_form(client, circle["url"], {"body": "Bob is back", "action": "post"})
    assert response.status_code == 302
    db.session.expire_all()
    assert answer.body == "Bob is back" and answer.deleted_at is None
    assert count(Answer) == 2


def test_endorsed_answers_come_first_with_a_mark(client, circle):
    c_answer = db.session.scalar(select(Answer).where(Answer.user_id == circle["c"].id))
    login(client, circle["b"])
    endorse_url = f"/groups/{circle['group'].slug}/answers/{c_answer.id}/endorse"
    assert post_form(client, endorse_url, {"endorse": "1"}).status_code == 403
    facilitator_client = client.application.test_client()
    login(facilitator_client, circle["facilitator"])
    post_form(facilitator_client, endorse_url, {"endorse": "1"})
    page = client.get(circle["url"]).get_data(as_text=True)
    assert "Endorsed by a facilitator" in page
    assert page.index("Cat thinks") < page.index("Bob thinks")


def test_replies_edit_and_delete(client, circle):
    login(client, circle["c"])
    group = circle["group"]
    response = post_form(
        client, f"/groups/{group.slug}/answers/{circle['b_answer'].id}/replies",
        {"body": "Another thought"},
    )
    assert response.status_code == 302
    reply = db.session.scalar(select(Reply).where(Reply.body == "Another thought"))
    post_form(client, f"/groups/{group.slug}/replies/{reply.id}/edit", {"body": "Better thought"})
    db.session.expire_all()
    assert reply.body == "Better thought"
    assert db.session.scalar(select(Revision.body).where(Revision.reply_id == reply.id)) == "Another thought"
    empty = post_form(
        client, f"/groups/{group.slug}/answers/{circle['b_answer'].id}/replies", {"body": ""},
        follow_redirects=True,
    )
    assert "Write your reply" in empty.get_data(as_text=True)
    login(other := client.application.test_client(), circle["b"])
    assert post_form(other, f"/groups/{group.slug}/replies/{reply.id}/delete").status_code == 302
    db.session.expire_all()
    assert reply.deleted_at is None
    post_form(client, f"/groups/{group.slug}/replies/{reply.id}/delete")
    db.session.expire_all()
    assert reply.deleted_at is not None
    assert "Better thought" not in client.get(circle["url"]).get_data(as_text=True)


def test_anonymous_answers_hide_the_name_from_peers(client, circle):
    group = circle["group"]
    login(client, circle["a"])
    refused = post_form(client, circle["url"], {"body": "Quiet view", "anonymous": "y", "action": "post"})
    assert refused.status_code == 400 and "does not allow anonymous" in refused.get_data(as_text=True)
    group.allow_anonymous = True
    db.session.commit()
    post_form(client, circle["url"], {"body": "Quiet view", "anonymous": "y", "action": "post"})
    login(peer := client.application.test_client(), circle["b"])
    page = peer.get(circle["url"]).get_data(as_text=True)
    assert "Quiet view" in page and "Anonymous learner" in page
    assert "Ann Learner" not in page
    answer = db.session.scalar(select(Answer).where(Answer.body == "Quiet view"))
    assert f"/users/{circle['a'].id}" not in page
    login(facilitator_client := client.application.test_client(), circle["facilitator"])
    assert "Ann Learner (anonymous to peers)" in facilitator_client.get(circle["url"]).get_data(as_text=True)
    # The history page (facilitators only) is closed to peers too.
    assert peer.get(f"/groups/{group.slug}/answers/{answer.id}/history").status_code == 403


def test_removed_member_loses_access_and_cannot_post(client, circle):
    from coprod_study.groups import service as group_service

    login(client, circle["b"])
    assert client.get(circle["url"]).status_code == 200
    group_service.remove_member(circle["facilitator"], circle["group"], circle["b"].id)
    response = client.get(circle["url"])
    assert response.status_code == 403 and "Bob thinks" not in response.get_data(as_text=True)
    token_page = "/"
    response = post_form(
        client, circle["url"], {"body": "Still here?", "action": "post"}, token_from=token_page
    )
    assert response.status_code == 403
    response = post_form(
        client, f"/groups/{circle['group'].slug}/answers/{circle['b_answer'].id}/replies",
        {"body": "Still here?"},
    )
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).where(Answer.body == "Still here?")) == 0
    assert count(Reply) == 1


def test_posting_is_rate_limited(app, client, circle):
    app.config["POST_LIMIT"] = "2/minute"
    login(client, circle["a"])
    post_form(client, circle["url"], {"body": "one", "action": "post"})
    group = circle["group"]
    answer_url = f"/groups/{group.slug}/answers/{circle['b_answer'].id}/replies"
    assert post_form(client, answer_url, {"body": "two"}).status_code == 302
    response = post_form(client, answer_url, {"body": "three is too many"})
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "wait" in page and "three is too many" in page
    assert count(Reply) == 2


HOSTILE = [
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)>",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
]


@pytest.mark.parametrize("body", HOSTILE)
def test_answers_are_sanitized_when_written(client, circle, body):
    login(client, circle["a"])
    post_form(client, circle["url"], {"body": body, "action": "post"})
    stored = db.session.scalar(select(Answer.body_html).where(Answer.user_id == circle["a"].id))
    assert stored is not None
    lowered = stored.lower()
    for tag in ("<script", "<svg", "<img", "<iframe"):
        assert tag not in lowered
    assert not re.search(r"<[^>]*\son\w+\s*=", lowered)
    for href in re.findall(r'href="([^"]*)"', lowered):
        assert href.startswith(("http:", "https:", "mailto:", "/"))


def _question_page_queries(client, count_queries, url):
    client.get(url)  # warm caches (templates, csrf) outside the count
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


def test_question_page_query_count_is_constant(client, circle, count_queries):
    # Counts the queries that build the page: a kept page (coprod_study.page_cache,
    # tests/test_page_cache.py) would answer the second request in two.
    client.application.config["PAGE_CACHE_MB"] = 0
    group, question = circle["group"], circle["question"]
    login(client, circle["facilitator"])
    small = _question_page_queries(client, count_queries, circle["url"])
    authors = [f.add_member(group) for _ in range(30)]
    for number in range(300):
        author = authors[number % 30] if number < 30 else f.add_member(group)
        answer = Answer(
            group_id=group.id, user_id=author.id, study_question_id=question.study_question_id,
            body=f"answer {number}", body_html=f"<p>answer {number}</p>",
        )
        db.session.add(answer)
        db.session.flush()
        db.session.add(Reply(answer_id=answer.id, user_id=authors[0].id, body="r", body_html="<p>r</p>"))
    db.session.commit()
    large = _question_page_queries(client, count_queries, circle["url"])
    assert large == small
    whole = _question_page_queries(client, count_queries, circle["url"] + "?per_page=200&page=2")
    assert whole == small
    assert "answer 299" in client.get(circle["url"] + "?per_page=200&page=2").get_data(as_text=True)
    # Not counting BEGIN, which SQLite's explicit read transaction adds.
    with count_queries() as statements:
        client.get(circle["url"])
    assert len([s for s in statements if s.split()[0].upper() != "BEGIN"]) <= 7


def _add_answers(group, question, total, *, endorsed=()):
    answers = []
    for number in range(total):
        author = f.add_member(group)
        answer = Answer(
            group_id=group.id, user_id=author.id, study_question_id=question.study_question_id,
            body=f"answer {number}", body_html=f"<p>answer number {number}</p>",
            created_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=number),
            endorsed_at=datetime(2026, 2, 1, tzinfo=UTC) if number in endorsed else None,
        )
        db.session.add(answer)
        answers.append(answer)
    db.session.commit()
    return answers


def _answer_numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"answer number (\d+)</p>", html)]


def test_answers_come_twenty_to_a_page_with_links_between_pages(client, circle):
    _add_answers(circle["group"], circle["question"], 45, endorsed={40})
    login(client, circle["facilitator"])
    first = client.get(circle["url"]).get_data(as_text=True)
    # The endorsed answer leads, then the oldest first.
    assert _answer_numbers(first) == [40, *range(0, 19)]
    assert "Page 1 of 3" in first
    assert f'href="{circle["url"]}?page=2"' in first
    last = client.get(circle["url"] + "?page=3").get_data(as_text=True)
    # Page 3 holds the last seven: 39, 41 to 44, then Bob's and Cat's (written today).
    assert _answer_numbers(last) == [39, 41, 42, 43, 44]
    assert "Bob thinks" in last and "Bob thinks" not in first
    assert 'rel="prev"' in last and 'rel="next"' not in last
    # The heading counts every answer, not just this page's.
    assert "47 answers" in last


def test_a_larger_page_size_shows_more_and_odd_sizes_fall_back(client, circle):
    _add_answers(circle["group"], circle["question"], 45)
    login(client, circle["facilitator"])
    whole = client.get(circle["url"] + "?per_page=50").get_data(as_text=True)
    assert _answer_numbers(whole) == list(range(45))
    assert "Page 1 of" not in whole
    odd = client.get(circle["url"] + "?per_page=7").get_data(as_text=True)
    assert len(_answer_numbers(odd)) == 20
    # Past the end shows the last page instead of an empty list.
    beyond = client.get(circle["url"] + "?page=99").get_data(as_text=True)
    assert "Page 3 of 3" in beyond and _answer_numbers(beyond)[-1] == 44


def test_links_to_an_answer_open_the_page_it_is_on(client, circle):
    answers = _add_answers(circle["group"], circle["question"], 45)
    login(client, circle["facilitator"])
    slug = circle["group"].slug
    response = client.get(f"/groups/{slug}/answers/{answers[30].id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"?page=2#answer-{answers[30].id}")
    early = client.get(f"/groups/{slug}/answers/{answers[3].id}")
    assert early.headers["Location"].endswith(f"questions/1#answer-{answers[3].id}")


def test_posting_an_answer_lands_on_the_page_that_shows_it(client, circle):
    _add_answers(circle["group"], circle["question"], 25)
    login(client, circle["a"])
    response = post_form(client, circle["url"], {"body": "Mine, posted last", "action": "post"})
    mine = db.session.scalar(select(Answer).where(Answer.user_id == circle["a"].id))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"?page=2#answer-{mine.id}")


@pytest.mark.parametrize("own_question", [False, True], ids=["catalog", "group's own"])
def test_statements_built_once_read_what_the_built_ones_read(app, circle, own_question):
    """The page's answer ids and the reader's own answer and reveal come from statements
    built once per process for a reader who sees every answer of a group outside any
    course; they find the same rows as the statements built for each reader."""
    from coprod_study.groups import service as group_service

    group, facilitator = circle["group"], circle["facilitator"]
    question = circle["question"]
    if own_question:
        episode = circle["episode"]
        group_service.add_extra_question(facilitator, group, episode, "What stayed with you?")
        question = group_service.get_question(group, episode, len(episode.questions) + 1)
    now = datetime.now(UTC)
    people = [f.add_member(group) for _ in range(7)]
    made = [
        f.make_answer(group, person, question, f"Answer {n}", created_at=now + timedelta(minutes=n))
        for n, person in enumerate(people)
    ]
    made[4].endorsed_at = now
    made[2].deleted_at = now  # deleted, no replies: not shown
    made[5].deleted_at = now  # deleted, a live reply: shown
    db.session.add(Reply(answer_id=made[5].id, user_id=people[0].id, body="r", body_html="r"))
    revealed_elsewhere = f.make_answer(f.make_group(), f.make_user(), question, "Elsewhere")
    db.session.commit()
    viewer = people[1]
    state = answer_service.page_state(viewer, group, question)
    assert state.own.id == made[1].id and state.sees_peers and not state.revealed
    everything = db.session.scalars(
        answer_service._shown_answers(viewer, group, question, has_answered=True, revealed=False)
        .with_only_columns(Answer.id)
    ).all()
    shown = [answer.id for answer in made if answer is not made[2]]
    assert everything[0] == made[4].id and set(shown) <= set(everything)
    assert made[2].id not in everything and len(everything) == len(shown) + (0 if own_question else 2)
    live = len(everything) - 1  # made[5] is deleted but shown
    for page, per_page in ((1, 20), (1, 3), (2, 3), (3, 3)):
        kept = answer_service.answers_fingerprint(viewer, group, question, state, page, per_page)
        built = everything[(page - 1) * per_page:page * per_page]
        if not built:  # past the end
            assert kept is None
            continue
        assert list(kept.ids) == built
        assert (kept.shown_count, kept.answer_count) == (len(everything), live)
    assert revealed_elsewhere.id not in built
    # Someone who has not answered sees nothing yet; a reveal opens the answers.
    newcomer = f.add_member(group)
    assert answer_service.page_state(newcomer, group, question).own is None
    answer_service.reveal(facilitator, group, question)
    opened = answer_service.page_state(newcomer, group, question)
    assert opened.revealed and opened.sees_peers and opened.own is None


def test_the_author_sees_the_history_of_their_own_reply(client, circle):
    reply = answer_service.post_reply(circle["c"], circle["b_answer"], "Cat's first thought")
    answer_service.edit_reply(circle["c"], reply, "Cat's second thought")
    history_url = f"/groups/{circle['group'].slug}/replies/{reply.id}/history"
    login(client, circle["c"])
    page = client.get(circle["url"]).get_data(as_text=True)
    assert f'href="{history_url}"' in page
    assert "Cat&#39;s first thought" in client.get(history_url).get_data(as_text=True)
    login(other := client.application.test_client(), circle["b"])
    assert f'href="{history_url}"' not in other.get(circle["url"]).get_data(as_text=True)
    assert other.get(history_url).status_code == 403
