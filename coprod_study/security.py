"""Response headers, session lifetimes and the session version check."""

import time

from flask import current_app, g, request, session
from flask_login import current_user, logout_user

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' https: http:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def is_safe_next(target: str | None) -> bool:
    """Only same-site paths: '/x' yes, '//evil', 'http://evil', '/\\evil' no."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    # Browsers read "\\" as "/" and drop tabs and newlines inside a URL, so
    # "/\t/evil" would become "//evil": refuse backslashes and control characters.
    return not any(char == "\\" or ord(char) < 0x20 or ord(char) == 0x7F for char in target)


def start_session(user, remember: bool) -> None:
    from flask_login import login_user

    # A fresh session at sign-in: nothing from before (or planted) survives.
    session.clear()
    login_user(user, remember=remember)
    session.permanent = True
    session["auth_at"] = int(time.time())


def init_app(app):
    @app.before_request
    def enforce_absolute_lifetime():
        if not current_user.is_authenticated:
            return
        limit = current_app.config["SESSION_ABSOLUTE_LIFETIME"].total_seconds()
        started = session.get("auth_at")
        if started is None:
            # Restored from a remember-me cookie, which has its own expiry.
            session["auth_at"] = int(time.time())
            session.permanent = True
        elif time.time() - started > limit:
            # Clear first: logout_user() leaves a note in the session that
            # deletes the remember-me cookie too.
            session.clear()
            logout_user()
            g.session_expired = True

    @app.before_request
    def refuse_nul_characters():
        # PostgreSQL cannot store U+0000 in text; refuse it up front with a clear
        # message instead of failing deep inside a write.
        if request.method == "POST" and any(
            "\x00" in value for values in request.form.listvalues() for value in values
        ):
            from flask import abort

            abort(400, "Text may not contain the NUL control character.")

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if current_user.is_authenticated and not request.path.startswith("/static/"):
            headers["Cache-Control"] = "no-store"
            headers.add("Vary", "Cookie")
        return response
