"""The usage statistics' rules (利用状況): published figures and their suppression.

Every count of the dashboard is published through :func:`suppress`, never raw. The rule
(docs/stats.md):

1. **Primary suppression.** A count from 1 to ``threshold - 1`` is withheld ("<10").
   Zero is published: it describes nobody.
2. **Complementary suppression.** A table is a set of lines — parts that add up to a
   published total (each row and column of a cross table, and the margins adding up to
   the grand total). In a line with withheld cells, at least two items are withheld, and
   when its total is published the withheld parts add up to ``threshold`` or more; if
   not, the smallest non-zero published part is withheld too (or, when none is left,
   the total). This repeats over every line until nothing changes, so no withheld cell
   can be recovered, or narrowed to a small group, by subtracting from totals.

Cards have two more primary rules (``card_rule``): a count of card holders is withheld
when the residents without a card (residents − holders) number from 1 to
``threshold - 1``, and whenever the count of residents beside it is withheld.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Generic, TypeVar

from myna.platform.errors import N_

K = TypeVar("K", bound=Hashable)
R = TypeVar("R", bound=Hashable)
C = TypeVar("C", bound=Hashable)

DEFAULT_THRESHOLD = 10
# Age bands by their first age: 0–9, 10–19 … 70–79, 80 and over.
AGE_BAND_STARTS: tuple[int, ...] = (0, 10, 20, 30, 40, 50, 60, 70, 80)
LOGIN_DAYS = 30


def age_band_label(start: int) -> str:
    """A band's label in the locale's words: ``0–9`` or ``80+`` (the page adds 歳)."""
    following = [s for s in AGE_BAND_STARTS if s > start]
    return f"{start}+" if not following else f"{start}–{following[0] - 1}"


@dataclass(frozen=True, slots=True)
class Figure:
    """One published count: its value, or None when it is withheld (suppressed)."""

    value: int | None

    @property
    def suppressed(self) -> bool:
        """Whether the count is withheld."""
        return self.value is None


@dataclass(frozen=True, slots=True)
class Line(Generic[K]):
    """Cells of a table that add up to a total (a row, a column or a margin)."""

    parts: tuple[K, ...]
    total: K


def primary(values: Mapping[K, int], threshold: int) -> set[K]:
    """The counts too small to publish: from 1 to ``threshold - 1``."""
    return {key for key, value in values.items() if 0 < value < threshold}


def suppress(
    values: Mapping[K, int],
    lines: Sequence[Line[K]],
    *,
    threshold: int,
    also: Iterable[K] = (),
) -> frozenset[K]:
    """The keys to withhold: primary suppression (plus ``also``), then complementary.

    ``values`` has every key the lines name (parts and totals). See the module's rule.
    """
    if threshold < 2:
        msg = "the threshold must be at least 2"
        raise ValueError(msg)
    hidden = primary(values, threshold) | set(also)
    changed = True
    while changed:
        changed = False
        for line in lines:
            more = _complement(line, values, hidden, threshold)
            if more is not None:
                hidden.add(more)
                changed = True
    return frozenset(hidden)


def _complement(line: Line[K], values: Mapping[K, int], hidden: set[K], threshold: int) -> K | None:
    """The next item to withhold for ``line`` to be safe, or None when it is."""
    hidden_parts = [part for part in line.parts if part in hidden]
    total_hidden = line.total in hidden
    withheld = len(hidden_parts) + int(total_hidden)
    if withheld == 0:
        return None
    too_narrow = not total_hidden and sum(values[p] for p in hidden_parts) < threshold
    if withheld >= 2 and not too_narrow:
        return None
    candidates = [p for p in line.parts if p not in hidden and values[p] > 0]
    if candidates:
        return min(candidates, key=lambda p: (values[p], str(p)))
    if not total_hidden:
        return line.total
    # Only the total is withheld and every part is a published zero: the total is zero,
    # which tells nothing about anyone.
    return None


def list_lines(keys: Sequence[K], total: K) -> list[Line[K]]:
    """The one line of a list of counts with its total."""
    return [Line(tuple(keys), total)]


def grid_lines(rows: Sequence[R], columns: Sequence[C]) -> list[Line[tuple[R | None, C | None]]]:
    """The lines of a cross table with margins: keys are (row, column), None for a total."""
    lines: list[Line[tuple[R | None, C | None]]] = [
        Line(tuple((row, column) for column in columns), (row, None)) for row in rows
    ]
    lines += [Line(tuple((row, column) for row in rows), (None, column)) for column in columns]
    lines.append(Line(tuple((row, None) for row in rows), (None, None)))
    lines.append(Line(tuple((None, column) for column in columns), (None, None)))
    return lines


def with_margins(
    cells: Mapping[tuple[R, C], int], rows: Sequence[R], columns: Sequence[C]
) -> dict[tuple[R | None, C | None], int]:
    """Every cell of the cross table (zero where absent), its row, column and grand totals."""
    values: dict[tuple[R | None, C | None], int] = {}
    for row in rows:
        for column in columns:
            values[row, column] = cells.get((row, column), 0)
    for row in rows:
        values[row, None] = sum(values[row, column] for column in columns)
    for column in columns:
        values[None, column] = sum(values[row, column] for row in rows)
    values[None, None] = sum(values[row, None] for row in rows)
    return values


def card_rule(
    residents: Mapping[K, int],
    holders: Mapping[K, int],
    residents_hidden: Iterable[K],
    threshold: int,
) -> set[K]:
    """Card counts withheld before complementary suppression (see the module's rule)."""
    withheld = set(residents_hidden)
    for key, count in holders.items():
        without = residents.get(key, 0) - count
        if 0 < without < threshold:
            withheld.add(key)
    return withheld


def figures(values: Mapping[K, int], hidden: frozenset[K]) -> dict[K, Figure]:
    """The published figures: the value, or None where withheld."""
    return {key: Figure(None if key in hidden else value) for key, value in values.items()}


def rate(holders: Figure, residents: Figure) -> float | None:
    """Holders per resident (交付率), when both are published and there are residents."""
    if holders.value is None or residents.value is None or residents.value == 0:
        return None
    return round(holders.value / residents.value, 4)


def login_days(today: date, days: int = LOGIN_DAYS) -> list[date]:
    """The ``days`` calendar days in Japan ending with ``today``, oldest first."""
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


# Organisation types of the API-use table, in the order shown, with their labels.
ORGANIZATION_TYPES: dict[str, str] = {
    "partner-api": N_("Private organisations using the Mynaportal API"),
    "authapp": N_("Businesses using the authentication app (signing)"),
    "jpki-signature": N_("JPKI signature verifiers"),
    "jpki-authentication": N_("JPKI user-authentication verifiers"),
    "jpki-both": N_("JPKI verifiers of both certificates"),
    "delivery-life-insurer": N_("Private delivery: life insurers"),
    "delivery-non-life-insurer": N_("Private delivery: non-life insurers"),
    "delivery-employer": N_("Private delivery: employers"),
    "delivery-municipality": N_("Private delivery: municipalities (hometown tax)"),
    "delivery-pension-fund": N_("Private delivery: pension funds"),
    "medical": N_("Medical institutions and pharmacies (eligibility confirmation)"),
}


@dataclass(frozen=True, slots=True)
class Counts(Generic[K]):
    """A list of published counts with its total, in the order shown."""

    keys: tuple[K, ...]
    figures: Mapping[K, Figure]
    total: Figure


def published_counts(keys: Sequence[K], counts: Mapping[K, int], threshold: int) -> Counts[K]:
    """``counts`` over ``keys`` (zero where absent) and their total, suppressed."""
    values: dict[K | None, int] = {key: counts.get(key, 0) for key in keys}
    values[None] = sum(counts.get(key, 0) for key in keys)
    hidden = suppress(values, list_lines(list(keys), None), threshold=threshold)
    published = figures(values, hidden)
    return Counts(
        keys=tuple(keys),
        figures={key: published[key] for key in keys},
        total=published[None],
    )


@dataclass(frozen=True, slots=True)
class CrossTable(Generic[R, C]):
    """A published cross table: cells and margins keyed (row, column), None for a total."""

    rows: tuple[R, ...]
    columns: tuple[C, ...]
    figures: Mapping[tuple[R | None, C | None], Figure]


def published_cross_table(
    rows: Sequence[R], columns: Sequence[C], cells: Mapping[tuple[R, C], int], threshold: int
) -> CrossTable[R, C]:
    """``cells`` (zero where absent) with their margins, suppressed."""
    values = with_margins(cells, rows, columns)
    hidden = suppress(values, grid_lines(rows, columns), threshold=threshold)
    return CrossTable(tuple(rows), tuple(columns), figures(values, hidden))


@dataclass(frozen=True, slots=True)
class CardCell:
    """Residents, card holders and the issuance rate of one group (or a total)."""

    residents: Figure
    holders: Figure
    rate: float | None


@dataclass(frozen=True, slots=True)
class CardTable:
    """Cards by municipality and age band, with both margins and the national total."""

    municipalities: tuple[str, ...]
    bands: tuple[int, ...]
    cells: Mapping[tuple[str | None, int | None], CardCell]


def published_cards(
    residents: Mapping[tuple[str, int], int],
    holders: Mapping[tuple[str, int], int],
    threshold: int,
    bands: Sequence[int] = AGE_BAND_STARTS,
) -> CardTable:
    """Residents and card holders by municipality and band, suppressed as one table.

    Municipalities with no resident are left out; holders not among the residents
    counted (none, as both come from the registry) could not be placed anyway.
    """
    municipalities = sorted({code for code, _ in residents})
    resident_values = with_margins(residents, municipalities, bands)
    holder_values = with_margins(holders, municipalities, bands)
    lines = grid_lines(municipalities, bands)
    residents_hidden = suppress(resident_values, lines, threshold=threshold)
    holders_hidden = suppress(
        holder_values,
        lines,
        threshold=threshold,
        also=card_rule(resident_values, holder_values, residents_hidden, threshold),
    )
    resident_figures = figures(resident_values, residents_hidden)
    holder_figures = figures(holder_values, holders_hidden)
    return CardTable(
        municipalities=tuple(municipalities),
        bands=tuple(bands),
        cells={
            key: CardCell(
                residents=resident_figures[key],
                holders=holder_figures[key],
                rate=rate(holder_figures[key], resident_figures[key]),
            )
            for key in resident_values
        },
    )


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Every figure of the usage statistics, already suppressed, as of ``as_of``.

    Only published figures are kept: what is cached and served cannot hold a small
    count. The names (public reference data) are the municipalities' and, in Japanese
    and English, the procedures' of exchanges and of applications.
    """

    as_of: datetime
    threshold: int
    cards: CardTable
    logins: Counts[date]
    exchanges: Counts[str]
    notices_sent: Counts[str]
    notices_read: Counts[str]
    applications: CrossTable[str, str]
    api_uses: Counts[str]
    municipality_names: Mapping[str, str]
    exchange_names: Mapping[str, tuple[str, str]]
    application_names: Mapping[str, tuple[str, str]]
