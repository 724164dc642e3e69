"""/contact: anyone may send the team an inquiry."""

from flask import Blueprint

bp = Blueprint("inquiries", __name__)

from coprod_study.inquiries import views  # noqa: E402,F401
