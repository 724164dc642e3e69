"""The models in api.inputs give the problems, word for word, that the API has always given."""

import pytest
from pydantic import ValidationError

from coprod_study.api import inputs
from tests.api_support import is_problem

LIMIT = "limit must be a whole number from 1 to 100."
CURSOR = "The cursor is not valid; use next_cursor from a page."


def _problems(model, data) -> list[dict]:
    try:
        model.model_validate(data)
    except ValidationError as error:
        return inputs.body_problems(model, data, error)
    return []


@pytest.mark.parametrize(
    ("model", "data", "expected"),
    [
        (inputs.Edit, {"body": "fine"}, []),
        (inputs.Edit, ["body"], [("", "the body must be a JSON object, not array")]),
        (inputs.Edit, {}, [("body", "is required")]),
        (inputs.Edit, {"body": None}, [("body", "must be a string, not null")]),
        (inputs.Edit, {"body": ""}, [("body", "must not be empty")]),
        (inputs.Edit, {"body": " \n\x1c"}, [("body", "must contain some text, not only white space")]),
        (inputs.Edit, {"body": "a\x00"}, [("body", "must not contain NUL characters")]),
        (inputs.Edit, {"body": "a\ud800"}, [("body", "must be valid Unicode text")]),
        (inputs.Edit, {"body": "x" * 20_001}, [("body", "must be at most 20000 characters")]),
        (inputs.NewAnswer, {"body": "x", "anonymous": 1}, [("anonymous", "must be a boolean, not integer")]),
        (
            inputs.NewPost,
            {"zz": 1, "quote_post_id": True, "aa": 2},
            [
                ("zz", "unknown field (allowed: anonymous, body, quote_post_id)"),
                ("aa", "unknown field (allowed: anonymous, body, quote_post_id)"),
                ("body", "is required"),
                ("quote_post_id", "must be a integer, not boolean"),
            ],
        ),
        (inputs.NewPost, {"body": "x", "quote_post_id": None}, [("quote_post_id", "must be a integer, not null")]),
        (inputs.NewPost, {"body": "x", "quote_post_id": 0}, [("quote_post_id", "must be between 1 and 2147483647")]),
        (inputs.NewPost, {"body": "x", "quote_post_id": 1.0}, [("quote_post_id", "must be a integer, not number")]),
    ],
)
def test_body_problems_keep_their_words(model, data, expected):
    assert [(p["field"], p["message"]) for p in _problems(model, data)] == expected


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("limit=0", LIMIT), ("limit=101", LIMIT), ("limit=+5", LIMIT), ("limit=%205", LIMIT),
        ("limit=1_0", LIMIT), ("limit=", LIMIT), ("cursor=" + "A" * 501, CURSOR),
        ("cursor=%C3%A9", CURSOR), ("cursor=e30", CURSOR), ("limit=0&cursor=e30", LIMIT),
    ],
)
def test_query_problems_keep_their_words(client, query, detail):
    response = client.get(f"/api/v1/episodes?{query}")
    assert is_problem(response, 400)
    assert response.get_json()["detail"] == detail


def test_a_good_limit_and_an_unknown_parameter_are_taken(client, sample_catalog):
    response = client.get("/api/v1/episodes?limit=05&colour=blue")
    assert response.status_code == 200
    assert len(response.get_json()["items"]) == 5


@pytest.mark.parametrize(
    ("slug", "ok"), [("a-b-1", True), ("A-b", False), ("a--b", False), ("a" * 81, False)]
)
def test_slugs_are_checked_by_the_documented_pattern(slug, ok):
    if ok:
        assert inputs.check_slug(slug) == slug
    else:
        with pytest.raises(inputs.ApiError) as caught:
            inputs.check_slug(slug, "group")
        assert (caught.value.code, caught.value.detail) == (404, "There is no such group.")
