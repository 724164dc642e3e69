"""@-mentions: who a post names among its group's members, and its HTML with them marked."""

from sqlalchemy import func, select

from coprod_study.extensions import db
from coprod_study.markup import mentioned_names, render_markdown
from coprod_study.models import Membership, User


def mentioned_members(group, text: str | None) -> dict[int, str]:
    """The active members of `group` that `text` mentions: id -> display name."""
    names = mentioned_names(text)
    if not names:
        return {}
    rows = db.session.execute(
        select(User.id, User.display_name)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.group_id == group.id,
            Membership.status == "active",
            User.deleted_at.is_(None),
            func.lower(User.display_name).in_(names),
        )
    )
    return dict(rows.all())


def render(group, text: str, members: dict[int, str] | None = None) -> str:
    """The post's HTML, with mentions of the group's members highlighted."""
    if members is None:
        members = mentioned_members(group, text)
    return str(render_markdown(text, members.values()))
