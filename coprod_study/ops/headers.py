"""Strict-Transport-Security and Permissions-Policy, built in one place so a view can loosen one feature."""

from flask import current_app, g, request

# Every powerful feature a browser offers, denied: no page uses any of them. A page
# that needs one allows it for itself with `allow_feature()` (an answer recorded with
# the microphone asks for microphone=(self)). Features a browser does not know are
# ignored by it, so the list may name more than one browser has.
DENIED_FEATURES = (
    "accelerometer",
    "ambient-light-sensor",
    "autoplay",
    "battery",
    "bluetooth",
    "camera",
    "clipboard-read",
    "display-capture",
    "document-domain",
    "encrypted-media",
    "fullscreen",
    "gamepad",
    "geolocation",
    "gyroscope",
    "hid",
    "idle-detection",
    "local-fonts",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "picture-in-picture",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "web-share",
    "xr-spatial-tracking",
)
# Features the app itself uses in its own pages (none but these).
ALLOWED_FEATURES = {
    # The "copy" buttons (invite links, enrol codes) write to the clipboard.
    "clipboard-write": "(self)",
}
ALLOWANCES = "permissions_policy_allow"


def allow_feature(feature: str, allowlist: str = "(self)") -> None:
    """Let this response's page use `feature` (call it from the view), e.g.
    `allow_feature("microphone")` sends microphone=(self) instead of microphone=()."""
    if feature not in DENIED_FEATURES and feature not in ALLOWED_FEATURES:
        raise ValueError(f"unknown Permissions-Policy feature: {feature}")
    g.setdefault(ALLOWANCES, {})[feature] = allowlist


def permissions_policy(allowances: dict | None = None) -> str:
    """The header's value: every feature denied but those allowed (by the app, then
    by `allowances`)."""
    allowed = dict(ALLOWED_FEATURES) | dict(allowances or {})
    parts = [f"{name}={allowed.get(name, '()')}" for name in DENIED_FEATURES]
    parts += [f"{name}={value}" for name, value in allowed.items() if name not in DENIED_FEATURES]
    return ", ".join(parts)


def strict_transport_security(config) -> str | None:
    """The HSTS value for an HTTPS response; None when HSTS_SECONDS is 0 (a proxy sets it)."""
    seconds = int(config.get("HSTS_SECONDS") or 0)
    if seconds <= 0:
        return None
    value = f"max-age={seconds}"
    if config.get("HSTS_INCLUDE_SUBDOMAINS"):
        value += "; includeSubDomains"
    if config.get("HSTS_PRELOAD"):
        value += "; preload"
    return value


def add_headers(response):
    headers = response.headers
    headers.setdefault("Permissions-Policy", permissions_policy(g.get(ALLOWANCES)))
    # Only over HTTPS (directly, or as a trusted proxy says through PROXY_HOPS): browsers
    # ignore it on plain HTTP, and a developer on http://127.0.0.1 must not be pinned.
    if request.is_secure:
        hsts = strict_transport_security(current_app.config)
        if hsts:
            headers.setdefault("Strict-Transport-Security", hsts)
    return response
