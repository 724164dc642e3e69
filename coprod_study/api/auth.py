"""Bearer tokens, scopes, body size and per-token rate limits for every API request."""

import time

from flask import current_app, g, request
from limits import parse
from werkzeug.exceptions import HTTPException

from coprod_study.account import tokens as api_tokens
from coprod_study.api import bp
from coprod_study.api.spec import declared
from coprod_study.api.support import MAX_BODY_BYTES, MAX_ID, ApiError, problem
from coprod_study.errors import DomainError, RateLimited
from coprod_study.extensions import limiter

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHALLENGE = 'Bearer realm="coprod-study API"'


def api_user():
    """The person the request's token belongs to (None on a public endpoint without one)."""
    return g.get("api_user")


def _bearer() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(
            401,
            "Send a personal access token as Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": CHALLENGE + ', error="invalid_request"'},
        )
    return value.strip()


@bp.url_value_preprocessor
def ids_in_range(endpoint, values):
    # An id no database column can hold names nothing (and must not reach the
    # database, where PostgreSQL would refuse it). Checked here rather than by
    # the URL converter, whose limit would turn such a path into a 405.
    for value in (values or {}).values():
        if isinstance(value, int) and value > MAX_ID:
            raise ApiError(404, "There is no such thing.")


@bp.before_request
def authenticate():
    # A per-request limit, lower than the site's (which allows file uploads).
    request.max_content_length = MAX_BODY_BYTES
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, "The body is larger than 1 MB.")
    # Session cookies are never looked at here: only the token says who calls.
    g.api_user = None
    g.api_token = None
    raw = _bearer()
    if raw is None:
        # Endpoints anyone may call without a token say so in their @operation
        # (the catalog is public on the site too).
        declaration = declared(request.endpoint)
        if declaration is not None and declaration.public:
            _rate_limit(f"ip:{request.remote_addr}")
            return None
        raise ApiError(
            401,
            "This endpoint needs a personal access token (make one at /account).",
            headers={"WWW-Authenticate": CHALLENGE},
        )
    verdict = api_tokens.check(raw)
    if verdict.token is None:
        raise ApiError(
            401,
            verdict.problem,
            headers={"WWW-Authenticate": CHALLENGE + ', error="invalid_token"'},
        )
    token = verdict.token
    _rate_limit(f"token:{token.id}")
    if request.method not in READ_METHODS and not token.can_write:
        raise ApiError(
            403,
            "This token may only read. Make a token with the read and write scope to post.",
            headers={"WWW-Authenticate": CHALLENGE + ', error="insufficient_scope"'},
        )
    api_tokens.touch(token)
    g.api_token = token
    g.api_user = token.user
    return None


def _rate_limit(key: str) -> None:
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    item = parse(current_app.config.get("API_RATE_LIMIT", "120/minute"))
    strategy = limiter.limiter
    if strategy.hit(item, "api", key):
        return
    reset_at, _remaining = strategy.get_window_stats(item, "api", key)
    wait = max(1, int(reset_at - time.time()) + 1)
    raise ApiError(
        429,
        f"Too many requests with this token; try again in {wait} seconds.",
        headers={"Retry-After": str(wait)},
    )


@bp.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    return problem(error.code, error.detail, error.errors, error.extra_headers)


@bp.errorhandler(DomainError)
def domain_error(error: DomainError):
    from coprod_study.api.support import problem as make_problem

    if isinstance(error, RateLimited):
        return make_problem(429, error.message, headers={"Retry-After": str(error.retry_after)})
    if error.status == 400:
        # A rule about what was sent (an empty body, an option the group does
        # not allow): the request was well-formed but cannot be done as it is.
        errors = [{"field": error.field, "message": error.message}] if error.field else None
        return make_problem(422, error.message, errors)
    return make_problem(error.status, error.message)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    if error.code == 413:
        return problem(413, "The body is larger than 1 MB.")
    detail = None if error.code == 404 else error.description
    headers = {}
    if error.code == 405 and error.get_response().headers.get("Allow"):
        headers["Allow"] = error.get_response().headers["Allow"]
    return problem(error.code or 500, detail, headers=headers)
