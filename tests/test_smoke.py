from tests.conftest import login


def test_catalog_pages_show_sample_episodes(client, sample_catalog):
    page = client.get("/episodes").get_data(as_text=True)
    assert "Respect in the Room" in page


def test_login_works(client, make_user):
    user = make_user()
    login(client, user)
    assert user.display_name in client.get("/").get_data(as_text=True)
