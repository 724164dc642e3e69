"""Libraries only rare paths need are imported when first used, not by every worker.

A gunicorn worker (or waitress's one process) imports the app and serves pages;
the libraries below serve rare paths only (a feed import, a calendar feed, a
transcript upload, a catalog export, a share card image, the mail-in server), so
loading them at start-up would cost every worker their memory for nothing. Checked
in a fresh interpreter, since this test process has imported them all.
"""

import json
import shutil
import subprocess
import sys
import textwrap

from tests.conftest import POSTGRES_URL

RARE = ("feedparser", "icalendar", "webvtt", "tomli_w", "PIL", "aiosmtpd", "bandit")

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from coprod_study import create_app

    app = create_app({"TESTING": True, "INSTANCE_PATH": sys.argv[2],
                      "SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "lazy imports",
                      "RATELIMIT_STORAGE_URI": "memory://"})
    client = app.test_client()
    statuses = [client.get(path).status_code for path in ("/", "/episodes", "/healthz")]
    loaded = sorted({name.split(".")[0] for name in sys.modules})
    print(json.dumps({"statuses": statuses, "loaded": loaded}))
    """
)


def test_serving_pages_imports_no_rare_library(database_template, tmp_path):
    if POSTGRES_URL:
        url = POSTGRES_URL
    else:
        copy = tmp_path / "db.sqlite3"
        shutil.copyfile(database_template, copy)
        url = f"sqlite:///{copy}"
    done = subprocess.run(  # noqa: S603 (this Python, a fixed script)
        [sys.executable, "-c", SCRIPT, url, str(tmp_path / "instance")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["statuses"] == [200, 200, 200]
    loaded = set(found["loaded"])
    assert "flask" in loaded and "coprod_study" in loaded  # the check sees real imports
    assert not loaded & set(RARE), f"imported at start-up: {sorted(loaded & set(RARE))}"
