"""The OpenAPI document matches the API's routes, and describes each one fully."""

import re

import pytest

from coprod_study.api import groups as api_groups
from coprod_study.api.openapi import document
from coprod_study.api.support import validate_body

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


def _documented() -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, operations in document()["paths"].items()
        for method in operations
    }


def test_every_route_is_documented_and_every_documented_operation_exists(app):
    routes = _api_routes(app)
    assert len(routes) >= 25
    assert routes - _documented() == set(), "routes missing from the document"
    assert _documented() - routes == set(), "documented operations with no route"


def test_the_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    data = response.get_json()
    assert data["openapi"] == "3.1.0"
    assert data == document()


def _operations():
    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


@pytest.mark.parametrize(("path", "method", "operation"), list(_operations()),
                         ids=[f"{m} {p}" for p, m, _ in _operations()])
def test_each_operation_is_fully_described(path, method, operation):
    spec = document()
    assert operation["operationId"] and operation["summary"]
    # Every path variable is a documented parameter, and the other way round.
    variables = set(re.findall(r"{([^}]+)}", path))
    documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
    assert variables == documented
    responses = operation["responses"]
    successes = [code for code in responses if code.startswith("2")]
    assert len(successes) == 1
    for code, response in responses.items():
        assert response["description"]
        if not code.startswith("2"):
            assert "application/problem+json" in response["content"]
    if method in ("post", "patch") and "requestBody" in operation:
        assert {"413", "415", "422"} <= set(responses)
    if operation.get("parameters"):
        for parameter in operation["parameters"]:
            assert parameter["schema"]
    # Every $ref points at a schema that exists.
    for name in re.findall(r"#/components/schemas/(\w+)", str(operation)):
        assert name in spec["components"]["schemas"], name
    if path != "/api/v1/openapi.json":
        assert "401" in responses and "429" in responses


def test_request_bodies_are_the_schemas_the_api_enforces():
    schemas = document()["components"]["schemas"]
    assert schemas["NewAnswer"] == api_groups.NEW_ANSWER
    assert schemas["NewPost"] == api_groups.NEW_POST
    assert schemas["Edit"] == api_groups.EDIT
    # And the validator reads them as JSON Schema does.
    assert validate_body(api_groups.NEW_POST, {"body": "Hi", "quote_post_id": 3}) == []
    assert validate_body(api_groups.NEW_POST, {"body": "Hi", "quote_post_id": True})
    assert validate_body(api_groups.EDIT, {"body": " \n "})
    assert validate_body(api_groups.EDIT, {"body": "x", "extra": 1})


def test_schemathesis_accepts_the_document(client):
    import schemathesis

    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(_documented())
