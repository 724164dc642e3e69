"""A newcomer's first hour (issue #17): time zones, wording, feeds, translations and
the small things a new user trips over, outside courses (see test_courses_newcomer.py)."""

import pytest
from sqlalchemy import select

from coprod_study.extensions import db
from coprod_study.models import Course
from coprod_study.services import accounts
from tests import factories as f
from tests.conftest import login, post_form


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


# --- B9: the time zone field ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Europe/Stockholm", "Europe/Stockholm"),
        ("europe/stockholm", "Europe/Stockholm"),
        ("  EUROPE/STOCKHOLM ", "Europe/Stockholm"),
        ("Stockholm", "Europe/Stockholm"),
        ("new york", "America/New_York"),
        ("america/new york", "America/New_York"),
        ("cet", "CET"),
        ("utc", "UTC"),
        ("PST", "America/Los_Angeles"),
        ("cest", "Europe/Paris"),
        ("port-au-prince", "America/Port-au-Prince"),
        ("Mars/Olympus", None),
        ("", None),
        ("x" * 80, None),
    ],
)
def test_time_zones_are_matched_without_regard_to_case_with_cities_and_aliases(typed, zone):
    assert accounts.resolve_time_zone(typed) == zone


def test_the_account_page_stores_the_zone_meant(app, sample_catalog):
    user = f.make_user()
    client = signed_in(app, user)
    response = post_form(client, "/account", {
        "display_name": "Zoned", "language": "en", "time_zone": "stockholm",
        "email_preference": "daily",
    }, token_from="/account")
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.time_zone == "Europe/Stockholm"


def test_the_time_zone_field_offers_a_list_and_a_browser_suggestion(app, sample_catalog):
    client = signed_in(app, f.make_user())
    page = client.get("/account").get_data(as_text=True)
    assert 'list="time-zones"' in page and '<option value="Europe/Stockholm">' in page
    assert 'data-zone-for="time_zone"' in page
    assert "/static/js/timezone.js" in page
    script = client.get("/static/js/timezone.js").get_data(as_text=True)
    assert "resolvedOptions().timeZone" in script
    # The script only fills the field: it never sends the form.
    assert "submit()" not in script


def test_the_course_form_takes_a_zone_in_any_case(app, sample_catalog):
    client = signed_in(app, f.make_user(role="educator"))
    response = post_form(client, "/courses/new", {
        "title": "Zones", "code": "ZONES", "time_zone": "europe/stockholm",
        "placement": "educator",
    }, token_from="/courses/new")
    assert response.status_code == 302
    course = db.session.scalar(select(Course).where(Course.code == "ZONES"))
    assert course.time_zone == "Europe/Stockholm"
