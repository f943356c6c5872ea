"""A certificate's page as a PDF: the form, its rows, the seal imprint, the QR code.

Written with ReportLab; IPAex Gothic (a TrueType font, which ReportLab can embed as a
subset) makes the Japanese text read the same anywhere. The QR code (segno) leads to
the public verification page with the certificate's number.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from myna.platform.errors import N_, MynaError
from myna.platform.fonts import japanese_font


class CertificateFontMissingError(MynaError, code="certificate_font_missing", status_code=503):
    """No Japanese TrueType font to embed: certificates cannot be written here."""

    message = N_(
        "Certificates cannot be issued on this server just now (no Japanese font is "
        "installed). Please try again later or ask at the municipal office."
    )


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the certificate: a label and what is certified."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One block of rows (a person on a 住民票の写し, a year on a tax certificate)."""

    heading: str
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class CertificatePage:
    """What the page shows, all in words already."""

    title: str
    number: str  # 交付番号
    header: tuple[Row, ...]
    entries: tuple[Entry, ...]
    attestation: str  # この写しは、住民票の原本と相違ないことを証明する。
    issued_on: str  # 和暦
    issuer: str  # 東京都千代田区長
    verify_url: str
    seal_png: bytes | None = None


def _font(configured: str) -> str:
    font = japanese_font(configured)
    if font is None:
        raise CertificateFontMissingError
    return font


class _Qr(Flowable):
    """The verification URL as a QR code (ISO/IEC 18004), drawn as vector squares."""

    def __init__(self, url: str, size: float) -> None:
        super().__init__()
        self.url, self.size = url, size
        self.width = self.height = size

    def draw(self) -> None:
        matrix = segno.make(self.url, error="m", micro=False).matrix
        count = len(matrix) + 8  # the quiet zone: four modules each side
        module = self.size / count
        # One filled path of one rectangle per run of dark modules in a row: a few
        # hundred path operators, where a rectangle per module made thousands of calls.
        path = self.canv.beginPath()
        for y, row in enumerate(matrix):
            x = 0
            while x < len(row):
                if not row[x]:
                    x += 1
                    continue
                start = x
                while x < len(row) and row[x]:
                    x += 1
                path.rect(
                    (start + 4) * module,
                    self.size - (y + 5) * module,
                    (x - start) * module,
                    module,
                )
        self.canv.setFillColor(colors.black)
        self.canv.drawPath(path, stroke=0, fill=1)


def _table(rows: tuple[Row, ...], font: str, width: float) -> Table:
    table = Table([[r.label, r.value] for r in rows], colWidths=(width * 0.28, width * 0.72))
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 9.5),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def render(page: CertificatePage, *, font_path: str = "") -> bytes:
    """The certificate as PDF bytes (A4), or :class:`CertificateFontMissingError`."""
    font = _font(font_path)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{page.title} {page.number}",
        author=page.issuer,
        subject=page.number,
        lang="ja",
    )
    title = ParagraphStyle("title", fontName=font, fontSize=18, leading=26, alignment=1)
    heading = ParagraphStyle("heading", fontName=font, fontSize=11, leading=16, spaceBefore=6)
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=15, spaceBefore=8)
    small = ParagraphStyle("small", fontName=font, fontSize=8, leading=12)
    width = A4[0] - 36 * mm
    story: list[Flowable] = [
        Paragraph(escape(page.title), title),
        Spacer(1, 3 * mm),
        _table(page.header, font, width),
    ]
    for entry in page.entries:
        story += [Paragraph(escape(entry.heading), heading), _table(entry.rows, font, width)]
    if page.seal_png is not None:
        story += [
            Paragraph("印影", heading),
            Image(io.BytesIO(page.seal_png), width=30 * mm, height=30 * mm),
        ]
    story += [
        Paragraph(escape(page.attestation), body),
        Paragraph(escape(page.issued_on), body),
        Paragraph(escape(page.issuer), body),
        Spacer(1, 4 * mm),
        _Qr(page.verify_url, 28 * mm),
        Paragraph(
            escape(
                "この証明書は電子署名（PAdES）されています。真正性は QR コードの検証ページ"
                f"（{page.verify_url}）で確認できます。"
            ),
            small,
        ),
    ]
    document.build(story)
    return buffer.getvalue()
