"""Search across the catalog and the posts a person may see."""

from flask import Blueprint

bp = Blueprint("search", __name__)

from coprod_study.search import views  # noqa: E402,F401
