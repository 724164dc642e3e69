"""Problem responses (RFC 9457), strict JSON bodies and opaque cursors for the API."""

import base64
import binascii
import json
import math
import re

from flask import current_app, request
from werkzeug.exceptions import HTTPException

MAX_BODY_BYTES = 1024 * 1024
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_ID = 2_147_483_647
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


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


def check_slug(slug: str, what: str = "episode") -> str:
    """A path segment that cannot be a slug names nothing (and never reaches the database)."""
    if len(slug) > 80 or not SLUG_RE.match(slug):
        raise ApiError(404, f"There is no such {what}.")
    return slug


# --- Request bodies ----------------------------------------------------------------


def _reject_constant(name):
    raise ValueError(f"{name} is not allowed in JSON")


def _type_name(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _check_string(field: str, value: str, schema: dict) -> str | None:
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    if len(value) < schema.get("minLength", 0):
        return "must not be empty" if schema.get("minLength") == 1 else (
            f"must be at least {schema['minLength']} characters"
        )
    if len(value) > schema.get("maxLength", math.inf):
        return f"must be at most {schema['maxLength']} characters"
    if "pattern" in schema and not re.search(schema["pattern"], value):
        return "must contain some text, not only white space"
    return None


def validate_body(schema: dict, data) -> list[dict]:
    """Check `data` against a JSON Schema of the small kind the API's bodies use."""
    if not isinstance(data, dict):
        return [{"field": "", "message": f"the body must be a JSON object, not {_type_name(data)}"}]
    problems = []
    properties = schema.get("properties", {})
    for name in data:
        if name not in properties:
            allowed = ", ".join(sorted(properties)) or "none"
            problems.append({"field": name, "message": f"unknown field (allowed: {allowed})"})
    for name in schema.get("required", []):
        if name not in data:
            problems.append({"field": name, "message": "is required"})
    for name, rules in properties.items():
        if name not in data:
            continue
        value = data[name]
        expected = rules["type"]
        actual = _type_name(value)
        if actual != expected:
            problems.append({"field": name, "message": f"must be a {expected}, not {actual}"})
            continue
        message = None
        if expected == "string":
            message = _check_string(name, value, rules)
        elif expected == "integer":
            if value < rules.get("minimum", -math.inf) or value > rules.get("maximum", math.inf):
                message = f"must be between {rules.get('minimum')} and {rules.get('maximum')}"
        if message:
            problems.append({"field": name, "message": message})
    return problems


def read_json(schema: dict) -> dict:
    """The request's JSON object, checked against `schema`.

    :raise ApiError: 415 not JSON, 413 too large, 400 malformed, 422 not as the schema says.
    """
    if request.mimetype != "application/json":
        raise ApiError(415, "Send a JSON body with Content-Type: application/json.")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, "The body is larger than 1 MB.")
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "The body is larger than 1 MB.")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ApiError(400, f"The body is not valid JSON: {error}".rstrip(".") + ".") from error
    problems = validate_body(schema, data)
    if problems:
        raise ApiError(422, "The body does not match what this endpoint takes.", problems)
    return data


# --- Query parameters and cursors -----------------------------------------------------


def query_limit() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(400, f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    return int(raw)


def query_flag(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise ApiError(400, f"{name} must be true or false.")
    return raw == "true"


def encode_cursor(*key) -> str:
    text = json.dumps(list(key), separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(*types) -> tuple | None:
    """The key after which the next page starts, or None for the first page.

    :raise ApiError: 400 when the cursor is not one this API handed out.
    """
    raw = request.args.get("cursor")
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
