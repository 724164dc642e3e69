"""The progress page's read model (courses/progress_table.py) against the rules of
courses/progress.py: the same status, counts and totals for every cell, in a fixed
number of queries whatever the size of the course."""

from datetime import timedelta

import pytest
from markupsafe import escape

from coprod_study.courses import progress, progress_table
from coprod_study.extensions import db
from coprod_study.models import Extension, Reply
from tests import factories as f
from tests.test_courses_progress import (  # noqa: F401 (fixtures)
    NOW,
    answer,
    course,
    episode,
    listened,
    seed_course,
    signed_in,
)


def expected_cells(row) -> str:
    """The HTML the read model must show for an old-style row of Cells."""
    make = progress_table._CellHtml()
    html = "".join(make((c.status, c.extended, c.listened, c.answered, c.required, c.replies))
                   for c in row.cells)
    done = escape(make.done_of % {"done": row.done, "count": len(row.cells)})
    return html + (f"<td>{done}</td><td>{row.late}</td><td>{row.overdue}</td>"
                   f"<td>{row.answered}/{row.required}</td><td>{row.replies}</td>")


def assert_same(course_, **options):
    old = progress.progress_table(course_, **options)
    new = progress_table.progress_view(course_, **options)
    assert [(r.user.id, r.group.name if r.group else None) for r in old.rows] == [
        (r.user_id, r.group_name) for r in new.rows
    ]
    assert [c.id for c in new.columns] == [a.id for a in old.assignments]
    for old_row, new_row in zip(old.rows, new.rows, strict=True):
        assert str(new_row.cells) == expected_cells(old_row)
        assert (new_row.done, new_row.late, new_row.overdue, new_row.answered,
                new_row.required, new_row.replies) == (
            old_row.done, old_row.late, old_row.overdue, old_row.answered,
            old_row.required, old_row.replies)
    for total, column in zip(old.totals, new.columns, strict=True):
        assert (column.listened, column.done, column.on_time, column.late, column.overdue,
                column.answered, column.required, column.replies) == (
            total.listened, total.done, total.on_time, total.late, total.overdue,
            total.answered, total.required, total.replies)
    assert (new.group_filter, new.unknown_group, new.sort) == (
        old.group_filter, old.unknown_group, old.sort)
    return new


def test_every_cell_and_total_as_the_rules_say(app, course):  # noqa: F811
    with app.test_request_context():
        view = assert_same(course["course"])
        statuses = {
            row.name: str(row.cells).count("chip chip-") for row in view.rows
        }
        assert statuses == {"Ann": 2, "Bob": 2, "Cat": 2}
        html = {row.name: str(row.cells) for row in view.rows}
        assert "chip-on_time" in html["Ann"] and "chip-late" in html["Bob"]
        assert "(ext.)" in html["Cat"] and "chip-due_soon" in html["Cat"]
        for sort in progress_table.SORT_KEYS:
            for descending in (False, True):
                assert_same(course["course"], sort=sort, descending=descending)
        for group in ("alpha", "beta", "none", "nope"):
            assert_same(course["course"], group=group)


def test_a_reply_by_another_an_extension_and_a_not_yet_open_assignment(app, course):  # noqa: F811
    later = f.make_assignment(course["course"], episode(3), opens_in=timedelta(days=2),
                              due_in=timedelta(days=20))
    question_answer = answer(course["alpha"], course["ann"], 3, 1, NOW - timedelta(hours=1))
    db.session.add(Reply(answer_id=question_answer.id, user_id=course["bob"].id, body="r",
                         body_html="<p>r</p>"))
    db.session.add(Extension(assignment_id=later.id, user_id=course["bob"].id,
                             due_at=NOW + timedelta(days=30)))
    listened(course["bob"], 3)
    db.session.commit()
    with app.test_request_context():
        view = assert_same(course["course"])
    assert "chip-not_open" in str(view.rows[0].cells)


def test_user_text_in_names_is_escaped_on_the_page(app, course):  # noqa: F811
    course["ann"].display_name = "<b>Ann</b>"
    course["alpha"].name = "<i>Alpha</i>"
    db.session.commit()
    page = signed_in(app, course["educator"]).get("/courses/PROG/progress").get_data(
        as_text=True)
    assert "&lt;b&gt;Ann&lt;/b&gt;" in page and "<b>Ann</b>" not in page
    assert "&lt;i&gt;Alpha&lt;/i&gt;" in page


@pytest.mark.slow
def test_300_learners_the_same_as_the_rules_in_at_most_8_queries(
    app, sample_catalog, count_queries
):
    app.config["PAGE_CACHE_MB"] = 0
    educator = f.make_user(role="educator")
    small = seed_course("SMALL", 5, educator)
    large = seed_course("LARGE", 300, educator)
    with app.test_request_context():
        view = assert_same(large)
    assert len(view.rows) == 300 and len(view.columns) == 3
    client = signed_in(app, educator)
    counts = []
    for course_ in (small, large):
        client.get(f"/courses/{course_.code}/progress")
        with count_queries() as statements:
            response = client.get(f"/courses/{course_.code}/progress")
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 8, counts


def test_educators_share_the_kept_table_and_a_write_shows_to_both_at_once(
    app, course, count_queries  # noqa: F811
):
    assert app.config["PAGE_CACHE_MB"] > 0
    other = f.enrol(course["course"], f.make_user(role="educator", name="Ola"), role="educator")
    first, second = signed_in(app, course["educator"]), signed_in(app, other)
    page = first.get("/courses/PROG/progress").get_data(as_text=True)
    assert "2 listened" in page
    with count_queries() as statements:
        shared = second.get("/courses/PROG/progress").get_data(as_text=True)
    # The second educator's page is built around the table the first one's made.
    assert not any("UNION ALL" in statement for statement in statements)
    def content(html):
        return html.split("<h1>")[1].split("</main>")[0]

    assert content(shared) == content(page)
    assert "Ola" in shared.split("<h1>")[0]  # their own navigation
    listened(course["cat"], 1)
    for client in (first, second):
        assert "3 listened" in client.get("/courses/PROG/progress").get_data(as_text=True)
