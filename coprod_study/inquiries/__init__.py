"""/contact: anyone may send the team an inquiry."""

from flask import Blueprint

bp = Blueprint("inquiries", __name__)
