"""The proxies' pure rules: the parent of a child under 15, scopes, bounded appointments."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from myna.proxy.domain import (
    Appointment,
    AuthorityEndedError,
    InvalidCodeError,
    InvalidUntilError,
    Kind,
    Member,
    NoScopeChosenError,
    Scope,
    check_until,
    is_legal_representative,
    new_code,
    normalize_code,
    parse_grant,
    parse_scopes,
    scopes_of,
    scopes_text,
)
from myna.reference.domain import Relation

CHILD_BORN = date(2016, 6, 20)


def _member(resident_id: int, relation: Relation, born: date, *, household: int = 1) -> Member:
    return Member(
        resident_id=resident_id,
        household_id=household,
        relation=relation,
        birth_date=born,
        active=True,
    )


FATHER = _member(1, Relation.HEAD, date(1985, 4, 12))
MOTHER = _member(2, Relation.WIFE, date(1987, 9, 3))
CHILD = _member(3, Relation.CHILD, CHILD_BORN)


def test_a_parent_represents_their_child_under_15() -> None:
    today = date(2026, 12, 7)
    assert is_legal_representative(FATHER, CHILD, today)
    assert is_legal_representative(MOTHER, CHILD, today)


def test_the_right_ends_on_the_15th_birthday() -> None:
    assert is_legal_representative(FATHER, CHILD, date(2031, 6, 19))
    assert not is_legal_representative(FATHER, CHILD, date(2031, 6, 20))
    assert not is_legal_representative(FATHER, CHILD, date(2035, 1, 1))


def test_a_leap_day_child_turns_15_on_the_first_of_march() -> None:
    leap = _member(3, Relation.CHILD, date(2016, 2, 29))
    assert is_legal_representative(FATHER, leap, date(2031, 2, 28))
    assert not is_legal_representative(FATHER, leap, date(2031, 3, 1))


def test_the_child_does_not_represent_the_parent() -> None:
    assert not is_legal_representative(CHILD, FATHER, date(2026, 12, 7))


def test_a_sibling_a_cohabitant_or_another_household_is_no_parent() -> None:
    today = date(2026, 12, 7)
    brother = _member(4, Relation.CHILD, date(2000, 1, 1))
    lodger = _member(5, Relation.COHABITANT, date(1970, 1, 1))
    elsewhere = _member(6, Relation.HEAD, date(1980, 1, 1), household=2)
    assert not is_legal_representative(brother, CHILD, today)
    assert not is_legal_representative(lodger, CHILD, today)
    assert not is_legal_representative(elsewhere, CHILD, today)


def test_a_grandchild_is_represented_by_the_heads_child_not_the_head() -> None:
    today = date(2026, 12, 7)
    son = _member(4, Relation.CHILD, date(1990, 1, 1))
    grandchild = _member(7, Relation.GRANDCHILD, date(2020, 5, 5))
    assert is_legal_representative(son, grandchild, today)
    assert not is_legal_representative(FATHER, grandchild, today)


def test_no_one_represents_a_child_who_moved_out_or_died() -> None:
    gone = Member(3, 1, Relation.CHILD, CHILD_BORN, active=False)
    assert not is_legal_representative(FATHER, gone, date(2026, 12, 7))


def test_scopes_are_parsed_stored_and_read_back() -> None:
    chosen = parse_scopes(["apply", "notices"])
    assert chosen == {Scope.APPLY, Scope.NOTICES}
    assert scopes_text(chosen) == "notices apply"
    assert scopes_of("notices apply retired") == chosen


@pytest.mark.parametrize("values", [[], ["sign"], ["notices", "everything"]])
def test_no_scope_or_an_unknown_one_is_refused(values: list[str]) -> None:
    with pytest.raises(NoScopeChosenError):
        parse_scopes(values)


def test_an_appointment_ends_after_a_day_within_a_year() -> None:
    today = date(2026, 12, 7)
    assert check_until(date(2026, 12, 8), today) == date(2026, 12, 8)
    assert check_until(date(2027, 12, 8), today) == date(2027, 12, 8)
    for wrong in (today, date(2026, 12, 1), date(2027, 12, 9)):
        with pytest.raises(InvalidUntilError):
            check_until(wrong, today)


def _appointment(**changes: object) -> Appointment:
    fields: dict[str, object] = {
        "id": 1,
        "principal_id": 4,
        "proxy_id": 2,
        "scopes": frozenset({Scope.NOTICES}),
        "valid_until": date(2027, 1, 31),
        "accepted_at": datetime(2026, 12, 7, tzinfo=UTC),
        "revoked_at": None,
    }
    fields.update(changes)
    return Appointment(**fields)  # type: ignore[arg-type]


def test_an_appointment_is_in_force_through_its_last_day_only() -> None:
    appointment = _appointment()
    assert appointment.in_force(date(2027, 1, 31))
    assert appointment.status(date(2027, 2, 1)) == "expired"
    assert not appointment.in_force(date(2027, 2, 1))


def test_an_appointment_not_accepted_or_revoked_is_not_in_force() -> None:
    assert _appointment(accepted_at=None).status(date(2027, 1, 1)) == "pending"
    revoked = _appointment(revoked_at=datetime(2026, 12, 8, tzinfo=UTC))
    assert revoked.status(date(2027, 1, 1)) == "revoked"
    assert not revoked.in_force(date(2027, 1, 1))


def test_codes_are_read_back_however_they_are_typed() -> None:
    code = new_code()
    assert len(code) == 14
    assert normalize_code(code.lower().replace("-", " ")) == code
    assert normalize_code("7k3m q9td 2hxa") == "7K3M-Q9TD-2HXA"
    assert normalize_code("OIL0-0000-0000") == "0110-0000-0000"
    for wrong in ("", "7K3M-Q9TD", "7K3M-Q9TD-2HXU", "7K3M-Q9TD-2HXA-R4WB"):
        with pytest.raises(InvalidCodeError):
            normalize_code(wrong)


def test_a_malformed_grant_is_an_ended_authority() -> None:
    assert parse_grant("legal:12") == (Kind.LEGAL, 12)
    assert parse_grant("appointment:3") == (Kind.APPOINTED, 3)
    for wrong in ("legal", "legal:", "owner:1", "legal:x", "appointment:1234567890123"):
        with pytest.raises(AuthorityEndedError):
            parse_grant(wrong)
