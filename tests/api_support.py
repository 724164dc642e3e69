"""Helpers for API tests: tokens and headers."""

from coprod_study.account import tokens as api_tokens


def token_for(user, scope: str = "write", lifetime_days: int = 90) -> str:
    return api_tokens.create_token(user, f"test {scope}", scope, lifetime_days).secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def auth(user, scope: str = "write") -> dict:
    return bearer(token_for(user, scope))


def is_problem(response, status: int) -> bool:
    body = response.get_json(silent=True) or {}
    return (
        response.status_code == status
        and response.mimetype == "application/problem+json"
        and body.get("status") == status
        and body.get("type") == "about:blank"
        and isinstance(body.get("title"), str)
    )
