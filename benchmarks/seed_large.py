"""Seed a large data set for the HTTP benchmark, with bulk inserts.

2,000 people, 200 groups, 50 episodes, 100,000 answers, 200,000 replies,
500 threads with 20,000 posts, 20 courses of 300 learners and 12 assignments
each, and their search documents. It writes a manifest (JSON) beside the
database naming the person to sign in as and the pages to measure, for
benchmarks/http_bench.py.

Run: python benchmarks/seed_large.py [--database-url URL] [--scale 1.0]
The default database is benchmarks/.data/large.sqlite3 (replaced each run).
"""

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from coprod_study import MIGRATIONS_DIR, create_app  # noqa: E402
from coprod_study.account.service import hash_password  # noqa: E402
from coprod_study.catalog import service as catalog  # noqa: E402
from coprod_study.extensions import db  # noqa: E402
from coprod_study.models import (  # noqa: E402
    Answer,
    Assignment,
    Course,
    CourseMember,
    Episode,
    ListeningProgress,
    Membership,
    Post,
    Reply,
    SearchDocument,
    StudyGroup,
    StudyQuestion,
    Thread,
    User,
)

PASSWORD = "benchmark passphrase"
BENCH_EMAIL = "bench@example.org"
CHUNK = 5000
HOT_ANSWERS = 200
HOT_THREAD_POSTS = 40
COURSE_GROUPS = 5
QUESTIONS_PER_EPISODE = 5

# Words for made-up posts. Real writing uses thousands of words with a few very
# common and most rare (Zipf's law), and search speed depends on how many
# documents a word is in; so the vocabulary is 4,000 words ranked by frequency:
# everyday words first, the series' own terms in the middle ranks, made-up
# words after them.
COMMON = (
    "care team patient family listen meeting time plan trust share question idea "
    "experience clinic nurse doctor learn voice decision together change service"
).split()
RARE = (
    "coproduction partnership dialysis stewardship microsystem diabetes registry "
    "feedback improvement measurement agenda rehabilitation caregiver asthma"
).split()
SYLLABLES = "ka lo mi re su ta ven dor pil ash ne fo gu hal im ost ry bel".split()
VOCABULARY_SIZE = 4000


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    """Words and their cumulative Zipf weights, for random.choices."""
    made_up: list[str] = []
    seen = set(COMMON) | set(RARE)
    while len(made_up) < VOCABULARY_SIZE:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            made_up.append(word)
    words = list(COMMON) + made_up[:180] + list(RARE) + made_up[180:]
    words = words[:VOCABULARY_SIZE]
    total, cumulative = 0.0, []
    for rank in range(1, len(words) + 1):
        total += 1.0 / rank
        cumulative.append(total)
    return words, cumulative


_WORDS: tuple[list[str], list[float]] | None = None


def sentence(rng: random.Random, words: int) -> str:
    global _WORDS
    if _WORDS is None:
        _WORDS = vocabulary(random.Random(0))
    picked = rng.choices(_WORDS[0], cum_weights=_WORDS[1], k=words)
    return " ".join(picked).capitalize() + "."


def body(rng: random.Random, sentences: int) -> tuple[str, str]:
    text_ = " ".join(sentence(rng, rng.randint(6, 14)) for _ in range(sentences))
    return text_, f"<p>{text_}</p>"


def chunked_insert(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[start : start + CHUNK])


def _episodes(wanted: int) -> list[Episode]:
    """The sample catalog's episodes, plus made-up ones until there are `wanted`."""
    episodes = list(db.session.scalars(select(Episode).order_by(Episode.number)))
    template = episodes[0]
    for number in range(len(episodes) + 1, wanted + 1):
        extra = Episode(
            slug=f"benchmark-episode-{number}",
            number=number,
            title=f"Benchmark episode {number}",
            summary=f"A made-up episode number {number} about coproduction in a clinic.",
            summary_html=f"<p>A made-up episode number {number} about coproduction.</p>",
            dimension_id=template.dimension_id,
            is_sample=True,
        )
        db.session.add(extra)
        db.session.flush()
        db.session.add_all(
            StudyQuestion(
                episode_id=extra.id, position=p, prompt=f"Question {p} on episode {number}?",
                audiences=[],
            )
            for p in range(1, QUESTIONS_PER_EPISODE + 1)
        )
    db.session.commit()
    return list(db.session.scalars(select(Episode).order_by(Episode.number)))[:wanted]


class Seeder:
    def __init__(self, scale: float, rng: random.Random):
        self.rng = rng
        self.scale = scale
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.counts: dict[str, int] = {}

    def n(self, full: int, least: int = 1) -> int:
        return max(least, round(full * self.scale))

    def when(self, days: int = 200) -> datetime:
        return self.now - timedelta(seconds=self.rng.randint(60, days * 86400))

    def run(self) -> dict:
        rng = self.rng
        catalog.load_file(catalog.sample_catalog_path())
        episodes = _episodes(50)
        questions = {
            e.id: [q.id for q in sorted(e.questions, key=lambda q: q.position)] for e in episodes
        }
        password = hash_password(PASSWORD)

        # People: the first is the one the benchmark signs in as.
        user_total = self.n(2000, 300)
        users = [
            {"id": n + 1, "email": BENCH_EMAIL if n == 0 else f"person{n}@example.org",
             "display_name": "Bench Reader" if n == 0 else f"Person {n:04d}",
             "password_hash": password, "role": "educator" if n < 20 else "learner",
             "language": "en", "time_zone": "Europe/Stockholm", "email_preference": "off",
             "session_version": 1, "created_at": self.when(), "updated_at": self.now}
            for n in range(user_total)
        ]
        chunked_insert(User, users)
        user_ids = [u["id"] for u in users]
        self.counts["users"] = len(users)

        # Courses: 300 learners, 12 assignments and 5 groups of 60 each.
        course_total = self.n(20, 1)
        learners_per_course = min(self.n(300, 60), user_total - 1)
        courses, course_members, assignments, groups, memberships = [], [], [], [], []
        members_of: dict[int, list[int]] = {}
        episodes_of: dict[int, list[int]] = {}
        group_id = 0
        for c in range(course_total):
            course_id = c + 1
            educator = user_ids[c] if c < 20 else user_ids[0]
            courses.append(
                {"id": course_id, "code": f"BENCH{c + 1:02d}", "title": f"Benchmark course {c + 1}",
                 "term": "Autumn", "time_zone": "Europe/Stockholm", "description": "",
                 "description_html": "", "enrol_code": f"ENROL{c + 1:04d}BENCH",
                 "placement": "educator", "created_by_id": educator, "created_at": self.when()}
            )
            course_members.append(
                {"course_id": course_id, "user_id": educator, "role": "educator",
                 "created_at": self.now}
            )
            learners = rng.sample([u for u in user_ids[20:] if u != educator], learners_per_course)
            course_members += [
                {"course_id": course_id, "user_id": u, "role": "learner", "created_at": self.now}
                for u in learners
            ]
            assigned = rng.sample([e.id for e in episodes], 12)
            for k, episode_id in enumerate(assigned):
                due = self.now + timedelta(days=7 * k - 40)
                assignments.append(
                    {"course_id": course_id, "episode_id": episode_id,
                     "opens_at": due - timedelta(days=14), "due_at": due,
                     "instructions": "Listen, then answer.",
                     "instructions_html": "<p>Listen, then answer.</p>",
                     "required_questions": None if k % 3 else [1, 2, 3],
                     "reveal_after_due": False, "revision": 0, "created_by_id": educator,
                     "created_at": self.now, "updated_at": self.now}
                )
            size = -(-len(learners) // COURSE_GROUPS)
            for g in range(COURSE_GROUPS):
                group_id += 1
                people = learners[g * size : (g + 1) * size]
                groups.append(self._group(group_id, f"Course {c + 1} group {g + 1}", course_id,
                                          educator))
                members_of[group_id] = people
                episodes_of[group_id] = assigned
                memberships += [self._member(group_id, u, "member") for u in people]

        # Independent groups; the first has the benchmark reader and the hot question.
        group_total = max(self.n(200, 10), group_id + 2)
        all_episodes = [e.id for e in episodes]
        hot_group_id = group_id + 1
        while group_id < group_total:
            group_id += 1
            if group_id == hot_group_id:
                people = [user_ids[0]] + rng.sample(user_ids[20:], min(249, len(user_ids) - 20))
            else:
                people = rng.sample(user_ids[1:], rng.randint(20, 60))
            groups.append(self._group(group_id, f"Study circle {group_id}", None, people[1]))
            members_of[group_id] = people
            episodes_of[group_id] = all_episodes
            memberships.append(self._member(group_id, people[0], "member"))
            memberships.append(self._member(group_id, people[1], "facilitator"))
            memberships += [self._member(group_id, u, "member") for u in people[2:]]
        chunked_insert(Course, courses)
        chunked_insert(CourseMember, course_members)
        chunked_insert(Assignment, assignments)
        chunked_insert(StudyGroup, groups)
        chunked_insert(Membership, memberships)
        self.counts.update(courses=len(courses), course_members=len(course_members),
                           assignments=len(assignments), groups=len(groups),
                           memberships=len(memberships))
        listening = [
            {"user_id": u, "episode_id": e, "listened": True, "position_seconds": 0,
             "updated_at": self.when()}
            for u in user_ids[: self.n(600, 50)]
            for e in rng.sample(all_episodes, 8)
        ]
        chunked_insert(ListeningProgress, listening)

        # Answers: the hot question first, then random people and questions.
        hot_episode = episodes[0].id
        hot_question = questions[hot_episode][0]
        taken: set[tuple[int, int, int]] = set()
        answers, documents = [], []

        def add_answer(group: int, user: int, question: int) -> None:
            if (group, user, question) in taken:
                return
            taken.add((group, user, question))
            plain, html = body(rng, rng.randint(1, 4))
            answer_id = len(answers) + 1
            answers.append(
                {"id": answer_id, "group_id": group, "user_id": user,
                 "study_question_id": question, "body": plain, "body_html": html,
                 "anonymous": rng.random() < 0.05, "created_at": self.when()}
            )
            documents.append(self._document("answer", answer_id, group, user, plain,
                                            f"{group}:s:{question}"))

        hot_people = members_of[hot_group_id][: min(HOT_ANSWERS, len(members_of[hot_group_id]))]
        for user in hot_people:
            add_answer(hot_group_id, user, hot_question)
        answer_total = self.n(100_000, 500)
        group_list = list(members_of)
        weights = [len(members_of[g]) for g in group_list]
        while len(answers) < answer_total:
            group = rng.choices(group_list, weights)[0]
            episode = rng.choice(episodes_of[group])
            question = rng.choice(questions[episode])
            if question == hot_question and group == hot_group_id:
                continue
            add_answer(group, rng.choice(members_of[group]), question)
        chunked_insert(Answer, answers)
        self.counts["answers"] = len(answers)

        replies = []
        reply_total = self.n(200_000, 1000)
        for n in range(reply_total):
            answer = answers[rng.randrange(len(answers))]
            group = answer["group_id"]
            user = rng.choice(members_of[group])
            plain, html = body(rng, rng.randint(1, 2))
            replies.append(
                {"id": n + 1, "answer_id": answer["id"], "user_id": user, "body": plain,
                 "body_html": html, "anonymous": False,
                 "created_at": max(answer["created_at"], self.when())}
            )
            documents.append(
                self._document("reply", n + 1, group, user, plain,
                               f"{group}:s:{answer['study_question_id']}")
            )
        chunked_insert(Reply, replies)
        self.counts["replies"] = len(replies)

        # Threads: the hot group's first thread has HOT_THREAD_POSTS posts.
        thread_total = self.n(500, 5)
        post_total = self.n(20_000, 200)
        threads, posts = [], []
        for t in range(thread_total):
            group = hot_group_id if t == 0 else rng.choice(group_list)
            author = members_of[group][1] if group > course_total * COURSE_GROUPS else (
                members_of[group][0])
            title = sentence(rng, rng.randint(3, 7)).rstrip(".")
            threads.append(
                {"id": t + 1, "group_id": group, "author_id": author,
                 "episode_id": rng.choice(episodes_of[group]), "title": title,
                 "pinned": t == 0, "locked": False, "announcement": False,
                 "created_at": self.when(), "last_activity_at": self.now}
            )
            documents.append({**self._document("thread", t + 1, group, None, "", None),
                              "title": title})
        thread_posts = [HOT_THREAD_POSTS] + [1] * (thread_total - 1)
        for _ in range(post_total - sum(thread_posts)):
            thread_posts[rng.randrange(1, thread_total)] += 1
        for t, count in enumerate(thread_posts):
            thread = threads[t]
            group = thread["group_id"]
            start = thread["created_at"]
            for k in range(count):
                post_id = len(posts) + 1
                user = thread["author_id"] if k == 0 else rng.choice(members_of[group])
                plain, html = body(rng, rng.randint(1, 5))
                posts.append(
                    {"id": post_id, "thread_id": thread["id"], "user_id": user, "body": plain,
                     "body_html": html, "anonymous": False,
                     "created_at": start + timedelta(minutes=k)}
                )
                documents.append(self._document("post", post_id, group, user, plain, None))
        chunked_insert(Thread, threads)
        chunked_insert(Post, posts)
        self.counts.update(threads=len(threads), posts=len(posts))
        db.session.commit()

        started = time.perf_counter()
        chunked_insert(SearchDocument, documents)
        db.session.commit()
        self.counts["search_documents"] = len(documents)
        self.counts["search_seconds"] = round(time.perf_counter() - started, 1)
        self._advance_sequences()

        hot_group = next(g for g in groups if g["id"] == hot_group_id)
        hot_slug = episodes[0].slug
        return {
            "email": BENCH_EMAIL,
            "password": PASSWORD,
            "counts": self.counts,
            "pages": {
                "home": "/",
                "catalog": "/episodes",
                "episode": f"/episodes/{hot_slug}",
                "group": f"/groups/{hot_group['slug']}",
                "question_20": f"/groups/{hot_group['slug']}/episodes/{hot_slug}/questions/1",
                "question_200": (
                    f"/groups/{hot_group['slug']}/episodes/{hot_slug}/questions/1?per_page=200"
                ),
                "thread": f"/groups/{hot_group['slug']}/threads/1",
                "search": "/search?q=dialysis+care",
                "progress": "/courses/BENCH01/progress",
            },
        }

    def _group(self, group_id: int, name: str, course_id: int | None, creator: int) -> dict:
        slug = name.lower().replace(" ", "-")
        return {"id": group_id, "slug": slug, "name": name,
                "description": f"{name}: we meet every other week.",
                "description_html": f"<p>{name}: we meet every other week.</p>",
                "join_policy": "open" if course_id is None else "invite", "post_first": True,
                "allow_anonymous": True, "invite_code": f"bench-invite-{group_id:05d}",
                "created_by_id": creator, "created_at": self.when(), "course_id": course_id}

    def _member(self, group_id: int, user_id: int, role: str) -> dict:
        return {"group_id": group_id, "user_id": user_id, "role": role, "status": "active",
                "created_at": self.when()}

    @staticmethod
    def _document(kind, ref_id, group, author, plain, question_ref) -> dict:
        return {"kind": kind, "ref_id": ref_id, "group_id": group, "episode_id": None,
                "author_id": author, "question_ref": question_ref, "language": None,
                "title": "", "body": plain}

    @staticmethod
    def _advance_sequences() -> None:
        """Rows were inserted with explicit ids; PostgreSQL's sequences must move past them."""
        if db.engine.dialect.name != "postgresql":
            return
        # Table names from this fixed list only, never from input.
        for table in ("users", "courses", "study_groups", "answers", "replies", "threads",
                      "posts"):
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            ))
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--manifest", default=None, help="default: beside the SQLite file")
    args = parser.parse_args()

    data = HERE / ".data"
    data.mkdir(exist_ok=True)
    url = args.database_url
    if url is None:
        path = data / "large.sqlite3"
        for leftover in data.glob("large.sqlite3*"):
            leftover.unlink()
        url = f"sqlite:///{path}"
    manifest_path = Path(args.manifest) if args.manifest else data / "large.json"

    app = create_app({"INSTANCE_PATH": str(data), "SQLALCHEMY_DATABASE_URI": url,
                      "SECRET_KEY": "benchmark seed"})
    started = time.perf_counter()
    with app.app_context():
        from flask_migrate import downgrade, upgrade

        if db.engine.dialect.name == "postgresql":
            downgrade(directory=str(MIGRATIONS_DIR), revision="base")
        upgrade(directory=str(MIGRATIONS_DIR))
        manifest = Seeder(args.scale, random.Random(args.seed)).run()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    manifest["database_url"] = url
    manifest["seconds"] = round(time.perf_counter() - started, 1)
    manifest_path.write_text(json.dumps(manifest, indent=2))
    for name, value in manifest["counts"].items():
        print(f"{name:>18}: {value:,}")
    print(f"Seeded in {manifest['seconds']} s; manifest {manifest_path}")


if __name__ == "__main__":
    main()
