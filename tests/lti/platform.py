"""A fake LMS for LTI tests: its own RSA key and JWKS, an OIDC auth endpoint, an OAuth2
token endpoint, roster (NRPS) and grade (AGS) services, served over HTTP on loopback."""

import html
import json
import secrets
import threading
import time
from urllib.parse import urlencode

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, abort, jsonify, request
from werkzeug.serving import make_server

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key, kid: str) -> dict:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid=kid, alg="RS256", use="sig")
    return jwk


class FakePlatform:
    """One LMS with one course (context), people by login hint, and links made by deep linking."""

    def __init__(self, tool_base: str):
        self.tool_base = tool_base.rstrip("/")
        self.key, self.kid = new_key(), "platform-key-1"
        self.published = {self.kid: self.key}
        self.client_id = "tool-client-1"
        self.deployment_id = "deployment-1"
        self.context = {"id": "lms-course-1", "label": "NURS 101", "title": "Coproduction in nursing",
                        "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]}
        self.people = {
            "instructor": {"sub": "lms-user-instructor", "name": "Ingrid Instructor",
                           "email": "ingrid@lms.example", "roles": [INSTRUCTOR]},
            "learner": {"sub": "lms-user-learner", "name": "Lars Learner",
                        "email": "lars@lms.example", "roles": [LEARNER]},
        }
        self.links: dict[str, dict] = {}
        self.line_items: dict[str, dict] = {}
        self.scores: list[dict] = []
        self.members: list[dict] | None = None
        self.tokens: dict[str, str] = {}
        self.fail_scores = False
        self.jwks_requests = 0
        self.tool_jwks: dict | None = None  # the tool's keys; fetched from the tool when None
        self.app = self._make_app()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.issuer = self.base
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> "FakePlatform":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self._thread.join(timeout=10)

    def registration(self) -> dict:
        """The form an admin fills in at /admin/lti/new."""
        return {
            "name": "Fake LMS", "issuer": self.issuer, "client_id": self.client_id,
            "deployment_ids": self.deployment_id, "auth_url": self.base + "/auth",
            "token_url": self.base + "/token", "jwks_url": self.base + "/jwks",
            "frame_origins": "",
        }

    def login_params(self, person: str, message: str) -> dict:
        return {
            "iss": self.issuer, "login_hint": person, "target_link_uri": self.tool_base + "/lti/launch",
            "lti_message_hint": message, "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }

    def login_url(self, person: str, message: str) -> str:
        return self.tool_base + "/lti/login?" + urlencode(self.login_params(person, message))

    # --- tokens ----------------------------------------------------------------------

    def claims_for(self, person: str, message: str, nonce: str) -> dict:
        who = self.people[person]
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": self.client_id, "sub": who["sub"], "iat": now,
            "exp": now + 300, "nonce": nonce, "name": who["name"], "email": who["email"],
            LTI + "version": "1.3.0", LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": self.tool_base + "/lti/launch", LTI + "roles": who["roles"],
            LTI + "context": self.context,
            NRPS: {"context_memberships_url": self.base + "/memberships", "service_versions": ["2.0"]},
            AGS: {"scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                            "https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                  "lineitems": self.base + "/lineitems"},
        }
        if message == "deep_link":
            claims[LTI + "message_type"] = "LtiDeepLinkingRequest"
            claims[DL + "deep_linking_settings"] = {
                "deep_link_return_url": self.base + "/deep-link-return",
                "accept_types": ["ltiResourceLink"], "accept_presentation_document_targets": ["iframe"],
                "data": "opaque-platform-data",
            }
        else:
            link = self.links.get(message.removeprefix("link:"), {})
            claims[LTI + "message_type"] = "LtiResourceLinkRequest"
            claims[LTI + "resource_link"] = {"id": message, "title": link.get("title", "A link")}
            if link.get("custom"):
                claims[LTI + "custom"] = link["custom"]
            if link.get("line_item"):
                claims[AGS]["lineitem"] = link["line_item"]
        return claims

    def sign(self, claims: dict, key=None, kid: str | None = None) -> str:
        return jwt.encode(claims, key or self.key, algorithm="RS256",
                          headers={"kid": kid or self.kid})

    def rotate(self) -> None:
        """A new key under a new kid, published; the old one is dropped."""
        self.key, self.kid = new_key(), f"platform-key-{secrets.token_hex(3)}"
        self.published = {self.kid: self.key}

    def _tool_key(self, token: str):
        jwks = self.tool_jwks or requests.get(self.tool_base + "/lti/jwks", timeout=10).json()
        kid = jwt.get_unverified_header(token).get("kid")
        entry = next(k for k in jwks["keys"] if k["kid"] == kid)
        return jwt.PyJWK(entry).key

    def _bearer(self) -> None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            abort(401)

    # --- the LMS's endpoints ---------------------------------------------------------------

    def _make_app(self) -> Flask:
        app = Flask("fake_platform")
        platform = self

        @app.get("/jwks")
        def jwks():
            platform.jwks_requests += 1
            return jsonify({"keys": [public_jwk(k, kid) for kid, k in platform.published.items()]})

        @app.get("/auth")
        def auth():
            args = request.args
            assert args["client_id"] == platform.client_id and args["scope"] == "openid"
            assert args["response_mode"] == "form_post" and args["response_type"] == "id_token"
            assert args["redirect_uri"] == platform.tool_base + "/lti/launch"
            claims = platform.claims_for(args["login_hint"], args.get("lti_message_hint", ""), args["nonce"])
            token = platform.sign(claims)
            return (
                f'<!doctype html><title>Launching</title><form method="post" action="{html.escape(args["redirect_uri"])}">'
                f'<input type="hidden" name="id_token" value="{token}">'
                f'<input type="hidden" name="state" value="{html.escape(args["state"])}">'
                '<button type="submit">Continue</button></form>'
                "<script>document.forms[0].submit()</script>"
            )

        @app.post("/token")
        def token():
            form = request.form
            assert form["grant_type"] == "client_credentials"
            assert form["client_assertion_type"] == ASSERTION_TYPE
            assertion = form["client_assertion"]
            claims = jwt.decode(assertion, platform._tool_key(assertion), algorithms=["RS256"],
                                audience=platform.base + "/token")
            assert claims["iss"] == claims["sub"] == platform.client_id
            access = secrets.token_urlsafe(16)
            platform.tokens[access] = form.get("scope", "")
            return jsonify({"access_token": access, "token_type": "Bearer", "expires_in": 3600,
                            "scope": form.get("scope", "")})

        @app.get("/memberships")
        def memberships():
            platform._bearer()
            members = platform.members
            if members is None:
                members = [{"user_id": p["sub"], "name": p["name"], "email": p["email"],
                            "roles": p["roles"], "status": "Active"} for p in platform.people.values()]
            return jsonify({"id": platform.base + "/memberships", "context": platform.context,
                            "members": members})

        @app.route("/lineitems", methods=["GET", "POST"])
        def lineitems():
            platform._bearer()
            if request.method == "GET":
                wanted = request.args.get("resource_id")
                return jsonify([i for i in platform.line_items.values()
                                if not wanted or i.get("resourceId") == wanted])
            item = dict(request.get_json())
            item["id"] = f"{platform.base}/lineitems/{len(platform.line_items) + 1}"
            platform.line_items[item["id"]] = item
            return jsonify(item), 201

        @app.post("/lineitems/<int:number>/scores")
        def scores(number):
            platform._bearer()
            if platform.fail_scores:
                return "busy", 503
            assert request.content_type == "application/vnd.ims.lis.v1.score+json"
            score = dict(json.loads(request.get_data()))
            score["lineitem"] = f"{platform.base}/lineitems/{number}"
            platform.scores.append(score)
            return "", 200

        @app.post("/deep-link-return")
        def deep_link_return():
            token = request.form["JWT"]
            claims = jwt.decode(token, platform._tool_key(token), algorithms=["RS256"],
                                audience=platform.issuer)
            assert claims["iss"] == platform.client_id
            assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
            assert claims[LTI + "deployment_id"] == platform.deployment_id
            assert claims[DL + "data"] == "opaque-platform-data"
            made = []
            for item in claims[DL + "content_items"]:
                link_id = str(len(platform.links) + 1)
                line = item.get("lineItem")
                line_url = None
                if line:
                    line_url = f"{platform.base}/lineitems/{len(platform.line_items) + 1}"
                    platform.line_items[line_url] = {**line, "id": line_url, "resourceLinkId": link_id}
                platform.links[link_id] = {"title": item["title"], "url": item["url"],
                                           "custom": item.get("custom", {}), "line_item": line_url}
                made.append(f'<li id="link-{link_id}">{html.escape(item["title"])}</li>')
            return "<!doctype html><title>Link added</title><h1>Link added</h1><ul>" + "".join(made) + "</ul>"

        @app.get("/course")
        def course():
            """The LMS's course page: the tool in an iframe, launched as `as` for `message`."""
            src = platform.login_url(request.args["as"], request.args["message"])
            return (
                "<!doctype html><title>LMS course</title><h1>LMS course</h1>"
                f'<iframe id="tool" title="Tool" src="{html.escape(src)}" width="1000" height="800"></iframe>'
            )

        return app
