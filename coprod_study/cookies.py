"""Cookies follow the scheme the request came over: Secure (and `__Host-`) over HTTPS, usable over plain HTTP.

A request counts as HTTPS when it reached the app over TLS, or when a trusted
proxy (COPROD_PROXY_HOPS, through werkzeug's ProxyFix) says it did. The
setting SESSION_COOKIE_SECURE (COPROD_SECURE_COOKIES) is None by default, which
means "follow the scheme"; True makes every cookie Secure whatever the scheme
(a proxy that terminates TLS without telling the app), False never.

A Secure cookie over plain HTTP is never sent back by most clients (curl,
scripts, Safari, a phone on the LAN), so the session and its CSRF token would
be lost at every request.
"""

from flask import Response, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

HOST_PREFIX = "__Host-"
# Set in a session that an LTI launch started (coprod_study.lti): the LMS shows the
# tool in an iframe, a third-party context, where only SameSite=None cookies are sent.
FRAMED_SESSION_KEY = "lti_framed"


def framed_session() -> bool:
    from flask import session

    # `in`, not session.get(): reading with get() marks the session accessed, which
    # adds Vary: Cookie to every response, the public pages' too.
    return has_request_context() and FRAMED_SESSION_KEY in session


def wants_secure(app=None) -> bool:
    """Should the cookies set for this request carry Secure?"""
    forced = (app or current_app).config.get("SESSION_COOKIE_SECURE")
    if forced is not None:
        return bool(forced)
    return has_request_context() and request.is_secure


class SchemeSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, named `__Host-session` when it is Secure: a cookie
    with that prefix must be Secure, for the whole host and no domain, so no other site
    or plain-HTTP page can plant one."""

    def get_cookie_secure(self, app) -> bool:
        return wants_secure(app)

    def get_cookie_samesite(self, app):
        # Only sessions begun by a launch; a sign-in here keeps the configured Lax.
        return "None" if framed_session() else super().get_cookie_samesite(app)

    def get_cookie_name(self, app) -> str:
        name = super().get_cookie_name(app)
        prefixed = (
            self.get_cookie_secure(app)
            and self.get_cookie_domain(app) is None
            and self.get_cookie_path(app) == "/"
        )
        return HOST_PREFIX + name if prefixed else name


class SchemeResponse(Response):
    """Every cookie the app sets (the session, Flask-Login's remember-me cookie, the
    language choice) is Secure exactly when `wants_secure()` says so."""

    def set_cookie(self, key, *args, **kwargs):
        if has_request_context():
            if kwargs.get("samesite") == "None":
                # Sent from inside another site's frame: browsers drop such a cookie unless
                # it is Secure (they keep Secure cookies from http://localhost), and block
                # it as a third-party cookie unless it is Partitioned (CHIPS), kept apart
                # for each site that frames the tool.
                kwargs["secure"] = True
                kwargs["partitioned"] = True
            else:
                kwargs["secure"] = wants_secure()
        super().set_cookie(key, *args, **kwargs)


def init_app(app) -> None:
    app.session_interface = SchemeSessionInterface()
    app.response_class = SchemeResponse
