"""Facilitator threads in a group."""

from flask import Blueprint

bp = Blueprint("discussion", __name__, url_prefix="/groups")

from coprod_study.discussion import views  # noqa: E402,F401
