"""The public catalog: home, episodes, dimensions, health check."""

from flask import Blueprint

bp = Blueprint("catalog", __name__)

from coprod_study.catalog import discovery, feed, views  # noqa: E402,F401
