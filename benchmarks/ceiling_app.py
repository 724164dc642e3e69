"""A tiny Flask app that sets the speed ceiling for benchmarks/http_bench.py.

Two routes: `/` answers the text "ok" (bare Flask), `/jinja` renders a small
HTML page listing 200 items with Jinja (about what a page of ours costs when
the database takes no time at all).

Run: gunicorn -w 2 -k sync -b 127.0.0.1:8001 --chdir benchmarks ceiling_app:app
"""

from flask import Flask

ITEM_COUNT = 200

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{{ title }}</title>
</head>
<body>
  <main>
    <h1>{{ title }}</h1>
    <p>{{ items|length }} items.</p>
    <ol class="items">
      {%- for item in items %}
      <li id="item-{{ item.number }}">
        <span class="number">{{ item.number }}</span>
        <a href="{{ item.url }}">{{ item.title }}</a>
      </li>
      {%- endfor %}
    </ol>
  </main>
</body>
</html>
"""

app = Flask(__name__)
# Compiled once, at import; autoescaping is on as for the app's own templates.
page_template = app.jinja_env.from_string(PAGE)


@app.route("/")
def bare():
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.route("/jinja")
def jinja():
    items = [
        {"number": n, "title": f"Item number {n} & friends", "url": f"/items/{n}"}
        for n in range(1, ITEM_COUNT + 1)
    ]
    return page_template.render(title="Ceiling", items=items)
