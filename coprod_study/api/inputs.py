"""What the API takes: path segments, query parameters and JSON bodies, as pydantic models.

The same models validate each request and, through their JSON Schemas, make the
parameters and request bodies of the OpenAPI document (api.openapi), so the two
cannot say different things. Which model an endpoint takes is declared once,
next to its view, with api.spec.operation; read_query() and read_body() look it up.
"""

import json
from typing import Annotated, ClassVar, Literal

from flask import request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from coprod_study.api.spec import current_operation
from coprod_study.api.support import DEFAULT_LIMIT, MAX_BODY_BYTES, MAX_ID, MAX_LIMIT, ApiError
from coprod_study.markup import MAX_MARKDOWN_LENGTH

# Python's own regular expressions, as the checks before these models used
# (their \s is what str.isspace() calls white space).
CONFIG = ConfigDict(regex_engine="python-re")
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# Some text that is not only white space, and no NUL (no database stores one).
TEXT_PATTERN = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"

Slug = Annotated[str, Field(pattern=SLUG_PATTERN, max_length=80)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
CourseCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$")]

# The path variables the routes use: the schema and what each one names.
PATH_PARAMETERS = {
    "slug": (Slug, "The group's slug."),
    "episode_slug": (Slug, "The episode's slug."),
    "number": (Id, "The question's number in the group (from 1)."),
    "answer_id": (Id, "An answer's id."),
    "reply_id": (Id, "A reply's id."),
    "thread_id": (Id, "A thread's id."),
    "post_id": (Id, "A post's id."),
    "notification_id": (Id, "A notification's id."),
    "code": (CourseCode, "The course's code."),
}
_SLUG = TypeAdapter(Slug, config=CONFIG)
_CODE = TypeAdapter(CourseCode, config=CONFIG)


def check_slug(slug: str, what: str = "episode") -> str:
    """A path segment that cannot be a slug names nothing (and never reaches the database)."""
    try:
        return _SLUG.validate_python(slug)
    except ValidationError as error:
        raise ApiError(404, f"There is no such {what}.") from error


def check_code(code: str) -> str:
    try:
        return _CODE.validate_python(code)
    except ValidationError as error:
        raise ApiError(404, "There is no such course.") from error


# --- Query parameters -----------------------------------------------------------------


def _digits(value):
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise PydanticCustomError("digits", "must be a whole number")
    return value


class Query(BaseModel):
    """Query parameters; a bad one is a 400 with the message its field names."""

    model_config = ConfigDict(**CONFIG, extra="ignore")
    problems: ClassVar[dict[str, str]] = {}


class ListQuery(Query):
    problems = {
        "limit": f"limit must be a whole number from 1 to {MAX_LIMIT}.",
        "cursor": "The cursor is not valid; use next_cursor from a page.",
    }
    limit: Annotated[
        int, Field(ge=1, le=MAX_LIMIT, description="Items per page."), BeforeValidator(_digits)
    ] = DEFAULT_LIMIT
    cursor: str | None = Field(None, max_length=500, description="next_cursor of the previous page.")


class NotificationQuery(ListQuery):
    problems = {**ListQuery.problems, "unread": "unread must be true or false."}
    unread: Literal["true", "false"] | None = Field(
        None, description="Only unread (true) or only read (false) ones."
    )


class ProgressQuery(ListQuery):
    problems = {
        **ListQuery.problems,
        "group": "group must be the slug of one of the course's groups, or none.",
    }
    group: Slug | None = Field(
        None, description="A course group's slug, or none for learners not placed yet."
    )


def read_query():
    """The request's query parameters, as the current endpoint's declared model.

    :raise ApiError: 400 naming the first parameter that is not as the model says.
    """
    model = current_operation().query
    raw = {name: request.args[name] for name in model.model_fields if name in request.args}
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise ApiError(400, model.problems[error.errors()[0]["loc"][0]]) from error


# --- JSON bodies ----------------------------------------------------------------------


def _no_nul(value):
    if isinstance(value, str) and "\x00" in value:
        raise PydanticCustomError("nul", "must not contain NUL characters")
    return value


Markdown = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_MARKDOWN_LENGTH,
        pattern=TEXT_PATTERN,
        description="Markdown, as on the site.",
    ),
    BeforeValidator(_no_nul),
]


class Body(BaseModel):
    """A JSON body: exact JSON types, no fields beyond the model's."""

    model_config = ConfigDict(**CONFIG, strict=True, extra="forbid")


class Edit(Body):
    body: Markdown


class NewAnswer(Edit):
    anonymous: bool = Field(
        False, description="Anonymous to peers (only where the group allows it)."
    )


class NewPost(NewAnswer):
    # No "| None": a null here is refused, as any other value of the wrong type.
    quote_post_id: Id = Field(None, description="A post of the same thread to quote.")


def _reject_constant(name):
    raise ValueError(f"{name} is not allowed in JSON")


def read_body():
    """The request's JSON body, as the current endpoint's declared model.

    :raise ApiError: 415 not JSON, 413 too large, 400 malformed, 422 not as the model says.
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
    model = current_operation().body
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = body_problems(model, data, error)
        raise ApiError(422, "The body does not match what this endpoint takes.", problems) from None


# --- Messages for what a body got wrong -------------------------------------------------


def type_name(value) -> str:
    """The JSON type of a parsed value."""
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


def _expected(rules: dict) -> str:
    for option in rules.get("anyOf", [rules]):
        if option.get("type") not in (None, "null"):
            return option["type"]
    return "value"


def _message(kind: str, error: dict, rules: dict, allowed: str) -> str:
    if kind == "extra_forbidden":
        return f"unknown field (allowed: {allowed})"
    if kind == "missing":
        return "is required"
    if kind.endswith("_type"):
        return f"must be a {_expected(rules)}, not {type_name(error['input'])}"
    if kind == "string_unicode":
        return "must be valid Unicode text"
    if kind == "string_too_short":
        size = error["ctx"]["min_length"]
        return "must not be empty" if size == 1 else f"must be at least {size} characters"
    if kind == "string_too_long":
        return f"must be at most {error['ctx']['max_length']} characters"
    if kind == "string_pattern_mismatch":
        return "must contain some text, not only white space"
    if kind in ("greater_than_equal", "less_than_equal"):
        number = next((o for o in rules.get("anyOf", [rules]) if "minimum" in o), rules)
        return f"must be between {number.get('minimum')} and {number.get('maximum')}"
    return error["msg"]


def body_problems(model: type[BaseModel], data, error: ValidationError) -> list[dict]:
    """The body's problems as {"field", "message"}, in the order the API has always named them:
    unknown fields, then missing ones, then the rest in the model's order."""
    if not isinstance(data, dict):
        return [{"field": "", "message": f"the body must be a JSON object, not {type_name(data)}"}]
    properties = model.model_json_schema()["properties"]
    fields = list(model.model_fields)
    allowed = ", ".join(sorted(fields)) or "none"
    keys = list(data)
    found = []
    for item in error.errors():
        name = str(item["loc"][0])
        kind = item["type"]
        if kind == "extra_forbidden":
            order = (0, keys.index(name))
        else:
            order = (1 if kind == "missing" else 2, fields.index(name))
        message = _message(kind, item, properties.get(name, {}), allowed)
        found.append((order, {"field": name, "message": message}))
    return [problem for _, problem in sorted(found, key=lambda pair: pair[0])]
