"""Translations of the patient's pages: gettext catalogues, read with Babel.

The patient pages' text is marked for translation (``{% trans %}`` in the templates,
:func:`gettext` in Python) and extracted with ``pybabel extract -F babel.cfg``; each
language's catalogue is ``locale/<language>/LC_MESSAGES/messages.po``. The ``.po`` file is
compiled in memory when first needed, so there is no build step and no ``.mo`` file to
keep in step. English is the source language and needs no catalogue.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from jinja2 import Environment, PackageLoader, select_autoescape

__all__ = ["CATALOGUES", "patient_env", "translations"]

CATALOGUES = Path(__file__).parent / "locale"


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of ``language`` (English, or a language without one: none)."""
    path = CATALOGUES / language / "LC_MESSAGES" / "messages.po"
    if language == "en" or not path.is_file():
        return NullTranslations()
    with path.open("rb") as source:
        catalogue = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled)


@functools.cache
def patient_env(language: str) -> Environment:
    """The Jinja environment of the patient's pages in ``language`` (one per language, so
    that no request changes another's translations)."""
    env = Environment(
        loader=PackageLoader("pustula.web", "templates/patient"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env
