"""The progress table and its CSV export: numbers, who may see them, query count."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from coprod_study.courses import progress
from coprod_study.extensions import db
from coprod_study.groups import service as group_service
from coprod_study.models import (
    Answer,
    CourseMember,
    Episode,
    Extension,
    ListeningProgress,
    Membership,
    Reply,
    User,
)
from tests import factories as f
from tests.conftest import login

NOW = datetime.now(UTC).replace(microsecond=0)


def episode(number: int) -> Episode:
    return db.session.scalar(select(Episode).where(Episode.number == number))


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


def answer(group, user, episode_number, question_number, at, **fields):
    question = group_service.get_question(group, episode(episode_number), question_number)
    return f.make_answer(group, user, question, created_at=at, **fields)


def listened(user, episode_number, at=None):
    db.session.add(
        ListeningProgress(
            user_id=user.id, episode_id=episode(episode_number).id, listened=True,
            updated_at=at or NOW - timedelta(days=3),
        )
    )
    db.session.commit()


@pytest.fixture
def course(sample_catalog):
    """Alpha: Ann (on time). Beta: Bob (late). Cat: in no group, did nothing, has an
    extension on the first assignment. The first assignment was due a day ago."""
    educator = f.make_user(role="educator", name="Eda")
    course = f.make_course(educator, code="PROG", title="Progress Course")
    alpha = f.make_course_group(course, educator, "Alpha")
    beta = f.make_course_group(course, educator, "Beta")
    ann = f.enrol(course, f.make_user(name="Ann"))
    bob = f.enrol(course, f.make_user(name="Bob"))
    cat = f.enrol(course, f.make_user(name="Cat"))
    f.place(course, alpha, ann)
    f.place(course, beta, bob)
    first = f.make_assignment(
        course, episode(1), opens_in=timedelta(days=-10), due_in=timedelta(days=-1),
        required_questions=[1, 2],
    )
    second = f.make_assignment(course, episode(2), due_in=timedelta(days=3))
    before, after = NOW - timedelta(days=2), NOW - timedelta(hours=12)
    listened(ann, 1)
    ann_answer = answer(alpha, ann, 1, 1, before)
    answer(alpha, ann, 1, 2, before)
    answer(alpha, ann, 1, 3, after)  # not required: does not count
    answer(alpha, ann, 2, 1, before)
    listened(bob, 1)
    answer(beta, bob, 1, 1, before)
    answer(beta, bob, 1, 2, after)
    answer(beta, bob, 2, 1, before, deleted_at=before)  # deleted: does not count
    # Work outside the course's groups does not count.
    plain = f.make_group(cat)
    answer(plain, cat, 1, 1, before)
    answer(plain, cat, 1, 2, before)
    db.session.add_all(
        [
            Reply(answer_id=ann_answer.id, user_id=ann.id, body="r", body_html="<p>r</p>"),
            Reply(answer_id=ann_answer.id, user_id=ann.id, body="r", body_html="<p>r</p>"),
            Reply(
                answer_id=ann_answer.id, user_id=ann.id, body="gone", body_html="<p>gone</p>",
                deleted_at=before,
            ),
        ]
    )
    db.session.add(Extension(assignment_id=first.id, user_id=cat.id, due_at=NOW + timedelta(days=2)))
    db.session.commit()
    return {
        "educator": educator, "course": course, "alpha": alpha, "beta": beta,
        "ann": ann, "bob": bob, "cat": cat, "first": first, "second": second,
    }


def cell(table, user, assignment):
    row = next(r for r in table.rows if r.user.id == user.id)
    return next(c for c in row.cells if c.assignment.id == assignment.id)


def test_progress_counts_listening_answers_replies_and_timing(course):
    table = progress.progress_table(course["course"])
    assert [r.user.display_name for r in table.rows] == ["Ann", "Bob", "Cat"]
    ann = cell(table, course["ann"], course["first"])
    assert (ann.listened, ann.answered, ann.required, ann.replies) == (True, 2, 2, 2)
    assert ann.status == "on_time" and ann.timing == "on time"
    bob = cell(table, course["bob"], course["first"])
    assert (bob.listened, bob.answered, bob.required, bob.replies) == (True, 2, 2, 0)
    assert bob.status == "late" and bob.timing == "late"
    cat = cell(table, course["cat"], course["first"])
    assert (cat.listened, cat.answered) == (False, 0)
    assert cat.extended and cat.status == "due_soon" and cat.timing == ""
    assert cat.left == "0 of 2 questions answered, not marked listened"
    ann_second = cell(table, course["ann"], course["second"])
    assert (ann_second.answered, ann_second.required) == (1, 5)
    assert ann_second.status == "due_soon"
    bob_second = cell(table, course["bob"], course["second"])
    assert bob_second.answered == 0
    # Totals per assignment.
    first_total = table.totals[0]
    assert (first_total.listened, first_total.done, first_total.on_time, first_total.late) == (
        2, 2, 1, 1,
    )
    assert (first_total.answered, first_total.required, first_total.replies) == (4, 6, 2)
    # Totals per learner.
    ann_row = table.rows[0]
    assert (ann_row.done, ann_row.late, ann_row.answered, ann_row.required) == (1, 0, 3, 7)


def test_the_educator_sees_the_table(app, course):
    client = signed_in(app, course["educator"])
    response = client.get("/courses/PROG/progress")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2/2 answered" in page and "on time" in page and "late" in page
    assert "Totals (3 learners)" in page
    assert "2 done (1 on time, 1 late)" in page and "0 overdue" in page


def test_filter_by_group_and_sort(app, course):
    client = signed_in(app, course["educator"])
    alpha = client.get("/courses/PROG/progress?group=alpha").get_data(as_text=True)
    body = alpha.split("<tbody>")[1].split("</tbody>")[0]
    assert "Ann" in body and "Bob" not in body and "Cat" not in body
    assert "Totals (1 learner)" in alpha
    unplaced = progress.progress_table(course["course"], group="none")
    assert [r.user.display_name for r in unplaced.rows] == ["Cat"]
    by_late = progress.progress_table(course["course"], sort="late", descending=True)
    assert by_late.rows[0].user.display_name == "Bob"
    by_group = progress.progress_table(course["course"], sort="group")
    assert [r.user.display_name for r in by_group.rows] == ["Ann", "Bob", "Cat"]
    by_replies = progress.progress_table(course["course"], sort="replies", descending=True)
    assert by_replies.rows[0].user.display_name == "Ann"
    page = client.get("/courses/PROG/progress?sort=done&order=desc").get_data(as_text=True)
    assert 'aria-sort="descending"' in page
    unknown = client.get("/courses/PROG/progress?group=nope&sort=bogus")
    assert unknown.status_code == 200
    assert "There is no such group in this course" in unknown.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/courses/PROG/progress", "/courses/PROG/progress.csv"])
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("educator", 200),
        ("co_educator", 200),
        ("admin", 200),
        ("learner", 403),
        ("other_educator", 404),
        ("outsider", 404),
    ],
)
def test_who_sees_progress(app, course, path, who, status):
    other_course = f.make_course(code="OTHER")
    people = {
        "educator": course["educator"],
        "co_educator": f.enrol(course["course"], f.make_user(), role="educator"),
        "admin": f.make_user(role="admin"),
        "learner": course["ann"],
        "other_educator": db.session.scalar(
            select(User).join(CourseMember).where(CourseMember.course_id == other_course.id)
        ),
        "outsider": f.make_user(role="educator"),
    }
    response = signed_in(app, people[who]).get(path)
    assert response.status_code == status
    if status != 200:
        page = response.get_data(as_text=True)
        assert "Bob" not in page and "2/2 answered" not in page


def read_csv(response):
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_has_one_row_per_learner_per_assignment(app, course):
    response = signed_in(app, course["educator"]).get("/courses/PROG/progress.csv")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    # The checkpoint columns come last (added, never renamed).
    from coprod_study.courses.checkpoint_reports import CSV_COLUMNS as CHECKPOINT_COLUMNS

    assert list(rows[0].keys()) == list(progress.CSV_COLUMNS) + list(CHECKPOINT_COLUMNS)
    assert len(rows) == 3 * 2
    ann = next(r for r in rows if r["learner_name"] == "Ann" and r["episode_number"] == "1")
    assert ann["group"] == "Alpha" and ann["listened"] == "yes"
    assert (ann["questions_answered"], ann["questions_required"], ann["replies_written"]) == (
        "2", "2", "2",
    )
    assert ann["status"] == "on_time" and ann["completed_at_utc"].endswith("Z")
    assert ann["due_at_utc"] == course["first"].due_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    bob = next(r for r in rows if r["learner_name"] == "Bob" and r["episode_number"] == "1")
    assert bob["status"] == "late"
    cat = next(r for r in rows if r["learner_name"] == "Cat" and r["episode_number"] == "1")
    assert cat["extended_due_at_utc"] and cat["status"] == "due_soon" and cat["group"] == ""
    beta_only = read_csv(
        signed_in(app, course["educator"]).get("/courses/PROG/progress.csv?group=beta")
    )
    assert {r["learner_name"] for r in beta_only} == {"Bob"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1+2", "'+1+2"),
        ("-3+4", "'-3+4"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTabbed", "'\tTabbed"),
        ("Åsa Öberg-Ng", "Åsa Öberg-Ng"),
    ],
)
def test_csv_escapes_formula_cells_and_keeps_unicode(app, course, name, expected):
    course["ann"].display_name = name
    course["alpha"].name = "=cmd|' /C calc'!A0"
    db.session.commit()
    rows = read_csv(signed_in(app, course["educator"]).get("/courses/PROG/progress.csv"))
    ann_rows = [r for r in rows if r["learner_id"] == str(course["ann"].id)]
    assert len(ann_rows) == 2
    assert all(r["learner_name"] == expected for r in ann_rows)
    assert all(r["group"] == "'=cmd|' /C calc'!A0" for r in ann_rows)


def test_spreadsheet_safe_leaves_ordinary_values():
    assert progress.spreadsheet_safe("Ann") == "Ann"
    assert progress.spreadsheet_safe(12) == "12"
    assert progress.spreadsheet_safe(None) == ""
    assert progress.spreadsheet_safe("\rx") == "'\rx"


# --- Speed: a constant number of queries --------------------------------------------------


def seed_course(code: str, learners: int, educator: User):
    """A course with `learners` learners in two groups, three assignments and answers."""
    course = f.make_course(educator, code=code)
    groups = [f.make_course_group(course, educator, f"{code} {n}") for n in range(2)]
    assignments = [
        f.make_assignment(course, episode(n), due_in=timedelta(days=n - 2)) for n in (1, 2, 3)
    ]
    password_hash = db.session.get(User, educator.id).password_hash
    start = db.session.scalar(select(User.id).order_by(User.id.desc()).limit(1)) + 1
    db.session.execute(
        insert(User),
        [
            {
                "id": start + n, "email": f"{code.lower()}-{n}@example.org",
                "display_name": f"{code} learner {n}", "password_hash": password_hash,
                "role": "learner", "language": "en", "time_zone": "UTC",
                "email_preference": "daily", "session_version": 1,
                "created_at": NOW, "updated_at": NOW,
            }
            for n in range(learners)
        ],
    )
    ids = [start + n for n in range(learners)]
    db.session.execute(
        insert(CourseMember),
        [{"course_id": course.id, "user_id": uid, "role": "learner", "created_at": NOW}
         for uid in ids],
    )
    db.session.execute(
        insert(Membership),
        [{"group_id": groups[n % 2].id, "user_id": uid, "role": "member", "status": "active",
          "created_at": NOW} for n, uid in enumerate(ids)],
    )
    rows = []
    for n, uid in enumerate(ids):
        for assignment in assignments:
            for q in assignment.episode.questions[: 1 + n % 5]:
                rows.append(
                    {"group_id": groups[n % 2].id, "user_id": uid, "study_question_id": q.id,
                     "body": "a", "body_html": "<p>a</p>", "anonymous": False,
                     "created_at": NOW - timedelta(days=1)}
                )
    db.session.execute(insert(Answer), rows)
    db.session.execute(
        insert(ListeningProgress),
        [{"user_id": uid, "episode_id": assignments[0].episode_id, "listened": True,
          "position_seconds": 0, "updated_at": NOW} for uid in ids[::2]],
    )
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy import text

        db.session.execute(text("SELECT setval('users_id_seq', (SELECT max(id) FROM users))"))
    db.session.commit()
    return course


@pytest.mark.slow
def test_progress_page_runs_the_same_queries_for_5_and_300_learners(
    app, sample_catalog, count_queries
):
    app.config["PAGE_CACHE_MB"] = 0  # the statements that build the page, none kept
    educator = f.make_user(role="educator")
    small = seed_course("SMALL", 5, educator)
    large = seed_course("LARGE", 300, educator)
    client = signed_in(app, educator)
    counts = {}
    for course in (small, large):
        for suffix in ("progress", "progress.csv"):
            client.get(f"/courses/{course.code}/{suffix}")  # warm caches
            with count_queries() as statements:
                response = client.get(f"/courses/{course.code}/{suffix}")
            assert response.status_code == 200
            counts[(course.code, suffix)] = len(statements)
    assert counts[("SMALL", "progress")] == counts[("LARGE", "progress")]
    assert counts[("SMALL", "progress.csv")] == counts[("LARGE", "progress.csv")]
    assert counts[("LARGE", "progress")] <= 8  # the page (progress_table.py)
    assert counts[("LARGE", "progress.csv")] <= 20
    page = client.get("/courses/LARGE/progress").get_data(as_text=True)
    assert "Totals (300 learners)" in page
    rows = read_csv(client.get("/courses/LARGE/progress.csv"))
    assert len(rows) == 300 * 3


def test_work_never_done_is_overdue_not_late_on_the_page_and_in_the_csv(app, sample_catalog):
    educator = f.make_user(role="educator", name="Eda")
    course = f.make_course(educator, code="PAST", title="Past Course")
    learners = [f.enrol(course, f.make_user(name=name)) for name in ("Ann", "Bob")]
    f.make_assignment(course, episode(1), opens_in=timedelta(days=-10), due_in=timedelta(days=-1))
    table = progress.progress_table(course)
    cells = [row.cells[0] for row in table.rows]
    assert [c.status for c in cells] == ["overdue", "overdue"]
    assert [c.timing for c in cells] == ["", ""]  # not done, so neither on time nor late
    assert [(r.late, r.overdue) for r in table.rows] == [(0, 1), (0, 1)]
    assert (table.totals[0].late, table.totals[0].overdue) == (0, 2)

    client = signed_in(app, educator)
    page = client.get("/courses/PAST/progress").get_data(as_text=True)
    body = page.split("<tbody>")[1].split("</tbody>")[0]
    assert body.count('<span class="chip chip-overdue">Overdue</span>') == 2
    assert ">late<" not in body.lower() and "chip-late" not in body
    assert "0 done (0 on time, 0 late)" in page and "2 overdue" in page
    assert 'href="/courses/PAST/progress?sort=overdue' in page
    rows = list(csv.DictReader(io.StringIO(client.get("/courses/PAST/progress.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["status"] for r in rows] == ["overdue", "overdue"]
    assert len(learners) == 2


def test_each_status_has_a_chip_with_its_word(app, course):
    client = signed_in(app, course["educator"])
    body = client.get("/courses/PROG/progress").get_data(as_text=True).split("<tbody>")[1]
    assert '<span class="chip chip-on_time">On time</span>' in body  # Ann, episode 1
    assert '<span class="chip chip-late">Late</span>' in body  # Bob, episode 1
    assert '<span class="chip chip-due_soon">Due soon</span>' in body  # Cat, with an extension
