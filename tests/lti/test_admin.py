"""/admin/lti: registering an LMS, the values to paste, and the tool's keys."""

import json
import re
from html import unescape

from sqlalchemy import select

from coprod_study.extensions import db
from coprod_study.models import AuditEntry, LtiDeployment, LtiPlatform, LtiToolKey
from tests.conftest import login, post_form


def _admin(client, make_user):
    login(client, make_user(role="admin"))


def test_registering_an_lms_then_the_values_to_paste(client, make_user, platform):
    _admin(client, make_user)
    response = post_form(client, "/admin/lti/new", platform.registration(), token_from="/admin/lti/new")
    assert response.status_code == 302
    saved = db.session.scalar(select(LtiPlatform))
    assert saved.issuer == platform.issuer and saved.client_id == "tool-client-1"
    assert [d.deployment_id for d in saved.deployments] == ["deployment-1"]
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "lti.platform_saved"))
    setup = client.get(response.headers["Location"])
    body = unescape(setup.get_data(as_text=True))
    for url in ("http://localhost/lti/login", "http://localhost/lti/launch", "http://localhost/lti/jwks"):
        assert f"<code>{url}</code>" in body
    canvas = json.loads(re.search(r'<textarea id="canvas-json"[^>]*>(.*?)</textarea>', body, re.S).group(1))
    assert canvas["oidc_initiation_url"] == "http://localhost/lti/login"
    assert canvas["public_jwk_url"] == "http://localhost/lti/jwks"
    placements = {p["placement"]: p["message_type"] for p in canvas["extensions"][0]["settings"]["placements"]}
    assert placements["assignment_selection"] == "LtiDeepLinkingRequest"
    # A key was made for the tool, and the admin list shows the registration.
    assert db.session.scalar(select(LtiToolKey.kid)) in client.get("/admin/lti").get_data(as_text=True)


def test_a_plain_http_address_is_refused_and_what_was_typed_is_kept(client, make_user, platform):
    _admin(client, make_user)
    values = platform.registration() | {"token_url": "http://lms.example.org/token", "deployment_ids": ""}
    response = post_form(client, "/admin/lti/new", values, token_from="/admin/lti/new")
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter an https:// address." in body or "Enter at least one deployment id." in body
    assert 'value="http://lms.example.org/token"' in body and f'value="{platform.issuer}"' in body
    assert db.session.scalar(select(LtiPlatform)) is None


def test_editing_keeps_deployments_and_the_same_issuer_twice_is_refused(client, make_user, platform):
    _admin(client, make_user)
    post_form(client, "/admin/lti/new", platform.registration(), token_from="/admin/lti/new")
    saved = db.session.scalar(select(LtiPlatform))
    first = saved.deployments[0].id
    edit = f"/admin/lti/{saved.id}"
    assert "deployment-1" in client.get(edit).get_data(as_text=True)
    values = platform.registration() | {"deployment_ids": "deployment-1\ndeployment-2"}
    assert post_form(client, edit, values, token_from=edit).status_code == 302
    db.session.expire_all()
    ids = dict(db.session.execute(select(LtiDeployment.deployment_id, LtiDeployment.id)).all())
    assert ids["deployment-1"] == first and "deployment-2" in ids
    again = post_form(client, "/admin/lti/new", platform.registration(), token_from="/admin/lti/new")
    assert again.status_code == 400
    assert "Another registration has this issuer and client id." in again.get_data(as_text=True)


def test_rotating_the_key_keeps_the_old_one_published(client, make_user):
    _admin(client, make_user)
    assert post_form(client, "/admin/lti/keys/rotate", {}, token_from="/admin/lti").status_code == 302
    first = client.get("/lti/jwks").get_json()["keys"]
    assert len(first) == 1 and first[0]["kty"] == "RSA" and "d" not in first[0]
    post_form(client, "/admin/lti/keys/rotate", {}, token_from="/admin/lti")
    keys = client.get("/lti/jwks").get_json()["keys"]
    assert len(keys) == 2 and keys[1]["kid"] == first[0]["kid"]
    active = db.session.scalars(select(LtiToolKey).where(LtiToolKey.retired_at.is_(None))).all()
    assert [k.kid for k in active] == [keys[0]["kid"]]


def test_an_empty_registration_names_every_missing_field_at_once(client, make_user):
    _admin(client, make_user)
    response = post_form(client, "/admin/lti/new", {}, token_from="/admin/lti/new")
    body = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    for message in ("Enter a name for this LMS.", "Enter the platform's issuer.",
                    "Enter the client id.", "Enter at least one deployment id.",
                    "Enter the OIDC authorization URL.", "Enter the OAuth2 token URL.",
                    "Enter the platform's JWKS URL."):
        assert message in body, message
    assert db.session.scalar(select(LtiPlatform)) is None
