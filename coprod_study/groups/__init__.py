"""Study groups: forming, joining, members, questions, answers and replies."""

from flask import Blueprint

bp = Blueprint("groups", __name__, url_prefix="/groups")

from coprod_study.groups import views  # noqa: E402,F401
