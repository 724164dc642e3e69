"""Site paths that services can build with or without a request (e-mails, cron jobs)."""

from flask import current_app, has_request_context, url_for


def path_for(endpoint: str, **values) -> str:
    """The site-relative path of `endpoint`, e.g. '/groups/x'."""
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)
