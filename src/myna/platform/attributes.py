"""Value objects built from another object's attributes of the same names.

A row mapped to a value object, or a message turned into the next one, mostly keeps
its field names: spelling each ``name=source.name`` out hides the few that differ.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


# Each class's fields, read once: they do not change, and ``from_attributes`` runs for
# every record of every exchange.
_FIELDS: dict[type[Any], tuple[str, ...]] = {}


def field_names(cls: type[Any]) -> tuple[str, ...]:
    """The fields a dataclass or a Pydantic model is constructed with, in order."""
    known = _FIELDS.get(cls)
    if known is not None:
        return known
    if dataclasses.is_dataclass(cls):
        names = tuple(f.name for f in dataclasses.fields(cls) if f.init)
    elif issubclass(cls, BaseModel):
        names = tuple(cls.model_fields)
    else:
        msg = f"{cls.__name__} is neither a dataclass nor a Pydantic model"
        raise TypeError(msg)
    _FIELDS[cls] = names
    return names


def from_attributes(cls: type[T], source: object, /, **given: Any) -> T:
    """A ``cls`` whose fields are ``given``, the others ``source``'s attributes by name.

    Like Pydantic's ``from_attributes``, for dataclasses too: a field neither given nor
    an attribute of ``source`` raises AttributeError rather than taking its default.
    """
    copied = {name: getattr(source, name) for name in field_names(cls) if name not in given}
    return cls(**copied, **given)
