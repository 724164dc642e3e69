"""Seed a course of 300 learners and 12 assignments; print the progress page's and CSV's times.

Run: python benchmarks/progress_page.py [--learners 300] [--assignments 12] [--runs 15]
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coprod_study import MIGRATIONS_DIR, create_app  # noqa: E402
from coprod_study.account.service import hash_password  # noqa: E402
from coprod_study.catalog import service as catalog
from coprod_study.courses import service as courses  # noqa: E402
from coprod_study.extensions import db  # noqa: E402
from coprod_study.models import (  # noqa: E402
    Answer,
    Assignment,
    CourseMember,
    Episode,
    ListeningProgress,
    Membership,
    Reply,
    StudyQuestion,
    User,
)

GROUP_SIZE = 30


def _episodes(wanted: int) -> list[Episode]:
    """The sample catalog's episodes, plus made-up ones until there are `wanted`."""
    episodes = list(db.session.scalars(select(Episode).order_by(Episode.number)))
    template = episodes[0]
    while len(episodes) < wanted:
        number = len(episodes) + 1
        extra = Episode(
            slug=f"benchmark-episode-{number}",
            number=number,
            title=f"Benchmark episode {number}",
            dimension_id=template.dimension_id,
            is_sample=True,
        )
        db.session.add(extra)
        db.session.flush()
        db.session.add_all(
            StudyQuestion(episode_id=extra.id, position=p, prompt=f"Question {p}?", audiences=[])
            for p in range(1, 6)
        )
        episodes.append(extra)
    db.session.commit()
    return list(db.session.scalars(select(Episode).order_by(Episode.number)))[:wanted]


def seed(learner_total: int, assignment_total: int, rng: random.Random):
    catalog.load_file(catalog.sample_catalog_path())
    password = hash_password("benchmark passphrase")
    educator = User(
        email="educator@example.org", display_name="Educator", password_hash=password,
        role="educator",
    )
    db.session.add(educator)
    db.session.commit()
    course = courses.create_course(
        educator, title="Benchmark course", code="BENCH", time_zone="Europe/Stockholm"
    )
    groups = [
        courses.create_course_group(educator, course, name=f"Group {n + 1}")
        for n in range(-(-learner_total // GROUP_SIZE))
    ]
    now = datetime.now(UTC).replace(microsecond=0)
    episodes = _episodes(assignment_total)
    # Half the assignments are past due, the rest are coming up.
    assignments = [
        Assignment(
            course_id=course.id,
            episode_id=episode.id,
            opens_at=now + timedelta(days=7 * n - 60),
            due_at=now + timedelta(days=7 * n - 40),
            required_questions=None if n % 3 else [1, 2, 3],
            instructions="Listen and answer.",
            instructions_html="<p>Listen and answer.</p>",
        )
        for n, episode in enumerate(episodes)
    ]
    db.session.add_all(assignments)
    people = [
        User(email=f"learner{n}@example.org", display_name=f"Learner {n:03d}",
             password_hash=password)
        for n in range(learner_total)
    ]
    db.session.add_all(people)
    db.session.flush()
    db.session.execute(
        insert(CourseMember),
        [{"course_id": course.id, "user_id": p.id, "role": "learner", "created_at": now}
         for p in people],
    )
    group_of = {p.id: groups[n // GROUP_SIZE] for n, p in enumerate(people)}
    db.session.execute(
        insert(Membership),
        [{"group_id": group_of[p.id].id, "user_id": p.id, "role": "member", "status": "active",
          "created_at": now} for p in people],
    )
    questions = {
        e.id: [q.id for q in sorted(e.questions, key=lambda q: q.position)] for e in episodes
    }
    listening, answers = [], []
    for person in people:
        diligence = rng.random()
        for assignment in assignments:
            if rng.random() < diligence + 0.2:
                listening.append(
                    {"user_id": person.id, "episode_id": assignment.episode_id, "listened": True,
                     "position_seconds": 0, "updated_at": assignment.due_at - timedelta(days=2)}
                )
            for question_id in questions[assignment.episode_id]:
                if rng.random() < diligence:
                    late = rng.random() < 0.15
                    at = assignment.due_at + timedelta(days=1 if late else -3)
                    answers.append(
                        {"group_id": group_of[person.id].id, "user_id": person.id,
                         "study_question_id": question_id, "anonymous": False,
                         "body": "A thoughtful answer about coproduction, a few sentences long.",
                         "body_html": "<p>A thoughtful answer about coproduction.</p>",
                         "created_at": min(at, now)}
                    )
    db.session.execute(insert(ListeningProgress), listening)
    db.session.execute(insert(Answer), answers)
    db.session.commit()
    answer_rows = db.session.execute(select(Answer.id, Answer.group_id)).all()
    members_of: dict[int, list[int]] = {}
    for person in people:
        members_of.setdefault(group_of[person.id].id, []).append(person.id)
    replies = [
        {"answer_id": answer_id, "user_id": rng.choice(members_of[group_id]),
         "body": "I agree.", "body_html": "<p>I agree.</p>", "anonymous": False,
         "created_at": now}
        for answer_id, group_id in rng.sample(answer_rows, k=min(len(answer_rows), 4000))
    ]
    db.session.execute(insert(Reply), replies)
    db.session.commit()
    return educator, course, len(answers), len(replies)


def _time(client, url: str, runs: int, statements: list) -> tuple[float, int, int]:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    timings = []
    for _ in range(runs):
        statements.clear()
        start = time.perf_counter()
        client.get(url)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings), len(statements), len(response.data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--assignments", type=int, default=12)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": folder,
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "benchmark",
                "WTF_CSRF_ENABLED": False,
            }
        )
        with app.app_context():
            from flask_migrate import upgrade

            upgrade(directory=str(MIGRATIONS_DIR))
            educator, course, answer_count, reply_count = seed(
                args.learners, args.assignments, random.Random(args.seed)
            )
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = educator.get_id()
                session["_fresh"] = True
                session["auth_at"] = int(time.time())
            statements: list[str] = []
            event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
            page_time, page_queries, page_size = _time(
                client, f"/courses/{course.code}/progress", args.runs, statements
            )
            csv_time, csv_queries, csv_size = _time(
                client, f"/courses/{course.code}/progress.csv", args.runs, statements
            )
            print(f"database: {db.engine.dialect.name}")
            print(
                f"learners: {args.learners}, assignments: {args.assignments}, "
                f"answers: {answer_count}, replies: {reply_count}, runs: {args.runs}"
            )
            print(f"progress page: median {page_time * 1000:.1f} ms, {page_queries} queries, "
                  f"{page_size / 1024:.0f} KiB")
            print(f"CSV export: median {csv_time * 1000:.1f} ms, {csv_queries} queries, "
                  f"{csv_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
