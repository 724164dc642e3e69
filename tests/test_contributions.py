"""The contribution summary: counts per learner, who sees which rows, CSV, constant queries."""

from datetime import timedelta

from sqlalchemy import insert, select

from coprod_study.courses import checkpoints as checkpoint_service
from coprod_study.courses import contributions
from coprod_study.extensions import db
from coprod_study.models import Answer, Assignment, Post, Reply, Thread, User
from tests import factories as f
from tests import test_courses_progress as progress_tests
from tests.test_courses_progress import NOW, read_csv, seed_course, signed_in

course = progress_tests.course  # Ann (Alpha), Bob (Beta), Cat (no group, work outside the course)


def add_activity(course):
    ann, bob = course["ann"], course["bob"]
    ann_answer = db.session.scalars(
        select(Answer).where(Answer.user_id == ann.id).order_by(Answer.id)
    ).first()
    ann_answer.endorsed_at = NOW
    db.session.add(Reply(answer_id=ann_answer.id, user_id=bob.id, body="Good point\nhere",
                         body_html="<p>Good point here</p>", created_at=NOW - timedelta(hours=1)))
    thread = Thread(group_id=course["alpha"].id, author_id=course["educator"].id, title="Talk")
    db.session.add(thread)
    db.session.flush()
    db.session.add(Post(thread_id=thread.id, user_id=ann.id, body="Four words in here",
                        body_html="<p>Four words in here</p>"))
    db.session.commit()


def row(table, user):
    return next(r for r in table.rows if r.user.id == user.id)


def test_counts_what_each_learner_did_in_the_course(course):
    add_activity(course)
    table = contributions.summary(course["course"], now=NOW)
    assert [r.user.display_name for r in table.rows] == ["Ann", "Bob", "Cat"]
    ann = row(table, course["ann"])
    # Four live answers ("My answer"), two replies ("r") under her own answer, one post.
    assert (ann.answers, ann.replies_written, ann.replies_received) == (4, 2, 1)
    assert (ann.thread_posts, ann.endorsed, ann.listened) == (1, 1, 1)
    assert ann.words == 4 * 2 + 2 * 1 + 4
    bob = row(table, course["bob"])
    assert (bob.answers, bob.replies_written, bob.replies_received, bob.words) == (2, 1, 0, 7)
    assert bob.last_activity == NOW - timedelta(hours=1)
    cat = row(table, course["cat"])  # answered only in a group outside the course
    assert (cat.answers, cat.words, cat.first_activity) == (0, 0, None)


def test_sorting_and_checkpoint_columns(course):
    add_activity(course)
    checkpoint_service.save_checkpoints(
        course["first"], answers_due=(NOW - timedelta(hours=36)).replace(tzinfo=None),
        replies_required=None, replies_due=None,
    )
    table = contributions.summary(course["course"], sort="words", descending=True, now=NOW)
    assert [r.user.display_name for r in table.rows] == ["Ann", "Bob", "Cat"]
    table = contributions.summary(course["course"], sort="replies_written", now=NOW)
    assert [r.user.display_name for r in table.rows] == ["Cat", "Bob", "Ann"]
    assert [(a.id, kind) for a, kind in table.checkpoints] == [(course["first"].id, "answers")]
    statuses = {r.user.display_name: r.checkpoints[0].status for r in table.rows}
    assert statuses == {"Ann": "on_time", "Bob": "late", "Cat": "overdue"}


def test_educators_see_everyone_a_learner_only_themselves(app, course):
    add_activity(course)
    educator = signed_in(app, course["educator"])
    page = educator.get("/courses/PROG/contributions?sort=answers&order=desc")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert body.index(">Ann<") < body.index(">Bob<") < body.index(">Cat<")
    assert 'aria-sort="descending"' in body
    learner = signed_in(app, course["bob"])
    body = learner.get("/courses/PROG/contributions").get_data(as_text=True)
    assert ">Bob<" in body and ">Ann<" not in body and ">Cat<" not in body
    rows = read_csv(learner.get("/courses/PROG/contributions.csv"))
    assert [r["learner_name"] for r in rows] == ["Bob"]
    outsider = signed_in(app, f.make_user())
    assert outsider.get("/courses/PROG/contributions").status_code == 404
    assert outsider.get("/courses/PROG/contributions.csv").status_code == 404


def test_the_csv_is_formula_safe(app, course):
    add_activity(course)
    ann = db.session.get(User, course["ann"].id)
    ann.display_name = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    client = signed_in(app, course["educator"])
    rows = read_csv(client.get("/courses/PROG/contributions.csv"))
    names = [r["learner_name"] for r in rows]
    assert "'=HYPERLINK(\"http://evil\")" in names
    bob = next(r for r in rows if r["learner_name"] == "Bob")
    assert (bob["answers"], bob["replies_written"], bob["words"]) == ("2", "1", "7")
    assert bob["last_activity_utc"].endswith("Z")


def _replies_and_posts(course):
    """Each learner replies to the next one's first answer and posts once in a thread."""
    answers = db.session.execute(
        select(Answer.id, Answer.user_id, Answer.group_id)
        .join(User, User.id == Answer.user_id)
        .where(User.email.like(f"{course.code.lower()}-%"))
        .order_by(Answer.id)
    ).all()
    first = {}
    for answer_id, user_id, group_id in answers:
        first.setdefault(user_id, (answer_id, group_id))
    users = sorted(first)
    db.session.execute(insert(Reply), [
        {"answer_id": first[users[(n + 1) % len(users)]][0], "user_id": uid, "body": "a reply",
         "body_html": "<p>a reply</p>", "anonymous": False, "created_at": NOW}
        for n, uid in enumerate(users)
    ])
    threads = {}
    for _answer_id, group_id in first.values():
        if group_id not in threads:
            thread = Thread(group_id=group_id, title="Thread")
            db.session.add(thread)
            db.session.flush()
            threads[group_id] = thread.id
    db.session.execute(insert(Post), [
        {"thread_id": threads[first[uid][1]], "user_id": uid, "body": "a post",
         "body_html": "<p>a post</p>", "anonymous": False, "created_at": NOW}
        for uid in users
    ])
    db.session.commit()


def test_the_page_and_csv_run_the_same_queries_for_3_and_30_learners(
    app, sample_catalog, count_queries, capsys
):
    app.config["PAGE_CACHE_MB"] = 0
    educator = f.make_user(role="educator")
    small = seed_course("FEW", 3, educator)
    large = seed_course("MANY", 30, educator)
    for seeded in (small, large):
        _replies_and_posts(seeded)
        assignment = db.session.scalar(select(Assignment).where(Assignment.course_id == seeded.id))
        checkpoint_service.save_checkpoints(
            assignment, answers_due=(NOW - timedelta(days=1)).replace(tzinfo=None),
            replies_required=1, replies_due=(NOW + timedelta(days=1)).replace(tzinfo=None),
        )
    client = signed_in(app, educator)
    counts = {}
    for seeded in (small, large):
        for suffix in ("contributions", "contributions.csv"):
            client.get(f"/courses/{seeded.code}/{suffix}")
            with count_queries() as statements:
                response = client.get(f"/courses/{seeded.code}/{suffix}")
            assert response.status_code == 200
            counts[(seeded.code, suffix)] = len(statements)
    assert counts[("FEW", "contributions")] == counts[("MANY", "contributions")]
    assert counts[("FEW", "contributions.csv")] == counts[("MANY", "contributions.csv")]
    assert counts[("MANY", "contributions")] <= 15
    with capsys.disabled():
        print(f"\ncontribution summary: statements per request {counts}")
    rows = read_csv(client.get("/courses/MANY/contributions.csv"))
    assert len(rows) == 30
    assert all(r["replies_written"] == "1" and r["thread_posts"] == "1" for r in rows)
    assert sum(int(r["replies_received"]) for r in rows) == 30
