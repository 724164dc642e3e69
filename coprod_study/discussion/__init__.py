"""Facilitator threads in a group."""

from flask import Blueprint

bp = Blueprint("discussion", __name__, url_prefix="/groups")
