"""The public catalog: home, episodes, dimensions, health check."""

from flask import Blueprint

bp = Blueprint("catalog", __name__)
