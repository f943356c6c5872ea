"""Every message the back office's pages show has a Japanese translation (English ids)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_file

import myna.office
import myna.partners
from myna.platform.i18n import translations

OFFICE = Path(myna.office.__file__).parent
PARTNERS = Path(myna.partners.__file__).parent
SOURCES = [
    *OFFICE.glob("*.py"),
    PARTNERS / "review_views.py",
]
TEMPLATES = [
    *(OFFICE / "templates" / "office").glob("*.html"),
    *(PARTNERS / "templates" / "partners").glob("review_*.html"),
]
KEYWORDS = {"N_": None, "_": None, "gettext": None}
# {{ _("...") }} and {% trans %}...{% endtrans %} in the templates.
_CALL = re.compile(r"""_\(\s*(["'])((?:(?!\1).)+)\1""")
_TRANS = re.compile(r"{%\s*trans[^%]*%}(.*?){%\s*endtrans\s*%}", re.DOTALL)


def _message_ids() -> set[str]:
    found: set[str] = set()
    for source in SOURCES:
        for _line, message, _comments, _context in extract_from_file(
            "python", str(source), keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    for template in TEMPLATES:
        text = template.read_text(encoding="utf-8")
        found.update(match.group(2) for match in _CALL.finditer(text))
        found.update(
            re.sub(r"{{\s*(\w+)\s*}}", r"%(\1)s", match.group(1)) for match in _TRANS.finditer(text)
        )
    return found


def test_the_back_office_marks_its_messages() -> None:
    assert "Moving from (municipality)" in _message_ids()
    assert "Review of organisations" in _message_ids()


def test_every_back_office_message_has_a_japanese_translation() -> None:
    catalog = translations("ja")
    missing = sorted(m for m in _message_ids() if catalog.gettext(m) == m)
    assert missing == []
