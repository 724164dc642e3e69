"""Test helpers that create rows directly through the models and services."""

import itertools

from coprod_study.extensions import db
from coprod_study.models import User
from coprod_study.services.accounts import hash_password

DEFAULT_PASSWORD = "a long test passphrase"
_counter = itertools.count(1)
_password_hash = None


def _hash(password: str) -> str:
    # scrypt is slow on purpose; hash the common test password once per run.
    global _password_hash
    if password != DEFAULT_PASSWORD:
        return hash_password(password)
    if _password_hash is None:
        _password_hash = hash_password(DEFAULT_PASSWORD)
    return _password_hash


def make_user(
    role: str = "learner",
    email: str | None = None,
    name: str | None = None,
    password: str = DEFAULT_PASSWORD,
    **fields,
) -> User:
    number = next(_counter)
    user = User(
        email=(email or f"person{number}@example.org").lower(),
        display_name=name or f"Person {number}",
        password_hash=_hash(password),
        role=role,
        **fields,
    )
    db.session.add(user)
    db.session.commit()
    return user
