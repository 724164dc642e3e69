"""Shared form helpers."""

from wtforms import Field


def add_domain_error(form, error) -> None:
    """Attach a service's DomainError to the named field, or to the form as a whole."""
    field: Field | None = getattr(form, error.field, None) if error.field else None
    if field is not None and isinstance(field, Field):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


# What a cookie session can carry next to everything else it holds (it is sent with
# every request and browsers refuse cookies over 4 KB).
DRAFT_LIMIT = 1500


def keep_draft(name: str, form, fields: tuple[str, ...]) -> bool:
    """Keep what was typed into `form` and its messages in the session, for the page a
    redirect leads to (Post/Redirect/Get: Back then never asks to send the form again).
    False, keeping nothing, when the text is too long to carry in the cookie."""
    from flask import session

    values = {name_: getattr(form, name_).data for name_ in fields}
    if sum(len(str(value or "")) for value in values.values()) > DRAFT_LIMIT:
        return False
    errors = {
        name_: [str(message) for message in getattr(form, name_).errors]
        for name_ in (*fields, "csrf_token")
        if getattr(form, name_, None) is not None and getattr(form, name_).errors
    }
    session["draft"] = {
        "name": name,
        "values": values,
        "errors": errors,
        "form_errors": [str(message) for message in form.form_errors],
    }
    return True


def peek_draft(name: str) -> dict | None:
    from flask import session

    draft = session.get("draft")
    return draft if draft and draft.get("name") == name else None


def take_draft(name: str, form) -> bool:
    """Put a kept draft named `name` back into `form`, errors and all; True if there was one."""
    from flask import session

    draft = peek_draft(name)
    if draft is None:
        return False
    session.pop("draft", None)
    for field_name, value in draft["values"].items():
        getattr(form, field_name).data = value
    for field_name, messages in draft["errors"].items():
        getattr(form, field_name).errors = list(messages)
    form.form_errors.extend(draft["form_errors"])
    return True
