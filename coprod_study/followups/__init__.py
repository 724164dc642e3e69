"""Spaced follow-ups: one of an episode's questions again, 2, 7 and 30 days after answering."""

from flask import Blueprint

bp = Blueprint("followups", __name__)
