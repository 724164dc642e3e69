"""Flags, hiding and restoring posts, bans, and a group's moderation queue."""

from flask import Blueprint

bp = Blueprint("moderation", __name__, url_prefix="/groups")
