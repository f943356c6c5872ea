"""The Japanese TrueType font embedded in the PDFs Myna writes (IPAex Gothic by default).

One registration with ReportLab per process and path, shared by every context that writes
PDFs (the tax return's copy, the municipality's certificates); each raises its own error
when no font is there, since what the resident can do instead differs.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

FONT_NAME = "MynaJapanese"
# Where Debian puts IPAex Gothic (fonts-ipaexfont-gothic), newest layout first.
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
)


@cache
def japanese_font(configured: str = "") -> str | None:
    """The registered font's name, from ``configured`` (MYNA_PDF_FONT) or the first
    candidate that loads; ``None`` when there is none."""
    for path in [configured] if configured else list(FONT_CANDIDATES):
        if Path(path).is_file():
            try:
                pdfmetrics.registerFont(TTFont(FONT_NAME, path))
            except TTFError:
                continue
            return FONT_NAME
    return None
