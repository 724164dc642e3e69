"""Schemathesis against the running app: generated requests, positive and negative, as a learner.

Run it alone with:  pytest -m slow tests/test_api_schemathesis.py -s
(it prints the number of generated test cases). SCHEMATHESIS_MAX_EXAMPLES
changes how many cases each operation gets (default 12).
"""

import json
import os
import re
import subprocess
import sys
import threading

import pytest
from werkzeug.serving import make_server

from coprod_study.catalog import service as catalog
from coprod_study.discussion import service as discussion
from coprod_study.extensions import db
from tests import factories as f
from tests.api_support import token_for

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    ]
)


def seed() -> str:
    """A catalog, a group with answers, replies and a thread, a course; a learner's token."""
    if catalog.catalog_is_empty():
        catalog.load_file(catalog.sample_catalog_path())
    facilitator = f.make_user(name="Fran Facilitator")
    learner = f.make_user(name="Lee Learner")
    group = f.make_group(facilitator, name="Fuzzing circle", allow_anonymous=True)
    f.add_member(group, learner)
    _, question = f.first_question(group)
    f.make_answer(group, facilitator, question, "An answer to reply to")
    f.make_answer(group, learner, question, "The learner's own answer")
    thread = discussion.create_thread(facilitator, group, title="Welcome", body="Say hello")
    discussion.reply(learner, thread, "Hello from the learner")
    educator = f.make_user(role="educator")
    course = f.make_course(educator, code="FUZZ1")
    f.enrol(course, learner)
    f.make_assignment(course)
    return token_for(learner, "write")


@pytest.fixture
def app_config(app_config):
    # Generous limits: the generated requests are many, and fast.
    return {**app_config, "API_RATE_LIMIT": "100000/minute", "POST_LIMIT": "100000/minute"}


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.mark.slow
def test_schemathesis_finds_no_server_errors_and_no_nonconforming_responses(
    app, live_server, tmp_path
):
    secret = seed()
    db.session.remove()
    report = tmp_path / "report.ndjson"
    examples = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "12")
    command = [
        sys.executable, "-m", "schemathesis.cli", "run",
        f"{live_server}/api/v1/openapi.json",
        "--url", live_server,
        "--header", f"Authorization: Bearer {secret}",
        "--checks", CHECKS,
        "--mode", "all",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", examples,
        "--seed", "20261126",
        "--workers", "1",
        "--request-timeout", "20",
        "--suppress-health-check", "all",
        "--report", "ndjson",
        "--report-ndjson-path", str(report),
        "--no-color",
    ]
    # Run from the temporary folder: schemathesis keeps a cache in its working directory.
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    output = result.stdout + result.stderr
    cases = _case_count(report)
    summary = re.search(r"(\d+) generated", output)
    print(f"\nschemathesis generated {cases} test cases")
    print(output[-3000:])
    assert result.returncode == 0, output[-15000:]
    assert summary is not None and int(summary.group(1)) == cases
    assert cases > 500


def _case_count(report) -> int:
    """Test cases schemathesis ran, from its NDJSON event log."""
    if not report.exists():
        return 0
    total = 0
    for line in report.read_text().splitlines():
        event = json.loads(line)
        scenario = event.get("ScenarioFinished")
        if scenario:
            recorder = scenario.get("recorder") or {}
            total += len(recorder.get("cases") or {})
    return total
