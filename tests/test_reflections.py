"""Reflections: written after listening, private to their author (admins included), exported, deleted."""

import json

from markupsafe import escape
from sqlalchemy import select

from coprod_study.extensions import db
from coprod_study.models import Episode, ListeningProgress, Reflection
from tests import factories as f
from tests.api_support import auth
from tests.conftest import login, post_form

SECRET = "Pangolinreflection"
SEARCH_WORD = "Aardwolfword"  # searched for instead of SECRET, which the search page echoes


def first_episode() -> Episode:
    return db.session.scalar(select(Episode).order_by(Episode.number))


def listened(user, episode) -> None:
    db.session.add(ListeningProgress(user_id=user.id, episode_id=episode.id, listened=True))
    db.session.commit()


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


def write(client, episode, **fields):
    path = f"/reflections/new/{episode.slug}"
    return post_form(client, path, fields, token_from=path)


def test_a_reflection_needs_listening_first_and_keeps_what_was_typed(app, sample_catalog):
    learner = f.make_user()
    episode = first_episode()
    client = signed_in(app, learner)
    page = client.get(f"/reflections/new/{episode.slug}").get_data(as_text=True)
    assert "Mark <a" in page and 'name="learned"' not in page
    response = write(client, episode, learned="Too early " + SECRET)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "Mark the episode as listened before you reflect on it." in body
    assert db.session.scalar(select(Reflection)) is None

    listened(learner, episode)
    page = client.get(f"/reflections/new/{episode.slug}").get_data(as_text=True)
    # The prompts come from the episode's takeaways.
    for takeaway in episode.takeaways:
        assert str(escape(takeaway.text)) in page
    empty = write(client, episode, learned="  ", will_try="", for_whom="")
    assert empty.status_code == 400
    assert "Write at least one part of your reflection." in empty.get_data(as_text=True)
    too_long = write(client, episode, learned="x" * 5001, will_try="Kept text")
    assert too_long.status_code == 400
    assert "Kept text" in too_long.get_data(as_text=True)


def test_the_author_writes_reads_changes_and_deletes_it(app, sample_catalog):
    learner = f.make_user()
    episode = first_episode()
    listened(learner, episode)
    client = signed_in(app, learner)
    response = write(client, episode, learned=f"**{SECRET}** <script>x()</script>",
                     will_try="Ask first", for_whom="My ward")
    assert response.status_code == 302
    reflection = db.session.scalar(select(Reflection))
    assert response.headers["Location"].endswith(f"/reflections/{reflection.id}")
    page = client.get(f"/reflections/{reflection.id}").get_data(as_text=True)
    assert f"<strong>{SECRET}</strong>" in page and "<script>x()" not in page
    # A second "new" goes to the one there is: one reflection per episode.
    again = client.get(f"/reflections/new/{episode.slug}")
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/{reflection.id}")
    changed = post_form(client, f"/reflections/{reflection.id}", {"learned": "Changed"},
                        token_from=f"/reflections/{reflection.id}")
    assert changed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Reflection, reflection.id).learned == "Changed"
    assert "Changed" in client.get(f"/reflections/{reflection.id}").get_data(as_text=True)
    deleted = post_form(client, f"/reflections/{reflection.id}/delete", token_from="/reflections")
    assert deleted.status_code == 302
    assert db.session.get(Reflection, reflection.id) is None


def _reflection_of(learner) -> Reflection:
    episode = first_episode()
    listened(learner, episode)
    from coprod_study.reflections import service

    return service.save_reflection(learner, episode, {"learned": f"{SECRET} {SEARCH_WORD}", "will_try": "", "for_whom": ""})


def test_nobody_else_sees_it_not_even_an_admin(app, sample_catalog):
    learner = f.make_user(name="Reflecting Learner")
    reflection = _reflection_of(learner)
    admin = f.make_user(role="admin")
    educator = f.make_user(role="educator")
    for other in (admin, educator, f.make_user()):
        client = signed_in(app, other)
        assert client.get(f"/reflections/{reflection.id}").status_code == 404
        response = post_form(client, f"/reflections/{reflection.id}", {"learned": "Hijack"},
                             token_from="/reflections")
        assert response.status_code == 404
        assert post_form(client, f"/reflections/{reflection.id}/delete",
                         token_from="/reflections").status_code == 404
        assert SECRET not in client.get("/reflections").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Reflection, reflection.id).learned.startswith(SECRET)

    # No admin page, search result or API answer carries it.
    client = signed_in(app, admin)
    api_headers = auth(admin, "read")
    seen = []
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods:
            continue
        if not rule.endpoint.startswith(("admin.", "api.", "search.", "account.")):
            continue
        # The API reads its bearer token only, never the session.
        headers = api_headers if rule.endpoint.startswith("api.") else {}
        response = client.get(rule.rule, headers=headers)
        assert response.status_code < 500, rule.rule
        seen.append((rule.rule, response.status_code))
        assert SECRET not in response.get_data(as_text=True), rule.rule
    assert ("/admin/users", 200) in seen and ("/api/v1/me", 200) in seen
    assert SECRET not in client.get(f"/search?q={SEARCH_WORD}").get_data(as_text=True)
    assert SECRET not in client.get(f"/admin/users?q={learner.email}").get_data(as_text=True)


def test_export_has_it_and_deleting_the_account_removes_it(app, sample_catalog):
    learner = f.make_user()
    reflection_id = _reflection_of(learner).id
    client = signed_in(app, learner)
    exported = client.get("/account/export")
    data = json.loads(exported.get_data(as_text=True))
    assert data["reflections"][0]["what_i_learned"] == f"{SECRET} {SEARCH_WORD}"
    assert data["follow_ups"]["wanted"] is True
    response = post_form(client, "/account/delete", {"password": f.DEFAULT_PASSWORD},
                         token_from="/account/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Reflection, reflection_id) is None
