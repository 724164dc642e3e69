"""LTI 1.3 Advantage: the tool side of launches, deep linking, roster sync and grade passback."""

from flask import Blueprint

bp = Blueprint("lti", __name__, url_prefix="/lti")
