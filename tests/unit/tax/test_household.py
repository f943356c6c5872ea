"""Who in the household counts on the return, read from the 住民票's 続柄 and dates of birth."""

from __future__ import annotations

from datetime import date

import pytest

from myna.tax import HouseholdRelative, RelativeKind, Tie, household_relatives

YEAR = 2025
TARO = ("世帯主", date(1985, 4, 12))
HANAKO = ("妻", date(1987, 9, 3))
HARUTO = ("子", date(2016, 6, 20))
YAMADA = [TARO, HANAKO, HARUTO]


def _ties(you: tuple[str, date], members: list[tuple[str, date]]) -> list[tuple[Tie, str]]:
    found = household_relatives(you, members, year=YEAR)
    assert found is not None
    return [(r.tie, r.relation) for r in found]


def test_the_head_has_his_wife_as_spouse_and_his_son_as_a_relative() -> None:
    found = household_relatives(TARO, YAMADA, year=YEAR)
    assert found == (
        HouseholdRelative(Tie.SPOUSE, "妻", date(1987, 9, 3)),
        HouseholdRelative(Tie.RELATIVE, "子", date(2016, 6, 20)),
    )


def test_the_heads_wife_has_the_head_as_spouse() -> None:
    assert _ties(HANAKO, YAMADA) == [(Tie.SPOUSE, "世帯主"), (Tie.RELATIVE, "子")]


def test_parents_and_parents_in_law_are_lineal_ascendants_of_the_head_and_his_wife() -> None:
    household = [
        TARO,
        HANAKO,
        ("父", date(1950, 1, 1)),
        ("妻の母", date(1952, 2, 2)),
        ("兄", date(1982, 3, 3)),
        ("同居人", date(1990, 4, 4)),
    ]
    expected = [
        (Tie.ASCENDANT, "父"),
        (Tie.ASCENDANT, "妻の母"),
        (Tie.RELATIVE, "兄"),
    ]
    assert _ties(TARO, household) == [(Tie.SPOUSE, "妻"), *expected]
    # For the wife, the head's father is her spouse's 直系尊属, the head's brother a 姻族.
    assert _ties(HANAKO, household) == [(Tie.SPOUSE, "世帯主"), *expected]


def test_a_child_of_the_head_counts_the_head_as_a_parent_and_the_heads_spouse_as_a_relative() -> (
    None
):
    """The 住民票 does not tell a step-parent from a parent: the head's spouse is a 親族 only."""
    son = ("子", date(1990, 5, 5))
    household = [
        ("世帯主", date(1950, 1, 1)),
        ("妻", date(1953, 2, 2)),
        son,
        ("子の妻", date(1991, 6, 6)),
    ]
    assert _ties(son, household) == [
        (Tie.ASCENDANT, "世帯主"),
        (Tie.RELATIVE, "妻"),
        (Tie.SPOUSE, "子の妻"),  # the only 子: the 子の妻 is his wife
    ]


def test_with_two_children_a_childs_wife_is_nobody_known_to_either() -> None:
    son, brother = ("子", date(1990, 5, 5)), ("子", date(1993, 7, 7))
    household = [("世帯主", date(1950, 1, 1)), son, brother, ("子の妻", date(1991, 6, 6))]
    assert _ties(son, household) == [(Tie.ASCENDANT, "世帯主"), (Tie.RELATIVE, "子")]


def test_someone_elsewhere_in_the_household_gets_no_relative() -> None:
    father = ("父", date(1950, 1, 1))
    assert _ties(father, [TARO, HANAKO, father]) == []


def test_a_member_born_after_the_year_is_left_out() -> None:
    baby = ("子", date(2026, 1, 5))
    assert _ties(TARO, [TARO, HANAKO, baby]) == [(Tie.SPOUSE, "妻")]


def test_twins_are_both_kept_and_the_resident_is_removed_once() -> None:
    twin = ("子", date(2007, 3, 3))
    assert _ties(twin, [("世帯主", date(1975, 1, 1)), twin, twin]) == [
        (Tie.ASCENDANT, "世帯主"),
        (Tie.RELATIVE, "子"),
    ]


@pytest.mark.parametrize(
    "you",
    [("世帯主", date(1985, 4, 13)), ("妻", date(1985, 4, 12))],
    ids=["another date of birth", "another relation"],
)
def test_a_resident_not_in_the_household_gets_none(you: tuple[str, date]) -> None:
    assert household_relatives(you, YAMADA, year=YEAR) is None


def test_every_way_a_relative_counts_has_words_for_the_page() -> None:
    from myna.tax.service import KIND_LABELS  # noqa: PLC0415

    assert set(KIND_LABELS) == set(RelativeKind)


def test_a_relatives_key_reads_back_and_anything_else_is_no_relative() -> None:
    from myna.tax.service import RelativeKey  # noqa: PLC0415

    key = RelativeKey(Tie.ASCENDANT, date(1950, 1, 1), "妻の母")
    assert str(key) == "ascendant:1950-01-01:妻の母"
    assert RelativeKey.parse(str(key)) == key
    for other in (
        "dlv-salary-1",
        "notice",
        "cousin:1950-01-01:父",
        "spouse:1950-13-01:妻",
        "spouse:1950-01-01:",
    ):
        assert RelativeKey.parse(other) is None
