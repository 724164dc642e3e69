"""The reader's CSRF token goes only where the app put it: text a person types is never swapped
for it, in kept pages and kept posts alike, nor in pages built afresh."""

import re

import pytest

from coprod_study import csrf_slots
from coprod_study.discussion import service as discussion
from coprod_study.extensions import db
from coprod_study.groups import answers as answer_service
from tests import factories as f
from tests.conftest import login

# The marker kept pages held before, and the placeholder they hold now.
TYPED = ("csrf-token-of-this-reader", csrf_slots.PLACEHOLDER)
TOKEN_TAG = re.compile(r'<(?:input|meta)\s[^<>]*name="csrf[_-]token"[^<>]*>')
META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def test_fill_and_hollow_touch_only_the_apps_token_tags():
    token = "tok.en.value"
    built = (
        f'<meta name="csrf-token" content="{token}">'
        f'<p>{token} {csrf_slots.PLACEHOLDER}</p>'
        f'<a href="https://evil.example/?t={csrf_slots.PLACEHOLDER}">x</a>'
        f'<form><input type="hidden" name="csrf_token" value="{token}"></form>'
        f'<input id="csrf_token" name="csrf_token" type="hidden" value="{token}">'
    )
    kept = csrf_slots.hollow(built, token)
    assert kept.count(csrf_slots.PLACEHOLDER) == 5  # three tags + the two typed ones
    assert f"<p>{token} " in kept  # typed text is left as it was
    served = csrf_slots.fill(kept, "other.reader")
    assert served.count("other.reader") == 3
    assert f"<p>{token} {csrf_slots.PLACEHOLDER}</p>" in served
    assert f'href="https://evil.example/?t={csrf_slots.PLACEHOLDER}"' in served


def test_the_placeholder_is_made_anew_by_each_process():
    assert re.fullmatch(r"csrf-slot-[0-9a-f]{32}", csrf_slots.PLACEHOLDER)
    assert csrf_slots.PLACEHOLDER != "csrf-slot-" + "0" * 32


@pytest.fixture
def typed_world(app, sample_catalog):
    """A group whose description, one member's name, an answer, a reply and a thread post
    all carry both marker strings, the answer and reply inside a link too."""
    words = " ".join(TYPED)
    link = f"[see](https://evil.example/?t={TYPED[0]}) [also](https://evil.example/?u={TYPED[1]})"
    facilitator = f.make_user(role="facilitator", name="Fay Facilitator")
    group = f.make_group(facilitator, name="Marker group", description=f"About {words}. {link}")
    writer = f.add_member(group, f.make_user(name=f"Ann {TYPED[0]} {TYPED[1]}"))
    reader = f.add_member(group, f.make_user(name="Cat Reader"))
    episode, question = f.first_question(group)
    answer = answer_service.post_answer(writer, group, question, f"My answer: {words} {link}")
    answer_service.post_answer(reader, group, question, "Cat's own answer.")
    answer_service.post_reply(writer, answer, f"A reply: {words} {link}")
    thread = discussion.create_thread(
        facilitator, group, title="Marker thread", body=f"Opening post {words} {link}"
    )
    discussion.reply(writer, thread, f"Thread post: {words} {link}")
    db.session.commit()
    return {
        "reader": reader,
        "writer": writer,
        "pages": [
            f"/groups/{group.slug}",
            f"/groups/{group.slug}/episodes/{episode.slug}/questions/1",
            f"/groups/{group.slug}/threads/{thread.id}",
            f"/groups/{group.slug}/members",
            "/search?q=" + TYPED[0],
            "/search?q=" + TYPED[1],
        ],
    }


def _check_page(html: str, path: str) -> None:
    token = META.search(html).group(1)
    outside = TOKEN_TAG.sub("", html)
    assert token not in outside, f"the reader's token is outside the token tags on {path}"
    # Nor its payload, the part that stays the same between two requests of a session.
    assert token.split(".")[0] not in outside, path
    for typed in TYPED:
        assert typed in outside, f"{typed!r} is not shown as typed on {path}"
    if "/questions/" in path or "/threads/" in path:
        assert f'href="https://evil.example/?t={TYPED[0]}"' in html, path
        assert f'href="https://evil.example/?u={TYPED[1]}"' in html, path


@pytest.mark.parametrize("keeping", [True, False], ids=["kept", "built"])
def test_typed_markers_show_as_typed_and_never_carry_the_token(app, client, typed_world, keeping):
    if not keeping:
        app.config["PAGE_CACHE_MB"] = 0
        app.config["FRAGMENT_CACHE_MB"] = 0
        app.extensions.pop("kept_pages", None)
        app.extensions.pop("post_fragments", None)
    # The writer reads every page first, so that what the reader gets is what was kept.
    login(client, typed_world["writer"])
    for path in typed_world["pages"]:
        if "/search" not in path:
            assert client.get(path).status_code == 200, path
    client.post("/auth/logout", data={"csrf_token": META.search(client.get("/").get_data(
        as_text=True)).group(1)})
    login(client, typed_world["reader"])
    for path in typed_world["pages"]:
        for _ in range(2):  # built (or kept from the writer's visit), then kept for this reader
            response = client.get(path)
            assert response.status_code == 200, path
            _check_page(response.get_data(as_text=True), path)
