"""Interface language and time zone: the person's setting, else the browser, else English."""

from zoneinfo import ZoneInfo

import pytz
from flask import has_request_context, request
from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_login import current_user

from coprod_study.models import LANGUAGES

LANGUAGE_COOKIE = "lang"
LANGUAGE_PARAM = "hl"
SUPPORTED = tuple(LANGUAGES)
DEFAULT_LANGUAGE = "en"


def select_locale() -> str:
    # Outside a request (the command line, e-mail sent from cron) there is no
    # person or browser to ask: English, unless force_locale() says otherwise.
    if not has_request_context():
        return DEFAULT_LANGUAGE
    # ?hl=xx names one language version of a public page (the hreflang alternates
    # point at them), so a search engine, which sends no cookie, can find each.
    named = request.args.get(LANGUAGE_PARAM)
    if named in SUPPORTED:
        return named
    if getattr(current_user, "is_authenticated", False) and current_user.language in SUPPORTED:
        return current_user.language
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in SUPPORTED:
        return chosen
    return request.accept_languages.best_match(SUPPORTED) or "en"


def language_of(user) -> str:
    """The interface language a person chose, for what is sent to them (e-mail, notifications)."""
    language = getattr(user, "language", None)
    return language if language in SUPPORTED else DEFAULT_LANGUAGE


def select_timezone() -> str:
    if not has_request_context() or not getattr(current_user, "is_authenticated", False):
        return "UTC"
    return valid_zone(current_user.time_zone)


def valid_zone(name: str | None) -> str:
    """`name` if it is a time zone both zoneinfo and Babel know, else UTC."""
    try:
        ZoneInfo(name or "UTC")
        pytz.timezone(name or "UTC")
    except (KeyError, ValueError, pytz.UnknownTimeZoneError):
        return "UTC"
    return name or "UTC"


def lazy_join(*parts) -> LazyString:
    """Lazy strings joined only when shown, so each part is in the reader's language."""
    return LazyString(lambda: "".join(str(part) for part in parts))


def too_long(limit: int) -> LazyString:
    """A length validator's message, the number written the reader's way."""
    return _l(
        "This is too long; the limit is %(limit)s characters.",
        limit=LazyString(format_number, limit),
    )


def init_app(app) -> None:
    from coprod_study.extensions import babel

    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(app.root_path + "/translations"),
    )

    # Templates call gettext thousands of times on a long page; Flask-Babel finds
    # the catalog anew at each call, so the page keeps the one it found first.
    app.jinja_env.install_gettext_callables(
        lambda string: request_translations().ugettext(string),
        lambda singular, plural, n: request_translations().ungettext(singular, plural, n),
        newstyle=True,
        pgettext=lambda context, string: request_translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: request_translations().unpgettext(
            context, singular, plural, n
        ),
    )

    @app.before_request
    def keep_wtforms_catalog():
        # Flask-WTF reads WTForms' own catalog from disk once per request unless it
        # finds one here; this one is loaded once per process and language.
        request.wtforms_translations = WTFORMS_CATALOG

    @app.after_request
    def vary_on_language(response):
        # A page's language follows the browser's Accept-Language and the lang
        # cookie, so a shared cache must not hand one reader's page to another.
        if response.mimetype == "text/html":
            response.vary.add("Accept-Language")
            response.vary.add("Cookie")
        return response


class WTFormsCatalog:
    """WTForms' own messages ("This field is required.") in the request's language,
    each language's catalog read once per process."""

    def __init__(self):
        self._catalogs = {}

    def _catalog(self):
        from babel import support
        from flask_babel import get_locale
        from wtforms.i18n import messages_path

        locale = get_locale()
        key = str(locale)
        catalog = self._catalogs.get(key)
        if catalog is None:
            catalog = support.Translations.load(messages_path(), [locale], domain="wtforms")
            self._catalogs[key] = catalog
        return catalog

    def ugettext(self, string):
        return self._catalog().ugettext(string)

    def ungettext(self, singular, plural, n):
        return self._catalog().ungettext(singular, plural, n)


WTFORMS_CATALOG = WTFormsCatalog()


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


def _babel_state():
    """Flask-Babel's per-context namespace (it keeps `babel_locale` there), or None."""
    from flask.globals import _cv_app

    app_ctx = _cv_app.get(None)
    return None if app_ctx is None else app_ctx.g.__dict__.get("_flask_babel")


def per_locale(name: str, build):
    """`build()`, worked out once per request and language and kept beside Flask-Babel's
    own locale, so that force_locale (an e-mail in the recipient's language) and
    flask_babel.refresh() are seen at once."""
    state = _babel_state()
    locale = getattr(state, "babel_locale", None)
    found = getattr(state, name, None)
    if found is not None and locale is not None and found[0] is locale:
        return found[1]
    value = build()
    state = _babel_state()
    if state is not None:
        setattr(state, name, (getattr(state, "babel_locale", None), value))
    return value


def request_translations():
    """The catalog of the current request's language, looked up once per request."""
    from flask_babel import get_translations

    return per_locale("_coprod_translations", get_translations)
