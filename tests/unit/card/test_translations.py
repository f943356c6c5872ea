"""Every message the card context shows has a Japanese translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

import myna.card
from myna.platform.i18n import LOCALE_DIR

CARD_PACKAGE = Path(myna.card.__file__).parent
KEYWORDS = {"N_": None, "_": None, "gettext": None}


def _message_ids() -> set[str]:
    found: set[str] = set()
    for source in CARD_PACKAGE.glob("*.py"):
        for _line, message, _comments, _context in extract_from_file(
            "python", str(source), keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_card_context_marks_its_messages() -> None:
    assert "The PIN is wrong. {remaining} tries left before the card locks." in _message_ids()


def test_every_card_message_has_a_japanese_translation() -> None:
    with (LOCALE_DIR / "ja" / "LC_MESSAGES" / "card.po").open("rb") as handle:
        catalog = read_po(handle, locale="ja")
    translated = {message.id for message in catalog if message.id and message.string}
    assert sorted(_message_ids() - translated) == []
