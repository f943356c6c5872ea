"""Every message shown to people has a Japanese translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

import myna
from myna.platform import i18n

SRC = Path(myna.__file__).parent
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _message_ids() -> set[str]:
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(SRC), METHODS, options_map=OPTIONS, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_japanese_translation() -> None:
    catalog = i18n.translations("ja")
    ids = _message_ids()
    assert len(ids) > 50
    missing = sorted(m for m in ids if catalog.gettext(m) == m)
    assert missing == []


def test_no_message_is_translated_two_ways() -> None:
    # The contexts' catalogs are merged into one: a message id translated differently in
    # two of them would show whichever file is read last, on every page that uses it.
    from babel.messages.pofile import read_po  # noqa: PLC0415

    translations: dict[str, dict[str, str]] = {}
    for po in sorted((Path(myna.__file__).parent / "locale" / "ja" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as handle:
            for message in read_po(handle):
                if message.id and isinstance(message.id, str) and message.string:
                    translations.setdefault(message.id, {})[po.name] = str(message.string)
    clashes = {mid: found for mid, found in translations.items() if len(set(found.values())) > 1}
    assert clashes == {}
