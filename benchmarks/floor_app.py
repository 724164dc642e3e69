"""The memory floor of the app's stack, for benchmarks/http_bench.py.

A Flask app that imports and sets up the libraries a worker of ours loads
(Flask-SQLAlchemy with the ORM, Flask-Login, Flask-WTF, Flask-Babel,
Flask-Limiter, markdown-it-py, bleach, email-validator) and serves one page:
a query through the ORM, a date formatted by Babel and a Markdown text made
safe, rendered with Jinja. None of coprod_study's code is loaded, so its peak
RSS under the same gunicorn is what the libraries alone cost: the least the
app could weigh.

Each worker holds its own database in memory (SQLite), so the workers never race
to make the table.

Run: gunicorn -w 2 -k sync --chdir benchmarks floor_app:app
"""

from datetime import UTC, datetime

import bleach
import email_validator
from flask import Flask, render_template_string
from flask_babel import Babel, format_datetime
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from markdown_it import MarkdownIt
from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Floor</title></head>
<body><main><h1>{{ note.title }}</h1><p>{{ when }}</p>{{ body|safe }}</main></body></html>
"""


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Note(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str]


app = Flask(__name__)
app.config.update(SECRET_KEY="floor", SQLALCHEMY_DATABASE_URI="sqlite://")
db.init_app(app)
CSRFProtect(app)
Babel(app)
Limiter(get_remote_address, app=app, storage_uri="memory://")
login = LoginManager(app)
login.user_loader(lambda _id: None)
markdown = MarkdownIt("commonmark")
email_validator.validate_email("floor@example.org", check_deliverability=False)

with app.app_context():
    db.create_all()
    db.session.add(Note(title="Floor", body="Some *Markdown* with a [link](https://example.org)."))
    db.session.commit()


@app.route("/")
def page():
    note = db.session.scalar(select(Note).order_by(Note.id))
    body = bleach.clean(markdown.render(note.body), tags={"p", "em", "a"})
    return render_template_string(PAGE, note=note, body=body,
                                  when=format_datetime(datetime.now(UTC)))
