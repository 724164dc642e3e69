"""The /search page."""

from flask import render_template, request
from flask_login import current_user

from coprod_study.search import bp
from coprod_study.search import service as search_service


@bp.route("/search")
def index():
    query = (request.args.get("q") or "").strip()
    results = search_service.search(current_user, query) if query else None
    too_long = len(query) > search_service.MAX_QUERY
    return render_template(
        "search/index.html",
        query=query[: search_service.MAX_QUERY],
        results=results,
        too_long=too_long,
        labels=search_service.KIND_LABELS,
    )
