"""/admin/feed: import the podcast's RSS feed from a URL or an uploaded file."""

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import URLField
from wtforms.validators import Length, Optional

from coprod_study.admin import bp
from coprod_study.catalog import feed_import as feeds
from coprod_study.errors import DomainError
from coprod_study.forms import add_domain_error


class FeedImportForm(FlaskForm):
    # Kept beside its only view: one form, one page.
    url = URLField(
        _l("Feed address"),
        validators=[Optional(), Length(max=2000)],
        description=_l("The podcast's RSS feed, starting with https:// (or http://)."),
    )
    file = FileField(
        _l("Or upload an RSS file"),
        description=_l("An RSS 2.0 file of at most %(size)s MB.", size=feeds.MAX_FEED_BYTES // (1024 * 1024)),
    )

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        url = (self.url.data or "").strip()
        has_file = bool(self.file.data and getattr(self.file.data, "filename", ""))
        if url and has_file:
            self.form_errors.append(_("Give a feed address or a file, not both."))
            return False
        if not url and not has_file:
            self.form_errors.append(_("Give the feed's address or choose an RSS file."))
            return False
        if url and not url.lower().startswith(("http://", "https://")):
            self.url.errors.append(_("Enter an address that starts with https:// or http://."))
            return False
        return True


@bp.route("/feed", methods=["GET", "POST"])
def feed_import():
    form = FeedImportForm()
    result = None
    if form.validate_on_submit():
        actor = current_user._get_current_object()
        try:
            if form.url.data and form.url.data.strip():
                result = feeds.import_feed_url(form.url.data.strip(), actor=actor)
            else:
                upload = form.file.data
                raw = upload.read(feeds.MAX_FEED_BYTES + 1)
                if len(raw) > feeds.MAX_FEED_BYTES:
                    raise feeds.FeedError(
                        [_("The file is larger than %(size)s MB.", size=feeds.MAX_FEED_BYTES // (1024 * 1024))]
                    )
                result = feeds.import_feed_bytes(raw, actor=actor, source=upload.filename)
        except feeds.FeedError as error:
            form.form_errors.extend(error.problems)
        except DomainError as error:
            add_domain_error(form, error)
    status = 400 if form.errors or form.form_errors else 200
    return render_template("admin/feed.html", form=form, result=result), status
