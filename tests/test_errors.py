"""Error pages: styled HTML for people, problem+json for API clients, never a traceback."""

import pytest
from sqlalchemy import func, select

from coprod_study.extensions import db
from coprod_study.models import User


class Boom(RuntimeError):
    pass


SECRET_DETAIL = "secret internal detail 4711"


@pytest.fixture
def failing_app(app):
    """The app with test-only routes that write and then fail."""

    def explode():
        db.session.add(User(email="half@example.org", display_name="Half", password_hash="x"))
        db.session.flush()
        raise Boom(SECRET_DETAIL)

    app.add_url_rule("/test-only/explode", "test_explode", explode)
    app.add_url_rule("/api/v1/test-only/explode", "test_api_explode", explode)
    return app


def test_unknown_url_is_a_styled_404(client):
    response = client.get("/no/such/page")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "<h1>Page not found</h1>" in page
    assert "/static/css/site.css" in page
    assert 'href="/episodes"' in page


def test_unknown_api_url_is_problem_json(client):
    response = client.get("/api/v1/whatever")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == 404
    assert body["title"] == "Page not found"
    assert body["type"] == "about:blank"


def test_json_clients_get_json_errors_elsewhere_too(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_wrong_method_is_405_not_500(client):
    response = client.get("/auth/logout")
    assert response.status_code == 405
    assert "Method not allowed" in response.get_data(as_text=True)


def test_an_unexpected_error_is_a_styled_500_without_details(failing_app, client, caplog):
    response = client.get("/test-only/explode")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert "<h1>Something went wrong</h1>" in page
    assert "/static/css/site.css" in page
    assert "Traceback" not in page
    assert SECRET_DETAIL not in page
    assert "Boom" not in page
    # Logged for the operator, with the traceback, and the write rolled back.
    assert any(record.exc_info for record in caplog.records)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_an_unexpected_api_error_is_problem_json(failing_app, client):
    response = client.get("/api/v1/test-only/explode")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == 500
    assert SECRET_DETAIL not in response.get_data(as_text=True)


def test_forbidden_is_a_styled_403(client, make_user):
    from tests.conftest import login

    login(client, make_user())
    response = client.get("/admin/")
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in page
    assert "/static/css/site.css" in page


def test_a_missing_csrf_token_gets_a_clear_message(client):
    response = client.post("/auth/login", data={"email": "a@example.org", "password": "x"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This form has expired or was sent from somewhere else." in page


def test_a_too_large_request_is_413(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/auth/login", data={"email": "x" * 5000})
    assert response.status_code == 413
    assert "Too large" in response.get_data(as_text=True)


def test_nul_characters_in_forms_are_refused_clearly(client, make_user):
    from sqlalchemy import func, select

    from coprod_study.extensions import db
    from coprod_study.models import User
    from tests.conftest import login, post_form

    user = make_user(name="Before")
    login(client, user)
    response = post_form(
        client,
        "/account",
        {"display_name": "Bad\x00name", "language": "en", "time_zone": "UTC", "email_preference": "off"},
    )
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
    db.session.expire_all()
    assert user.display_name == "Before"
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
