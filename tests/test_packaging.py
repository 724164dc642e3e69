"""The wheel carries every package, template, static file, migration and data file."""

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_is_listed():
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "coprod_study").rglob("__init__.py")
        if "translations" not in path.parts
    }
    listed = {p for p in CONFIG["packages"] if not p.endswith((".templates", ".static", ".migrations"))}
    assert found == listed


def _covered(package: str, relative: str) -> bool:
    patterns = CONFIG["package-data"].get(package, [])
    return any(
        fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(relative, pattern.replace("**/", ""))
        for pattern in patterns
    )


def test_data_files_are_packed():
    checks = [
        ("coprod_study.templates", ROOT / "templates", ("*.html", "*.txt")),
        ("coprod_study.static", ROOT / "static", ("*",)),
        ("coprod_study.migrations", ROOT / "migrations", ("*.py", "*.ini", "*.mako")),
        ("coprod_study.catalog", ROOT / "coprod_study" / "catalog", ("*.toml", "*.vtt")),
        ("coprod_study", ROOT / "coprod_study", ("*.txt", "*.po", "*.mo")),
    ]
    missing = []
    for package, folder, suffixes in checks:
        for path in folder.rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            if not any(fnmatch.fnmatch(path.name, s) for s in suffixes):
                continue
            relative = path.relative_to(folder).as_posix()
            if package == "coprod_study" and path.suffix == ".py":
                continue
            if not _covered(package, relative):
                missing.append(f"{package}: {relative}")
    assert missing == []
