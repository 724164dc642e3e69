"""Static analysis: `bandit -r coprod_study` finds nothing of high severity."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "coprod_study"


def _bandit(*arguments: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", *arguments, "--format", "json", "--quiet"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    if "No module named bandit" in result.stderr:
        pytest.fail("bandit is missing: pip install -e '.[test]'")
    return json.loads(result.stdout)


def test_bandit_finds_no_high_severity_issue(capsys):
    report = _bandit(str(PACKAGE))
    assert report["metrics"]["_totals"]["loc"] > 1000  # it did read the package
    high = [
        f"{issue['filename']}:{issue['line_number']} {issue['test_id']} {issue['issue_text']}"
        for issue in report["results"]
        if issue["issue_severity"] == "HIGH"
    ]
    totals = report["metrics"]["_totals"]
    with capsys.disabled():
        print(
            f"\nbandit -r coprod_study: high {totals['SEVERITY.HIGH']:.0f}, "
            f"medium {totals['SEVERITY.MEDIUM']:.0f}, low {totals['SEVERITY.LOW']:.0f}"
        )
    assert not high, "\n".join(high)


def test_bandit_would_report_a_high_severity_issue(tmp_path):
    """The control: the same call flags a known high-severity pattern."""
    sample = tmp_path / "sample"
    sample.mkdir()
    (sample / "bad.py").write_text(
        "import subprocess\n\n\ndef run(command):\n"
        "    return subprocess.call(command, shell=True)\n"
    )
    report = _bandit(str(sample))
    assert any(issue["issue_severity"] == "HIGH" for issue in report["results"])
