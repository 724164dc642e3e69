"""Problem responses (RFC 9457), opaque cursors and pages for the API."""

import base64
import binascii
import json

from flask import current_app
from werkzeug.exceptions import HTTPException

MAX_BODY_BYTES = 1024 * 1024
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_ID = 2_147_483_647


class ApiError(HTTPException):
    """An API answer other than success: becomes an application/problem+json body."""

    def __init__(self, status: int, detail: str, errors: list[dict] | None = None, headers=None):
        super().__init__(description=detail)
        self.code = status
        self.detail = detail
        self.errors = errors
        self.extra_headers = headers or {}


def problem(status: int, detail: str | None = None, errors=None, headers=None):
    from http import HTTPStatus

    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = current_app.json.response(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# --- Cursors and pages ------------------------------------------------------------------


def encode_cursor(*key) -> str:
    text = json.dumps(list(key), separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(raw: str | None, *types) -> tuple | None:
    """The key after which the next page starts (from ?cursor=), or None for the first page.

    :raise ApiError: 400 when the cursor is not one this API handed out.
    """
    if raw is None:
        return None
    try:
        if len(raw) > 500 or not raw.isascii():
            raise ValueError
        key = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(key, list) or len(key) != len(types):
            raise ValueError
        for value, kind in zip(key, types, strict=True):
            if type(value) is not kind:
                raise ValueError
            if kind is int and not -MAX_ID <= value <= MAX_ID:
                raise ValueError
            if kind is str and ("\x00" in value or len(value) > 200):
                raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise ApiError(400, "The cursor is not valid; use next_cursor from a page.") from error
    return tuple(key)


def page(rows: list, limit: int, key, serialize) -> dict:
    """`rows` holds up to limit + 1 rows: the extra one says there is a next page.

    `key(row)` gives the values the next page starts after, in the list's order.
    """
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [serialize(row) for row in rows],
        "next_cursor": encode_cursor(*key(rows[-1])) if more and rows else None,
    }
