"""The patient pages' translations: every text the pages mark for translation is in the
German catalogue (extracted the way `pybabel extract -F babel.cfg -k N_` does), and the
catalogue compiles and translates, placeholders included."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from pustula.web.i18n import CATALOGUES, translations

ROOT = Path(__file__).resolve().parents[2]


def _marked() -> set[str]:
    method_map = [("src/pustula/web/patient.py", "python"),
                  ("src/pustula/web/templates/patient/**.html", "jinja2")]  # fmt: skip
    options = {"src/pustula/web/templates/patient/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "N_": None}
    found = set()
    for _, _, message, _, _ in extract_from_dir(ROOT, method_map, options, keywords=keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_marked_text_has_a_german_translation() -> None:
    marked = _marked()
    assert len(marked) > 40  # the extraction itself found the pages' text
    with (CATALOGUES / "de" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalogue = read_po(source, locale="de")
    translated = {m.id: m.string for m in catalogue if m.id and m.string and not m.fuzzy}
    assert sorted(marked - set(translated)) == []
    assert sorted(set(translated) - marked) == []  # no stale entries either


def test_the_catalogue_translates_with_its_placeholders() -> None:
    german = translations("de")
    assert german.gettext("Question %(number)s") % {"number": 4} == "Frage 4"
    assert german.gettext("Send my answers") == "Meine Antworten senden"
    assert translations("en").gettext("Send my answers") == "Send my answers"
    assert translations("xx").gettext("Send my answers") == "Send my answers"
