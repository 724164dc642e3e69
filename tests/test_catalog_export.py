"""`coprod-study export-catalog`: the catalog file written back, so export then load is a no-op."""

import tomllib

from sqlalchemy import func, select

from coprod_study.catalog import export as catalog_export
from coprod_study.catalog import service as catalog
from coprod_study.extensions import db
from coprod_study.markup import render_markdown
from coprod_study.models import Chapter, ContentTranslation, Episode, Transcript, TranscriptSegment


def _snapshot():
    """Everything the catalog file holds, as rows (ids included: nothing may be replaced)."""
    def rows(model, *columns):
        return db.session.execute(select(*columns).order_by(*columns)).all()

    return {
        "episodes": rows(Episode, Episode.id, Episode.slug, Episode.number, Episode.title,
                         Episode.summary, Episode.duration_seconds, Episode.is_sample),
        "chapters": rows(Chapter, Chapter.id, Chapter.title, Chapter.start_seconds),
        "translations": rows(ContentTranslation, ContentTranslation.id, ContentTranslation.text),
        "transcripts": rows(Transcript, Transcript.id, Transcript.vtt),
        "segments": db.session.scalar(select(func.count()).select_from(TranscriptSegment)),
    }


def test_export_then_load_changes_nothing(app, sample_catalog, tmp_path):
    runner = app.test_cli_runner()
    before = _snapshot()
    path = tmp_path / "exported" / "catalog.toml"
    path.parent.mkdir()
    result = runner.invoke(args=["export-catalog", str(path)])
    assert result.exit_code == 0, result.output
    # Every sample episode has an English transcript; the first a Swedish one too.
    assert "Wrote 5 episode(s)" in result.output and "6 transcript file(s)" in result.output
    document = tomllib.loads(path.read_text())
    assert len(document["episodes"]) == 5 and len(document["dimensions"]) == 6
    first = document["episodes"][0]
    assert first["transcripts"] == {
        "en": "transcripts/respect-in-the-room.en.vtt",
        "sv": "transcripts/respect-in-the-room.sv.vtt",
    }
    assert (path.parent / "transcripts" / "respect-in-the-room.sv.vtt").read_text().startswith("WEBVTT")
    assert first["translations"]["sv"]["title"] == "Respekt i rummet"
    assert first["chapters"][1] == {"title": "The nurse who stopped finishing sentences", "start": "0:39"}

    loaded = catalog.load_file(path)
    assert (loaded.created, loaded.updated, loaded.unchanged) == (0, 0, 5)
    db.session.expire_all()
    assert _snapshot() == before

    # And the text itself round-trips: exporting again writes the same bytes.
    again = tmp_path / "again" / "catalog.toml"
    again.parent.mkdir()
    assert runner.invoke(args=["export-catalog", str(again)]).exit_code == 0
    assert again.read_text() == path.read_text()


def test_the_exported_file_loads_into_an_empty_database(app, sample_catalog, tmp_path):
    path = tmp_path / "catalog.toml"
    catalog_export.export_catalog(path)
    data = catalog.read_file(path)
    titles = [episode["title"] for episode in data["episodes"]]
    assert titles[0] == "Respect in the Room" and len(titles) == 5
    assert data["episodes"][0]["transcripts"]["en"]["segments"]


def test_awkward_text_survives_the_round_trip(app, sample_catalog, tmp_path):
    episode = db.session.scalar(select(Episode).where(Episode.number == 2))
    episode.title = 'Quotes "inside", a backslash \\ and a tab\there'
    episode.summary = 'Line one\n\nLine """ two\nÅäö — ✓\n'.strip()
    episode.summary_html = str(render_markdown(episode.summary))
    episode.host_name = None
    episode.audio_url = None
    db.session.commit()
    path = tmp_path / "catalog.toml"
    catalog_export.export_catalog(path)
    assert catalog.load_file(path).updated == 0
    db.session.expire_all()
    assert db.session.get(Episode, episode.id).title == 'Quotes "inside", a backslash \\ and a tab\there'


def test_mixed_sample_flags_are_kept_per_episode(app, sample_catalog, tmp_path):
    episode = db.session.scalar(select(Episode).where(Episode.number == 3))
    episode.is_sample = False
    db.session.commit()
    path = tmp_path / "catalog.toml"
    catalog_export.export_catalog(path)
    document = tomllib.loads(path.read_text())
    assert "sample" not in document["catalog"]
    assert [e["sample"] for e in document["episodes"]] == [True, True, False, True, True]
    assert catalog.load_file(path).updated == 0
