"""The group privacy table, run through the API: the same answers as the HTML pages."""

import re
from datetime import UTC, datetime

import pytest

from coprod_study.extensions import db
from coprod_study.models import Revision
from tests.api_support import auth
from tests.conftest import login
from tests.test_group_privacy import (  # noqa: F401  (world is a fixture)
    INVITE_ONLY,
    LISTED,
    ROLES,
    SECRET,
    SEES_SECRET,
    world,
)

# HTML page -> the API endpoint that shows the same thing.
API_PAGES = {
    "group": "/api/v1/groups/{slug}",
    "members": "/api/v1/groups/{slug}/members",
    "episode": "/api/v1/groups/{slug}/episodes/{episode}/questions",
    "question": "/api/v1/groups/{slug}/episodes/{episode}/questions/1/answers",
    "history": "/api/v1/groups/{slug}/answers/{answer}/revisions",
}
# A status on the page -> the status the API gives instead. The API has no
# sign-in page: a visitor (no token) gets 401 everywhere.
API_STATUS = {200: 200, 403: 403, 404: 404}

CASES = [
    (policy_name, table, page, role)
    for policy_name, table in (("request", LISTED), ("open", LISTED), ("invite", INVITE_ONLY))
    for page in API_PAGES
    for role in ROLES
]


@pytest.mark.parametrize(("join_policy", "table", "page", "role"), CASES)
def test_privacy_table_through_the_api(app, world, join_policy, table, page, role):  # noqa: F811
    group, viewers, urls = world(join_policy)
    answer_id = int(re.search(r"/answers/(\d+)/", urls["history"]).group(1))
    episode_slug = urls["episode"].rsplit("/", 1)[1]
    # An earlier version of the secret answer, so the history has it too.
    db.session.add(
        Revision(answer_id=answer_id, body=f"{SECRET} (first draft)", written_at=datetime.now(UTC))
    )
    db.session.commit()

    html_client, api_client = app.test_client(), app.test_client()
    viewer = viewers[role]
    headers = {}
    if viewer is not None:
        login(html_client, viewer)
        headers = auth(viewer, "read")
    html = html_client.get(urls[page])
    api = api_client.get(
        API_PAGES[page].format(slug=group.slug, episode=episode_slug, answer=answer_id),
        headers=headers,
    )

    expected_html = table[page][ROLES.index(role)]
    assert html.status_code == expected_html
    expected_api = 401 if viewer is None else API_STATUS[expected_html]
    assert api.status_code == expected_api, (page, role, api.status_code, api.get_data(as_text=True))
    body = api.get_data(as_text=True)
    sees = SECRET in html.get_data(as_text=True)
    assert (SECRET in body) == sees, (page, role)
    if role not in SEES_SECRET or expected_html != 200:
        assert SECRET not in body
        assert "Writer" not in body
    elif page in ("question", "history"):
        assert SECRET in body
