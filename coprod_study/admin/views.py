"""Views for /admin: people, roles and the audit log."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from coprod_study import policy
from coprod_study.account import service as accounts
from coprod_study.admin import bp
from coprod_study.admin.forms import RoleForm
from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.models import AUDIT_ACTIONS, ROLE_LABELS, AuditEntry, StudyGroup, User
from coprod_study.pagination import paginate


@bp.before_request
@login_required
def require_admin():
    if not policy.can_use_admin(current_user):
        abort(403)


@bp.route("/")
def index():
    return render_template("admin/index.html")


@bp.route("/users")
def users():
    query = (request.args.get("q") or "").strip()[:100]
    page = paginate(accounts.search_users(query), per_page=25)
    return render_template(
        "admin/users.html", page=page, q=query, role_form=RoleForm(),
        deleted_count=accounts.deleted_account_count(),
    )


@bp.route("/users/<int:user_id>/role", methods=["POST"])
def change_role(user_id: int):
    subject = db.session.get(User, user_id) or abort(404)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose one of the listed roles."), "error")
    else:
        try:
            changed = accounts.set_role(current_user._get_current_object(), subject, form.role.data)
        except DomainError as error:
            flash(error.message, "error")
        else:
            if changed:
                flash(
                    _(
                        "%(name)s is now %(role)s.",
                        name=subject.display_name,
                        role=str(ROLE_LABELS[subject.role]).lower(),
                    ),
                    "success",
                )
            else:
                flash(
                    _(
                        "%(name)s already was %(role)s.",
                        name=subject.display_name,
                        role=str(ROLE_LABELS[subject.role]).lower(),
                    ),
                    "info",
                )
    back = request.form.get("next")
    return redirect(back if back and back.startswith("/admin/users") else url_for("admin.users"))


@bp.route("/audit")
def audit_log():
    filters = {
        "group": (request.args.get("group") or "").strip()[:80],
        "actor": (request.args.get("actor") or "").strip()[:254],
        "action": (request.args.get("action") or "").strip()[:64],
    }
    stmt = (
        select(AuditEntry)
        .options(selectinload(AuditEntry.actor), selectinload(AuditEntry.subject))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )
    if filters["group"]:
        stmt = stmt.where(
            AuditEntry.group_id.in_(
                select(StudyGroup.id).where(StudyGroup.slug == filters["group"])
            )
        )
    if filters["actor"]:
        needle = filters["actor"].lower()
        stmt = stmt.where(
            AuditEntry.actor_id.in_(
                select(User.id).where(
                    (User.email == needle) | (func.lower(User.display_name) == needle)
                )
            )
        )
    if filters["action"]:
        stmt = stmt.where(AuditEntry.action.startswith(filters["action"], autoescape=True))
    groups = db.session.execute(select(StudyGroup.slug, StudyGroup.name).order_by(StudyGroup.name)).all()
    return render_template(
        "admin/audit.html",
        page=paginate(stmt, per_page=50),
        filters=filters,
        filtered=any(filters.values()),
        groups=groups,
        actions=AUDIT_ACTIONS,
        action_choices=sorted(AUDIT_ACTIONS.items(), key=lambda item: str(item[1])),
    )
