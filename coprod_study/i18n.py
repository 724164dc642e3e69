"""Interface language and time zone: the person's setting, else the browser, else English."""

from flask import request
from flask_login import current_user

from coprod_study.models import LANGUAGES

LANGUAGE_COOKIE = "lang"
SUPPORTED = tuple(LANGUAGES)


def select_locale() -> str:
    if getattr(current_user, "is_authenticated", False) and current_user.language in SUPPORTED:
        return current_user.language
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in SUPPORTED:
        return chosen
    return request.accept_languages.best_match(SUPPORTED) or "en"


def select_timezone() -> str:
    if getattr(current_user, "is_authenticated", False):
        return current_user.time_zone or "UTC"
    return "UTC"


def init_app(app) -> None:
    from coprod_study.extensions import babel

    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(app.root_path + "/translations"),
    )


def set_language_response(response, language: str):
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response
