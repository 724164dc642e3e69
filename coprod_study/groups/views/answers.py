"""Views for a question's answers: answering, revealing, editing, endorsing, history."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coprod_study import page_cache, policy
from coprod_study.errors import DomainError
from coprod_study.forms import add_domain_error, keep_draft, take_draft
from coprod_study.groups import answers as answer_service
from coprod_study.groups import bp
from coprod_study.groups import service as group_service
from coprod_study.groups.forms import (
    ActionForm,
    AnswerForm,
    ReplyForm,
)
from coprod_study.groups.views.common import (
    _episode,
    _flash_error,
    _user,
    edit_post_page,
    load_group,
    require_moderator,
)
from coprod_study.markup import render_markdown
from coprod_study.pagination import current_page_number

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
