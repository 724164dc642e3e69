"""Forms for administration."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from coprod_study.models import ROLE_LABELS, ROLES


class RoleForm(FlaskForm):
    role = SelectField(_l("Site role"), choices=[(role, ROLE_LABELS[role]) for role in ROLES])
