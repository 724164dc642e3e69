"""A newcomer's first hour with courses: assignment form defaults, past due dates,
required questions, reserved codes and calendar links where the due dates are."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from coprod_study.courses import service as course_service
from coprod_study.extensions import db
from coprod_study.models import Assignment, Course, Episode
from tests import factories as f
from tests.conftest import login, post_form


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


def episode(number: int) -> Episode:
    return db.session.scalar(select(Episode).where(Episode.number == number))


def local(delta: timedelta, zone: str = "Europe/Stockholm") -> str:
    moment = course_service.to_local(datetime.now(UTC) + delta, zone)
    return moment.strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def setup(sample_catalog):
    educator = f.make_user(role="educator", name="Eda Educator")
    course = f.make_course(educator, title="First Hour", time_zone="Europe/Stockholm")
    ann = f.enrol(course, f.make_user(name="Ann Learner"))
    return {"educator": educator, "course": course, "ann": ann}


def new_path(s) -> str:
    return f"/courses/{s['course'].code}/assignments/new"


# --- "Opens at" is optional and starts as now ---------------------------------------------


def test_opens_at_is_filled_with_now_in_the_course_time_zone(app, setup):
    client = signed_in(app, setup["educator"])
    page = client.get(new_path(setup)).get_data(as_text=True)
    now_here = course_service.to_local(datetime.now(UTC), "Europe/Stockholm")
    expected = now_here.strftime("%Y-%m-%dT%H:")
    assert f'name="opens_at" type="datetime-local" value="{expected}' in page
    assert "leave it empty to open the assignment at once" in page


def test_an_assignment_without_opens_at_opens_now(app, setup):
    client = signed_in(app, setup["educator"])
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    response = post_form(
        client, new_path(setup),
        {"episode_id": str(episode(2).id), "opens_at": "", "due_at": local(timedelta(days=7))},
        token_from=new_path(setup),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assignment = db.session.scalar(select(Assignment))
    assert before <= assignment.opens_at <= datetime.now(UTC)


# --- A due date in the past needs a confirmation -------------------------------------------


def test_a_past_due_date_is_refused_until_the_educator_confirms_it(app, setup):
    client = signed_in(app, setup["educator"])
    form = {
        "episode_id": str(episode(2).id),
        "opens_at": "2020-01-01T09:00",
        "due_at": "2020-02-01T17:00",
        "instructions": "Typed before the warning",
    }
    response = post_form(client, new_path(setup), form, token_from=new_path(setup))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "has already passed, so every learner would be overdue at once" in page
    assert 'name="confirm_past_due"' in page
    assert "Typed before the warning" in page
    assert count(Assignment) == 0
    confirmed = post_form(client, new_path(setup), {**form, "confirm_past_due": "y"},
                          token_from=new_path(setup))
    assert confirmed.status_code == 302
    assert count(Assignment) == 1


def test_editing_an_assignment_that_is_already_past_does_not_ask_again(app, setup):
    assignment = f.make_assignment(setup["course"], episode(2), opens_in=timedelta(days=-9),
                                   due_in=timedelta(days=-2))
    client = signed_in(app, setup["educator"])
    path = f"/courses/{setup['course'].code}/assignments/{assignment.id}/edit"
    due = course_service.to_local(assignment.due_at, "Europe/Stockholm")
    opens = course_service.to_local(assignment.opens_at, "Europe/Stockholm")
    response = post_form(client, path, {
        "episode_id": str(episode(2).id),
        "opens_at": opens.strftime("%Y-%m-%dT%H:%M"),
        "due_at": due.strftime("%Y-%m-%dT%H:%M"),
        "instructions": "Only the instructions change",
    }, token_from=path)
    assert response.status_code == 302
    db.session.refresh(assignment)
    assert assignment.instructions == "Only the instructions change"


def test_the_service_refuses_a_past_due_date_without_confirmation(app, setup):
    with pytest.raises(course_service.PastDueDate):
        course_service.create_assignment(
            setup["educator"], setup["course"], episode_id=episode(2).id,
            opens_at=datetime(2020, 1, 1, 9), due_at=datetime(2020, 2, 1, 9),
        )
    assert count(Assignment) == 0


# --- Required questions: ticked, and shown to learners ---------------------------------------


def test_required_questions_are_ticked_from_the_episode_questions(app, setup):
    client = signed_in(app, setup["educator"])
    page = client.get(new_path(setup)).get_data(as_text=True)
    three = episode(3)
    assert f'value="{three.id}:1"' in page and f'value="{three.id}:2"' in page
    assert three.questions[0].prompt in page
    response = post_form(client, new_path(setup), {
        "episode_id": str(three.id),
        "due_at": local(timedelta(days=7)),
        # A box ticked under another episode does not count.
        "required_questions": [f"{three.id}:3", f"{three.id}:1", f"{episode(1).id}:2"],
    }, token_from=new_path(setup))
    assert response.status_code == 302
    assignment = db.session.scalar(select(Assignment))
    assert assignment.required_questions == [1, 3]
    edit = client.get(f"/courses/{setup['course'].code}/assignments/{assignment.id}/edit")
    text = edit.get_data(as_text=True)
    assert f'value="{three.id}:1" checked' in text and f'value="{three.id}:2" checked' not in text


def test_a_ticked_question_that_does_not_exist_is_refused_and_the_ticks_are_kept(app, setup):
    client = signed_in(app, setup["educator"])
    three = episode(3)
    response = post_form(client, new_path(setup), {
        "episode_id": str(three.id),
        "due_at": local(timedelta(days=7)),
        "required_questions": [f"{three.id}:2", f"{three.id}:99"],
    }, token_from=new_path(setup))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "“99” is not a question of episode 3" in page
    assert f'value="{three.id}:2" checked' in page
    assert count(Assignment) == 0


def test_learners_see_the_due_date_and_the_required_questions_on_the_group_page(app, setup):
    course, ann = setup["course"], setup["ann"]
    group = f.make_course_group(course, setup["educator"], name="Red")
    f.place(course, group, ann)
    three = episode(3)
    f.make_assignment(course, three, due_in=timedelta(days=3), required_questions=[2])
    client = signed_in(app, ann)
    page = client.get(f"/groups/{group.slug}/episodes/{three.slug}").get_data(as_text=True)
    assert "Assigned in your course: due" in page
    assert "1 question is required; it is marked below." in page
    question_items = page.split('<li value="')[1:]
    required = [item.split('"')[0] for item in question_items if ">Required</span>" in item]
    assert required == ["2"]


def test_every_question_is_required_when_none_is_ticked(app, setup):
    course, ann = setup["course"], setup["ann"]
    group = f.make_course_group(course, setup["educator"], name="Blue")
    f.place(course, group, ann)
    f.make_assignment(course, episode(1))
    client = signed_in(app, ann)
    page = client.get(f"/groups/{group.slug}/episodes/{episode(1).slug}").get_data(as_text=True)
    assert "Every study question is required." in page


# --- Reserved course codes -----------------------------------------------------------------


@pytest.mark.parametrize("code", ["new", "Enrol", "calendar"])
def test_a_reserved_course_code_is_called_reserved(app, sample_catalog, code):
    client = signed_in(app, f.make_user(role="educator"))
    response = post_form(client, "/courses/new", {
        "title": "Reserved", "code": code, "time_zone": "UTC", "placement": "educator",
    }, token_from="/courses/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"“{code.lower()}” is reserved" in page
    assert "Use letters, digits, hyphens" not in page
    assert count(Course) == 0


# --- Calendar links where the due dates are ------------------------------------------------


def test_the_course_page_and_my_due_dates_offer_a_calendar_link(app, setup):
    f.make_assignment(setup["course"], episode(1))
    for user in (setup["educator"], setup["ann"]):
        client = signed_in(app, user)
        course_page = client.get(f"/courses/{setup['course'].code}").get_data(as_text=True)
        assert 'action="/courses/calendar/links"' in course_page
        assert "Make a calendar link" in course_page
    home = signed_in(app, setup["ann"]).get("/").get_data(as_text=True)
    due_section = home.split('id="my-due"')[1].split("</section>")[0]
    assert 'action="/courses/calendar/links"' in due_section


def test_a_course_with_nothing_assigned_offers_no_calendar_link(app, setup):
    for user in (setup["educator"], setup["ann"]):
        page = signed_in(app, user).get(f"/courses/{setup['course'].code}").get_data(as_text=True)
        assert "No episode is assigned yet." in page or "Your assignments" in page
        assert 'action="/courses/calendar/links"' not in page


def test_no_calendar_link_on_the_home_page_with_nothing_due(app, sample_catalog):
    home = signed_in(app, f.make_user()).get("/").get_data(as_text=True)
    assert 'action="/courses/calendar/links"' not in home


# --- B10: one time zone per page, the reader's -----------------------------------------------


def test_the_extension_page_speaks_only_in_the_educators_zone(app, setup):
    """The course is in Stockholm, the educator in UTC: the confirmation, the error and
    the table all give times in UTC."""
    course = setup["course"]
    assignment = f.make_assignment(course, episode(1), due_in=timedelta(days=1))
    client = signed_in(app, setup["educator"])
    path = f"/courses/{course.code}/assignments/{assignment.id}/extensions"
    too_early = post_form(client, path, {"user_id": setup["ann"].id, "due_at": "2000-01-01T10:00"},
                          token_from=path).get_data(as_text=True)
    assert "An extension must be later than the assignment" in too_early
    message = too_early.split("An extension must be later")[1].split("</p>")[0]
    assert "UTC" in message and "Europe/Stockholm" not in message
    response = post_form(client, path, {"user_id": setup["ann"].id, "due_at": local(timedelta(days=4))},
                         token_from=path, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Ann Learner has until" in page
    flashed = page.split("Ann Learner has until")[1].split("<")[0]
    assert "UTC" in flashed and "CET" not in flashed and "Europe/Stockholm" not in flashed


def test_the_past_due_warning_is_in_the_educators_zone(app, setup):
    client = signed_in(app, setup["educator"])
    page = post_form(client, new_path(setup), {
        "episode_id": str(episode(2).id), "opens_at": "2020-01-01T09:00",
        "due_at": "2020-02-01T17:00",
    }, token_from=new_path(setup)).get_data(as_text=True)
    assert "Sat 1 Feb 2020, 16:00 UTC has already passed" in page


def test_a_script_narrows_the_question_lists_to_the_chosen_episode(app, setup):
    client = signed_in(app, setup["educator"])
    page = client.get(new_path(setup)).get_data(as_text=True)
    assert "/static/js/assignment.js" in page
    assert page.count('class="required-questions" data-episode="') == count(Episode)
    script = client.get("/static/js/assignment.js").get_data(as_text=True)
    assert "data-episode" in script and 'getElementById("episode_id")' in script


def test_the_progress_page_of_an_empty_course_says_what_to_do_next(app, setup):
    code = setup["course"].code
    page = signed_in(app, setup["educator"]).get(f"/courses/{code}/progress").get_data(as_text=True)
    assert "No episode is assigned yet." in page
    assert f'href="/courses/{code}/assignments/new"' in page
    # Nothing to filter or explain yet.
    assert 'id="group-filter"' not in page and "Each cell:" not in page
