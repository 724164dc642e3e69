"""Offset pagination for HTML lists, built on a select()."""

from dataclasses import dataclass

from flask import request
from sqlalchemy import Select, func, select

from coprod_study.extensions import db


class PageNumbers:
    """Page arithmetic for anything with `page`, `per_page` and `total`."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass
class Page(PageNumbers):
    items: list
    page: int
    per_page: int
    total: int


def current_page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def paginate(stmt: Select, per_page: int = 20, scalars: bool = True) -> Page:
    page = current_page_number()
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    paged = stmt.limit(per_page).offset((page - 1) * per_page)
    items = list(db.session.scalars(paged) if scalars else db.session.execute(paged))
    return Page(items=items, page=page, per_page=per_page, total=total or 0)
