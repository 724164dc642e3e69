"""The JSON API under /api/v1, authenticated by personal access tokens.

How the package is laid out (each module imports only those above it):

- support: problem responses, cursors and pages;
- spec: the @operation a view declares (what it takes, answers, who may call it);
- inputs: path, query and body models, and read_query() / read_body(), which
  validate with the model the current view declares; outputs: response models;
- serialize: rows as JSON objects, asking policy who may see what;
- auth: tokens, scopes, rate limits and the problem handlers for the blueprint;
- route modules: catalog, groups (and load_group), answers, replies, threads,
  people; openapi builds the document from the URL rules and declarations and
  never imports a route module.

A new endpoint is a view in the route module of its feature with @bp.route and
@operation, its models in inputs/outputs; the document and its tests follow.
"""

from flask import Blueprint

from coprod_study.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Requests authenticate with an Authorization header that a browser never
# adds on its own, and session cookies are ignored here, so there is no CSRF
# to guard against (see api.auth).
csrf.exempt(bp)
