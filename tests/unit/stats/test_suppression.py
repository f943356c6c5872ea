"""Suppression of small counts: primary, complementary, the card rule, never recoverable."""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping, Sequence

import pytest

from myna.stats.domain import (
    Line,
    card_rule,
    grid_lines,
    list_lines,
    published_cards,
    published_counts,
    published_cross_table,
    suppress,
    with_margins,
)


def _recovered(
    values: Mapping[Hashable, int], lines: Sequence[Line[Hashable]], hidden: frozenset[Hashable]
) -> set[Hashable]:
    """The withheld keys an attacker can work out by subtracting along the lines."""
    known = {key for key in values if key not in hidden}
    solved: set[Hashable] = set()
    changed = True
    while changed:
        changed = False
        for line in lines:
            unknown = [k for k in (*line.parts, line.total) if k not in known]
            if len(unknown) == 1:
                known.add(unknown[0])
                solved.add(unknown[0])
                changed = True
    return solved


def test_counts_from_one_to_below_the_threshold_are_withheld_and_zero_is_not() -> None:
    counts = published_counts(["a", "b", "c", "d"], {"a": 0, "b": 9, "c": 10, "d": 25}, 10)
    assert counts.figures["a"].value == 0
    assert counts.figures["b"].suppressed
    assert counts.figures["d"].value == 25
    assert counts.total.value == 44


def test_a_lone_withheld_count_takes_the_smallest_other_with_it() -> None:
    # 44 − 25 − 0 would give 9 back: the 10 goes too (the smallest non-zero other).
    counts = published_counts(["a", "b", "c", "d"], {"a": 0, "b": 9, "c": 10, "d": 25}, 10)
    assert counts.figures["c"].suppressed
    assert counts.figures["a"].value == 0
    assert not counts.figures["d"].suppressed


def test_withheld_cells_must_add_up_to_the_threshold() -> None:
    # 3 and 4 withheld together would still show that 7 people are in them: add 20.
    counts = published_counts(["a", "b", "c"], {"a": 3, "b": 4, "c": 20}, 10)
    assert [counts.figures[k].suppressed for k in "abc"] == [True, True, True]
    assert counts.total.value == 27


def test_when_nothing_else_can_hide_it_the_total_is_withheld() -> None:
    counts = published_counts(["a", "b"], {"a": 4, "b": 0}, 10)
    assert counts.figures["a"].suppressed
    assert counts.total.suppressed
    assert counts.figures["b"].value == 0


def test_a_cross_table_protects_rows_columns_and_margins() -> None:
    table = published_cross_table(
        ["x", "y"], ["p", "q"], {("x", "p"): 3, ("x", "q"): 30, ("y", "p"): 40, ("y", "q"): 50}, 10
    )
    hidden = {key for key, figure in table.figures.items() if figure.suppressed}
    assert ("x", "p") in hidden
    values = with_margins(
        {("x", "p"): 3, ("x", "q"): 30, ("y", "p"): 40, ("y", "q"): 50}, ["x", "y"], ["p", "q"]
    )
    assert _recovered(values, grid_lines(["x", "y"], ["p", "q"]), frozenset(hidden)) == set()


@pytest.mark.parametrize("seed", range(40))
def test_no_withheld_count_can_be_worked_out_from_the_totals(seed: int) -> None:
    rng = random.Random(seed)
    rows = [f"r{i}" for i in range(rng.randint(1, 5))]
    columns = [f"c{j}" for j in range(rng.randint(1, 5))]
    cells = {(r, c): rng.choice([0, 0, 1, 2, 5, 9, 10, 12, 30, 80]) for r in rows for c in columns}
    values = with_margins(cells, rows, columns)
    lines = grid_lines(rows, columns)
    hidden = suppress(values, lines, threshold=10)
    assert {k for k, v in values.items() if 0 < v < 10} <= hidden
    assert _recovered(values, lines, hidden) == set()
    for line in lines:
        withheld = [p for p in line.parts if p in hidden]
        if withheld and line.total not in hidden:
            assert sum(values[p] for p in withheld) >= 10


def test_a_card_count_is_withheld_when_few_residents_lack_a_card() -> None:
    withheld = card_rule({"a": 24, "b": 30}, {"a": 20, "b": 10}, [], 10)
    assert withheld == {"a"}  # 4 residents of a without a card would be told


def test_card_counts_of_a_small_group_are_withheld_even_when_zero() -> None:
    cards = published_cards({("131016", 30): 40, ("131024", 40): 3}, {("131016", 30): 20}, 10)
    small = cards.cells["131024", 40]
    assert small.residents.suppressed
    assert small.holders.suppressed  # "none of the 3 has a card" is not told either
    assert small.rate is None
    assert cards.cells[None, None].holders.value == 20


def test_the_issuance_rate_is_holders_per_resident() -> None:
    cards = published_cards({("131016", 30): 40}, {("131016", 30): 30}, 10)
    assert cards.cells["131016", 30].rate == 0.75
    assert cards.cells[None, None].rate == 0.75


def test_the_threshold_must_be_at_least_two() -> None:
    with pytest.raises(ValueError, match="threshold"):
        suppress({"a": 1, None: 1}, list_lines(["a"], None), threshold=1)
