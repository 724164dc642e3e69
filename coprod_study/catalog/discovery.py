"""Where the site meets search engines and social networks: card images."""

from flask import abort, send_file
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from coprod_study.catalog import bp
from coprod_study.extensions import db
from coprod_study.models import Episode
from coprod_study.services import sharing

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
    return _image_response(*sharing.episode_image(episode))


@bp.route("/card.png")
def site_card():
    """The card image of the pages that are not about one episode."""
    return _image_response(*sharing.site_image())
