"""Courses: enrolment, course groups, assignments, progress, calendars."""

from flask import Blueprint

bp = Blueprint("courses", __name__, url_prefix="/courses")
