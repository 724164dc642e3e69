"""Forms for LMS registrations (admins) and for choosing what a deep link opens (educators)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

from coprod_study.courses.forms import DATETIME_FORMATS, DATETIME_MESSAGE, optional_int


class PlatformForm(FlaskForm):
    # Every required field says so at once; the service checks what they hold.
    name = StringField(_l("Name"), description=_l("How admins know this LMS, e.g. “University Canvas”."),
                       validators=[InputRequired(_l("Enter a name for this LMS."))])
    issuer = StringField(_l("Issuer"), description=_l("The platform's issuer (iss), e.g. https://canvas.instructure.com."),
                         validators=[InputRequired(_l("Enter the platform's issuer."))])
    client_id = StringField(_l("Client id"), description=_l("The id the LMS gave this tool (Canvas: the developer key's id)."),
                            validators=[InputRequired(_l("Enter the client id."))])
    deployment_ids = TextAreaField(_l("Deployment ids"), description=_l("One per line."),
                                   validators=[InputRequired(_l("Enter at least one deployment id."))])
    auth_url = StringField(_l("OIDC authorization URL"),
                           validators=[InputRequired(_l("Enter the OIDC authorization URL."))])
    token_url = StringField(_l("OAuth2 token URL"),
                            validators=[InputRequired(_l("Enter the OAuth2 token URL."))])
    jwks_url = StringField(_l("Platform JWKS URL"), description=_l("Where the LMS publishes its public keys."),
                           validators=[InputRequired(_l("Enter the platform's JWKS URL."))])
    frame_origins = TextAreaField(
        _l("Other addresses that show the tool in a frame"),
        description=_l("Optional, one per line, e.g. https://school.instructure.com. The issuer's and the authorization URL's are included."),
    )

    FIELDS = ("name", "issuer", "client_id", "deployment_ids", "auth_url", "token_url", "jwks_url", "frame_origins")

    def values(self) -> dict:
        return {name: getattr(self, name).data or "" for name in self.FIELDS}


class DeepLinkForm(FlaskForm):
    episode_id = SelectField(_l("Episode"), coerce=optional_int, validate_choice=False)
    question = SelectField(
        _l("What the link opens"), coerce=str, validate_choice=False,
        description=_l("The whole episode, or one of its study questions."),
    )
    due_at = DateTimeLocalField(
        _l("Due"),
        format=DATETIME_FORMATS,
        invalid_value_message=DATETIME_MESSAGE,
        validators=[InputRequired(_l("Enter the due date and time."))],
        description=_l("In the course's time zone. Used only when the episode is not assigned yet."),
    )


class ActionForm(FlaskForm):
    """Only the CSRF token (and an optional row id)."""

    post_id = HiddenField()
