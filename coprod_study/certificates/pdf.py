"""The certificate as a PDF (reportlab): one A4 page, text only, a font with å, ä and ö."""

import functools
import io
from pathlib import Path

from flask import current_app, url_for
from flask_babel import format_date
from flask_babel import gettext as _

from coprod_study.catalog.service import format_duration
from coprod_study.certificates.service import code_of
from coprod_study.models import Certificate

FONT_FILES = (
    ("DejaVuSans", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    ("LiberationSans", "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
)


@functools.cache
def _font() -> str:
    """A TrueType face that draws every letter of a name when the machine has one;
    else Helvetica (Latin-1 only)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name, path in FONT_FILES:
        if Path(path).exists():
            pdfmetrics.registerFont(TTFont(name, path))
            return name
    return "Helvetica"


def verify_url(certificate: Certificate) -> str:
    base = current_app.config["BASE_URL"].rstrip("/")
    return base + url_for("certificates.verify", code=code_of(certificate))


def render(certificate: Certificate) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.pdfgen import canvas

    font = _font()
    site_name = current_app.config["SITE_NAME"]
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    page.setTitle(_("Certificate of participation") + f": {certificate.holder_name}")
    page.setAuthor(site_name)
    width, height = A4
    y = height - 3 * cm

    def line(text: str, size: int = 11, gap: float = 0.7, center: bool = False) -> None:
        nonlocal y
        page.setFont(font, size)
        if center:
            page.drawCentredString(width / 2, y, text)
        else:
            page.drawString(2.5 * cm, y, text)
        y -= gap * cm + size * 0.6

    line(site_name, 13, center=True)
    line(_("Certificate of participation"), 24, 1.2, center=True)
    line(certificate.holder_name, 20, 1.0, center=True)
    line(_("has listened to, answered the study questions of and reflected on"), 12, 0.8,
         center=True)
    line(certificate.title[:90], 13, 1.2, center=True)
    for item in certificate.episodes:
        line(
            _("Episode %(number)s: %(title)s (listened %(date)s, %(length)s)",
              number=item["number"], title=item["title"][:70],
              date=format_date(_date(item["listened_on"]), "medium"),
              length=format_duration(item["seconds"]) or "–"),
            11, 0.4,
        )
    y -= 0.6 * cm
    line(_("Total audio time: %(length)s", length=format_duration(certificate.audio_seconds) or "0:00"))
    if certificate.first_activity_on and certificate.last_activity_on:
        line(_("Studied from %(first)s to %(last)s",
               first=format_date(certificate.first_activity_on, "medium"),
               last=format_date(certificate.last_activity_on, "medium")))
    line(_("Issued %(date)s", date=format_date(certificate.issued_at, "medium")))
    y -= 0.8 * cm
    line(_("Check that this certificate is genuine at:"), 10, 0.3)
    line(verify_url(certificate), 9, 0.3)
    line(_("Verification code: %(code)s", code=code_of(certificate)), 9, 0.3)
    page.showPage()
    page.save()
    return out.getvalue()


def _date(iso: str):
    from datetime import date

    return date.fromisoformat(iso)
