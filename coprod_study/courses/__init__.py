"""Courses: enrolment, course groups, assignments, checkpoints, progress, contributions, calendars."""

from flask import Blueprint

bp = Blueprint("courses", __name__, url_prefix="/courses")
