"""和暦 (Japanese era) dates.

Written here because Babel formats only the Gregorian calendar. The eras and their
first days follow the 元号法 proclamations; JPKI encodes the era as one digit
(1 明治, 2 大正, 3 昭和, 4 平成, 5 令和) in the signing certificate's date of birth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Era:
    """One Japanese era: its JPKI code digit, names and first day."""

    code: int
    name: str
    romaji: str
    starts: date


ERAS: tuple[Era, ...] = (
    Era(5, "令和", "Reiwa", date(2019, 5, 1)),
    Era(4, "平成", "Heisei", date(1989, 1, 8)),
    Era(3, "昭和", "Showa", date(1926, 12, 25)),
    Era(2, "大正", "Taisho", date(1912, 7, 30)),
    Era(1, "明治", "Meiji", date(1868, 1, 25)),
)


def era_of(day: date) -> Era:
    """The era ``day`` falls in."""
    for era in ERAS:
        if day >= era.starts:
            return era
    msg = f"{day.isoformat()} is before the Meiji era"
    raise ValueError(msg)


def era_year(day: date) -> int:
    """The year within its era (1 for 元年)."""
    return day.year - era_of(day).starts.year + 1


def format_wareki(day: date) -> str:
    """``day`` as 和暦, e.g. ``令和8年11月28日`` (元年 for the first year)."""
    era = era_of(day)
    year = era_year(day)
    year_text = "元" if year == 1 else str(year)
    return f"{era.name}{year_text}年{day.month}月{day.day}日"


def format_wareki_en(day: date) -> str:
    """``day`` with its era in English, e.g. ``28 Nov 2026 (Reiwa 8)``."""
    era = era_of(day)
    return f"{day.day} {day:%b} {day.year} ({era.romaji} {era_year(day)})"
