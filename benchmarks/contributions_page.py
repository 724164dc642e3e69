"""The progress benchmark's course (300 learners, 12 assignments); print the contribution
summary's and its CSV's times and statement counts.

Run: python benchmarks/contributions_page.py [--learners 300] [--assignments 12] [--runs 15]
"""

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from progress_page import _time, seed  # noqa: E402

from coprod_study import MIGRATIONS_DIR, create_app  # noqa: E402
from coprod_study.extensions import db  # noqa: E402


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
        app = create_app({"TESTING": True, "INSTANCE_PATH": folder, "SQLALCHEMY_DATABASE_URI": url,
                          "SECRET_KEY": "benchmark", "WTF_CSRF_ENABLED": False})
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
            print(f"database: {db.engine.dialect.name}")
            print(f"learners: {args.learners}, assignments: {args.assignments}, "
                  f"answers: {answer_count}, replies: {reply_count}, runs: {args.runs}")
            for label, suffix in (("contribution summary", "contributions"),
                                  ("its CSV", "contributions.csv")):
                took, queries, size = _time(client, f"/courses/{course.code}/{suffix}",
                                            args.runs, statements)
                print(f"{label}: median {took * 1000:.1f} ms, {queries} queries, "
                      f"{size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
