"""No text is left untranslated: the catalog is up to date with the code, every language has
every message (no empty or fuzzy ones, the same placeholders), and no template holds text outside
a translation call. `make translations-update` refreshes the catalog after a change."""
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.i18n import DEFAULT, LANGUAGES
from tests.i18n_check import untranslated

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "app" / "translations"


def _extract(tmp_path) -> Path:
    out = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F",
                    str(CATALOG / "babel.cfg"), "-k", "_l", "--ignore-dirs", ".* mutants", "--no-location", "--omit-header", "-o", str(out), "."],
                   cwd=ROOT, check=True, capture_output=True)
    return out


def _ids(path: Path) -> set:
    with open(path, "rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


def test_the_catalog_is_up_to_date_with_the_code(tmp_path):
    fresh, committed = _ids(_extract(tmp_path)), _ids(CATALOG / "messages.pot")
    assert fresh - committed == set(), "new messages not in the catalog: run make translations-update"
    assert committed - fresh == set(), "messages no longer used are still in the catalog: run make translations-update"


@pytest.mark.parametrize("code", [c for c in LANGUAGES if c != DEFAULT])
def test_every_message_has_a_translation_that_is_not_fuzzy_and_keeps_its_placeholders(code):
    with open(CATALOG / "messages.pot", "rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with open(CATALOG / code / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = read_po(fh)
    have = {m.id: m for m in catalog if m.id}
    assert wanted - set(have) == set(), f"messages without a {code} entry"
    empty = [m.id for m in have.values() if m.id in wanted and
             (not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    assert empty == [], f"{len(empty)} messages without a {code} translation, e.g. {empty[:3]}"
    fuzzy = [m.id for m in have.values() if m.fuzzy and m.id in wanted]
    assert fuzzy == [], f"fuzzy {code} translations: {fuzzy[:3]}"
    errors = [(m.id, [str(e) for e in errs]) for m, errs in catalog.check() if errs]
    assert errors == [], errors[:3]


def test_no_template_holds_text_outside_a_translation_call():
    found = untranslated(ROOT / "templates")
    assert found == {}, "\n".join(f"{path}: {issues[:3]}" for path, issues in found.items())


def test_the_checker_finds_text_outside_a_translation_call(tmp_path):
    (tmp_path / "a.html").write_text('<p>{{ _("Fine") }}</p>\n<p>Stray words</p>\n<img alt="A picture">\n'
                                     '{% trans %}Also fine{% endtrans %}{# a comment #}<b>{{ name }}</b> ·')
    (tmp_path / "b.txt").write_text('{{ _("Hello") }}\nPlain line\n')
    assert untranslated(tmp_path) == {"a.html": ['alt="A picture"', "Stray words"], "b.txt": ["Plain line"]}
