"""The OpenAPI 3.1 document of /api/v1, built from the routes and their declarations.

Paths and methods come from the app's URL rules, everything else from each
view's @operation (api.spec) and the pydantic models it names (api.inputs for
what the endpoint takes, api.outputs for what it answers). Nothing here lists
endpoints, so the document cannot leave one out or describe one that is gone.
"""

import re

from flask import current_app, jsonify
from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from werkzeug.routing import Rule

from coprod_study.api import bp
from coprod_study.api.inputs import CONFIG, PATH_PARAMETERS
from coprod_study.api.outputs import Problem
from coprod_study.api.spec import Operation, declared, operation

REF = "#/components/schemas/{model}"
VARIABLE = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
IGNORED_METHODS = {"HEAD", "OPTIONS"}
TAGS = ("meta", "me", "catalog", "groups", "courses")
ERRORS = {
    400: "Bad request: a malformed query parameter, cursor or JSON body.",
    401: "No token, or one that is unknown, expired or revoked.",
    403: "Not allowed: a read-only token writing, or content the caller may not read.",
    404: "No such thing, or one the caller may not know of.",
    409: "Conflicts with the current state (already answered, thread locked).",
    413: "The body is larger than 1 MB.",
    415: "The body is not application/json.",
    422: "The JSON body does not match the schema, or a rule refuses it.",
    429: "Too many requests for this token; see Retry-After.",
}
INFO = {
    "title": "Coproduction Study Companion API",
    "version": "1",
    "description": "Read the catalog, your groups, answers, threads, "
    "notifications and assignments; post and edit answers, replies and "
    "posts. Authenticate with a personal access token from /account: "
    "`Authorization: Bearer <token>`. Lists are paged with opaque cursors; "
    "errors are application/problem+json (RFC 9457).",
}
SECURITY = {
    "token": {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal access token (cps_…) made at /account.",
    }
}


class Schemas(GenerateJsonSchema):
    """pydantic's JSON Schema without a title on every property."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


def _tidy(node):
    """Drop `"default": null`: in these models it marks a field that may be absent."""
    if isinstance(node, dict):
        return {k: _tidy(v) for k, v in node.items() if not (k == "default" and v is None)}
    if isinstance(node, list):
        return [_tidy(v) for v in node]
    return node


def _not_null(schema: dict) -> dict:
    """A query parameter is absent or a string, never null."""
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        return {**options[0], **rest}
    return schema


def ref(model) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _problem(status: int) -> dict:
    response = {
        "description": ERRORS[status],
        "content": {"application/problem+json": {"schema": ref(Problem)}},
    }
    if status == 429:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait.",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return response


def _path_parameters(rule_text: str, op: Operation) -> list[dict]:
    parameters = []
    for converter, name in VARIABLE.findall(rule_text):
        kind, description = PATH_PARAMETERS[name]
        schema = TypeAdapter(kind, config=CONFIG).json_schema()
        if (converter == "int") != (schema["type"] == "integer"):
            raise TypeError(f"<{converter}:{name}> and its schema {schema} disagree")
        parameters.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": op.path.get(name, description),
                "schema": schema,
            }
        )
    return parameters


def _query_parameters(op: Operation) -> list[dict]:
    if op.query is None:
        return []
    schema = _tidy(op.query.model_json_schema(schema_generator=Schemas))
    parameters = []
    for name, rules in schema["properties"].items():
        rules = _not_null(dict(rules))
        parameters.append(
            {
                "name": name,
                "in": "query",
                "required": name in schema.get("required", []),
                "description": rules.pop("description"),
                "schema": rules,
            }
        )
    return parameters


def _operation(endpoint: str, rule_text: str, op: Operation) -> dict:
    body = ref(op.ok) if op.ok is not None else {"type": "object"}
    success = {"description": op.answers, "content": {"application/json": {"schema": body}}}
    if op.status == 201:
        success["headers"] = {
            "Location": {"description": "Where to read it.", "schema": {"type": "string"}}
        }
    parameters = _path_parameters(rule_text, op) + _query_parameters(op)
    codes = {401, 429, *op.errors}
    if op.query is not None or op.body is not None:
        codes.add(400)
    if op.body is not None:
        codes |= {403, 413, 415, 422}
    if any(p["in"] == "path" for p in parameters):
        codes.add(404)
    document = {
        "operationId": endpoint.removeprefix("api."),
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": parameters,
        "responses": {str(op.status): success, **{str(c): _problem(c) for c in sorted(codes)}},
    }
    if op.description:
        document["description"] = op.description
    if op.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(op.body)}},
        }
    # Public endpoints work without a token; every other one needs it.
    document["security"] = [{}, {"token": []}] if op.public else [{"token": []}]
    return document


def operations(app) -> list[tuple[str, str, Rule, Operation]]:
    """(OpenAPI path, method, URL rule, declaration) of every route of the API blueprint.

    :raise LookupError: a route whose view has no @operation.
    """
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(f"{bp.name}."):
            continue
        op = declared(rule.endpoint, app)
        if op is None:
            raise LookupError(f"{rule.endpoint} ({rule.rule}) has no @operation declaration")
        path = VARIABLE.sub(r"{\2}", rule.rule)
        for method in sorted(rule.methods - IGNORED_METHODS):
            found.append((path, method.lower(), rule, op))
    return found


def document(app=None) -> dict:
    app = app or current_app
    paths: dict[str, dict] = {}
    models = {Problem}
    for path, method, rule, op in operations(app):
        paths.setdefault(path, {})[method] = _operation(rule.endpoint, rule.rule, op)
        models |= {m for m in (op.ok, op.body) if m is not None}
    ordered = sorted(models, key=lambda m: m.__name__)
    _, schemas = models_json_schema(
        [(m, "validation") for m in ordered], ref_template=REF, schema_generator=Schemas
    )
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "servers": [{"url": "/"}],
        "tags": [{"name": name} for name in TAGS],
        "paths": paths,
        "components": {"schemas": _tidy(schemas["$defs"]), "securitySchemes": SECURITY},
    }


@bp.route("/openapi.json")
@operation(
    "This document", "meta", ok=None, public=True, answers="The OpenAPI 3.1 document."
)
def openapi():
    return jsonify(document())
