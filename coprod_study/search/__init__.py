"""Search across the catalog and the posts a person may see."""

from flask import Blueprint

bp = Blueprint("search", __name__)
