"""Search documents kept in step with the content: a flush hook writes them in the same transaction.

Each kind of searchable row has a document made of the attributes in SOURCES;
`reindex` rebuilds them all from scratch (`coprod-study reindex`).
"""

from sqlalchemy import delete, event, insert, inspect, select, text, update
from sqlalchemy.orm import Session

from coprod_study.extensions import db
from coprod_study.models import (
    Answer,
    Episode,
    EpisodeGuest,
    Person,
    Post,
    Reference,
    Reply,
    SearchDocument,
    SearchGeneration,
    StudyQuestion,
    Takeaway,
    Thread,
    Transcript,
    TranscriptSegment,
    User,
)
from coprod_study.policy import question_ref
from coprod_study.search import text as search_text

GENERATION_ID = 1
GENERATION_STALE = "search_generation_stale"  # a key of Session.info
# What the engines put around a matched word in a snippet: two control characters
# that are taken out of every document, so nothing a person types (a "[[" in a post)
# can open or close a highlight.
MARK_START = "\x02"
MARK_STOP = "\x03"
MARKERS = str.maketrans("", "", MARK_START + MARK_STOP)


def _author_language(session, user_id) -> str:
    """What members write is indexed in the language they use the site in."""
    if user_id is None:
        return search_text.DEFAULT_LANGUAGE
    with session.no_autoflush:
        author = session.get(User, user_id)
    return search_text.document_language(getattr(author, "language", None))


def _episode_body(episode) -> str:
    """The summary, then each guest's name and bio: people search for guests too."""
    guests = [
        f"{g.person.name}. {g.person.bio or ''}".strip() for g in episode.guests if g.person
    ]
    return "\n\n".join([episode.summary or "", *guests])


def _post_document(session, post) -> dict | None:
    """An answer, reply or thread post: searchable while neither deleted nor hidden; an
    answer's or reply's document names its question (post before you see others)."""
    if post.deleted_at or post.hidden_at:
        return None
    doc = {"author_id": post.user_id, "body": post.body,
           "language": _author_language(session, post.user_id)}
    with session.no_autoflush:
        if isinstance(post, Post):
            return {**doc, "group_id": session.get(Thread, post.thread_id).group_id}
        answer = post if isinstance(post, Answer) else session.get(Answer, post.answer_id)
    if answer is None:
        return None
    return {**doc, "group_id": answer.group_id, "question_ref": question_ref(
        answer.group_id, answer.study_question_id, answer.group_question_id)}


def _document(session, obj) -> dict | None:
    """The search document for `obj`, or None when it must not be searchable."""
    if isinstance(obj, (Answer, Reply, Post)):
        return _post_document(session, obj)
    if isinstance(obj, Thread):
        return {"group_id": obj.group_id, "title": obj.title, "episode_id": obj.episode_id,
                "language": _author_language(session, obj.author_id)}
    if isinstance(obj, Episode):
        with session.no_autoflush:
            body = _episode_body(obj)
        return {"episode_id": obj.id, "title": obj.title, "body": body}
    if isinstance(obj, StudyQuestion):
        return {"episode_id": obj.episode_id, "body": obj.prompt}
    if isinstance(obj, Takeaway):
        return {"episode_id": obj.episode_id, "body": obj.text}
    if isinstance(obj, Reference):
        return {"episode_id": obj.episode_id, "body": obj.citation}
    if isinstance(obj, TranscriptSegment):
        with session.no_autoflush:
            transcript = session.get(Transcript, obj.transcript_id)
        if transcript is None:
            return None
        return {
            "episode_id": transcript.episode_id,
            "language": transcript.language,
            "title": obj.speaker or "",
            "body": obj.text,
        }
    return None


KINDS = {
    Answer: "answer",
    Reply: "reply",
    Post: "post",
    Thread: "thread",
    Episode: "episode",
    StudyQuestion: "question",
    Takeaway: "takeaway",
    Reference: "reference",
    TranscriptSegment: "segment",
}


def _row(session, obj) -> dict | None:
    """The search_documents row for `obj`, or None when it is not searchable."""
    doc = _document(session, obj)
    if doc is None:
        return None
    stems = ""
    if search_text.document_language(doc.get("language")) == "sv":
        stems = search_text.swedish_stems(doc.get("title") or "", doc.get("body") or "")
    return {
        "kind": KINDS[type(obj)],
        "ref_id": obj.id,
        "group_id": doc.get("group_id"),
        "episode_id": doc.get("episode_id"),
        "author_id": doc.get("author_id"),
        "question_ref": doc.get("question_ref"),
        "language": doc.get("language"),
        "title": (doc.get("title") or "").translate(MARKERS),
        "body": (doc.get("body") or "").translate(MARKERS),
        "stems": stems,
    }


# The attributes each kind's document is made from (_document reads these): a
# change elsewhere (a thread's last activity, a pin) leaves the document alone.
SOURCES = {
    Answer: ("body", "deleted_at", "hidden_at", "group_id", "user_id",
             "study_question_id", "group_question_id"),
    Reply: ("body", "deleted_at", "hidden_at", "user_id", "answer_id"),
    Post: ("body", "deleted_at", "hidden_at", "user_id", "thread_id"),
    Thread: ("title", "group_id", "episode_id"),
    Episode: ("title", "summary", "guests"),
    StudyQuestion: ("prompt", "episode_id"),
    Takeaway: ("text", "episode_id"),
    Reference: ("citation", "episode_id"),
    TranscriptSegment: ("speaker", "text", "transcript_id"),
}


def _document_changed(obj) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in SOURCES[type(obj)])


def _episodes_of_renamed_guests(session, changed) -> list:
    """Episodes whose document shows a guest whose name or bio has just changed."""
    people = [
        o.id for o in session.dirty
        if isinstance(o, Person) and any(
            inspect(o).attrs[name].history.has_changes() for name in ("name", "bio")
        )
    ]
    if not people:
        return []
    with session.no_autoflush:
        episodes = session.scalars(
            select(Episode).join(EpisodeGuest, EpisodeGuest.episode_id == Episode.id)
            .where(EpisodeGuest.person_id.in_(people))
        ).unique().all()
    return [e for e in episodes if e not in changed]


def _sync(session, flush_context) -> None:
    changed = [o for o in session.new if type(o) in KINDS]
    changed += [o for o in session.dirty if type(o) in KINDS and _document_changed(o)]
    changed += _episodes_of_renamed_guests(session, changed)
    removed = [o for o in session.deleted if type(o) in KINDS]
    if not changed and not removed:
        return
    connection = session.connection()
    for obj in removed + changed:
        connection.execute(
            delete(SearchDocument).where(
                SearchDocument.kind == KINDS[type(obj)], SearchDocument.ref_id == obj.id
            )
        )
    # A new document raises the highest id; any other change raises the generation
    # (at commit, see below), so kept results (_kept_matches) are never served past it.
    if removed or any(obj not in session.new for obj in changed):
        session.info[GENERATION_STALE] = True
    rows = [row for row in (_row(session, obj) for obj in changed) if row is not None]
    if rows:
        connection.execute(insert(SearchDocument), rows)


def _raise_generation_at_commit(session) -> None:
    """The generation's row is raised once per transaction, just before it commits,
    so writers hold it only while they commit."""
    session.flush()
    if session.info.pop(GENERATION_STALE, False):
        _raise_generation(session.connection())


def _forget_stale_generation(session, _transaction=None) -> None:
    session.info.pop(GENERATION_STALE, None)


event.listen(Session, "after_flush", _sync)
event.listen(Session, "before_commit", _raise_generation_at_commit)
event.listen(Session, "after_rollback", _forget_stale_generation)


def _raise_generation(connection) -> None:
    connection.execute(
        update(SearchGeneration)
        .where(SearchGeneration.id == GENERATION_ID)
        .values(value=SearchGeneration.value + 1)
    )


def reindex() -> int:
    """Rebuild every search document from the content tables."""
    db.session.execute(delete(SearchDocument))
    _raise_generation(db.session.connection())
    total = 0
    for model in KINDS:
        batch = []
        for obj in db.session.scalars(select(model)).yield_per(1000):
            row = _row(db.session, obj)
            if row is None:
                continue
            batch.append(row)
            if len(batch) >= 1000:
                db.session.execute(insert(SearchDocument), batch)
                total += len(batch)
                batch = []
        if batch:
            db.session.execute(insert(SearchDocument), batch)
            total += len(batch)
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))
    db.session.commit()
    return total
