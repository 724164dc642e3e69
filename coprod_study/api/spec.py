"""The declaration each API view carries: what it takes, what it answers, who may call it.

    @bp.route("/groups/<slug>/answers/<int:answer_id>", methods=["PATCH"])
    @operation("Edit your answer", "groups", ok=Answer, body=Edit, answers="The edited answer.")
    def edit_answer(slug, answer_id): ...

The route gives the path and method; the declaration gives the rest. The view
validates with the same models (api.inputs.read_query / read_body look the
declaration up), authentication reads `public` from it (api.auth), and
api.openapi builds the document from the routes and their declarations.
"""

from dataclasses import dataclass, field

from flask import current_app, request
from pydantic import BaseModel


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    # The success body's model; None for a free-form JSON object.
    ok: type[BaseModel] | None
    answers: str
    status: int = 200
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    # Works without a token (a token, if sent, must still be valid).
    public: bool = False
    # Problem statuses beyond those the inputs imply (401, 429; 400 for query
    # or body; 404 for path variables; 403, 413, 415, 422 for a body).
    errors: tuple[int, ...] = ()
    description: str | None = None
    # Path variables whose description differs from api.inputs.PATH_PARAMETERS.
    path: dict[str, str] = field(default_factory=dict)


def operation(summary: str, tag: str, *, ok, answers: str, errors=(), path=None, **options):
    """Attach an Operation to a view function (put it below @bp.route)."""

    def attach(view):
        view.api_operation = Operation(
            summary, tag, ok, answers, errors=tuple(errors), path=path or {}, **options
        )
        return view

    return attach


def declared(endpoint: str | None, app=None) -> Operation | None:
    """The declaration of the view at `endpoint`, if it has one."""
    view = (app or current_app).view_functions.get(endpoint) if endpoint else None
    return getattr(view, "api_operation", None)


def current_operation() -> Operation:
    found = declared(request.endpoint)
    if found is None:
        raise LookupError(f"{request.endpoint} has no @operation declaration")
    return found
