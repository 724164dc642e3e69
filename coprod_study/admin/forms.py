"""Forms for administration."""

from flask_wtf import FlaskForm
from wtforms import SelectField

from coprod_study.models import ROLES


class RoleForm(FlaskForm):
    role = SelectField("Site role", choices=[(role, role.capitalize()) for role in ROLES])
