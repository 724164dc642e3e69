"""Where the site meets search engines and social networks: card images, sitemap, robots.txt."""

import xml.etree.ElementTree as ET  # noqa: S405 (only writes XML here)

from flask import Response, abort, send_file
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from coprod_study.catalog import bp, card_images, sharing
from coprod_study.extensions import db
from coprod_study.models import Episode

# The image's address carries its key (?v=), so a changed episode is a new address
# and a day's caching never shows an old title for long.
CARD_MAX_AGE = 86400


def _image_response(path, key):
    response = send_file(path, mimetype="image/png", max_age=CARD_MAX_AGE, etag=key,
                         conditional=True, last_modified=None)
    return response


@bp.route("/episodes/<slug>/card.png")
def episode_card(slug: str):
    """The episode's card image (1200×627 PNG), drawn on first use.

    :raise 404: when no episode has this slug.
    """
    episode = db.session.scalar(
        select(Episode).options(joinedload(Episode.dimension)).where(Episode.slug == slug)
    )
    if episode is None:
        abort(404)
    return _image_response(*card_images.episode_image(episode))


@bp.route("/card.png")
def site_card():
    """The card image of the pages that are not about one episode."""
    return _image_response(*card_images.site_image())


SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML = "http://www.w3.org/1999/xhtml"


@bp.route("/sitemap.xml")
def sitemap():
    """The public pages, each with its hreflang alternates."""
    root = ET.Element("urlset", {"xmlns": SITEMAP, "xmlns:xhtml": XHTML})
    for location, alternates in sharing.sitemap_entries():
        url = ET.SubElement(root, "url")
        ET.SubElement(url, "loc").text = location
        for language, href in alternates:
            ET.SubElement(
                url, "xhtml:link", {"rel": "alternate", "hreflang": language, "href": href}
            )
    ET.indent(root)
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    response = Response(body, mimetype="application/xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/robots.txt")
def robots():
    response = Response(sharing.robots_txt(), mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
