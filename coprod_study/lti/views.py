"""Views for /lti: the OIDC login, the launch, the tool's keys, deep linking and a course's LMS page."""

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coprod_study import security, throttle
from coprod_study.courses import service as course_service
from coprod_study.errors import DomainError, Forbidden, NotFound
from coprod_study.extensions import csrf, db
from coprod_study.forms import add_domain_error
from coprod_study.lti import bp, framing
from coprod_study.lti.forms import ActionForm, DeepLinkForm
from coprod_study.lti.service import contexts, deep_linking, grades, http, registration, roster
from coprod_study.lti.service import launch as launches
from coprod_study.models import GRADE_STATUSES

DEEP_LINK_KEY = "lti_deep_link"


def _address_key() -> str:
    return "lti-ip:" + (request.remote_addr or "unknown")


def _refused(error: DomainError, status: int = 400):
    db.session.rollback()  # a refused launch writes nothing, not even a fetched JWKS
    throttle.hit(current_app.config["LTI_FAILURE_LIMIT"], _address_key())
    return render_template("lti/refused.html", message=error.message), status


def _too_many_refused():
    """A 429 page once this address has had too many launch steps refused, else None."""
    wait = throttle.retry_after(current_app.config["LTI_FAILURE_LIMIT"], _address_key())
    if not wait:
        return None
    message = _("Too many launches from this address were refused. Try again in "
                "%(seconds)s seconds.", seconds=wait)
    return render_template("lti/refused.html", message=message), 429, {"Retry-After": str(wait)}


@bp.route("/login", methods=["GET", "POST"])
@csrf.exempt
def login():
    if (limited := _too_many_refused()) is not None:
        return limited
    params = request.values
    try:
        step = launches.begin_login(params)
    except launches.LaunchRefused as error:
        return _refused(error)
    response = redirect(step.redirect_url)
    framing.set_cross_site_cookie(response, step.cookie_name, step.cookie_value, launches.STATE_LIFETIME)
    return response


@bp.route("/launch", methods=["POST"])
@csrf.exempt
def launch():
    if (limited := _too_many_refused()) is not None:
        return limited
    try:
        checked = launches.validate(request.form, request.cookies)
        arrival = contexts.accept(checked)
    except launches.LaunchRefused as error:
        return _refused(error)
    security.start_session(arrival.user, remember=False)
    framing.mark_framed_session()
    if arrival.deep_link:
        session[DEEP_LINK_KEY] = arrival.deep_link
    response = redirect(arrival.target)
    response.delete_cookie(launches.STATE_COOKIE + checked.state, path="/lti/", samesite="None")
    return response


@bp.route("/jwks")
def jwks():
    response = jsonify(registration.jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _deep_link_form(choice) -> DeepLinkForm:
    form = DeepLinkForm()
    form.episode_id.choices = [("", _("Choose an episode"))] + [
        (str(e.id), _("Episode %(number)s: %(title)s", number=e.number, title=e.title))
        for e in deep_linking.episodes()
    ]
    most = max((len(e.questions) for e in deep_linking.episodes()), default=0)
    form.question.choices = [("", _("The whole episode"))] + [
        (str(n), _("Study question %(n)s", n=n)) for n in range(1, most + 1)
    ]
    return form


@bp.route("/deep-link", methods=["GET", "POST"])
@login_required
def deep_link():
    settings = session.get(DEEP_LINK_KEY)
    try:
        choice = deep_linking.choice_for(current_user, settings)
    except Forbidden as error:
        return _refused(error, 403)
    form = _deep_link_form(choice)
    if form.validate_on_submit():
        try:
            answer = deep_linking.respond(
                current_user, choice, settings, episode_id=form.episode_id.data,
                question=form.question.data, due_at=form.due_at.data,
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            session.pop(DEEP_LINK_KEY, None)
            framing.allow_form_action(answer.return_url)
            return render_template("lti/deep_link_return.html", answer=answer)
    return render_template("lti/deep_link.html", form=form, course=choice.course,
                           platform=choice.platform)


def _managed_course(code: str):
    """:raise 404: no such course, or not one the viewer manages."""
    try:
        course = course_service.get_course(code, current_user)
    except NotFound:
        abort(404)
    from coprod_study import policy

    if not policy.can_manage_course(current_user, course):
        abort(404)
    return course


@bp.route("/courses/<code>")
@login_required
def course(code: str):
    course = _managed_course(code)
    return render_template(
        "lti/course.html", course=course, context=roster.context_of(course),
        posts=grades.posts(course), statuses=GRADE_STATUSES, form=ActionForm(),
    )


@bp.route("/courses/<code>/roster", methods=["POST"])
@login_required
def sync_roster(code: str):
    course = _managed_course(code)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        result = roster.sync(current_user, course)
    except (DomainError, http.PlatformError) as error:
        flash(error.message, "error")
    else:
        flash(_("Roster synced: %(added)s added, %(changed)s changed role, %(removed)s removed.",
                added=len(result.added), changed=len(result.changed), removed=len(result.removed)),
              "success")
    return redirect(url_for("lti.course", code=course.code))


@bp.route("/courses/<code>/grades/retry", methods=["POST"])
@login_required
def retry_grades(code: str):
    course = _managed_course(code)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    post_id = int(form.post_id.data) if (form.post_id.data or "").isdigit() else None
    try:
        count = grades.retry(current_user, course, post_id)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("%(count)s grades queued again.", count=count), "success")
    return redirect(url_for("lti.course", code=course.code))
