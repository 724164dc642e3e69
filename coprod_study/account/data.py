"""/account: personal access tokens for the API, the data export and deleting the account."""

import json

from flask import Response, abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from coprod_study.account import bp, personal_data
from coprod_study.account import tokens as api_tokens
from coprod_study.account.service import MAX_PASSWORD_LENGTH
from coprod_study.errors import DomainError
from coprod_study.forms import add_domain_error
from coprod_study.groups.forms import ActionForm
from coprod_study.models import TOKEN_SCOPES


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name"),
        description=_l("What will use it, such as “my notes script”."),
        validators=[
            DataRequired(_l("Give the token a name.")),
            Length(max=api_tokens.MAX_NAME, message=_l("Use at most %(max)d characters.")),
        ],
    )
    scope = SelectField(_l("What it may do"), choices=list(TOKEN_SCOPES.items()), default="read")
    lifetime = SelectField(
        _l("Expires after"), choices=list(api_tokens.LIFETIMES.items()), coerce=int, default=90
    )


class DeleteForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Type your password.")), Length(max=MAX_PASSWORD_LENGTH)],
    )


def _user():
    return current_user._get_current_object()


@bp.route("/tokens/new", methods=["GET", "POST"])
@login_required
def new_token():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            made = api_tokens.create_token(
                _user(), form.name.data, form.scope.data, form.lifetime.data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            # The secret is in this response only; it is never stored or shown again.
            return render_template("account/token_created.html", made=made)
    return render_template("account/token_new.html", form=form), 400 if form.errors else 200


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        token = api_tokens.revoke(_user(), token_id)
    except DomainError:
        abort(404)
    flash(_("The token “%(name)s” is revoked; it no longer works.", name=token.name), "success")
    return redirect(url_for("account.profile") + "#api-tokens")


@bp.route("/export")
@login_required
def export():
    data = personal_data.export_data(_user())
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="coprod-study-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete():
    form = DeleteForm()
    blocked = None
    try:
        personal_data.check_can_delete(_user())
    except DomainError as error:
        blocked = error.message
    if form.validate_on_submit() and blocked is None:
        try:
            personal_data.delete_account(_user(), form.password.data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            session.clear()
            logout_user()
            flash(
                _(
                    "Your account is deleted. What you wrote in groups stays there under "
                    "“Former member”."
                ),
                "success",
            )
            return redirect(url_for("catalog.index"))
    status = 400 if form.errors or (blocked and form.is_submitted()) else 200
    return render_template("account/delete.html", form=form, blocked=blocked), status
