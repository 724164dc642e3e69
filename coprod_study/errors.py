"""Domain errors raised by services, and the HTML/JSON error handlers."""

import logging

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule said no. Views show `message` next to `field` (or at the top)."""

    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class RateLimited(DomainError):
    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    413: "Too large",
    429: "Too many requests",
    500: "Something went wrong",
}


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes[
        "text/html"
    ]


def _respond(status: int, detail: str | None = None, headers: dict | None = None):
    title = TITLES.get(status, "Error")
    if wants_json():
        body = {"type": "about:blank", "title": title, "status": status}
        if detail:
            body["detail"] = detail
        response = jsonify(body)
        response.status_code = status
        response.mimetype = "application/problem+json"
    else:
        template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/generic.html"
        response = render_template(template, status=status, title=title, detail=detail), status
        from flask import make_response

        response = make_response(response)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register_error_handlers(app):
    from coprod_study.extensions import db

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _respond(
            400,
            "This form has expired or was sent from somewhere else. "
            "Go back, reload the page and try again.",
        )

    @app.errorhandler(DomainError)
    def domain_error(error):
        return _respond(error.status, error.message)

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code == 429:
            retry = getattr(error, "retry_after", None)
            detail = "You have made too many requests. Please wait a minute and try again."
            return _respond(429, detail, {"Retry-After": str(retry or 60)})
        if error.code and error.code >= 500:
            db.session.rollback()
        headers = {}
        if error.code == 405 and getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(error.valid_methods)
        return _respond(
            error.code or 500, error.description if error.code != 404 else None, headers
        )

    @app.errorhandler(Exception)
    def unexpected_error(error):
        db.session.rollback()
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return _respond(InternalServerError.code)
