"""The app's queue, looked up from the app: task bodies reach it without loading the queue itself."""

from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from coprod_study.jobs import Jobs

EXTENSION = "coprod_jobs"


def jobs_for(app: Flask | None = None) -> "Jobs":
    return (app or current_app).extensions[EXTENSION]
