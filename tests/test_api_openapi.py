"""The OpenAPI document is built from the routes and the models the endpoints validate with.

It cannot drift: every API route is in it and nothing else, a route without a
declaration stops it being built, a change to a model changes it, and real
responses (successes and problems) match what it says.
"""

import re

import pytest
from jsonschema import Draft202012Validator
from pydantic.fields import FieldInfo

from coprod_study.api import inputs, outputs
from coprod_study.api.openapi import VARIABLE, Schemas, _tidy, document
from coprod_study.discussion import service as discussion
from coprod_study.extensions import db
from coprod_study.groups import answers as answer_service
from coprod_study.models import Notification
from tests import factories as f
from tests.api_support import auth

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _api_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - IGNORED_METHODS:
            routes.add((path, method.lower()))
    return routes


def _documented(spec) -> set[tuple[str, str]]:
    return {(path, method) for path, operations in spec["paths"].items() for method in operations}


def test_every_route_is_documented_and_every_documented_operation_exists(app):
    routes = _api_routes(app)
    spec = document(app)
    assert len(routes) >= 25
    assert routes - _documented(spec) == set(), "routes missing from the document"
    assert _documented(spec) - routes == set(), "documented operations with no route"
    # And the operation ids are the endpoints' names (the authorization matrix uses them).
    endpoints = {r.endpoint.removeprefix("api.") for r in app.url_map.iter_rules()
                 if r.endpoint.startswith("api.")}
    ids = {op["operationId"] for ops in spec["paths"].values() for op in ops.values()}
    assert ids == endpoints


def test_a_route_without_a_declaration_stops_the_document(app):
    app.add_url_rule("/api/v1/undeclared", "api.undeclared", lambda: {})
    with pytest.raises(LookupError, match="api.undeclared"):
        document(app)


def test_the_document_is_served(client, app):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    data = response.get_json()
    assert data["openapi"] == "3.1.0"
    assert data == document(app)


def test_each_operation_is_fully_described(app):
    spec = document(app)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method} {path}"
            assert operation["operationId"] and operation["summary"], where
            assert set(operation["tags"]) <= {tag["name"] for tag in spec["tags"]}, where
            variables = set(re.findall(r"{([^}]+)}", path))
            documented = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert variables == documented, where
            responses = operation["responses"]
            assert len([code for code in responses if code.startswith("2")]) == 1, where
            for code, response in responses.items():
                assert response["description"], (where, code)
                if not code.startswith("2"):
                    assert "application/problem+json" in response["content"], (where, code)
            if "requestBody" in operation:
                assert {"400", "413", "415", "422"} <= set(responses), where
            for parameter in operation["parameters"]:
                assert parameter["schema"] and parameter["description"], (where, parameter)
            for name in re.findall(r"#/components/schemas/(\w+)", str(operation)):
                assert name in spec["components"]["schemas"], (where, name)
            if path != "/api/v1/openapi.json":
                assert {"401", "429"} <= set(responses), where


def test_bodies_and_query_parameters_are_the_models_the_api_validates_with(app):
    spec = document(app)
    schemas = spec["components"]["schemas"]
    for model in (inputs.NewAnswer, inputs.NewPost, inputs.Edit):
        assert schemas[model.__name__] == _tidy(model.model_json_schema(schema_generator=Schemas))
    posting = spec["paths"]["/api/v1/groups/{slug}/threads/{thread_id}/posts"]["post"]
    assert posting["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NewPost"
    }
    notes = spec["paths"]["/api/v1/notifications"]["get"]["parameters"]
    assert [p["name"] for p in notes] == list(inputs.NotificationQuery.model_fields)
    limit = next(p for p in notes if p["name"] == "limit")["schema"]
    assert (limit["minimum"], limit["maximum"]) == (1, 100)


def _with_field(model, name, info):
    model.model_fields[name] = info
    model.model_rebuild(force=True)


def _without_field(model, name):
    del model.model_fields[name]
    model.model_rebuild(force=True)


def test_changing_a_model_changes_the_document(app):
    before = document(app)
    _with_field(outputs.Me, "pronouns", FieldInfo(annotation=str, description="As they asked."))
    try:
        me = document(app)["components"]["schemas"]["Me"]
    finally:
        _without_field(outputs.Me, "pronouns")
    assert me["properties"]["pronouns"] == {"type": "string", "description": "As they asked."}
    assert "pronouns" in me["required"]
    assert document(app) == before


def test_changing_a_body_model_changes_the_document_and_the_validation(app, client, sample_catalog):
    facilitator = f.make_user()
    group = f.make_group(facilitator)
    thread = discussion.create_thread(facilitator, group, title="T", body="B")
    url = f"/api/v1/groups/{group.slug}/threads/{thread.id}/posts"
    headers = auth(facilitator)
    extra = FieldInfo(annotation=bool, default=False, description="Pin it.")
    _with_field(inputs.NewPost, "pin", extra)
    try:
        documented = document(app)["components"]["schemas"]["NewPost"]["properties"]
        taken = client.post(url, json={"body": "Hi", "pin": True}, headers=headers)
    finally:
        _without_field(inputs.NewPost, "pin")
    assert documented["pin"] == {"type": "boolean", "default": False, "description": "Pin it."}
    assert taken.status_code == 201
    refused = client.post(url, json={"body": "Hi", "pin": True}, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "pin"


def test_schemathesis_accepts_the_document(client, app):
    import schemathesis

    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(_documented(document(app)))


# --- Real responses match the document --------------------------------------------------


def _check(app, spec, response, method, url):
    """Validate a response against the schema the document gives its route and status."""
    adapter = app.url_map.bind("localhost")
    rule, _ = adapter.match(url.split("?")[0], method=method, return_rule=True)
    path = VARIABLE.sub(r"{\2}", rule.rule)
    responses = spec["paths"][path][method.lower()]["responses"]
    status = str(response.status_code)
    assert status in responses, (method, url, status, response.get_data(as_text=True)[:300])
    schema = responses[status]["content"][response.mimetype]["schema"]
    root = {**schema, "components": spec["components"]}
    errors = sorted(Draft202012Validator(root).iter_errors(response.get_json()), key=str)
    assert errors == [], (method, url, [e.message for e in errors][:5])


@pytest.fixture
def world(sample_catalog):
    facilitator = f.make_user(name="Fran Facilitator")
    group = f.make_group(facilitator, name="Night Owls", allow_anonymous=True)
    member = f.add_member(group, f.make_user(name="Mo Member"))
    episode, question = f.first_question(group)
    lead = f.make_answer(group, facilitator, question, "Lead")
    answer_service.edit_answer(facilitator, lead, "Lead, edited")
    thread = discussion.create_thread(facilitator, group, title="Welcome", body="Say hello")
    educator = f.make_user(role="educator", name="Eda Educator")
    course = f.make_course(educator, code="COPROD1")
    f.enrol(course, member)
    f.make_assignment(course)
    db.session.add(Notification(user_id=member.id, kind="reply", message="Hi", url="/"))
    db.session.commit()
    return {"group": group, "member": member, "episode": episode, "lead": lead, "question": question,
            "thread": thread, "facilitator": facilitator, "educator": educator}


def test_real_responses_match_the_document(app, client, world):
    spec = document(app)
    base = f"/api/v1/groups/{world['group'].slug}"
    answers = f"{base}/episodes/{world['episode'].slug}/questions/1/answers"
    member, facilitator = auth(world["member"]), auth(world["facilitator"])
    written = client.post(answers, json={"body": "Mine", "anonymous": True}, headers=member)
    _check(app, spec, written, "POST", answers)
    lead = world["lead"].id
    reply = client.post(f"{base}/answers/{lead}/replies", json={"body": "Yes"}, headers=member)
    _check(app, spec, reply, "POST", f"{base}/answers/{lead}/replies")
    thread = world["thread"].id
    post = client.post(f"{base}/threads/{thread}/posts", json={"body": "Hi"}, headers=member)
    _check(app, spec, post, "POST", f"{base}/threads/{thread}/posts")
    reads = [
        ("/api/v1/openapi.json", None), ("/api/v1/me", member), ("/api/v1/dimensions", None),
        ("/api/v1/episodes", None), (f"/api/v1/episodes/{world['episode'].slug}", None),
        ("/api/v1/groups?limit=1", member), (base, member), (f"{base}/members", member),
        (f"{base}/episodes/{world['episode'].slug}/questions", member),
        (answers, member), (answers, facilitator),
        (f"{base}/answers/{lead}", member), (f"{base}/answers/{lead}/revisions", facilitator),
        (f"{base}/answers/{lead}/replies", member),
        (f"{base}/replies/{reply.get_json()['id']}", member),
        (f"{base}/threads", member), (f"{base}/threads/{thread}", member),
        (f"{base}/threads/{thread}/posts", member),
        (f"{base}/posts/{post.get_json()['id']}", member),
        ("/api/v1/notifications?unread=true", member), ("/api/v1/courses", member),
        ("/api/v1/assignments", member),
        ("/api/v1/courses/COPROD1/progress", auth(world["educator"])),
    ]
    for url, headers in reads:
        response = client.get(url, headers=headers or {})
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
        _check(app, spec, response, "GET", url)
    edited = client.patch(f"{base}/posts/{post.get_json()['id']}", json={"body": "Hello"},
                          headers=member)
    _check(app, spec, edited, "PATCH", f"{base}/posts/{post.get_json()['id']}")
    marked = client.post("/api/v1/notifications/read-all", headers=member)
    assert marked.get_json()["marked_read"] >= 1
    _check(app, spec, marked, "POST", "/api/v1/notifications/read-all")


def test_problems_match_the_document(app, client, world):
    spec = document(app)
    base = f"/api/v1/groups/{world['group'].slug}"
    member = auth(world["member"])
    mine = f.make_answer(world["group"], world["member"], world["question"], "Mine")
    cases = [
        ("GET", "/api/v1/me", {}, None, 401),
        ("GET", "/api/v1/episodes?limit=0", {}, None, 400),
        ("GET", f"{base}/answers/999999", member, None, 404),
        ("GET", "/api/v1/courses/COPROD1/progress", member, None, 403),
        ("PATCH", f"{base}/answers/{mine.id}", member, {"body": " "}, 422),
        ("POST", f"{base}/threads/{world['thread'].id}/posts", member, {"bodee": "x"}, 422),
    ]
    for method, url, headers, body, status in cases:
        response = client.open(url, method=method, headers=headers, json=body)
        assert response.status_code == status, (url, response.get_data(as_text=True)[:300])
        _check(app, spec, response, method, url)
