"""The tool inside an LMS's iframe: cross-site cookies for launches, and frame-ancestors
limited to the registered platforms on LTI pages and in sessions a launch began."""

from urllib.parse import urlsplit

from flask import g, request, session

from coprod_study.cookies import FRAMED_SESSION_KEY, framed_session
from coprod_study.lti import bp
from coprod_study.security import CONTENT_SECURITY_POLICY


def mark_framed_session() -> None:
    session[FRAMED_SESSION_KEY] = True


def set_cross_site_cookie(response, name: str, value: str, max_age: int) -> None:
    """A cookie sent back with the platform's cross-site form POST to /lti/launch."""
    response.set_cookie(name, value, max_age=max_age, path="/lti/", httponly=True,
                        samesite="None", secure=True)


def allow_form_action(url: str) -> None:
    """This response's form posts to the platform (the deep-link return)."""
    parts = urlsplit(url)
    g.lti_form_origin = f"{parts.scheme}://{parts.netloc}"


def _policy(frame_ancestors: list[str], form_origin: str | None) -> str:
    directives = []
    for directive in CONTENT_SECURITY_POLICY.split("; "):
        name = directive.split(" ", 1)[0]
        if name == "frame-ancestors":
            directive = " ".join(["frame-ancestors", *(frame_ancestors or ["'none'"])])
        elif name == "form-action" and form_origin:
            directive = f"{directive} {form_origin}"
        directives.append(directive)
    return "; ".join(directives)


@bp.after_app_request
def frame_for_platforms(response):
    # Registered before coprod_study.security's hook, so it runs after it and replaces
    # the frame-ancestors 'none' and X-Frame-Options: DENY it sets.
    if not (request.path.startswith("/lti/") or framed_session()):
        return response
    if request.path.startswith("/static/"):
        return response
    from coprod_study.lti.service.registration import frame_origins

    response.headers["Content-Security-Policy"] = _policy(
        frame_origins(), g.get("lti_form_origin")
    )
    response.headers.pop("X-Frame-Options", None)
    return response
