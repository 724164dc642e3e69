"""Seed one group with 500 answers and 1,500 replies; print the question page's render time and query count.

The page shows 20 answers unless --per-page asks for 50, 100 or 200.
Run: python benchmarks/question_page.py [--answers 500] [--replies 1500] [--per-page 20] [--runs 30]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coprod_study import MIGRATIONS_DIR, create_app  # noqa: E402
from coprod_study.account.service import hash_password  # noqa: E402
from coprod_study.catalog import service as catalog
from coprod_study.extensions import db  # noqa: E402
from coprod_study.groups import service as groups  # noqa: E402
from coprod_study.models import Answer, Membership, Reply, User  # noqa: E402


def seed(answer_total: int, reply_total: int):
    catalog.load_file(catalog.sample_catalog_path())
    password = hash_password("benchmark passphrase")
    facilitator = User(email="fac@example.org", display_name="Facilitator", password_hash=password)
    db.session.add(facilitator)
    db.session.commit()
    group = groups.create_group(facilitator, name="Benchmark group")
    episode = groups.get_episode("respect-in-the-room")
    question = groups.get_question(group, episode, 1)
    people = [
        User(email=f"learner{n}@example.org", display_name=f"Learner {n}", password_hash=password)
        for n in range(answer_total)
    ]
    db.session.add_all(people)
    db.session.flush()
    db.session.add_all(
        Membership(group_id=group.id, user_id=person.id, role="member", status="active")
        for person in people
    )
    answers = [
        Answer(
            group_id=group.id,
            user_id=person.id,
            study_question_id=question.study_question_id,
            body=f"Answer {n} with some **thought** in it.",
            body_html=f"<p>Answer {n} with some <strong>thought</strong> in it.</p>",
        )
        for n, person in enumerate(people)
    ]
    db.session.add_all(answers)
    db.session.flush()
    db.session.add_all(
        Reply(
            answer_id=answers[n % len(answers)].id,
            user_id=people[(n * 7) % len(people)].id,
            body=f"Reply {n}",
            body_html=f"<p>Reply {n}</p>",
        )
        for n in range(reply_total)
    )
    db.session.commit()
    return facilitator, f"/groups/{group.slug}/episodes/{episode.slug}/questions/1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=500)
    parser.add_argument("--replies", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--per-page", type=int, default=20, choices=(20, 50, 100, 200))
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
            facilitator, page_url = seed(args.answers, args.replies)
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = facilitator.get_id()
                session["_fresh"] = True
                session["auth_at"] = int(time.time())
            page_url += f"?per_page={args.per_page}"
            statements: list[str] = []
            event.listen(
                db.engine,
                "before_cursor_execute",
                lambda *a: a[2].split()[0].upper() != "BEGIN" and statements.append(a[2]),
            )
            response = client.get(page_url)
            assert response.status_code == 200, response.status_code
            shown = response.data.count(b'class="post answer')
            assert shown == min(args.per_page, args.answers), shown
            timings = []
            for _ in range(args.runs):
                statements.clear()
                start = time.perf_counter()
                client.get(page_url)
                timings.append(time.perf_counter() - start)
            print(f"database: {db.engine.dialect.name}")
            print(f"answers: {args.answers}, replies: {args.replies}, runs: {args.runs}")
            print(f"answers on the page: {shown}")
            print(f"page size: {len(response.data) / 1024:.0f} KiB")
            print(f"median render time: {statistics.median(timings) * 1000:.1f} ms")
            print(f"queries per page: {len(statements)}")


if __name__ == "__main__":
    main()
