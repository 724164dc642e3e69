"""Rows as the API's JSON objects; who may see what is asked of policy, as on the pages."""

from datetime import date, datetime

from coprod_study import policy
from coprod_study.models import ANONYMOUS_LABEL

FORMER_MEMBER = "Former member"


def when(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value.isoformat()


def author(viewer, group, post) -> dict:
    """The name the pages show, and the id only where the name is shown too."""
    label = policy.author_label(viewer, group, post)
    person = post.author
    known = label != ANONYMOUS_LABEL and person.deleted_at is None
    return {
        "name": label,
        "id": person.id if known else None,
        "you": post.user_id == viewer.id,
    }


def _text(viewer, group, post) -> dict:
    """Body and HTML unless deleted, or hidden from this viewer."""
    gone = post.deleted_at is not None
    shows = not gone and (
        post.hidden_at is None or policy.can_see_hidden_text(viewer, group, post)
    )
    return {
        "body": post.body if shows else None,
        "body_html": post.body_html if shows else None,
        "deleted": gone,
        "hidden": post.hidden_at is not None,
        "hidden_reason": post.hidden_reason if shows and post.hidden_at is not None else None,
        "created_at": when(post.created_at),
        "edited_at": when(post.edited_at) if not gone else None,
    }


def answer(viewer, group, item, *, episode_slug: str, number: int, prompt: str,
           reply_count: int) -> dict:
    from coprod_study.wording import answered_wording

    return {
        "id": item.id,
        "group": group.slug,
        "episode": episode_slug,
        "question_number": number,
        "author": author(viewer, group, item),
        "anonymous": item.anonymous,
        **_text(viewer, group, item),
        "endorsed": item.endorsed_at is not None and item.deleted_at is None,
        "reply_count": reply_count,
        # Facilitators see when an answer was written to an earlier wording.
        "answered_wording": answered_wording(item, prompt)
        if policy.can_moderate(viewer, group)
        else None,
        "can_edit": policy.can_edit_post(viewer, item),
    }


def reply(viewer, group, item) -> dict:
    return {
        "id": item.id,
        "answer_id": item.answer_id,
        "author": author(viewer, group, item),
        "anonymous": item.anonymous,
        **_text(viewer, group, item),
        "can_edit": policy.can_edit_post(viewer, item),
    }


def post(viewer, group, item) -> dict:
    return {
        "id": item.id,
        "thread_id": item.thread_id,
        "author": author(viewer, group, item),
        "anonymous": item.anonymous,
        "quote_post_id": item.quote_post_id,
        **_text(viewer, group, item),
        "can_edit": policy.can_edit_post(viewer, item),
    }


def thread(row, viewer) -> dict:
    item = row.thread
    starter = item.author
    return {
        "id": item.id,
        "group": item.group.slug,
        "title": item.title,
        "episode": item.episode.slug if item.episode is not None else None,
        "moment_seconds": item.moment_seconds,
        "pinned": item.pinned,
        "locked": item.locked,
        "lock_reason": item.lock_reason,
        "announcement": item.announcement,
        "author": {
            "name": starter.display_name if starter is not None else FORMER_MEMBER,
            "id": starter.id if starter is not None and starter.deleted_at is None else None,
            "you": starter is not None and starter.id == viewer.id,
        },
        "created_at": when(item.created_at),
        "last_activity_at": when(item.last_activity_at),
        "post_count": row.posts,
        "unread_count": row.unread,
    }


def dimension_ref(item) -> dict:
    return {"slug": item.slug, "name": item.name}


def episode_summary(item, transcript_languages: list[str]) -> dict:
    return {
        "slug": item.slug,
        "number": item.number,
        "title": item.title,
        "dimension": dimension_ref(item.dimension),
        "related_dimensions": [dimension_ref(d) for d in item.related_dimensions],
        "published": when(item.published_on),
        "audio_url": item.audio_url,
        "duration_seconds": item.duration_seconds,
        "host": item.host_name,
        "guests": [{"name": g.person.name, "bio": g.person.bio} for g in item.guests],
        "is_sample": item.is_sample,
        "transcript_languages": transcript_languages,
    }


def episode_detail(item, transcript_languages: list[str], chapters: list) -> dict:
    return {
        **episode_summary(item, transcript_languages),
        "summary": item.summary,
        "summary_html": item.summary_html,
        "takeaways": [{"kind": t.kind, "text": t.text} for t in item.takeaways],
        "questions": [
            {"number": index, "prompt": q.prompt, "audiences": list(q.audiences or [])}
            for index, q in enumerate(item.questions, start=1)
        ],
        "references": [
            {"citation": r.citation, "url": r.url, "doi": r.doi} for r in item.references
        ],
        "chapters": [{"title": c.title, "start_seconds": c.start_seconds} for c in chapters],
    }


def notification(item) -> dict:
    return {
        "id": item.id,
        "kind": item.kind,
        "message": item.message,
        "url": item.url,
        "created_at": when(item.created_at),
        "read_at": when(item.read_at),
    }


def membership(row) -> dict | None:
    if row is None:
        return None
    return {"role": row.role, "status": row.status}
