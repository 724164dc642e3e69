"""Views for /groups: thin wrappers that ask policy and call services."""

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from coprod_study import page_cache, policy
from coprod_study.catalog import sharing
from coprod_study.courses import service as course_service
from coprod_study.discussion import service as discussion
from coprod_study.errors import DomainError
from coprod_study.forms import add_domain_error, keep_draft, take_draft
from coprod_study.groups import answers as answer_service
from coprod_study.groups import bp
from coprod_study.groups import service as group_service
from coprod_study.groups.forms import (
    ActionForm,
    AnswerForm,
    DecisionForm,
    GroupForm,
    JoinForm,
    NewGroupForm,
    QuestionForm,
    ReplyForm,
)
from coprod_study.markup import render_markdown
from coprod_study.models import JOIN_POLICIES
from coprod_study.pagination import current_page_number, paginate


class JoinPrompt(Exception):
    """The viewer may know the group but not read its content."""

    def __init__(self, group):
        self.group = group


@bp.app_errorhandler(JoinPrompt)
def show_join_prompt(error):
    return _public_page(error.group, status=403)


def _user():
    return current_user._get_current_object()


def load_group(slug: str, *, content: bool = True):
    """The group at `slug`, if the viewer may see it.

    :raise 404: no such group, or an invite-only group the viewer is not in.
    :raise JoinPrompt: the viewer may see the group's description but not its content.
    """
    try:
        group = group_service.get_group(slug, current_user)
    except DomainError:
        abort(404)
    if not policy.can_know_group(current_user, group):
        abort(404)
    if content and not policy.can_view_group(current_user, group):
        raise JoinPrompt(group)
    return group


def require_moderator(group) -> None:
    if not policy.can_moderate(current_user, group):
        abort(403)


def _public_page(group, status=200, join_form=None):
    return (
        render_template(
            "groups/public.html",
            group=group,
            membership=policy.membership(current_user, group),
            join_form=join_form or JoinForm(),
            member_count=group_service.member_counts([group.id]).get(group.id, 0),
            policies=JOIN_POLICIES,
            # Only the group's own page is shared; a join prompt in place of a
            # member page (403) is not.
            card=sharing.group_card(group) if status == 200 else None,
        ),
        status,
    )


def _flash_error(error: DomainError) -> None:
    flash(error.message, "error")


def _back(default: str) -> str:
    target = request.form.get("next")
    from coprod_study.security import is_safe_next

    return target if is_safe_next(target) else default


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


# --- Members -------------------------------------------------------------------


@bp.route("/<slug>/members")
def members(slug: str):
    from coprod_study.courses.service import group_educators

    group = load_group(slug)
    rows = group_service.members(group)
    return render_template(
        "groups/members.html",
        group=group,
        educators=group_educators(group),
        active=[m for m in rows if m.status == "active"],
        pending=[m for m in rows if m.status == "pending"],
        removed=[m for m in rows if m.status == "removed"],
        moderator=policy.can_moderate(current_user, group),
        decision_form=DecisionForm(),
        action_form=ActionForm(),
        invite_url=url_for("groups.join_by_invite", invite=group.invite_code, _external=True),
    )


MEMBER_ACTIONS = {"approve", "decline", "promote", "demote", "remove"}


@bp.route("/<slug>/members/<int:user_id>/<action>", methods=["POST"])
@login_required
def member_action(slug: str, user_id: int, action: str):
    group = load_group(slug)
    require_moderator(group)
    if action not in MEMBER_ACTIONS:
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash("; ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("groups.members", slug=group.slug))
    actor = _user()
    try:
        if action in ("approve", "decline"):
            row = group_service.decide_request(
                actor, group, user_id, action == "approve", form.message.data
            )
            flash(
                _("%(display_name)s is now a member.", display_name=row.user.display_name)
                if action == "approve"
                else _("The request is declined."),
                "success",
            )
        elif action == "remove" and request.form.get("confirm") != "yes":
            # Removing asks first (no script needed), and says what removal does not do.
            row = group_service.check_removal(actor, group, user_id)
            return render_template(
                "groups/remove_confirm.html", group=group, member=row,
                reason=form.message.data or "", action_form=ActionForm(),
            )
        elif action == "remove":
            reset = bool(request.form.get("reset_invite"))
            row = group_service.remove_member(
                actor, group, user_id, form.message.data, reset_invite=reset
            )
            name = row.user.display_name
            if reset:
                flash(_("%(display_name)s is removed from the group, and the invite link is new: "
                        "the old one no longer works for anyone.", display_name=name), "success")
            else:
                flash(_("%(display_name)s is removed from the group. The invite link still works for "
                        "them: make a new link or ban them to keep them out.", display_name=name),
                      "success")
        else:
            role = "facilitator" if action == "promote" else "member"
            row = group_service.set_member_role(actor, group, user_id, role)
            if role == "facilitator":
                message = _("%(name)s is now a facilitator.", name=row.user.display_name)
            else:
                message = _("%(name)s is now a member.", name=row.user.display_name)
            flash(message, "success")
    except DomainError as error:
        _flash_error(error)
    return redirect(url_for("groups.members", slug=group.slug))


@bp.route("/<slug>/invite/reset", methods=["POST"])
@login_required
def reset_invite(slug: str):
    group = load_group(slug)
    require_moderator(group)
    if not ActionForm().validate_on_submit():
        abort(400)
    group_service.reset_invite(_user(), group)
    flash(_("The invite link is new; the old one no longer works."), "success")
    return redirect(url_for("groups.members", slug=group.slug))


# --- Episodes and questions ----------------------------------------------------------


def _episode(group, slug: str):
    # A NotFound from the service is shown as a 404 with its message.
    return group_service.get_group_episode(group, slug)


@bp.route("/<slug>/episodes/<episode_slug>")
def episode(slug: str, episode_slug: str):
    group = load_group(slug)
    item = _episode(group, episode_slug)
    extras = group_service.extra_questions(group, [item.id])
    questions = group_service.questions_for(item, extras)
    return render_template(
        "groups/episode.html",
        group=group,
        episode=item,
        questions=questions,
        **_answer_summary(group),
        **_moments(group, item),
        moderator=policy.can_moderate(current_user, group),
        question_form=QuestionForm(),
        action_form=ActionForm(),
        assigned=course_service.group_assignment(group, item, current_user),
    )


def _moments(group, item) -> dict:
    """The moments the group quoted, and whether the episode has a transcript to quote from."""
    from coprod_study.catalog import transcript as transcript_service

    return {
        "moments": transcript_service.moments_discussed(group, item),
        "has_transcript": transcript_service.has_transcript(item),
    }


@bp.route("/<slug>/episodes/<episode_slug>/questions", methods=["POST"])
@login_required
def add_question(slug: str, episode_slug: str):
    group = load_group(slug)
    require_moderator(group)
    item = _episode(group, episode_slug)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            group_service.add_extra_question(_user(), group, item, form.prompt.data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            flash(_("Your question is added for this group."), "success")
            return redirect(url_for("groups.episode", slug=group.slug, episode_slug=item.slug))
    extras = group_service.extra_questions(group, [item.id])
    questions = group_service.questions_for(item, extras)
    return (
        render_template(
            "groups/episode.html",
            group=group,
            episode=item,
            questions=questions,
            **_answer_summary(group),
            **_moments(group, item),
            moderator=True,
            question_form=form,
            action_form=ActionForm(),
            assigned=course_service.group_assignment(group, item, current_user),
        ),
        400,
    )


@bp.route("/<slug>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@login_required
def edit_question(slug: str, question_id: int):
    group = load_group(slug)
    require_moderator(group)
    try:
        question = group_service.get_extra_question(group, question_id)
    except DomainError:
        abort(404)
    form = QuestionForm(obj=question)
    if form.validate_on_submit():
        try:
            group_service.edit_extra_question(_user(), group, question_id, form.prompt.data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            flash(_("The question is saved."), "success")
            return redirect(
                url_for("groups.episode", slug=group.slug, episode_slug=question.episode.slug)
            )
    return (
        render_template("groups/edit_question.html", group=group, question=question, form=form),
        400 if form.errors else 200,
    )


@bp.route("/<slug>/questions/<int:question_id>/move", methods=["POST"])
@login_required
def move_question(slug: str, question_id: int):
    group = load_group(slug)
    require_moderator(group)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        question = group_service.get_extra_question(group, question_id)
        group_service.move_extra_question(
            _user(), group, question_id, request.form.get("direction", "")
        )
    except DomainError:
        abort(404)
    return redirect(url_for("groups.episode", slug=group.slug, episode_slug=question.episode.slug))


# --- Answers and replies -------------------------------------------------------------


def _question(group, episode_slug: str, number: int):
    # No such number: a 404 that says which episode has no such question.
    item = _episode(group, episode_slug)
    return item, group_service.get_question(group, item, number)


def _moment(episode, segment_id):
    """The transcript segment a form quotes, if it is one of this episode's."""
    from coprod_study.catalog.transcript import segment_for_episode

    if not segment_id:
        return None
    try:
        return segment_for_episode(episode.id, segment_id)
    except DomainError:
        return None


def _answer_summary(group) -> dict:
    counts, answered = answer_service.answer_summary(current_user, group)
    return {"counts": counts, "answered": answered}


def _per_page() -> int:
    raw = request.args.get("per_page", "")
    if raw.isdigit() and int(raw) in answer_service.PAGE_SIZES:
        return int(raw)
    return answer_service.ANSWERS_PER_PAGE


def _render_question(group, item, question, form=None, preview=None, status=200,
                     reply_draft=None):
    from coprod_study.csrf_slots import PLACEHOLDER
    from coprod_study.fragments import answers_section

    viewer = current_user._get_current_object()
    can_post = policy.can_post_in_group(viewer, group)
    moderator = policy.can_moderate(viewer, group)

    def render_answers(page):
        return render_template(
            "groups/_answers.html", group=group, question=question, page=page,
            can_post=can_post, moderator=moderator, answers_csrf=PLACEHOLDER,
        )

    state = answer_service.page_state(viewer, group, question)
    page, answers_html = answers_section(
        viewer, group, question, state, current_page_number(), _per_page(), render_answers
    )
    if form is None:
        form = AnswerForm()
        if not take_draft(f"answer:{request.path}", form) and request.args.get(
            "moment", ""
        ).isdigit():
            form.moment.data = request.args["moment"]
    if reply_draft is None:
        reply_draft = _kept_reply_draft(group, question)
    moment = _moment(item, form.moment.data)
    return (
        render_template(
            "groups/question.html",
            group=group,
            episode=item,
            question=question,
            page=page,
            form=form,
            preview=preview,
            moment=moment,
            answers_html=answers_html,
            action_form=ActionForm(),
            can_post=can_post,
            moderator=moderator,
            page_sizes=answer_service.PAGE_SIZES,
            reply_draft=reply_draft,
        ),
        status,
    )


def _kept_reply_draft(group, question):
    """A refused reply to one of this question's answers, kept by `reply`: (answer, form)."""
    from flask import session

    draft = session.get("draft") or {}
    name = str(draft.get("name", ""))
    if not name.startswith("reply:") or not name[6:].isdigit():
        return None
    try:
        answer = answer_service.get_answer(group, int(name[6:]))
    except DomainError:
        return None
    if not answer_service.can_read_answer(current_user, answer) or not _same_question(
        answer, question
    ):
        return None
    form = ReplyForm()
    take_draft(name, form)
    return answer, form


def _same_question(answer, question) -> bool:
    return (answer.study_question_id, answer.group_question_id) == (
        question.study_question_id, question.group_question_id
    )


def _question_of(group, item, answer):
    """The question of `item` (an episode the group studies) that `answer` answers."""
    extras = group_service.extra_questions(group, [item.id])
    for q in group_service.questions_for(item, extras):
        if _same_question(answer, q):
            return q
    return None


@bp.route("/<slug>/episodes/<episode_slug>/questions/<int:number>", methods=["GET", "POST"])
def question(slug: str, episode_slug: str, number: int):
    if request.method == "GET":
        with page_cache.kept_page() as kept:
            group = load_group(slug)
            return kept.find() or kept.keep(
                _render_question(group, *_question(group, episode_slug, number))[0]
            )
    group = load_group(slug)
    item, current_question = _question(group, episode_slug, number)
    if not current_user.is_authenticated:
        abort(403)
    form = AnswerForm()
    if not form.validate_on_submit():
        # Post/Redirect/Get, so that Back from the next page does not ask to send the
        # form again; text too long for the session cookie is shown straight away.
        if keep_draft(f"answer:{request.path}", form, ("body", "anonymous", "moment")):
            return redirect(request.full_path.rstrip("?") + "#your-answer", 303)
        return _render_question(group, item, current_question, form=form, status=400)
    if request.form.get("action") == "preview":
        return _render_question(
            group, item, current_question, form=form, preview=render_markdown(form.body.data)
        )
    try:
        created = answer_service.post_answer(
            _user(),
            group,
            current_question,
            form.body.data,
            bool(form.anonymous.data),
            segment_id=form.moment.data or None,
        )
    except DomainError as error:
        add_domain_error(form, error)
        return _render_question(group, item, current_question, form=form, status=error.status)
    flash(_("Your answer is posted."), "success")
    return redirect(_question_url(group, created) + f"#answer-{created.id}")


@bp.route("/<slug>/episodes/<episode_slug>/questions/<int:number>/reveal", methods=["POST"])
@login_required
def reveal(slug: str, episode_slug: str, number: int):
    group = load_group(slug)
    require_moderator(group)
    _item, current_question = _question(group, episode_slug, number)
    if not ActionForm().validate_on_submit():
        abort(400)
    answer_service.reveal(_user(), group, current_question)
    flash(_("Everyone in the group can now read the answers to this question."), "success")
    return redirect(
        url_for("groups.question", slug=group.slug, episode_slug=episode_slug, number=number)
    )


def _answer(group, answer_id: int):
    try:
        answer = answer_service.get_answer(group, answer_id)
    except DomainError:
        abort(404)
    if not answer_service.can_read_answer(current_user, answer):
        abort(404)
    return answer


def _question_url(group, answer) -> str:
    """The question page an answer belongs to (the group's page when the group no
    longer studies its episode)."""
    try:
        item = group_service.episode_of_answer(answer, group)
    except DomainError:
        return url_for("groups.show", slug=group.slug)
    extras = group_service.extra_questions(group, [item.id])
    for q in group_service.questions_for(item, extras):
        if q.study_question_id == answer.study_question_id and (
            q.group_question_id == answer.group_question_id
        ):
            per_page = _per_page()
            number = answer_service.answer_page_number(
                current_user, group, q, answer.id, per_page
            )
            extra = {"page": number} if number > 1 else {}
            if per_page != answer_service.ANSWERS_PER_PAGE:
                extra["per_page"] = per_page
            return url_for(
                "groups.question", slug=group.slug, episode_slug=item.slug, number=q.number,
                **extra,
            )
    return url_for("groups.show", slug=group.slug)


@bp.route("/<slug>/answers/<int:answer_id>")
def answer_link(slug: str, answer_id: int):
    group = load_group(slug)
    answer = _answer(group, answer_id)
    return redirect(_question_url(group, answer) + f"#answer-{answer.id}")


def edit_post_page(group, post, form, *, kind: str, back: str, save, saved_message):
    """The shared edit page of an answer, reply or thread post: preview, save, errors.

    `save(body)` calls the service; it raises DomainError for a form message.
    """
    if not policy.can_edit_post(current_user, post):
        abort(403)
    preview = None
    if form.validate_on_submit():
        if request.form.get("action") == "preview":
            preview = render_markdown(form.body.data)
        else:
            try:
                save(form.body.data)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                flash(saved_message, "success")
                return redirect(back + f"#{kind}-{post.id}")
    return (
        render_template(
            "groups/edit_post.html", group=group, form=form, preview=preview, kind=kind, back=back
        ),
        400 if form.errors else 200,
    )


@bp.route("/<slug>/answers/<int:answer_id>/edit", methods=["GET", "POST"])
@login_required
def edit_answer(slug: str, answer_id: int):
    group = load_group(slug)
    answer = _answer(group, answer_id)
    return edit_post_page(
        group,
        answer,
        AnswerForm(obj=answer),
        kind="answer",
        back=_question_url(group, answer),
        save=lambda body: answer_service.edit_answer(_user(), answer, body),
        saved_message=_("Your answer is updated."),
    )


@bp.route("/<slug>/answers/<int:answer_id>/delete", methods=["POST"])
@login_required
def delete_answer(slug: str, answer_id: int):
    group = load_group(slug)
    answer = _answer(group, answer_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        answer_service.delete_answer(_user(), answer)
    except DomainError as error:
        _flash_error(error)
    else:
        flash(_("Your answer is deleted. Replies to it stay."), "info")
    return redirect(_question_url(group, answer))


@bp.route("/<slug>/answers/<int:answer_id>/endorse", methods=["POST"])
@login_required
def endorse_answer(slug: str, answer_id: int):
    group = load_group(slug)
    require_moderator(group)
    answer = _answer(group, answer_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    endorsed = request.form.get("endorse") == "1"
    try:
        answer_service.endorse(_user(), answer, endorsed)
    except DomainError as error:
        _flash_error(error)
    else:
        flash(_("Answer endorsed.") if endorsed else _("Endorsement removed."), "success")
    return redirect(_question_url(group, answer) + f"#answer-{answer.id}")


@bp.route("/<slug>/answers/<int:answer_id>/history")
@login_required
def answer_history(slug: str, answer_id: int):
    group = load_group(slug)
    try:
        answer = answer_service.get_answer(group, answer_id)
    except DomainError:
        abort(404)
    if not policy.can_see_history(current_user, group, answer):
        abort(403)
    return render_template(
        "groups/history.html",
        group=group,
        post=answer,
        revisions=answer_service.history(answer),
        back=_question_url(group, answer),
    )


@bp.route("/<slug>/answers/<int:answer_id>/replies", methods=["POST"])
@login_required
def reply(slug: str, answer_id: int):
    group = load_group(slug)
    answer = _answer(group, answer_id)
    form = ReplyForm()
    back = _question_url(group, answer)
    status = 400
    if form.validate_on_submit():
        try:
            created = answer_service.post_reply(
                _user(), answer, form.body.data, bool(form.anonymous.data)
            )
        except DomainError as error:
            add_domain_error(form, error)
            status = error.status
        else:
            flash(_("Your reply is posted."), "success")
            return redirect(back + f"#reply-{created.id}")
    elif back.split("#")[0] != url_for("groups.show", slug=group.slug) and keep_draft(
        f"reply:{answer.id}", form, ("body", "anonymous")
    ):
        # Back to the question with the message and what was typed (Post/Redirect/Get).
        return redirect(back.split("#")[0] + "#reply-draft", 303)
    question = None
    if status < 403:
        try:
            item = group_service.episode_of_answer(answer, group)
            question = _question_of(group, item, answer)
        except DomainError:
            question = None
    if question is None:
        # Not allowed to reply, or the group no longer studies the episode: the form
        # and its message on a page of their own.
        return (
            render_template(
                "groups/edit_post.html",
                group=group,
                form=form,
                preview=None,
                kind="reply",
                back=back,
                action=url_for("groups.reply", slug=group.slug, answer_id=answer.id),
            ),
            status,
        )
    return _render_question(group, item, question, status=status, reply_draft=(answer, form))


def _reply(group, reply_id: int):
    try:
        item = answer_service.get_reply(group, reply_id)
    except DomainError:
        abort(404)
    if not answer_service.can_read_answer(current_user, item.answer):
        abort(404)
    return item


@bp.route("/<slug>/replies/<int:reply_id>/edit", methods=["GET", "POST"])
@login_required
def edit_reply(slug: str, reply_id: int):
    group = load_group(slug)
    item = _reply(group, reply_id)
    return edit_post_page(
        group,
        item,
        ReplyForm(obj=item),
        kind="reply",
        back=_question_url(group, item.answer),
        save=lambda body: answer_service.edit_reply(_user(), item, body),
        saved_message=_("Your reply is updated."),
    )


@bp.route("/<slug>/replies/<int:reply_id>/delete", methods=["POST"])
@login_required
def delete_reply(slug: str, reply_id: int):
    group = load_group(slug)
    item = _reply(group, reply_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        answer_service.delete_reply(_user(), item)
    except DomainError as error:
        _flash_error(error)
    else:
        flash(_("Your reply is deleted."), "info")
    return redirect(_question_url(group, item.answer))


@bp.route("/<slug>/replies/<int:reply_id>/history")
@login_required
def reply_history(slug: str, reply_id: int):
    group = load_group(slug)
    try:
        item = answer_service.get_reply(group, reply_id)
    except DomainError:
        abort(404)
    if not policy.can_see_history(current_user, group, item):
        abort(403)
    return render_template(
        "groups/history.html",
        group=group,
        post=item,
        revisions=answer_service.history(item),
        back=_question_url(group, item.answer),
    )
