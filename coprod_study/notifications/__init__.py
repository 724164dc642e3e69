"""A person's notifications and e-mail unsubscribe links."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)
