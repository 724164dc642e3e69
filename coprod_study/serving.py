"""Load the app once before serving, so that the processes which serve it share it.

gunicorn with `preload_app` (`--preload`) creates the app in its master process
and forks the workers from it: the code, the compiled templates and the ORM's
set-up are then pages of memory the workers share with the master and each
other (copy-on-write) instead of each worker importing and compiling its own.
`warm()` does up front what a worker would otherwise do at its first requests
(compile every template, set up the mappers), then moves everything allocated so
far out of the garbage collector's reach (`gc.freeze`): a collection in a worker
would otherwise write to every object's header and so copy the shared pages.

Use the gunicorn settings in `coprod_study.gunicorn_conf`:

    gunicorn -c python:coprod_study.gunicorn_conf -w 4 'coprod_study:create_app()'

waitress (`coprod-study serve`) runs one process with threads: there is nothing to
share, and the app is created (and migrated) before it serves anyway.
"""

import gc


def warm(app) -> None:
    from sqlalchemy.orm import configure_mappers

    from coprod_study.extensions import db

    configure_mappers()
    for name in app.jinja_env.list_templates(extensions=("html", "txt", "xml", "ics")):
        app.jinja_env.get_template(name)
    with app.app_context():
        # No connection made here may reach a worker: each opens its own.
        db.engine.dispose()
    gc.collect()
    gc.freeze()
