"""Seed 100,000 posts and the sample transcripts; print search latency for a member of 3 groups.

Run: python benchmarks/search.py [--posts 100000] [--queries 200] [--database-url URL]
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coprod_study import MIGRATIONS_DIR, create_app  # noqa: E402
from coprod_study.catalog import service as catalog
from coprod_study.extensions import db  # noqa: E402
from coprod_study.models import Answer, Membership, StudyGroup, StudyQuestion, User  # noqa: E402
from coprod_study.search import service as search  # noqa: E402

WORDS = (
    "respect listening trust clinic nurse family patient doctor plan goal visit home care "
    "question story change learning partner decision knowledge time team measure habit "
    "worry hope medicine routine kitchen walk sleep diary feedback budget community "
    "pharmacy waiting appointment letter phone tablet coach carer rehab diabetes asthma"
).split()


def sentence(rng: random.Random, length: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(length)).capitalize() + "."


def seed(total_posts: int, rng: random.Random) -> User:
    catalog.load_file(catalog.sample_catalog_path())
    users = [
        {"email": f"u{n}@example.org", "display_name": f"User {n}", "password_hash": "x",
         "role": "learner", "language": "en", "time_zone": "UTC", "email_preference": "off",
         "session_version": 1}
        for n in range(2000)
    ]
    from coprod_study.models.base import utcnow

    now = utcnow()
    for row in users:
        row["created_at"] = row["updated_at"] = now
    db.session.execute(insert(User), users)
    user_ids = list(db.session.scalars(select(User.id)))
    groups = [
        {"slug": f"group-{n}", "name": f"Group {n}", "description": "", "description_html": "",
         "join_policy": "open", "post_first": n % 2 == 0, "allow_anonymous": False,
         "invite_code": f"code-{n}", "created_at": now}
        for n in range(120)
    ]
    db.session.execute(insert(StudyGroup), groups)
    group_ids = list(db.session.scalars(select(StudyGroup.id)))
    members = {(g, u) for g in group_ids for u in rng.sample(user_ids, 60)}
    viewer_id = user_ids[0]
    for g in group_ids[:3]:
        members.add((g, viewer_id))
    db.session.execute(
        insert(Membership),
        [{"group_id": g, "user_id": u, "role": "member", "status": "active", "created_at": now}
         for g, u in members],
    )
    question_ids = list(db.session.scalars(select(StudyQuestion.id)))
    by_group = {}
    for g, u in members:
        by_group.setdefault(g, []).append(u)
    # Every (group, member, question) at most once: walk them in a shuffled order.
    combos = [(g, u, q) for g, users in by_group.items() for u in users for q in question_ids]
    rng.shuffle(combos)
    if len(combos) < total_posts:
        raise SystemExit(f"only {len(combos)} distinct answers possible; add groups")
    batch = []
    for g, u, q in combos[:total_posts]:
        body = sentence(rng, rng.randint(12, 60))
        batch.append({"group_id": g, "user_id": u, "study_question_id": q, "body": body,
                      "body_html": f"<p>{body}</p>", "anonymous": False, "created_at": now})
        if len(batch) == 5000:
            db.session.execute(insert(Answer), batch)
            batch = []
    if batch:
        db.session.execute(insert(Answer), batch)
    db.session.commit()
    search.reindex()
    return db.session.get(User, viewer_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/search.sqlite3"
        app = create_app({"TESTING": True, "INSTANCE_PATH": folder,
                          "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context(), app.test_request_context():
            from flask_migrate import upgrade

            upgrade(directory=str(MIGRATIONS_DIR))
            started = time.perf_counter()
            viewer = seed(args.posts, rng)
            print(f"seeded {args.posts} posts in {time.perf_counter() - started:.1f} s")
            viewer.is_authenticated  # noqa: B018  (a real User answers True)
            queries = []
            for n in range(args.queries):
                kind = n % 4
                if kind == 0:
                    queries.append(rng.choice(WORDS))
                elif kind == 1:
                    queries.append(" ".join(rng.sample(WORDS, 2)))
                elif kind == 2:
                    queries.append(" ".join(rng.sample(WORDS, 3)))
                else:
                    queries.append(rng.choice(["respect", "coproduction", "nurse", "zzzz nothing"]))
            timings, hits = [], 0
            for query in queries:
                start = time.perf_counter()
                results = search.search(viewer, query)
                timings.append((time.perf_counter() - start) * 1000)
                hits += results.total
                db.session.rollback()
            timings.sort()
            p95 = timings[int(len(timings) * 0.95) - 1]
            print(f"database: {db.engine.dialect.name}; queries: {len(queries)}; results: {hits}")
            print(f"median: {statistics.median(timings):.1f} ms; p95: {p95:.1f} ms; max: {timings[-1]:.1f} ms")


if __name__ == "__main__":
    main()
