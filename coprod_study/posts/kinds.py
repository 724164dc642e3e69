"""The kinds of post, and what each adds to the kernel: its model, history rows, group and words."""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select


@dataclass(frozen=True)
class PostKind:
    """One kind of post. The kernel (posts.kernel) does the rest the same way for all."""

    name: str  # "answer", "reply", "post": the target_type of flags, notifications, audit
    model: type
    revision_model: type
    revision_column: str  # the revision's column that names the post
    # The SQL condition "this kind's row is in group `group_id`".
    in_group: Callable
    # Where a post of this kind is read: its question's answers, or its thread.
    read_url: Callable
    # What the author is told when they may not edit or delete it, what facilitators read
    # when it is flagged, and what the author reads when it is hidden.
    cannot_edit: object
    cannot_delete: object
    no_anonymous: object
    not_found: object
    flagged: object
    hidden: object
    # Anything else a deletion does to this kind (an answer loses its endorsement).
    on_delete: Callable = lambda post: None
    # The tables a person's data export holds for this kind (posts and their history).
    exported_tables: tuple = ()
    # The blueprint of its pages (edit_<name>, delete_<name>, <name>_history) and the
    # API's schema for it (api.openapi), which tests/test_feature_touches.py walk.
    blueprint: str = "groups"
    api_schema: str = ""

    def revision(self, post, old_body: str, written_at):
        return self.revision_model(
            **{self.revision_column: post.id}, body=old_body, written_at=written_at
        )

    def history_stmt(self, post):
        column = getattr(self.revision_model, self.revision_column)
        return select(self.revision_model).where(column == post.id).order_by(
            self.revision_model.id.desc()
        )


def _answer_in_group(group_id):
    from coprod_study.models import Answer

    return Answer.group_id == group_id


def _reply_in_group(group_id):
    from coprod_study.models import Answer, Reply

    return Reply.answer_id.in_(select(Answer.id).where(Answer.group_id == group_id))


def _post_in_group(group_id):
    from coprod_study.models import Post, Thread

    return Post.thread_id.in_(select(Thread.id).where(Thread.group_id == group_id))


def _answer_link(group, answer_id: int) -> str:
    from coprod_study.urls import path_for

    return path_for("groups.answer_link", slug=group.slug, answer_id=answer_id)


def _thread_link(group, post) -> str:
    from coprod_study.urls import path_for

    return path_for("discussion.thread", slug=group.slug, thread_id=post.thread_id) + (
        f"#post-{post.id}"
    )


def _unendorse(answer) -> None:
    answer.endorsed_at = None


def _withdraw_notifications(post) -> None:
    from coprod_study.notifications import service as notifications

    notifications.withdraw("post", post.id)


def _kinds() -> dict[str, PostKind]:
    from coprod_study.models import Answer, Post, PostRevision, Reply, Revision

    return {
        "answer": PostKind(
            name="answer", model=Answer, revision_model=Revision, revision_column="answer_id",
            in_group=_answer_in_group,
            read_url=lambda group, post: _answer_link(group, post.id),
            cannot_edit=_l("You can edit only your own answers in groups you belong to."),
            cannot_delete=_l("You can delete only your own answers in groups you belong to."),
            no_anonymous=_l("This group does not allow anonymous answers."),
            not_found=_l("There is no such answer in this group."),
            flagged=lambda group, reason: _l(
                "An answer in %(group)s was flagged: %(reason)s", group=group.name, reason=reason),
            hidden=lambda group, reason: _l(
                "A facilitator hid your answer in %(group)s: %(reason)s",
                group=group.name, reason=reason),
            on_delete=_unendorse,
            exported_tables=("answers", "revisions"),
            api_schema="Answer",
        ),
        "reply": PostKind(
            name="reply", model=Reply, revision_model=Revision, revision_column="reply_id",
            in_group=_reply_in_group,
            read_url=lambda group, post: _answer_link(group, post.answer_id),
            cannot_edit=_l("You can edit only your own replies in groups you belong to."),
            cannot_delete=_l("You can delete only your own replies in groups you belong to."),
            no_anonymous=_l("This group does not allow anonymous replies."),
            not_found=_l("There is no such reply in this group."),
            flagged=lambda group, reason: _l(
                "A reply in %(group)s was flagged: %(reason)s", group=group.name, reason=reason),
            hidden=lambda group, reason: _l(
                "A facilitator hid your reply in %(group)s: %(reason)s",
                group=group.name, reason=reason),
            exported_tables=("replies", "revisions"),
            api_schema="Reply",
        ),
        "post": PostKind(
            name="post", model=Post, revision_model=PostRevision, revision_column="post_id",
            in_group=_post_in_group,
            read_url=_thread_link,
            cannot_edit=_l("You can edit only your own posts in groups you belong to."),
            cannot_delete=_l("You can delete only your own posts in groups you belong to."),
            no_anonymous=_l("This group does not allow anonymous posts."),
            not_found=_l("There is no such post in this group."),
            flagged=lambda group, reason: _l(
                "A post in %(group)s was flagged: %(reason)s", group=group.name, reason=reason),
            hidden=lambda group, reason: _l(
                "A facilitator hid your post in %(group)s: %(reason)s",
                group=group.name, reason=reason),
            on_delete=_withdraw_notifications,
            exported_tables=("posts", "post_revisions"),
            blueprint="discussion",
            api_schema="Post",
        ),
    }


_REGISTRY: dict[str, PostKind] = {}


def kinds() -> dict[str, PostKind]:
    """Every kind of post by name (the models load on first use, not at import)."""
    if not _REGISTRY:
        _REGISTRY.update(_kinds())
    return _REGISTRY


def kind(name: str) -> PostKind | None:
    return kinds().get(name)


def kind_of(post) -> PostKind:
    for item in kinds().values():
        if isinstance(post, item.model):
            return item
    raise TypeError(type(post).__name__)
