"""Search relevance: nDCG@10 and recall@5 over benchmarks/relevance/queries.toml.

Loads the sample catalog, seeds the discussion the file describes into a group the
reader facilitates (so visibility never hides an expected document), runs every
query as the page would, in the page's order (by kind, then rank), and prints
each query's figures and the means.

Run: python benchmarks/search_relevance.py [--database-url URL] [--verbose]
(a PostgreSQL URL has its public schema dropped and made again).
"""

import argparse
import math
import sys
import tempfile
import tomllib
from pathlib import Path

from sqlalchemy import create_engine, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coprod_study import MIGRATIONS_DIR, create_app  # noqa: E402
from coprod_study.catalog import service as catalog
from coprod_study.extensions import db  # noqa: E402
from coprod_study.groups import service as groups  # noqa: E402
from coprod_study.models import (  # noqa: E402
    Episode,
    Post,
    Reference,
    StudyQuestion,
    Takeaway,
    Thread,
)
from coprod_study.search import service as search_service  # noqa: E402

QUERIES = Path(__file__).resolve().parent / "relevance" / "queries.toml"


def seed(spec: dict):
    from tests.factories import add_member, make_answer, make_user

    catalog.load_file(catalog.sample_catalog_path())
    reader = make_user(name="Reader", email="reader@example.org")
    writers = {
        "en": make_user(name="Writer", email="writer@example.org", language="en"),
        "sv": make_user(name="Skribent", email="skribent@example.org", language="sv"),
    }
    group = groups.create_group(reader, name="Relevance circle", join_policy="invite",
                                post_first=False)
    for writer in writers.values():
        add_member(group, writer)
    keys: dict[tuple[str, int], str] = {}
    # Written as rows: the services' posting limits are not what is measured here.
    for thread_spec in spec["discussion"]["threads"]:
        thread = Thread(group_id=group.id, author_id=reader.id, title=thread_spec["title"])
        db.session.add(thread)
        db.session.flush()
        keys[("thread", thread.id)] = f"thread:{thread_spec['key']}"
        for post_spec in thread_spec["posts"]:
            post = Post(thread_id=thread.id, user_id=writers[post_spec["language"]].id,
                        body=post_spec["body"], body_html=f"<p>{post_spec['body']}</p>")
            db.session.add(post)
            db.session.flush()
            keys[("post", post.id)] = f"post:{post_spec['key']}"
    db.session.commit()
    for answer_spec in spec["discussion"]["answers"]:
        slug, number = answer_spec["question"].split(":")
        episode = db.session.scalar(select(Episode).where(Episode.slug == slug))
        question = groups.get_question(group, episode, int(number))
        answer = make_answer(group, writers[answer_spec["language"]], question,
                             body=answer_spec["body"])
        keys[("answer", answer.id)] = f"answer:{answer_spec['key']}"
    search_service.reindex()
    return reader, keys


def catalog_keys() -> dict[tuple[str, int], str]:
    keys = {}
    for episode in db.session.scalars(select(Episode)):
        keys[("episode", episode.id)] = f"episode:{episode.slug}"
        for kind, model in (("question", StudyQuestion), ("takeaway", Takeaway),
                            ("reference", Reference)):
            items = db.session.scalars(
                select(model).where(model.episode_id == episode.id).order_by(model.position)
            ).all()
            for n, item in enumerate(items, start=1):
                keys[(kind, item.id)] = f"{kind}:{episode.slug}:{n}"
    return keys


def ranked(reader, query: str, keys: dict, app) -> list[str]:
    """The documents the search page shows for `query`, in the page's order."""
    seen: list = []
    original = search_service._hits

    def capture(viewer, rows, groups_by_id):
        seen.extend(rows)
        return original(viewer, rows, groups_by_id)

    search_service._hits = capture
    try:
        search_service.search(reader, query)
    finally:
        search_service._hits = original
    order = list(search_service.KIND_LABELS)
    rows = sorted(seen, key=lambda m: order.index(m.kind))
    out = []
    for match in rows:
        key = keys.get((match.kind, match.ref_id), f"{match.kind}#{match.ref_id}")
        if key not in out:
            out.append(key)
    return out


def ndcg(found: list[str], expected: list[str], k: int = 10) -> float:
    gains = {key: len(expected) - i for i, key in enumerate(expected)}
    dcg = sum(gains.get(key, 0) / math.log2(i + 2) for i, key in enumerate(found[:k]))
    ideal = sorted(gains.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(found: list[str], expected: list[str], k: int = 5) -> float:
    return len(set(found[:k]) & set(expected)) / len(expected)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    spec = tomllib.loads(QUERIES.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/relevance.sqlite3"
        if url.startswith("postgresql"):
            engine = create_engine(url)
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        app = create_app({"TESTING": True, "INSTANCE_PATH": folder,
                          "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade(directory=str(MIGRATIONS_DIR))
            with app.test_request_context():
                reader, keys = seed(spec)
            keys.update(catalog_keys())
            reader_id = reader.id
            rows = []
            for entry in spec["queries"]:
                language = entry.get("reader", "en")
                with app.test_request_context(headers={"Accept-Language": language}):
                    from coprod_study.models import User

                    viewer = db.session.get(User, reader_id)
                    viewer.language = language
                    found = ranked(viewer, entry["q"], keys, app)
                    db.session.rollback()
                rows.append((entry, language, found, ndcg(found, entry["expect"]),
                             recall(found, entry["expect"])))
            for entry, language, found, n, r in rows:
                print(f"{n:5.2f} {r:5.2f}  [{language}] {entry['q']}")
                if args.verbose and n < 1:
                    print(f"             expected {entry['expect']}; found {found[:6]}")
            mean_ndcg = sum(row[3] for row in rows) / len(rows)
            mean_recall = sum(row[4] for row in rows) / len(rows)
            print(f"database: {db.engine.dialect.name}; queries: {len(rows)}")
            print(f"nDCG@10: {mean_ndcg:.3f}; recall@5: {mean_recall:.3f}")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
