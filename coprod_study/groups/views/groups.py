"""Views for /groups: the list, forming a group, joining and leaving, the group page, settings."""

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from coprod_study import page_cache, policy
from coprod_study.discussion import service as discussion
from coprod_study.errors import DomainError
from coprod_study.forms import add_domain_error
from coprod_study.groups import answers as answer_service
from coprod_study.groups import bp
from coprod_study.groups import service as group_service
from coprod_study.groups.forms import (
    ActionForm,
    GroupForm,
    JoinForm,
    NewGroupForm,
)
from coprod_study.groups.views.common import (
    _flash_error,
    _public_page,
    _user,
    load_group,
    require_moderator,
)
from coprod_study.models import JOIN_POLICIES
from coprod_study.pagination import paginate

# --- Listing, forming and joining ---------------------------------------------


@bp.route("")
def index():
    mine = group_service.my_groups(current_user)
    page = paginate(group_service.joinable_groups_stmt(current_user), per_page=20)
    counts = group_service.member_counts([g.id for g, _ in mine] + [g.id for g in page.items])
    return render_template(
        "groups/index.html", mine=mine, page=page, counts=counts, policies=JOIN_POLICIES
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if not policy.can_create_group(current_user):
        abort(403)
    form = NewGroupForm()
    sources = group_service.facilitated_groups(_user())
    form.copy_from.choices = [(0, _("Do not copy"))] + [(g.id, g.name) for g in sources]
    if form.validate_on_submit():
        source = next((g for g in sources if g.id == form.copy_from.data), None)
        try:
            group = group_service.create_group(
                _user(),
                name=form.name.data,
                description=form.description.data or "",
                join_policy=form.join_policy.data,
                post_first=form.post_first.data,
                allow_anonymous=form.allow_anonymous.data,
                copy_questions_from=source,
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            flash(_("Your group “%(name)s” is ready. You are its facilitator.", name=group.name), "success")
            return redirect(url_for("groups.show", slug=group.slug))
    return render_template("groups/new.html", form=form), 400 if form.errors else 200


@bp.route("/join/<invite>", methods=["GET", "POST"])
def join_by_invite(invite: str):
    group = group_service.group_for_invite(invite)
    if group is None:
        return render_template("groups/invite_invalid.html"), 404
    if not current_user.is_authenticated:
        flash(_("Sign in or create an account to join this group."), "info")
        return redirect(url_for("auth.login", next=request.path))
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            group_service.join_by_invite(_user(), invite)
        except DomainError as error:
            _flash_error(error)
        else:
            flash(_("Welcome to %(name)s.", name=group.name), "success")
        return redirect(url_for("groups.show", slug=group.slug))
    return render_template(
        "groups/invite.html",
        group=group,
        form=form,
        membership=policy.membership(current_user, group),
    )


@bp.route("/<slug>")
def show(slug: str):
    with page_cache.kept_page() as kept:
        group = load_group(slug, content=False)
        if not policy.can_view_group(current_user, group):
            return _public_page(group)
        return kept.find() or kept.keep(_group_page(group))


def _group_page(group) -> str:
    episodes = group_service.group_episodes(group)
    extras = group_service.extra_questions(group)
    counts, answered = answer_service.answer_summary(current_user, group)
    return render_template(
        "groups/show.html",
        group=group,
        episodes=_episode_rows(group, episodes, extras, counts, answered),
        membership=policy.membership(current_user, group),
        leave_form=ActionForm(),
        threads=discussion.thread_list(current_user, group),
    )


@dataclass
class EpisodeRow:
    """An episode on the group page: its link, and each question's number, prompt,
    link and answer count in words."""

    episode: object
    url: str
    questions: list[tuple[int, str, str, str]]
    done: int


def _episode_rows(group, episodes, extras, counts, answered) -> list[EpisodeRow]:
    """The group page lists every question of every episode the group studies (250
    for 50 episodes): links and counts are made here, each count's wording once, so
    the template only prints them."""
    wording: dict[tuple[int, bool], str] = {}

    def counted(count: int, mine: bool) -> str:
        if (count, mine) not in wording:
            wording[count, mine] = (
                ngettext("%(count)s answer, answered by you",
                         "%(count)s answers, answered by you", count, count=count)
                if mine
                else ngettext("%(count)s answer", "%(count)s answers", count, count=count)
            )
        return wording[count, mine]

    rows = []
    for episode in episodes:
        url = url_for("groups.episode", slug=group.slug, episode_slug=episode.slug)
        questions = group_service.listed_questions(episode, extras)
        rows.append(
            EpisodeRow(
                episode,
                url,
                [
                    (q.number, q.prompt, f"{url}/questions/{q.number}",
                     counted(counts.get(q.key, 0), q.key in answered))
                    for q in questions
                ],
                sum(1 for q in questions if q.key in answered),
            )
        )
    return rows


@bp.route("/<slug>/join", methods=["POST"])
@login_required
def join(slug: str):
    group = load_group(slug, content=False)
    form = JoinForm()
    if not form.validate_on_submit():
        return _public_page(group, status=400, join_form=form)
    try:
        member = group_service.join(_user(), group, form.message.data)
    except DomainError as error:
        add_domain_error(form, error)
        return _public_page(group, status=error.status, join_form=form)
    if member.status == "active":
        flash(_("You joined %(name)s.", name=group.name), "success")
    else:
        flash(_("Your request is sent. A facilitator will decide on it."), "success")
    return redirect(url_for("groups.show", slug=group.slug))


@bp.route("/<slug>/leave", methods=["POST"])
@login_required
def leave(slug: str):
    group = load_group(slug, content=False)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        group_service.leave(_user(), group)
    except DomainError as error:
        _flash_error(error)
        return redirect(url_for("groups.show", slug=group.slug))
    flash(_("You left %(name)s.", name=group.name), "info")
    return redirect(url_for("groups.index"))


@bp.route("/<slug>/settings", methods=["GET", "POST"])
@login_required
def settings(slug: str):
    group = load_group(slug)
    require_moderator(group)
    form = GroupForm(obj=group)
    if form.validate_on_submit():
        try:
            group_service.update_group(
                _user(),
                group,
                name=form.name.data,
                description=form.description.data or "",
                join_policy=form.join_policy.data,
                post_first=form.post_first.data,
                allow_anonymous=form.allow_anonymous.data,
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            flash(_("The group's settings are saved."), "success")
            return redirect(url_for("groups.show", slug=group.slug))
    return (
        render_template("groups/settings.html", group=group, form=form),
        400 if form.errors else 200,
    )
