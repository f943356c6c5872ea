"""The data files shipped with the registry (municipality list, wards of big cities)."""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources

from myna.registry.population import MunicipalityWeight


def _read(name: str) -> bytes:
    return resources.files("myna.registry").joinpath("data", name).read_bytes()


def shipped_municipalities_csv() -> bytes:
    """``data/municipalities.csv``: 総務省 columns plus an approximate 2020 population."""
    return _read("municipalities.csv")


@cache
def shipped_weights() -> tuple[MunicipalityWeight, ...]:
    """Population weights and wards (行政区) of the shipped municipalities."""
    wards: dict[str, tuple[str, ...]] = {}
    for row in list(csv.reader(io.StringIO(_read("wards.csv").decode("utf-8"))))[1:]:
        wards[row[0]] = tuple(row[2].split())
    rows = list(csv.reader(io.StringIO(shipped_municipalities_csv().decode("utf-8"))))[1:]
    return tuple(
        MunicipalityWeight(code=row[0], population=int(row[5]), wards=wards.get(row[0], ()))
        for row in rows
        if row
    )
