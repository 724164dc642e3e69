"""Table counters (coprod_study.data_versions) and whole pages kept per reader
(coprod_study.page_cache): a kept page is served again only to the same reader,
and never once anything it was built from has been written, from any process."""

import re
import uuid

import pytest
from flask import current_app
from sqlalchemy import create_engine, text

from coprod_study import create_app, csrf_slots, data_versions, page_cache
from coprod_study.account import service as accounts
from coprod_study.extensions import db
from coprod_study.groups import service as groups
from coprod_study.models import Answer, AuditEntry, Reply, SearchDocument, User
from tests import factories as f
from tests.conftest import POSTGRES_URL, login

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- Which statements write, and which tables they read -----------------------------


@pytest.mark.parametrize(
    ("statement", "tables"),
    [
        ("SELECT answers.id FROM answers WHERE answers.id = ?", set()),
        ("SELECT id FROM answers FOR UPDATE", set()),
        ("BEGIN IMMEDIATE", set()),
        ("PRAGMA foreign_keys=ON", set()),
        ("INSERT INTO answers (body) VALUES (?) RETURNING id", {"answers"}),
        ('INSERT INTO "users" (email) VALUES (%(email)s)', {"users"}),
        ("INSERT OR REPLACE INTO thread_reads (user_id) VALUES (?)", {"thread_reads"}),
        ("  update replies SET body=? WHERE replies.id = ?", {"replies"}),
        ("UPDATE answers SET body=x.body FROM replies AS x WHERE x.id = answers.id", {"answers"}),
        ("DELETE FROM notifications WHERE notifications.user_id = ?", {"notifications"}),
        ("INSERT INTO flags (post_id) SELECT id FROM posts", {"flags"}),
        ("INSERT INTO memberships (user_id) VALUES (?) ON CONFLICT (user_id) DO UPDATE SET "
         "role = excluded.role", {"memberships"}),
        ("WITH gone AS (DELETE FROM replies WHERE id = ? RETURNING id) SELECT count(*) FROM gone",
         {"replies"}),
        ("WITH recent AS (SELECT id FROM answers) SELECT * FROM recent", set()),
        ("CREATE TABLE scratch (id INTEGER)", {"*"}),
        ("TRUNCATE answers", {"*"}),
    ],
)
def test_each_statement_names_the_tables_it_writes(statement, tables):
    assert data_versions.written_tables(statement) == tables


def test_a_statement_reads_the_known_tables_it_names():
    known = frozenset({"answers", "replies", "users", "groups", "data_versions"})
    statement = (
        "SELECT answers.id, users_1.display_name FROM answers "
        "JOIN users AS users_1 ON users_1.id = answers.user_id "
        "WHERE answers.group_id = ? AND answers_total > 0"
    )
    assert data_versions.read_tables(statement, known) == {"answers", "users"}
    assert data_versions.read_tables("SELECT name, version FROM data_versions", known) == set()


# --- Counting the writes ------------------------------------------------------------------


def _versions():
    db.session.rollback()
    versions = data_versions.current_versions(db.session)
    db.session.rollback()
    return versions


def test_a_commit_raises_the_counter_of_each_table_it_wrote_once(app):
    before = _versions()
    person = f.make_user(name="Counted")
    after = _versions()
    assert after["users"] == before.get("users", 0) + 1
    assert after.get("answers", 0) == before.get("answers", 0)
    # Three writes to one table in one transaction: one more, not three.
    for n in range(3):
        db.session.add(AuditEntry(actor_id=person.id, action=f"test.{n}"))
    db.session.commit()
    later = _versions()
    assert later[AuditEntry.__tablename__] == after.get(AuditEntry.__tablename__, 0) + 1
    assert later["users"] == after["users"]


def test_a_rollback_raises_nothing(app):
    before = _versions()
    db.session.add(User(email="gone@example.org", display_name="Gone", password_hash="x"))
    db.session.flush()
    db.session.rollback()
    assert _versions() == before


def test_a_write_that_fires_a_trigger_raises_the_triggered_table_too(app):
    before = _versions()
    db.session.add(SearchDocument(kind="episode", ref_id=1, title="Counted", body="words"))
    db.session.commit()
    after = _versions()
    assert after["search_documents"] == before.get("search_documents", 0) + 1
    assert after["search_fts"] == before.get("search_fts", 0) + 1


def test_a_write_the_tracker_cannot_place_raises_everything(app):
    before = _versions()
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE scratch_counted (id INTEGER)"))
        conn.execute(text("DROP TABLE scratch_counted"))
    assert _versions()["*"] == before.get("*", 0) + 1


def _bare_engines(tmp_path):
    """Engines on databases without the counters table: SQLite, and on PostgreSQL a
    schema of its own (where a failed statement would abort the whole transaction)."""
    yield create_engine(f"sqlite:///{tmp_path}/bare.sqlite3"), None
    if POSTGRES_URL:
        schema = f"bare_{uuid.uuid4().hex[:12]}"
        admin = create_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield create_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"}), schema
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def test_a_database_without_the_counters_table_still_commits(tmp_path):
    for engine, _schema in _bare_engines(tmp_path):
        data_versions.count_writes(engine)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO notes (id, body) VALUES (1, 'kept')"))
            conn.execute(text("INSERT INTO notes (id, body) VALUES (2, 'and this')"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT body FROM notes ORDER BY id")).scalars().all() == [
                "kept", "and this"]
        engine.dispose()


# --- Kept pages -------------------------------------------------------------------------


@pytest.fixture
def room(sample_catalog):
    facilitator = f.make_user(name="Fay Facilitator")
    group = f.make_group(facilitator, name="Kept room")
    bob = f.add_member(group, f.make_user(name="Bob Reader"))
    cat = f.add_member(group, f.make_user(name="Cat Reader"))
    episode, question = f.first_question(group)
    f.make_answer(group, bob, question, "Bob first thought")
    f.make_answer(group, cat, question, "Cat first thought")
    return {
        "group": group, "facilitator": facilitator, "bob": bob, "cat": cat,
        "question": question,
        "url": f"/groups/{group.slug}/episodes/{episode.slug}/questions/1",
    }


def _sign_in(client, person):
    login(client, person)
    client.get("/")  # shows the welcome message; a page with a message is never kept


def _hits():
    return page_cache.cache_for(current_app).hits


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _unsigned(html):
    """The page with each CSRF token cut to its payload: a token is signed anew at
    every request, and its timestamp moves when a second passes between two."""
    return TOKEN.sub(lambda found: f'name="csrf_token" value="{found.group(1).split(".")[0]}"', html)


def test_a_second_view_is_the_kept_page_in_two_queries(app, client, room, count_queries):
    _sign_in(client, room["bob"])
    first = _get(client, room["url"])
    hits = _hits()
    with count_queries() as statements:
        second = _get(client, room["url"])
    assert _hits() == hits + 1
    assert _unsigned(second) == _unsigned(first)
    # The person with the table counters, the group with the reader's membership.
    reads = [s for s in statements if s.split()[0].upper() == "SELECT"]
    assert len(reads) == 2, reads
    assert "data_versions" in reads[0]


def test_a_visitor_reads_the_counters_in_a_query_of_their_own(app, client, room,
                                                               count_queries):
    _get(client, "/episodes")
    with count_queries() as statements:
        _get(client, "/episodes")
    reads = [s for s in statements if s.split()[0].upper() == "SELECT"]
    assert len(reads) == 1 and "data_versions" in reads[0], reads


def test_the_counters_read_as_one_column_are_the_counters(app, room):
    expected = _versions()
    assert {"users", "memberships", "answers"} <= set(expected) and len(expected) > 5
    with app.test_request_context():
        column = db.session.scalar(db.select(data_versions.versions_column()))
        data_versions.remember_versions(column)
        assert data_versions.current_versions(db.session) == expected


def test_a_kept_page_is_never_served_to_another_reader(app, room):
    bob, cat = app.test_client(), app.test_client()
    _sign_in(bob, room["bob"])
    _sign_in(cat, room["cat"])
    bobs = _get(bob, room["url"])
    cats = _get(cat, room["url"])
    assert ">Bob Reader</a>" in bobs and ">Cat Reader</a>" not in bobs
    assert ">Cat Reader</a>" in cats and ">Bob Reader</a>" not in cats
    # The payload before the first dot is the session's own token.
    assert TOKEN.search(bobs).group(1).split(".")[0] != TOKEN.search(cats).group(1).split(".")[0]


def test_an_answer_posted_by_another_reader_shows_at_once(app, room):
    bob, cat = app.test_client(), app.test_client()
    _sign_in(bob, room["bob"])
    _sign_in(cat, room["cat"])
    _get(bob, room["url"])
    _get(bob, room["url"])
    page = _get(cat, room["url"])
    answer = db.session.scalar(db.select(Answer).filter_by(body="Bob first thought"))
    reply = cat.post(
        f"/groups/{room['group'].slug}/answers/{answer.id}/replies",
        data={"csrf_token": TOKEN.search(page).group(1), "body": "Cat replies to Bob"},
    )
    assert reply.status_code == 302
    assert "Cat replies to Bob" in _get(bob, room["url"])


def test_a_write_from_another_process_shows_at_once(app, app_config, room):
    client = app.test_client()
    _sign_in(client, room["bob"])
    assert "Written elsewhere" not in _get(client, room["url"])
    _get(client, room["url"])
    cat_id = room["cat"].id
    db.session.commit()  # ends this session's transaction, which holds SQLite's write lock
    # Another worker: its own app, engine and kept pages, the same database.
    other = create_app(app_config)
    with other.app_context():
        answer = db.session.scalar(db.select(Answer).filter_by(body="Cat first thought"))
        db.session.add(Reply(answer_id=answer.id, user_id=cat_id,
                             body="Written elsewhere", body_html="<p>Written elsewhere</p>"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert "Written elsewhere" in _get(client, room["url"])


def test_a_write_elsewhere_keeps_the_page(app, client, room):
    _sign_in(client, room["bob"])
    _get(client, room["url"])
    hits = _hits()
    db.session.add(AuditEntry(actor_id=room["cat"].id, action="test.unrelated"))
    db.session.commit()
    _get(client, room["url"])
    assert _hits() == hits + 1


def test_the_readers_name_and_unread_count_are_never_stale(app, client, room):
    _sign_in(client, room["bob"])
    assert ">Bob Reader</a>" in _get(client, room["url"])
    accounts.update_profile(room["bob"], display_name="Robert Reader", language="en",
                            time_zone="UTC", email_preference="daily")
    page = _get(client, room["url"])
    assert ">Robert Reader</a>" in page and ">Bob Reader</a>" not in page
    assert "nav-count" not in page
    from coprod_study.notifications import service as notifications

    notifications.notify([room["bob"].id], "reply", "Someone replied", "/")
    db.session.commit()
    assert 'class="nav-count">1' in _get(client, room["url"])


def test_a_removed_member_is_refused_though_a_page_was_kept(app, client, room):
    _sign_in(client, room["cat"])
    assert "Bob first thought" in _get(client, room["url"])
    _get(client, room["url"])
    groups.remove_member(room["facilitator"], room["group"], room["cat"].id)
    response = client.get(room["url"])
    assert response.status_code == 403
    assert "Bob first thought" not in response.get_data(as_text=True)


def test_the_token_in_a_kept_page_is_this_sessions_and_works(app, client, room):
    _sign_in(client, room["facilitator"])
    first = _get(client, room["url"])
    hits = _hits()
    kept = _get(client, room["url"])
    assert _hits() == hits + 1
    token = TOKEN.search(kept).group(1)
    # A signed token is "payload.timestamp.signature": the payload is the
    # session's own token; the timestamp moves when a second passes.
    assert token.split(".")[0] == TOKEN.search(first).group(1).split(".")[0]
    assert csrf_slots.PLACEHOLDER not in kept
    response = client.post(room["url"], data={"csrf_token": token, "body": "Posted from a kept page"})
    assert response.status_code == 302
    assert "Posted from a kept page" in _get(client, room["url"])


def test_a_waiting_message_passes_by_the_kept_page(app, client, room):
    _sign_in(client, room["bob"])
    _get(client, room["url"])
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "A message for this request only")]
    assert "A message for this request only" in _get(client, room["url"])
    assert "A message for this request only" not in _get(client, room["url"])


def test_a_kept_page_expires(app, client, room, monkeypatch):
    _sign_in(client, room["bob"])
    _get(client, room["url"])
    hits = _hits()
    clock = page_cache.time.monotonic() + app.config["PAGE_CACHE_SECONDS"] + 1
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: clock)
    _get(client, room["url"])
    assert _hits() == hits


def test_no_budget_keeps_no_page(app, client, room):
    app.config["PAGE_CACHE_MB"] = 0
    _sign_in(client, room["bob"])
    first = _get(client, room["url"])
    assert "Cat first thought" in first
    assert page_cache.cache_for(app) is None
    assert _unsigned(_get(client, room["url"])) == _unsigned(first)


# --- The other kept pages: home, catalog, episode, group ----------------------------


def test_listening_marked_on_an_episode_shows_at_once_on_every_kept_page(app, client, room):
    from coprod_study.models import Episode

    # The newest episode, which the home page lists too.
    episode = db.session.scalar(
        db.select(Episode).order_by(Episode.published_on.desc().nulls_last(),
                                    Episode.number.desc())
    )
    url = f"/episodes/{episode.slug}"
    _sign_in(client, room["bob"])
    pages = ["/", "/episodes", url]
    for page in pages:
        _get(client, page)
    hits = _hits()
    before = {page: _get(client, page) for page in pages}
    assert _hits() == hits + len(pages)
    assert "Mark as not listened" not in before[url]
    marked = client.post(f"{url}/listened",
                         data={"csrf_token": TOKEN.search(before[url]).group(1), "listened": "1"})
    assert marked.status_code == 302
    _get(client, "/dimensions")  # shows the "Marked as listened." message
    after = {page: _get(client, page) for page in pages}
    assert "Mark as not listened" in after[url]
    assert all(after[page] != before[page] for page in pages)


def test_an_episode_renamed_shows_at_once_on_the_catalog_page(app, client, room):
    from coprod_study.models import Episode

    _get(client, "/episodes")
    _get(client, "/episodes")
    episode = db.session.scalar(db.select(Episode).order_by(Episode.number))
    episode.title = "A title given after the page was kept"
    db.session.commit()
    assert "A title given after the page was kept" in _get(client, "/episodes")


def test_a_new_answer_counts_at_once_on_the_kept_group_page(app, client, room):
    url = f"/groups/{room['group'].slug}"
    _sign_in(client, room["cat"])
    _get(client, url)
    hits = _hits()
    assert "2 answers" in _get(client, url)
    assert _hits() == hits + 1
    dan = f.add_member(room["group"], f.make_user(name="Dan Late"))
    f.make_answer(room["group"], dan, room["question"], "Dan arrives")
    assert "3 answers" in _get(client, url)


def test_a_message_the_page_itself_shows_is_not_kept(app, client, room):
    url = "/episodes?dimension=no-such-dimension"
    first = _get(client, url)
    assert "There is no such dimension" in first
    hits = _hits()
    # Shown again because the page is built again (and says it again), not kept.
    assert "There is no such dimension" in _get(client, url)
    assert _hits() == hits
    assert "There is no such dimension" not in _get(client, "/episodes")


def test_a_kept_thread_page_shows_a_new_post_at_once(app, client, room):
    from coprod_study.discussion import service as discussion

    thread = discussion.create_thread(room["facilitator"], room["group"],
                                      title="Kept thread", body="Opening words")
    url = f"/groups/{room['group'].slug}/threads/{thread.id}"
    _sign_in(client, room["bob"])
    first = _get(client, url)  # notes how far Bob has read: the next one is built again
    assert "Opening words" in first
    _get(client, url)
    hits = _hits()
    assert _get(client, url).count("Opening words") == first.count("Opening words")
    assert _hits() == hits + 1
    discussion.reply(room["cat"], thread, "Cat adds a point")
    assert "Cat adds a point" in _get(client, url)


# --- The course progress page ------------------------------------------------------------


@pytest.fixture()
def taught(sample_catalog):
    from datetime import timedelta

    educator = f.make_user(role="educator", name="Eda Teacher")
    course = f.make_course(educator, code="KEPT", title="Kept course")
    group = f.make_course_group(course, educator, "Circle")
    ann = f.enrol(course, f.make_user(name="Ann Learner"))
    f.place(course, group, ann)
    assignment = f.make_assignment(course, due_in=timedelta(days=3), required_questions=[1])
    return {"educator": educator, "course": course, "group": group, "ann": ann,
            "assignment": assignment, "url": "/courses/KEPT/progress"}


def test_the_progress_page_is_kept_and_shows_an_answer_at_once(app, client, taught):
    _sign_in(client, taught["educator"])
    first = _get(client, taught["url"])
    assert "0/1 answered" in first
    hits = _hits()
    assert _unsigned(_get(client, taught["url"])) == _unsigned(first)
    assert _hits() == hits + 1
    _, question = f.first_question(taught["group"], taught["assignment"].episode)
    f.make_answer(taught["group"], taught["ann"], question, "Ann answers")
    assert "1/1 answered" in _get(client, taught["url"])


def test_a_kept_progress_page_is_refused_to_an_educator_taken_off_the_course(
    app, client, taught
):
    from coprod_study.models import CourseMember

    co_educator = f.enrol(taught["course"], f.make_user(role="educator", name="Co Teacher"),
                          role="educator")
    _sign_in(client, co_educator)
    assert "Ann Learner" in _get(client, taught["url"])
    hits = _hits()
    _get(client, taught["url"])
    assert _hits() == hits + 1  # kept for them
    db.session.query(CourseMember).filter_by(
        course_id=taught["course"].id, user_id=co_educator.id
    ).delete()
    db.session.commit()
    response = client.get(taught["url"])
    assert response.status_code == 404
    assert "Ann Learner" not in response.get_data(as_text=True)
