"""The Podcasting 2.0 namespace's rules for the tags the feed writes, as a checker.

Written from the namespace's documentation (podcastindex.org/namespace/1.0): for each
tag, the attributes it requires, the ones it allows, and the values some of them
are limited to. A tag the namespace does not define is an error too.
"""

import re

PODCAST = "https://podcastindex.org/namespace/1.0"

SOCIAL_PROTOCOLS = {
    "disabled", "activitypub", "twitter", "lightning", "bluesky", "hive", "matrix", "nostr",
}
# Roles from the namespace's person taxonomy that this app may write, lower-cased.
PERSON_ROLES = {"host", "guest", "co-host", "cover art designer", "editor", "producer"}
DEFINED_TAGS = {
    "locked", "funding", "transcript", "chapters", "soundbite", "person", "location",
    "season", "episode", "trailer", "license", "alternateEnclosure", "source", "integrity",
    "guid", "value", "valueRecipient", "medium", "images", "liveItem", "contentLink",
    "socialInteract", "block", "txt", "remoteItem", "podroll", "updateFrequency", "podping",
    "valueTimeSplit", "chat", "publisher", "image",
}
URL = re.compile(r"^https?://[^\s]+$")
MIME = re.compile(r"^[\w.+-]+/[\w.+-]+$")


def _url(value):
    return value is not None and URL.match(value) is not None


RULES = {
    "transcript": {
        "required": {"url": _url, "type": lambda v: v is not None and MIME.match(v)},
        "optional": {"language": lambda v: bool(v), "rel": lambda v: v == "captions"},
    },
    "chapters": {
        "required": {"url": _url, "type": lambda v: v == "application/json+chapters"},
        "optional": {},
    },
    "person": {
        "required": {},
        "optional": {
            "role": lambda v: v.lower() in PERSON_ROLES,
            "group": lambda v: bool(v),
            "img": _url,
            "href": _url,
        },
        "text": lambda t: bool(t and t.strip()) and len(t) <= 128,
    },
    "socialInteract": {
        "required": {"protocol": lambda v: v in SOCIAL_PROTOCOLS},
        "optional": {
            "uri": _url,
            "priority": lambda v: v.isdigit(),
            "accountId": lambda v: bool(v),
            "accountUrl": _url,
        },
    },
}


def problems(root) -> list[str]:
    """Every way the podcast: tags under `root` break the namespace's rules."""
    found = []
    for element in root.iter():
        if not element.tag.startswith(f"{{{PODCAST}}}"):
            continue
        name = element.tag.split("}", 1)[1]
        if name not in DEFINED_TAGS:
            found.append(f"podcast:{name} is not a tag of the namespace")
            continue
        rule = RULES.get(name)
        if rule is None:
            continue
        attributes = dict(element.attrib)
        for attribute, check in rule["required"].items():
            value = attributes.pop(attribute, None)
            if value is None:
                found.append(f"podcast:{name} lacks {attribute}")
            elif not check(value):
                found.append(f"podcast:{name} {attribute}={value!r} is not allowed")
        for attribute, value in attributes.items():
            check = rule["optional"].get(attribute)
            if check is None:
                found.append(f"podcast:{name} has no attribute {attribute}")
            elif not check(value):
                found.append(f"podcast:{name} {attribute}={value!r} is not allowed")
        if name == "socialInteract" and element.get("protocol") != "disabled":
            if not element.get("uri"):
                found.append("podcast:socialInteract lacks uri")
        if "text" in rule and not rule["text"](element.text):
            found.append(f"podcast:{name} text {element.text!r} is not allowed")
    return found
