"""A person's own settings."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")
