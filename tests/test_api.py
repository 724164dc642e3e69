"""The JSON API: tokens, scopes, the catalog, groups, answers, threads, notifications, courses."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from coprod_study.account import tokens as api_tokens
from coprod_study.discussion import service as discussion
from coprod_study.extensions import db
from coprod_study.models import Answer, ApiToken, Notification, Post, Reply, Revision
from tests import factories as f
from tests.api_support import auth, bearer, is_problem, token_for
from tests.conftest import login


@pytest.fixture
def world(sample_catalog):
    facilitator = f.make_user(name="Fran Facilitator")
    group = f.make_group(facilitator, name="Night Owls")
    member = f.add_member(group, f.make_user(name="Mo Member"))
    episode, question = f.first_question(group)
    thread = discussion.create_thread(facilitator, group, title="Welcome", body="Say hello")
    return {
        "facilitator": facilitator,
        "group": group,
        "member": member,
        "episode": episode,
        "question": question,
        "thread": thread,
        "answers_url": f"/api/v1/groups/{group.slug}/episodes/{episode.slug}/questions/1/answers",
    }


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- Authentication and scopes -------------------------------------------------------------


def test_a_request_without_a_token_is_401(client, world):
    response = client.get("/api/v1/groups")
    assert is_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer cps_not-a-real-token", "Basic dXNlcjpwYXNz", "cps_bare-token", "Bearer " + "x" * 300],
)
def test_a_malformed_or_unknown_token_is_401(client, world, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert is_problem(response, 401)


def test_an_expired_token_is_401(client, world):
    secret = token_for(world["member"])
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == api_tokens.hash_token(secret)))
    token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert is_problem(response, 401)
    assert "expired" in response.get_json()["detail"]


def test_a_revoked_token_is_401_even_on_public_endpoints(client, world):
    secret = token_for(world["member"])
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == world["member"].id))
    api_tokens.revoke(world["member"], token.id)
    for path in ("/api/v1/me", "/api/v1/episodes"):
        response = client.get(path, headers=bearer(secret))
        assert is_problem(response, 401), path
        assert "revoked" in response.get_json()["detail"]


def test_the_token_is_stored_only_as_its_hash(app, world):
    made = api_tokens.create_token(world["member"], "script", "read")
    row = db.session.get(ApiToken, made.token.id)
    assert made.secret.startswith("cps_") and len(made.secret) > 40
    assert row.token_hash == api_tokens.hash_token(made.secret)
    assert made.secret not in {row.token_hash, row.prefix, row.name}
    assert made.secret.startswith(row.prefix)


def test_a_read_token_cannot_write(client, world):
    headers = auth(world["member"], "read")
    assert client.get(world["answers_url"], headers=headers).status_code == 200
    response = client.post(world["answers_url"], json={"body": "Mine"}, headers=headers)
    assert is_problem(response, 403)
    assert "read" in response.get_json()["detail"]
    assert count(Answer) == 0


def test_the_me_endpoint_names_the_token(client, world):
    response = client.get("/api/v1/me", headers=auth(world["member"], "read"))
    assert response.status_code == 200
    data = response.get_json()
    assert data["display_name"] == "Mo Member"
    assert data["token"]["scope"] == "read"
    assert response.headers["Cache-Control"] == "no-store"


def test_using_a_token_records_when(client, world):
    secret = token_for(world["member"])
    client.get("/api/v1/me", headers=bearer(secret))
    db.session.expire_all()
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == world["member"].id))
    assert token.last_used_at is not None


def test_a_deleted_persons_token_stops_working(client, world):
    from coprod_study.account import personal_data

    secret = token_for(world["member"])
    personal_data.delete_account(world["member"], f.DEFAULT_PASSWORD)
    assert is_problem(client.get("/api/v1/me", headers=bearer(secret)), 401)


def test_each_token_has_its_own_rate_limit_with_retry_after(app, client, world):
    app.config["API_RATE_LIMIT"] = "5/minute"
    first, second = auth(world["member"]), auth(world["facilitator"])
    statuses = [client.get("/api/v1/me", headers=first).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    response = client.get("/api/v1/me", headers=first)
    assert is_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    # Another person's token is counted on its own.
    assert client.get("/api/v1/me", headers=second).status_code == 200


# --- The catalog ------------------------------------------------------------------------------


def test_the_catalog_is_public_and_complete(client, world):
    response = client.get("/api/v1/episodes/respect-in-the-room")
    assert response.status_code == 200
    data = response.get_json()
    assert data["number"] == 1
    assert [g["name"] for g in data["guests"]] == ["Marta Ellison", "Tomas Reyes"]
    assert {t["kind"] for t in data["takeaways"]} == {"key_lesson", "idea_to_ponder", "start_applying"}
    assert data["questions"][0]["number"] == 1 and data["questions"][1]["audiences"]
    assert data["references"][0]["doi"] == "10.1136/bmjqs-2015-004315"
    assert data["chapters"][0] == {"title": "Opening", "start_seconds": 0}
    assert data["transcript_languages"] == ["en", "sv"]
    assert data["dimension"]["slug"] == "mutual-respect"


def test_episodes_page_through_with_cursors(client, world):
    seen, cursor = [], None
    for _ in range(10):
        response = client.get("/api/v1/episodes", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200
        page = response.get_json()
        assert len(page["items"]) <= 2
        seen += [item["number"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "query",
    [{"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"cursor": "!!"}, {"cursor": "WyJ4Il0"}, {"cursor": "e30"}],
)
def test_bad_paging_parameters_are_400(client, world, query):
    assert is_problem(client.get("/api/v1/episodes", query_string=query), 400)


@pytest.mark.parametrize("slug", ["no-such-episode", "NOT_A_SLUG", "a" * 200])
def test_an_unknown_episode_is_404(client, world, slug):
    assert is_problem(client.get(f"/api/v1/episodes/{slug}"), 404)


def test_dimensions_list(client, world):
    data = client.get("/api/v1/dimensions?limit=100").get_json()
    assert [d["slug"] for d in data["items"]][:2] == ["mutual-respect", "shared-knowing"]
    assert {"slug": "co-design", "name": "Partnership in designing services"} in data["items"][0]["related"]


# --- Groups, questions and answers --------------------------------------------------------------


def test_my_groups_lists_memberships(client, world):
    other = f.make_group(name="Not mine")
    data = client.get("/api/v1/groups", headers=auth(world["member"], "read")).get_json()
    assert [g["slug"] for g in data["items"]] == [world["group"].slug]
    assert data["items"][0]["membership"] == {"role": "member", "status": "active"}
    assert other.slug not in str(data)


def test_posting_an_answer_then_reading_and_editing_it(client, world):
    headers = auth(world["member"])
    response = client.post(world["answers_url"], json={"body": "Listening *fully*"}, headers=headers)
    assert response.status_code == 201
    created = response.get_json()
    assert created["body_html"] == "<p>Listening <em>fully</em></p>"
    assert created["question_number"] == 1 and created["author"]["you"] is True
    assert response.headers["Location"] == f"/api/v1/groups/{world['group'].slug}/answers/{created['id']}"
    again = client.get(response.headers["Location"], headers=headers)
    assert again.get_json()["body"] == "Listening *fully*"
    edited = client.patch(response.headers["Location"], json={"body": "Listening well"}, headers=headers)
    assert edited.status_code == 200 and edited.get_json()["edited_at"]
    assert db.session.scalar(select(Revision.body)) == "Listening *fully*"
    # Answering twice is a conflict, and writes nothing.
    twice = client.post(world["answers_url"], json={"body": "Again"}, headers=headers)
    assert is_problem(twice, 409)
    assert count(Answer) == 1


def test_post_before_you_see_others_holds_in_the_api(client, world):
    group, question = world["group"], world["question"]
    f.make_answer(group, world["facilitator"], question, "The facilitator's view")
    headers = auth(world["member"])
    page = client.get(world["answers_url"], headers=headers).get_json()
    assert page["items"] == [] and page["answer_count"] == 1 and page["sees_peers"] is False
    client.post(world["answers_url"], json={"body": "Mine first"}, headers=headers)
    page = client.get(world["answers_url"], headers=headers).get_json()
    assert [a["body"] for a in page["items"]] == ["The facilitator's view", "Mine first"]


def test_anonymous_answers_hide_the_author_from_peers_only(client, world):
    group = world["group"]
    group.allow_anonymous = True
    db.session.commit()
    writer = f.add_member(group, f.make_user(name="Secret Sam"))
    client.post(world["answers_url"], json={"body": "Quietly", "anonymous": True}, headers=auth(writer))
    f.make_answer(group, world["member"], world["question"], "Mine")
    peer = client.get(world["answers_url"], headers=auth(world["member"])).get_json()
    anonymous = next(a for a in peer["items"] if a["body"] == "Quietly")
    assert anonymous["author"] == {"name": "Anonymous learner", "id": None, "you": False}
    assert "Secret Sam" not in str(peer)
    moderator = client.get(world["answers_url"], headers=auth(world["facilitator"])).get_json()
    assert "Secret Sam (anonymous to peers)" in str(moderator)


def test_replies_and_their_edits(client, world):
    answer = f.make_answer(world["group"], world["facilitator"], world["question"], "Lead")
    f.make_answer(world["group"], world["member"], world["question"], "Mine")
    headers = auth(world["member"])
    base = f"/api/v1/groups/{world['group'].slug}"
    response = client.post(f"{base}/answers/{answer.id}/replies", json={"body": "Agreed"}, headers=headers)
    assert response.status_code == 201
    reply_id = response.get_json()["id"]
    listing = client.get(f"{base}/answers/{answer.id}/replies", headers=headers).get_json()
    assert [r["body"] for r in listing["items"]] == ["Agreed"]
    assert client.get(f"{base}/answers/{answer.id}", headers=headers).get_json()["reply_count"] == 1
    edited = client.patch(f"{base}/replies/{reply_id}", json={"body": "Strongly agreed"}, headers=headers)
    assert edited.get_json()["body"] == "Strongly agreed"
    # The answer's author was notified of the reply.
    assert db.session.scalar(select(Notification.kind).where(Notification.user_id == world["facilitator"].id)) == "reply"


def test_someone_elses_answer_cannot_be_edited(client, world):
    answer = f.make_answer(world["group"], world["facilitator"], world["question"], "Lead")
    f.make_answer(world["group"], world["member"], world["question"], "Mine")
    response = client.patch(
        f"/api/v1/groups/{world['group'].slug}/answers/{answer.id}",
        json={"body": "Hijacked"},
        headers=auth(world["member"]),
    )
    assert is_problem(response, 403)
    db.session.refresh(answer)
    assert answer.body == "Lead"


def test_threads_and_posts(client, world):
    headers = auth(world["member"])
    base = f"/api/v1/groups/{world['group'].slug}"
    threads = client.get(f"{base}/threads", headers=headers).get_json()
    assert [t["title"] for t in threads["items"]] == ["Welcome"]
    thread_id = threads["items"][0]["id"]
    first_post = client.get(f"{base}/threads/{thread_id}/posts", headers=headers).get_json()["items"][0]
    response = client.post(
        f"{base}/threads/{thread_id}/posts",
        json={"body": "Hello all", "quote_post_id": first_post["id"]},
        headers=headers,
    )
    assert response.status_code == 201
    assert response.get_json()["quote_post_id"] == first_post["id"]
    post_id = response.get_json()["id"]
    edited = client.patch(f"{base}/posts/{post_id}", json={"body": "Hello everyone"}, headers=headers)
    assert edited.get_json()["body"] == "Hello everyone"
    assert client.get(f"{base}/threads/{thread_id}", headers=headers).get_json()["post_count"] == 2


def test_a_locked_thread_takes_no_posts(client, world):
    discussion.set_flags(world["facilitator"], world["thread"], locked=True, lock_reason="Done")
    response = client.post(
        f"/api/v1/groups/{world['group'].slug}/threads/{world['thread'].id}/posts",
        json={"body": "Late"},
        headers=auth(world["member"]),
    )
    assert is_problem(response, 409)
    assert count(Post) == 1


def test_quoting_a_post_of_another_thread_is_refused(client, world):
    other = discussion.create_thread(world["facilitator"], world["group"], title="Other", body="Elsewhere")
    foreign = db.session.scalar(select(Post.id).where(Post.thread_id == other.id))
    response = client.post(
        f"/api/v1/groups/{world['group'].slug}/threads/{world['thread'].id}/posts",
        json={"body": "Quote", "quote_post_id": foreign},
        headers=auth(world["member"]),
    )
    assert is_problem(response, 422)
    assert response.get_json()["errors"][0]["field"] == "quote_post_id"
    assert count(Post) == 2


# --- Bad input: every write answers with a problem and writes nothing -------------------------


def _write_endpoints(world, answer_id, reply_id, post_id):
    group = world["group"].slug
    return [
        ("POST", world["answers_url"]),
        ("PATCH", f"/api/v1/groups/{group}/answers/{answer_id}"),
        ("POST", f"/api/v1/groups/{group}/answers/{answer_id}/replies"),
        ("PATCH", f"/api/v1/groups/{group}/replies/{reply_id}"),
        ("POST", f"/api/v1/groups/{group}/threads/{world['thread'].id}/posts"),
        ("PATCH", f"/api/v1/groups/{group}/posts/{post_id}"),
    ]


BAD_BODIES = [
    ("malformed JSON", '{"body": "unclosed', 400, None),
    ("not an object", '["body"]', 422, ""),
    ("wrong type", '{"body": 42}', 422, "body"),
    ("null body", '{"body": null}', 422, "body"),
    ("unknown field", '{"body": "ok", "author_id": 1}', 422, "author_id"),
    ("missing field", '{}', 422, "body"),
    ("only spaces", '{"body": "   "}', 422, "body"),
    ("NUL character", '{"body": "a\\u0000b"}', 422, "body"),
    ("lone surrogate", '{"body": "a\\ud800b"}', 422, "body"),
    ("too long", '{"body": "' + "x" * 20_001 + '"}', 422, "body"),
    ("NaN", '{"body": NaN}', 400, None),
    ("bad UTF-8", b'{"body": "\xff"}', 400, None),
]


@pytest.mark.parametrize(("label", "raw", "status", "field"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_bodies_get_a_problem_and_write_nothing(client, world, label, raw, status, field):
    mine = f.make_answer(world["group"], world["member"], world["question"], "Original answer")
    reply = Reply(answer_id=mine.id, user_id=world["member"].id, body="Original reply", body_html="<p>Original reply</p>")
    db.session.add(reply)
    db.session.commit()
    post = discussion.reply(world["member"], world["thread"], "Original post")
    before = (count(Answer), count(Reply), count(Post), count(Revision))
    headers = auth(world["member"])
    for method, path in _write_endpoints(world, mine.id, reply.id, post.id):
        response = client.open(path, method=method, data=raw, content_type="application/json", headers=headers)
        assert is_problem(response, status), (label, method, path, response.status_code, response.get_data(as_text=True)[:300])
        if field is not None:
            assert field in [e["field"] for e in response.get_json()["errors"]]
    db.session.expire_all()
    assert (count(Answer), count(Reply), count(Post), count(Revision)) == before
    assert db.session.get(Answer, mine.id).body == "Original answer"


def test_a_body_over_one_megabyte_is_413(client, world):
    big = '{"body": "' + "x" * (1024 * 1024) + '"}'
    response = client.post(world["answers_url"], data=big, content_type="application/json", headers=auth(world["member"]))
    assert is_problem(response, 413)
    assert count(Answer) == 0


def test_a_body_that_is_not_json_is_415(client, world):
    response = client.post(world["answers_url"], data={"body": "form post"}, headers=auth(world["member"]))
    assert is_problem(response, 415)
    assert count(Answer) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/groups/no-such-group",
        "/api/v1/groups/{group}/answers/999999",
        "/api/v1/groups/{group}/answers/99999999999",
        "/api/v1/groups/{group}/replies/424242",
        "/api/v1/groups/{group}/threads/424242/posts",
        "/api/v1/groups/{group}/episodes/no-such-episode/questions",
        "/api/v1/groups/{group}/episodes/respect-in-the-room/questions/99/answers",
        "/api/v1/notifications/424242/read",
        "/api/v1/courses/NOPE/progress",
    ],
)
def test_unknown_ids_are_404(client, world, path):
    path = path.format(group=world["group"].slug)
    method = "POST" if path.endswith("/read") else "GET"
    assert is_problem(client.open(path, method=method, headers=auth(world["member"])), 404)


def test_other_peoples_things_are_404_or_403_and_untouched(client, world):
    outsider = f.make_user(name="Outsider")
    secret_group = f.make_group(f.make_user(), name="Secret circle", join_policy="invite")
    writer = f.add_member(secret_group, f.make_user())
    _, question = f.first_question(secret_group)
    answer = f.make_answer(secret_group, writer, question, "Private words")
    note = Notification(user_id=writer.id, kind="reply", message="For the writer", url="/")
    db.session.add(note)
    db.session.commit()
    headers = auth(outsider)
    base = f"/api/v1/groups/{secret_group.slug}"
    assert is_problem(client.get(f"{base}/answers/{answer.id}", headers=headers), 404)
    assert is_problem(client.patch(f"{base}/answers/{answer.id}", json={"body": "x"}, headers=headers), 404)
    assert is_problem(client.post(f"/api/v1/notifications/{note.id}/read", headers=headers), 404)
    # In an open group the outsider may know the group but not read it.
    open_base = f"/api/v1/groups/{world['group'].slug}"
    assert is_problem(client.get(f"{open_base}/threads", headers=headers), 403)
    assert is_problem(client.post(world["answers_url"], json={"body": "x"}, headers=headers), 403)
    db.session.expire_all()
    assert db.session.get(Answer, answer.id).body == "Private words"
    assert db.session.get(Notification, note.id).read_at is None
    assert count(Answer) == 1


# --- Notifications, assignments and course progress ------------------------------------------


def test_notifications_list_and_mark_read(client, world):
    member = world["member"]
    headers = auth(member)
    page = client.get("/api/v1/notifications", headers=headers).get_json()
    assert page["unread_count"] == 1  # the new thread
    note_id = page["items"][0]["id"]
    response = client.post(f"/api/v1/notifications/{note_id}/read", headers=headers)
    assert response.status_code == 200 and response.get_json()["read_at"]
    assert client.get("/api/v1/notifications?unread=true", headers=headers).get_json()["items"] == []
    assert client.post("/api/v1/notifications/read-all", headers=headers).get_json() == {"marked_read": 0}
    assert is_problem(client.get("/api/v1/notifications?unread=maybe", headers=headers), 400)


def test_assignments_and_progress_for_educators_only(client, world):
    educator = f.make_user(role="educator", name="Eda Educator")
    course = f.make_course(educator, code="COPROD1")
    learner = f.enrol(course, f.make_user(name="Lee Learner"))
    f.make_assignment(course)
    mine = client.get("/api/v1/assignments", headers=auth(learner)).get_json()
    assert [a["course"] for a in mine["items"]] == ["COPROD1"]
    assert mine["items"][0]["status"] in {"open", "due_soon"}
    progress = client.get("/api/v1/courses/COPROD1/progress", headers=auth(educator))
    assert progress.status_code == 200
    rows = progress.get_json()["items"]
    assert [r["learner"]["name"] for r in rows] == ["Lee Learner"]
    assert is_problem(client.get("/api/v1/courses/COPROD1/progress", headers=auth(learner)), 403)
    assert is_problem(client.get("/api/v1/courses/COPROD1/progress", headers=auth(world["member"])), 404)
    courses = client.get("/api/v1/courses", headers=auth(learner)).get_json()["items"]
    assert courses == [{"code": "COPROD1", "title": course.title, "term": course.term, "role": "learner"}]


def test_problem_for_unknown_path_and_method(client, world):
    assert is_problem(client.get("/api/v1/nothing-here"), 404)
    response = client.delete("/api/v1/episodes")
    assert is_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_session_login_does_not_reach_the_api(client, world):
    login(client, world["member"])
    assert is_problem(client.get("/api/v1/me"), 401)


def test_posting_too_fast_is_429_with_retry_after(app, client, world):
    app.config["POST_LIMIT"] = "2/minute"
    headers = auth(world["member"])
    thread = f"/api/v1/groups/{world['group'].slug}/threads/{world['thread'].id}/posts"
    statuses = [client.post(thread, json={"body": f"Post {n}"}, headers=headers).status_code for n in range(3)]
    assert statuses == [201, 201, 429]
    response = client.post(thread, json={"body": "Once more"}, headers=headers)
    assert is_problem(response, 429)
    assert int(response.headers["Retry-After"]) >= 1
    assert count(Post) == 3  # the thread's opening post and two replies


def test_a_facilitator_sees_the_earlier_wording_through_the_api(client, world):
    from coprod_study.models import StudyQuestion

    answer = f.make_answer(world["group"], world["member"], world["question"], "Early answer")
    question = db.session.get(StudyQuestion, world["question"].study_question_id)
    old = question.prompt
    question.prompt = "A reworded question?"
    db.session.commit()
    path = f"/api/v1/groups/{world['group'].slug}/answers/{answer.id}"
    assert client.get(path, headers=auth(world["facilitator"])).get_json()["answered_wording"] == old
    assert client.get(path, headers=auth(world["member"])).get_json()["answered_wording"] is None


def test_the_author_reads_their_own_answers_revisions_a_peer_does_not(client, world):
    from coprod_study.groups import answers as answer_service

    group = world["group"]
    answer = f.make_answer(group, world["member"], world["question"], "First take")
    answer_service.edit_answer(world["member"], answer, "Second take")
    url = f"/api/v1/groups/{group.slug}/answers/{answer.id}/revisions"
    own = client.get(url, headers=bearer(token_for(world["member"])))
    assert own.status_code == 200
    assert [item["body"] for item in own.get_json()["items"]] == ["First take"]
    peer = f.add_member(group, f.make_user(name="Pat Peer"))
    f.make_answer(group, peer, world["question"], "Pat's take")
    refused = client.get(url, headers=bearer(token_for(peer)))
    assert is_problem(refused, 403)
