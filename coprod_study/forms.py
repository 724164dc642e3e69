"""Shared form helpers."""

from wtforms import Field


def add_domain_error(form, error) -> None:
    """Attach a service's DomainError to the named field, or to the form as a whole."""
    field: Field | None = getattr(form, error.field, None) if error.field else None
    if field is not None and isinstance(field, Field):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
