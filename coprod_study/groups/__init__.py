"""Study groups: forming, joining, members, questions, answers and replies."""

from flask import Blueprint

bp = Blueprint("groups", __name__, url_prefix="/groups")
