"""Views for threads: /groups/<slug>/threads/..."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coprod_study import page_cache, policy
from coprod_study.discussion import bp
from coprod_study.discussion import service as discussion
from coprod_study.discussion.forms import FollowForm, LockForm, PostForm, ThreadForm
from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.forms import add_domain_error, keep_draft, take_draft
from coprod_study.groups.forms import ActionForm
from coprod_study.groups.views.common import edit_post_page, load_group, require_moderator
from coprod_study.markup import render_markdown
from coprod_study.models import Episode


def _user():
    return current_user._get_current_object()


def _thread(group, thread_id: int):
    try:
        return discussion.get_thread(group, thread_id)
    except DomainError:
        abort(404)


@bp.route("/<slug>/threads/new", methods=["GET", "POST"])
@login_required
def new_thread(slug: str):
    group = load_group(slug)
    require_moderator(group)
    form = ThreadForm()
    form.episode.choices = [(0, _("No episode"))] + [
        (row.id, f"{row.number}. {row.title}") for row in discussion.episode_choices(group)
    ]
    if request.method == "GET" and request.args.get("episode", "").isdigit():
        form.episode.data = int(request.args["episode"])
        form.moment.data = request.args.get("moment", "")
    if form.validate_on_submit():
        episode = db.session.get(Episode, form.episode.data) if form.episode.data else None
        try:
            thread = discussion.create_thread(
                _user(),
                group,
                title=form.title.data,
                body=form.body.data,
                episode=episode,
                moment=form.moment.data,
                announcement=form.announcement.data,
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            flash(_("The thread is started; members are notified."), "success")
            return redirect(url_for("discussion.thread", slug=group.slug, thread_id=thread.id))
    status = 400 if form.errors else 200
    return render_template("discussion/new.html", group=group, form=form), status


def _render_thread(group, thread, form=None, status=200, preview=None):
    posts = discussion.thread_posts(thread)
    quote = None
    kept = False
    if form is None:
        form = PostForm()
        kept = take_draft(f"post:{request.path}", form)
    if not kept and request.method == "GET":
        quote_id = request.args.get("quote", "")
        if quote_id.isdigit():
            quote = next((p for p in posts if p.id == int(quote_id) and p.deleted_at is None), None)
            if quote is not None and (quote.hidden_at is None):
                form.quote.data = str(quote.id)
    elif form.quote.data and form.quote.data.isdigit():
        quote = next((p for p in posts if p.id == int(form.quote.data)), None)
    if form.moment.data is None and request.args.get("moment", "").isdigit():
        form.moment.data = request.args["moment"]
    moment = None
    if form.moment.data and thread.episode_id:
        from coprod_study.catalog.transcript import segment_for_episode

        try:
            moment = segment_for_episode(thread.episode_id, form.moment.data)
        except DomainError:
            moment = None
    level = discussion.follow_level(current_user, thread)
    follow_form = FollowForm(level=level)
    response = render_template(
        "discussion/thread.html",
        group=group,
        thread=thread,
        posts=posts,
        form=form,
        quote=quote,
        moment=moment,
        preview=preview,
        follow_form=follow_form,
        follow_level=level,
        lock_form=LockForm(),
        action_form=ActionForm(),
        can_post=policy.can_post_in_group(current_user, group) and not thread.locked,
        moderator=policy.can_moderate(current_user, group),
        thread_moment=discussion.format_moment(thread.moment_seconds),
    )
    if posts and status == 200:
        discussion.mark_read(current_user, thread, max(p.id for p in posts))
    return response, status


@bp.route("/<slug>/threads/<int:thread_id>", methods=["GET", "POST"])
def thread(slug: str, thread_id: int):
    if request.method == "GET":
        with page_cache.kept_page() as kept:
            group = load_group(slug)
            return kept.find() or kept.keep(_render_thread(group, _thread(group, thread_id))[0])
    group = load_group(slug)
    item = _thread(group, thread_id)
    if not current_user.is_authenticated:
        abort(403)
    form = PostForm()
    if not form.validate_on_submit():
        # Post/Redirect/Get, as for answers (coprod_study.forms.keep_draft).
        if keep_draft(f"post:{request.path}", form, ("body", "quote", "moment", "anonymous")):
            return redirect(request.path + "#reply", 303)
        return _render_thread(group, item, form=form, status=400)
    if request.form.get("action") == "preview":
        return _render_thread(group, item, form=form, preview=render_markdown(form.body.data))
    quote = None
    if form.quote.data and form.quote.data.isdigit():
        try:
            quote = discussion.get_post(group, int(form.quote.data))
        except DomainError:
            quote = None
    try:
        post = discussion.reply(
            _user(),
            item,
            form.body.data,
            quote=quote,
            anonymous=bool(form.anonymous.data),
            segment_id=form.moment.data or None,
        )
    except DomainError as error:
        add_domain_error(form, error)
        return _render_thread(group, item, form=form, status=error.status)
    flash(_("Your post is added."), "success")
    return redirect(url_for("discussion.thread", slug=group.slug, thread_id=item.id) + f"#post-{post.id}")


@bp.route("/<slug>/threads/<int:thread_id>/follow", methods=["POST"])
@login_required
def follow(slug: str, thread_id: int):
    group = load_group(slug)
    item = _thread(group, thread_id)
    form = FollowForm()
    if not form.validate_on_submit():
        flash(_("Choose how you want to be notified."), "error")
    else:
        discussion.set_follow(_user(), item, form.level.data)
        flash(_("Your notification setting for this thread is saved."), "success")
    return redirect(url_for("discussion.thread", slug=group.slug, thread_id=item.id))


@bp.route("/<slug>/threads/<int:thread_id>/<change>", methods=["POST"])
@login_required
def change(slug: str, thread_id: int, change: str):
    group = load_group(slug)
    require_moderator(group)
    item = _thread(group, thread_id)
    form = LockForm()
    if not form.validate_on_submit():
        abort(400)
    changes = {
        "pin": {"pinned": True},
        "unpin": {"pinned": False},
        "lock": {"locked": True, "lock_reason": (form.reason.data or "").strip() or None},
        "unlock": {"locked": False, "lock_reason": None},
        "announce": {"announcement": True},
    }.get(change)
    if changes is None:
        abort(404)
    discussion.set_flags(_user(), item, **changes)
    flash(_("The thread is updated."), "success")
    return redirect(url_for("discussion.thread", slug=group.slug, thread_id=item.id))


def _post(group, post_id: int):
    try:
        return discussion.get_post(group, post_id)
    except DomainError:
        abort(404)


@bp.route("/<slug>/posts/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def edit_post(slug: str, post_id: int):
    group = load_group(slug)
    post = _post(group, post_id)
    return edit_post_page(
        group,
        post,
        PostForm(obj=post),
        kind="post",
        back=url_for("discussion.thread", slug=group.slug, thread_id=post.thread_id),
        save=lambda body: discussion.edit_post(_user(), post, body),
        saved_message=_("Your post is updated."),
    )


@bp.route("/<slug>/posts/<int:post_id>/delete", methods=["POST"])
@login_required
def delete_post(slug: str, post_id: int):
    group = load_group(slug)
    post = _post(group, post_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        discussion.delete_post(_user(), post)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("Your post is deleted."), "info")
    return redirect(url_for("discussion.thread", slug=group.slug, thread_id=post.thread_id))


@bp.route("/<slug>/posts/<int:post_id>/history")
@login_required
def post_history(slug: str, post_id: int):
    group = load_group(slug)
    post = _post(group, post_id)
    if not policy.can_see_history(current_user, group, post):
        abort(403)
    return render_template(
        "groups/history.html",
        group=group,
        post=post,
        revisions=discussion.post_history(post),
        back=url_for("discussion.thread", slug=group.slug, thread_id=post.thread_id),
    )
