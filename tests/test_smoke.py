from tests.conftest import login


def test_catalog_pages_show_sample_episodes(client, sample_catalog):
    page = client.get("/episodes").get_data(as_text=True)
    assert "Respect in the Room" in page


def test_login_works(client, make_user):
    user = make_user()
    login(client, user)
    assert user.display_name in client.get("/").get_data(as_text=True)


def test_preparing_a_database_that_has_a_catalog_leaves_no_transaction_open(
    app, sample_catalog, make_user
):
    """`coprod-study serve` prepares the database, then serves for as long as it runs
    in the same app context: a transaction left open there would hold SQLite's write
    lock, and every sign-in and post of the restarted site would fail."""
    from sqlalchemy import create_engine, text

    from coprod_study.cli import prepare_database
    from coprod_study.extensions import db

    prepare_database()  # the catalog is there: nothing to load
    assert not db.session().in_transaction()
    # Another connection (a request's) can write at once.
    other = create_engine(db.engine.url, connect_args=(
        {"timeout": 1} if db.engine.dialect.name == "sqlite" else {}
    ))
    try:
        with other.begin() as connection:
            connection.execute(text("UPDATE episodes SET title = title"))
    finally:
        other.dispose()
