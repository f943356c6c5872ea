"""The shelter roster as a CSV file for spreadsheet software (UTF-8 with a BOM)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from myna.counters.service import CheckinView
from myna.platform.clock import JST

HEADER = (
    "避難所",
    "世帯グループ",
    "氏名",
    "フリガナ",
    "生年月日",
    "性別",
    "住所地",
    "受付方法",
    "受付職員",
    "顔確認職員",
    "入所日時",
    "退所日時",
)
SEX = {1: "男", 2: "女"}
METHODS = {"pin": "カード・暗証番号", "face": "カード・職員の顔確認", "household": "世帯員と同時"}
# A cell a spreadsheet would read as a formula (CSV injection) starts with a quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def _time(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(JST).strftime("%Y-%m-%d %H:%M")


def roster_csv(entries: list[CheckinView]) -> bytes:
    """The roster, one line per person, times in Japan time; Excel opens it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for e in entries:
        writer.writerow(
            [
                _cell(e.shelter),
                e.party,
                _cell(e.name),
                _cell(e.name_kana),
                e.birth_date.isoformat(),
                SEX.get(e.sex, ""),
                _cell(e.home_municipality),
                METHODS.get(e.method.value, e.method.value),
                _cell(e.checked_in_by),
                _cell(e.confirmed_by or ""),
                _time(e.checked_in_at),
                _time(e.checked_out_at),
            ]
        )
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")
