"""Fixtures of the LTI tests: the fake platform on loopback, registered by an admin."""

import pytest

from coprod_study.extensions import db

# Imported here, not in a test module: a package-scoped fixture imported into a module
# outlives the package, and a second Playwright could not start in tests/security.
from tests.browser.conftest import browser  # noqa: F401
from tests.lti.platform import FakePlatform


@pytest.fixture
def app_config(app_config):
    # Grade posts run when they are enqueued, as a worker would run them.
    return app_config | {"QUEUE_IMMEDIATE": True, "RATELIMIT_ENABLED": False}


@pytest.fixture
def platform(app):
    fake = FakePlatform("http://localhost").start()
    yield fake
    fake.stop()


@pytest.fixture
def registered(app, platform, make_user):
    """The fake platform registered by an admin; the platform knows the tool's keys."""
    from coprod_study.lti.service import registration

    admin = make_user(role="admin")
    saved = registration.save_platform(admin, None, platform.registration())
    platform.tool_jwks = registration.jwks()
    db.session.commit()
    return saved
