"""Search: catalog, transcripts and posts, with every visibility rule, on SQLite and PostgreSQL."""

import pytest

from coprod_study.extensions import db
from coprod_study.services import answers as answer_service
from coprod_study.services import discussion, moderation, search, transcripts
from tests import factories as f
from tests.conftest import login

VTT = b"""WEBVTT

00:00:01.000 --> 00:00:05.000
<v Host>Welcome to a conversation about zebrafish kindness.

00:01:10.000 --> 00:01:15.000
<v Guest>The nurse asked what mattered most to me.
"""


@pytest.fixture
def world(sample_catalog):
    facilitator = f.make_user(name="Fay")
    group = f.make_group(facilitator, name="Searchers")
    ann = f.add_member(group, f.make_user(name="Ann Anon"))
    bob = f.add_member(group, f.make_user(name="Bob"))
    outsider = f.make_user(name="Out")
    episode, question = f.first_question(group)
    answer_service.post_answer(bob, group, question, "Bob writes about kaleidoscope listening")
    return {"group": group, "facilitator": facilitator, "ann": ann, "bob": bob,
            "outsider": outsider, "episode": episode, "question": question}


def kinds(viewer, query):
    return {kind: [h.title for h in hits] for kind, hits in search.search(viewer, query).groups.items()}


def test_catalog_is_found_by_anyone(world):
    from flask_login import AnonymousUserMixin

    title_word = world["episode"].title.split()[-1]
    found = kinds(AnonymousUserMixin(), title_word)
    assert any(world["episode"].title in t for t in found.get("episode", []))


def test_transcript_hit_links_to_its_moment(world):
    transcripts.store_transcript(world["episode"], "en", "t.vtt", VTT)
    results = search.search(world["outsider"], "nurse mattered")
    hit = results.groups["segment"][0]
    assert hit.url.endswith("?lang=en#t=70")
    assert "<mark>nurse</mark>" in hit.snippet


def test_posts_only_for_members_and_after_posting(world):
    assert "answer" not in kinds(world["outsider"], "kaleidoscope")
    # Ann has not answered: post before you see others hides Bob's answer.
    assert "answer" not in kinds(world["ann"], "kaleidoscope")
    assert "answer" in kinds(world["facilitator"], "kaleidoscope")
    answer_service.post_answer(world["ann"], world["group"], world["question"], "Ann's own words")
    assert "answer" in kinds(world["ann"], "kaleidoscope")


def test_hidden_and_deleted_posts_drop_out(world):
    answer = db.session.scalar(db.select(answer_service.Answer).where(answer_service.Answer.user_id == world["bob"].id))
    moderation.hide(world["facilitator"], world["group"], "answer", answer.id, "Off topic")
    assert "answer" not in kinds(world["facilitator"], "kaleidoscope")
    moderation.restore(world["facilitator"], world["group"], "answer", answer.id)
    assert "answer" in kinds(world["facilitator"], "kaleidoscope")
    answer_service.delete_answer(world["bob"], answer)
    assert "answer" not in kinds(world["facilitator"], "kaleidoscope")


def test_anonymous_author_is_not_named_in_results(world, client):
    world["group"].allow_anonymous = True
    world["group"].post_first = False
    db.session.commit()
    thread = discussion.create_thread(world["facilitator"], world["group"], title="Open", body="Start")
    discussion.reply(world["ann"], thread, "quietly mentioning marzipan", anonymous=True)
    login(client, world["bob"])
    page = client.get("/search?q=marzipan").get_data(as_text=True)
    assert "marzipan" in page and "Anonymous learner" in page and "Ann Anon" not in page


def test_threads_are_searchable_by_title(world):
    discussion.create_thread(world["facilitator"], world["group"], title="Quokka week", body="x")
    assert "thread" in kinds(world["ann"], "quokka")
    assert "thread" not in kinds(world["outsider"], "quokka")


@pytest.mark.parametrize(
    "query",
    ['"', "*", "NEAR(", "AND OR", "x" * 10_000, "🙂 respect", "'; DROP TABLE users; --",
     "title:foo", "-", "(((", "a\x00b", "%", "_"],
)
def test_hostile_queries_never_fail(client, world, query):
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "results for" in page or "No results" in page or "Search" in page


def test_empty_query_shows_the_form_only(client):
    page = client.get("/search?q=").get_data(as_text=True)
    assert 'id="search-q"' in page and "No results" not in page


def test_reindex_rebuilds_the_same_results(app, world):
    before = kinds(world["facilitator"], "kaleidoscope")
    runner = app.test_cli_runner()
    db.session.commit()
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0 and "Indexed" in result.output
    db.session.rollback()
    assert kinds(world["facilitator"], "kaleidoscope") == before
