"""Every kind of post reaches every place a kind must touch (ARCHITECTURE.md, "Where a feature touches").

The kinds come from the post kernel's registry (coprod_study.posts.kinds), so a new
kind of post that is registered but misses a place fails here: flags, search, the
data export and account deletion, the API's schema, its pages and the authorization
matrix's rows for them.
"""

import pytest
from flask import url_for

from coprod_study import data_versions
from coprod_study.discussion import service as discussion
from coprod_study.extensions import db
from coprod_study.groups import answers as answer_service
from coprod_study.moderation import service as moderation
from coprod_study.posts.kinds import kinds
from tests import factories as f

KINDS = sorted(kinds())


@pytest.fixture
def one_of_each(sample_catalog):
    """A post of every kind by the same writer, each edited once (so each has history)."""
    facilitator = f.make_user(name="Touch Facilitator")
    group = f.make_group(facilitator, name="Touching")
    writer = f.add_member(group, f.make_user(name="Touch Writer"))
    reader = f.add_member(group, f.make_user(name="Touch Reader"))
    _episode, question = f.first_question(group)
    answer = answer_service.post_answer(writer, group, question, "Touch answer")
    reply = answer_service.post_reply(writer, answer, "Touch reply")
    thread = discussion.create_thread(facilitator, group, title="Touch thread", body="Opening")
    post = discussion.reply(writer, thread, "Touch post")
    made = {"answer": answer, "reply": reply, "post": post}
    from coprod_study.posts import kernel

    for item in made.values():
        kernel.edit(writer, item, f"{item.body}, edited")
    assert set(made) == set(KINDS), "add the new kind to this fixture"
    return {"group": group, "writer": writer, "reader": reader, "posts": made}


def test_every_kind_has_its_words_and_history():
    from coprod_study.models import FLAG_TARGETS

    for name, kind in kinds().items():
        assert kind.name == name
        assert name in FLAG_TARGETS, f"{name}: add it to models.FLAG_TARGETS (flags name it)"
        for words in (kind.cannot_edit, kind.cannot_delete, kind.no_anonymous):
            assert str(words)
        assert kind.exported_tables and kind.model.__tablename__ in kind.exported_tables
        assert kind.revision_model.__tablename__ in kind.exported_tables


@pytest.mark.parametrize("name", KINDS)
def test_every_kind_is_flaggable_hideable_and_restorable(app, one_of_each, name):
    from coprod_study.models import Flag

    group, post = one_of_each["group"], one_of_each["posts"][name]
    item = moderation.flag(one_of_each["reader"], group, name, post.id, "other", "Look.")
    assert db.session.get(Flag, item.id).target_type == name
    queue, _hidden = moderation.moderation_queue(group)
    assert [(entry.target_type, entry.target.id) for entry in queue] == [(name, post.id)]
    admin = f.make_user(role="admin", name=f"Touch Admin {name}")
    moderation.hide(admin, group, name, post.id, "Off topic.")
    assert post.hidden_at is not None and moderation.moderation_queue(group)[1] == [(name, post)]
    moderation.restore(admin, group, name, post.id)
    assert post.hidden_at is None


def test_every_kind_has_a_search_document(app, one_of_each):
    from coprod_study.search import documents

    searchable = {kind: model for model, kind in documents.KINDS.items()}
    for name, kind in kinds().items():
        assert searchable.get(name) is kind.model, f"{name}: add it to search.documents.KINDS"
        assert kind.model in documents.SOURCES, f"{name}: add it to search.documents.SOURCES"
        assert documents._row(db.session, one_of_each["posts"][name]) is not None


def test_every_kind_is_exported_and_scrubbed_on_deletion(app, one_of_each):
    """The export reads each kind's tables (its posts and their history) and holds the
    texts, old and new; deleting the account reads each kind's table too (to take the
    name out of notifications about its posts)."""
    from coprod_study.account import personal_data

    writer = one_of_each["writer"]
    with data_versions.recording() as tables:
        export = personal_data.export_data(writer)
    text = repr(export)
    for name, kind in kinds().items():
        post = one_of_each["posts"][name]
        assert set(kind.exported_tables) <= tables, (name, sorted(tables))
        assert post.body in text and post.body.removesuffix(", edited") + "'" in text, name
    with data_versions.recording() as tables:
        personal_data.delete_account(writer, f.DEFAULT_PASSWORD)
    for name, kind in kinds().items():
        assert kind.model.__tablename__ in tables, name


def test_every_kind_has_an_api_schema_and_pages(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    for name, kind in kinds().items():
        assert kind.api_schema in schemas, f"{name}: the API has no schema {kind.api_schema}"
        for endpoint in _kind_endpoints(kind):
            assert endpoint in endpoints, f"{name}: no route {endpoint}"
    with app.test_request_context():
        assert url_for("moderation.flag", slug="s", target_type="answer", target_id=1)


def _kind_endpoints(kind) -> list[str]:
    """The routes a post of this kind has: the ones its template links to, and the API's."""
    pages = [f"{kind.blueprint}.edit_{kind.name}", f"{kind.blueprint}.delete_{kind.name}",
             f"{kind.blueprint}.{kind.name}_history"]
    return [*pages, f"api.{kind.name}", f"api.edit_{kind.name}"]


def test_the_authorization_matrix_has_every_kinds_routes():
    from tests.security.test_authorization_matrix import EXPECTED

    rows = {endpoint for endpoint, _method in EXPECTED}
    for name, kind in kinds().items():
        missing = [e for e in _kind_endpoints(kind) if e not in rows]
        assert not missing, f"{name}: no row in the authorization matrix for {missing}"
    for endpoint in ("moderation.flag", "moderation.hide", "moderation.restore"):
        assert endpoint in rows
