"""Domain errors raised by services, and the HTML/JSON error handlers."""

import logging

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    413: _l("Too large"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
}


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes[
        "text/html"
    ]


def _respond(status: int, detail: str | None = None, headers: dict | None = None):
    title = str(TITLES.get(status) or _("Error"))
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
            _(
                "This form has expired or was sent from somewhere else. "
                "Go back, reload the page and try again."
            ),
        )

    @app.errorhandler(DomainError)
    def domain_error(error):
        return _respond(error.status, error.message)

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code == 429:
            retry = getattr(error, "retry_after", None)
            detail = _("You have made too many requests. Please wait a minute and try again.")
            return _respond(429, detail, {"Retry-After": str(retry or 60)})
        if error.code and error.code >= 500:
            db.session.rollback()
        headers = {}
        if error.code == 405 and getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(error.valid_methods)
        detail = error.description if error.code != 404 else None
        if detail == type(error).description and not wants_json():
            # Werkzeug's stock English sentence: the page says it in the reader's language.
            detail = None
        return _respond(error.code or 500, detail, headers)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        db.session.rollback()
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return _respond(InternalServerError.code)
