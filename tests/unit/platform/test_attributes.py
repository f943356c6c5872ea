"""Value objects built from another object's attributes: given fields win, none is guessed."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from pydantic import BaseModel

from myna.platform.attributes import from_attributes
from myna.platform.errors import N_, MynaError


@dataclass(frozen=True, slots=True)
class _Head:
    size: int
    root: bytes
    signed: bool = False


class _Read(BaseModel):
    size: int
    label: str


def test_it_copies_a_dataclass_s_fields_by_name_and_lets_given_ones_win() -> None:
    row = SimpleNamespace(size=3, root=b"r", signed=True, extra="ignored")
    assert from_attributes(_Head, row) == _Head(3, b"r", signed=True)
    assert from_attributes(_Head, row, signed=False) == _Head(3, b"r", signed=False)


def test_it_builds_a_pydantic_model_the_same_way() -> None:
    row = SimpleNamespace(size=7, label="seven")
    assert from_attributes(_Read, row, label="VII") == _Read(size=7, label="VII")


def test_it_refuses_a_missing_attribute_rather_than_taking_the_default() -> None:
    with pytest.raises(AttributeError):
        from_attributes(_Head, SimpleNamespace(size=1, root=b""))


def test_it_refuses_a_class_that_is_neither_a_dataclass_nor_a_model() -> None:
    with pytest.raises(TypeError):
        from_attributes(SimpleNamespace, SimpleNamespace())


def test_an_error_names_its_code_and_status_in_its_header_and_subclasses_inherit_them() -> None:
    class _RefusedError(MynaError, code="refused", status_code=409):
        message = N_("Refused.")

    class _RefusedAgainError(_RefusedError):
        pass

    assert (_RefusedError.code, _RefusedError.status_code) == ("refused", 409)
    assert (_RefusedAgainError.code, _RefusedAgainError.status_code) == ("refused", 409)
    assert (MynaError.code, MynaError.status_code) == ("error", 400)
