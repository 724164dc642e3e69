"""The account page's follow-up setting."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField


class FollowUpSettingForm(FlaskForm):
    wanted = BooleanField(
        _l("Send me spaced follow-ups"),
        description=_l("2, 7 and 30 days after you answer an episode's questions, an e-mail asks one of them again, with a link to your answer."),
    )
