"""Views for accounts: thin wrappers around account.service."""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from coprod_study import throttle
from coprod_study.account import service as accounts
from coprod_study.auth import bp
from coprod_study.auth.forms import LoginForm, LogoutForm, RegisterForm, ResetForm, ResetRequestForm
from coprod_study.errors import DomainError
from coprod_study.forms import add_domain_error
from coprod_study.security import is_safe_next, start_session


def _next_url(default_endpoint: str = "catalog.index") -> str:
    target = request.args.get("next") or request.form.get("next")
    return target if is_safe_next(target) else url_for(default_endpoint)


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("catalog.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.register(form.email.data, form.display_name.data, form.password.data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            start_session(user, remember=False)
            accounts.record_login(user)
            flash(_("Welcome, %(display_name)s. Your account is ready.", display_name=user.display_name), "success")
            return redirect(_next_url())
    return render_template("auth/register.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_next_url())
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        limit = current_app.config["LOGIN_FAILURE_LIMIT"]
        email_key = "login-email:" + form.email.data.strip().lower()
        ip_key = "login-ip:" + (request.remote_addr or "unknown")
        wait = throttle.retry_after(limit, ip_key, email_key)
        if wait:
            form.form_errors.append(
                _("Too many failed attempts. Try again in %(wait)s seconds.", wait=wait)
            )
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(wait)}
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            throttle.hit(limit, ip_key, email_key)
            form.form_errors.append(_("That e-mail address and password do not match an account."))
            status = 400
        else:
            start_session(user, remember=form.remember.data)
            accounts.record_login(user)
            flash(_("Signed in as %(display_name)s.", display_name=user.display_name), "success")
            return redirect(_next_url())
    elif form.errors:
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    form = LogoutForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        # Ends this account's sessions everywhere, not just this cookie.
        accounts.end_all_sessions(current_user._get_current_object())
    # Clear first: logout_user() leaves a note in the session that makes
    # Flask-Login delete the remember-me cookie, and clearing after it would
    # drop that note.
    session.clear()
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("catalog.index"))


@bp.route("/reset", methods=["GET", "POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.send_reset_link(form.email.data)
        return render_template("auth/reset_sent.html", email=form.email.data)
    return render_template("auth/reset_request.html", form=form), 400 if form.errors else 200


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_with_token(token: str):
    user = accounts.user_for_reset_token(token)
    if user is None:
        return render_template("auth/reset_invalid.html"), 400
    form = ResetForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(user, form.password.data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            session.clear()
            logout_user()
            flash(_("Your password is changed. Sign in with the new one."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form, token=token), 400 if form.errors else 200


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    from coprod_study.account.forms import PasswordForm

    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(user, form.current_password.data, form.new_password.data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            # Every other session of the account has ended; keep this one.
            start_session(user, remember=False)
            flash(_("Your password is changed. Other devices are signed out."), "success")
            return redirect(url_for("account.profile"))
    return render_template("auth/password.html", form=form), 400 if form.errors else 200
