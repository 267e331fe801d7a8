"""The ZIP table: read in a child process (so a web worker does not keep the `zipcodes` package's
42,000 records as dicts), it is the same table as read in-process, and a failed child falls back."""
import subprocess

from app.services import geo


def test_the_child_process_gives_the_same_table_as_reading_it_here():
    from_child = geo._zips_from_child()
    here = geo._zips_here()
    assert len(here) > 40_000
    assert from_child == here
    assert from_child["54016"] == (44.9842, -92.7271, "Hudson", "WI")


def test_a_failing_child_falls_back_to_reading_it_here(monkeypatch, caplog):
    def broken(*args, **kwargs):
        return subprocess.CompletedProcess(args, 1, stdout="", stderr="ModuleNotFoundError: zipcodes")

    monkeypatch.setattr(geo.subprocess, "run", broken)
    monkeypatch.setattr(geo, "_zip_index", None)
    place = geo.lookup_zip("55082")
    assert (place.town, place.state) == ("Stillwater", "MN")
    assert "reading the ZIP table in a child process failed" in caplog.text
