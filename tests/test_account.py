"""The /account page: a person's own settings."""

import pytest

from coprod_study.extensions import db
from tests.conftest import login, post_form

GOOD = {
    "display_name": "Renamed Person",
    "language": "sv",
    "time_zone": "Europe/Stockholm",
    "email_preference": "weekly",
}


def save(client, **changes):
    data = dict(GOOD, **changes)
    return post_form(client, "/account", data, token_from="/account")


def test_account_requires_sign_in(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")
    assert "Please sign in" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_account_page_shows_current_settings(client, make_user):
    user = make_user(name="Shown Person", time_zone="America/New_York", email_preference="off")
    login(client, user)
    page = client.get("/account").get_data(as_text=True)
    assert user.email in page
    assert 'value="Shown Person"' in page
    assert 'value="America/New_York"' in page
    assert '<option selected value="off">' in page
    for label in ("Display name", "Language", "Time zone", "E-mail me about activity"):
        assert f">{label}</label>" in page


def test_account_update_saves_every_setting(client, make_user):
    user = make_user()
    login(client, user)
    response = save(client, display_name="  Renamed   Person ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    db.session.refresh(user)
    assert user.display_name == "Renamed Person"
    assert user.language == "sv"
    assert user.time_zone == "Europe/Stockholm"
    assert user.email_preference == "weekly"
    page = client.get("/account").get_data(as_text=True)
    assert "Your settings are saved." in page
    assert '<html lang="sv">' in page


def test_account_time_zone_is_trimmed(client, make_user):
    user = make_user()
    login(client, user)
    assert save(client, time_zone="  America/Sao_Paulo ").status_code == 302
    db.session.refresh(user)
    assert user.time_zone == "America/Sao_Paulo"


@pytest.mark.parametrize(
    ("changes", "message", "kept"),
    [
        (
            {"time_zone": "Mars/Olympus"},
            "“Mars/Olympus” is not a time zone this site knows.",
            'value="Mars/Olympus"',
        ),
        ({"time_zone": ""}, "Enter a time zone.", 'value="Renamed Person"'),
        ({"time_zone": "x" * 65}, "Field cannot be longer than 64 characters.", 'value="xxxx'),
        ({"language": "klingon"}, "Not a valid choice", 'value="Europe/Stockholm"'),
        ({"email_preference": "hourly"}, "Not a valid choice", 'value="Europe/Stockholm"'),
        ({"display_name": ""}, "Enter a display name.", 'value="Europe/Stockholm"'),
        ({"display_name": "n" * 81}, "Use at most 80 characters.", 'value="' + "n" * 81 + '"'),
    ],
    ids=[
        "unknown-zone",
        "empty-zone",
        "long-zone",
        "bad-language",
        "bad-email-preference",
        "empty-name",
        "long-name",
    ],
)
def test_account_bad_input_is_refused_and_nothing_saved(client, make_user, changes, message, kept):
    user = make_user(name="Original Name")
    login(client, user)
    response = save(client, **changes)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert kept in page
    db.session.refresh(user)
    assert user.display_name == "Original Name"
    assert user.language == "en"
    assert user.time_zone == "UTC"
    assert user.email_preference == "daily"


def test_account_post_needs_csrf(client, make_user):
    user = make_user(name="Original Name")
    login(client, user)
    response = client.post("/account", data=GOOD)
    assert response.status_code == 400
    db.session.refresh(user)
    assert user.display_name == "Original Name"


def test_time_zone_list_is_every_known_zone_sorted_and_offered(client, make_user):
    import zoneinfo

    from coprod_study.account import service as accounts

    names = accounts.time_zone_names()
    assert list(names) == sorted(zoneinfo.available_timezones())
    assert "Europe/Stockholm" in names and "Mars/Olympus" not in names
    assert accounts.valid_time_zone("Pacific/Auckland")
    assert not accounts.valid_time_zone("pacific/auckland")
    login(client, make_user())
    page = client.get("/account").get_data(as_text=True)
    offered = page.split('<datalist id="time-zones">', 1)[1].split("</datalist>", 1)[0]
    assert offered.count("<option ") == len(names)
    assert '<option value="America/Sao_Paulo">' in offered
