"""gunicorn settings: load the app in the master, warm it, then fork the workers.

    gunicorn -c python:coprod_study.gunicorn_conf -w 4 -b 0.0.0.0:8000 'coprod_study:create_app()'

Any other setting can be given on the command line as usual. See
coprod_study.serving for why.
"""

preload_app = True


def when_ready(server):
    from coprod_study import serving

    # With preload_app the app is already loaded here, before any worker is forked.
    serving.warm(server.app.wsgi())
