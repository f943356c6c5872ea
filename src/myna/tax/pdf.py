"""The filed return's copy (控え) as a PDF, with a Japanese TrueType font embedded.

Written with ReportLab from the return as filed: the 受付番号 and 受付日時 of the receipt
(受信通知), the filer, then each part of the form with its figures and, at the end, where
every filled field came from. The font is embedded (subset), so the copy reads the same
on any machine; ReportLab embeds TrueType outlines only, hence IPAex Gothic rather than
an OpenType/CFF font.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from myna.platform.errors import N_, MynaError
from myna.platform.fonts import japanese_font


class PdfFontMissingError(MynaError, code="pdf_font_missing", status_code=503):
    """No Japanese TrueType font to embed: the PDF cannot be written on this server."""

    message = N_(
        "The PDF copy cannot be made on this server just now (no Japanese font is "
        "installed). Your return is filed; the XML data can be downloaded meanwhile."
    )


@dataclass(frozen=True, slots=True)
class PdfLine:
    """One line of a part of the form: its label and the amount or text shown."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class PdfPart:
    """A part of the form (収入金額等, 所得金額等 ...) and its lines."""

    title: str
    lines: tuple[PdfLine, ...]


@dataclass(frozen=True, slots=True)
class ReturnCopy:
    """What the copy shows, all in words already (the service formats the figures)."""

    title: str  # 令和7年分の所得税及び復興特別所得税の確定申告書（控）
    header: tuple[PdfLine, ...]  # 受付番号, 受付日時, 提出先, 氏名 ...
    parts: tuple[PdfPart, ...]
    footer: str  # how to check the signature


def _font(configured: str) -> str:
    font = japanese_font(configured)
    if font is None:
        raise PdfFontMissingError
    return font


def font_available(configured: str = "") -> bool:
    """Whether a Japanese TrueType font can be embedded here (the demo says so at start)."""
    return japanese_font(configured) is not None


def _table(
    lines: Sequence[PdfLine], font: str, widths: tuple[float, float], *, align: str = "RIGHT"
) -> Table:
    table = Table([[line.label, line.value] for line in lines], colWidths=widths)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 9.5),
                ("ALIGN", (1, 0), (1, -1), align),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
    )
    return table


def render(copy: ReturnCopy, *, font_path: str = "") -> bytes:
    """The copy as PDF bytes (A4), or :class:`PdfFontMissingError`."""
    font = _font(font_path)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=copy.title,
        author="Mynaportal",
        lang="ja",
    )
    title = ParagraphStyle("title", fontName=font, fontSize=14, leading=20, spaceAfter=6)
    heading = ParagraphStyle("heading", fontName=font, fontSize=11, leading=16, spaceBefore=8)
    small = ParagraphStyle("small", fontName=font, fontSize=8, leading=12, spaceBefore=10)
    width = A4[0] - 36 * mm
    # Paragraphs read markup: the texts are escaped, the tables' cells are plain text.
    story: list[object] = [
        Paragraph(escape(copy.title), title),
        _table(copy.header, font, (width * 0.2, width * 0.8), align="LEFT"),
    ]
    for part in copy.parts:
        story += [
            Spacer(1, 2 * mm),
            Paragraph(escape(part.title), heading),
            _table(part.lines, font, (width * 0.65, width * 0.35)),
        ]
    story.append(Paragraph(escape(copy.footer), small))
    document.build(story)  # type: ignore[arg-type]
    return buffer.getvalue()
