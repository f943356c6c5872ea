"""A year's tax rules, read from ``data/<year>.toml`` and checked before any use.

The file holds the year's figures (tables, limits, ages); :mod:`myna.tax.domain` holds
what the law does with them. Each table is checked entry by entry: a missing or unknown
key, a negative amount, a table whose bands do not rise or whose last band is not open
stops the load with :class:`~myna.tax.domain.TaxRulesFileError`, naming the file and
the entry, so a broken file never computes a single return.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from myna.platform import tomlfile
from myna.platform.errors import N_
from myna.tax.domain import (
    Band,
    DependantRules,
    EarthquakeRules,
    IncomeAdjustmentRules,
    LifeInsuranceRules,
    PensionRules,
    SalaryRules,
    SpecialSpouseBand,
    SpecifiedRelativeRules,
    SpouseRules,
    SpouseTaxpayerBand,
    TaxBand,
    TaxRules,
    TaxRulesFileError,
    UnknownTaxYearError,
)

_NOT_AMOUNT = N_("the key {key} must be a whole number of yen, zero or more.")
_NOT_LIST = N_("the key {key} must be a list of tables.")
_NOT_RISING = N_("the bands must rise: {value} does not exceed the band before it.")
_LAST_OPEN = N_("only the last band has no up_to, and the last band must have none.")
_AMOUNT_OR_RATE = N_("give either amount or rate_percent (exactly one of them).")
_WRONG_COUNT = N_("the key {key} must hold {count} amounts, one per taxpayer band.")
_WRONG_YEAR = N_("the year {value} does not match the file's name.")

_BAND_KEYS = ("up_to", "amount", "rate_percent", "add")


class _Entry(tomlfile.TomlEntry):
    """One table of a rules file, for errors that name it."""

    error_type = TaxRulesFileError
    not_a_table = N_("the entry {key} must be a table.")

    def amount(self, key: str, *, required: bool = True) -> int | None:
        value = self.required(key, required=required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.error(_NOT_AMOUNT, key=key)
        return value

    def whole(self, key: str) -> int:
        value = self.amount(key)
        assert value is not None  # noqa: S101 - required=True never returns None
        return value

    def text(self, key: str) -> str:
        value = self.required(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(tomlfile.NOT_TEXT, key=key)
        return value

    def section(self, key: str, allowed: Iterable[str]) -> _Entry:
        return _Entry(self.file, self._inner(key), self.required(key), frozenset(allowed))

    def _inner(self, key: str) -> str:
        return key if self.entry == "-" else f"{self.entry}.{key}"

    def rows(self, key: str, allowed: Iterable[str]) -> list[_Entry]:
        value = self.required(key)
        if not isinstance(value, list) or not value:
            raise self.error(_NOT_LIST, key=key)
        keys = frozenset(allowed)
        return [
            _Entry(self.file, f"{self._inner(key)}[{index}]", raw, keys)
            for index, raw in enumerate(value, start=1)
        ]


def _rising(rows: list[_Entry], *, open_last: bool = True) -> list[int | None]:
    """The ``up_to`` of each row, checked to rise, the last one open when ``open_last``."""
    limits: list[int | None] = []
    previous = -1
    for index, row in enumerate(rows):
        last = index == len(rows) - 1
        up_to = row.amount("up_to", required=not (open_last and last))
        if (up_to is None) != (open_last and last):
            raise row.error(_LAST_OPEN)
        if up_to is not None:
            if up_to <= previous:
                raise row.error(_NOT_RISING, value=up_to)
            previous = up_to
        limits.append(up_to)
    return limits


def _bands(entry: _Entry, key: str, *, open_last: bool = True) -> tuple[Band, ...]:
    rows = entry.rows(key, _BAND_KEYS)
    limits = _rising(rows, open_last=open_last)
    bands: list[Band] = []
    for row, up_to in zip(rows, limits, strict=True):
        amount = row.amount("amount", required=False)
        rate = row.amount("rate_percent", required=False)
        if (amount is None) == (rate is None) or (amount is not None and "add" in row.table):
            raise row.error(_AMOUNT_OR_RATE)
        bands.append(
            Band(
                up_to=up_to,
                amount=amount,
                rate_percent=rate or 0,
                add=row.amount("add", required=False) or 0,
            )
            if rate is not None
            else Band(up_to=up_to, amount=amount)
        )
    return tuple(bands)


def _salary(entry: _Entry) -> SalaryRules:
    table = entry.section("salary_deduction", ("table_from", "table_below", "table_step", "band"))
    return SalaryRules(
        bands=_bands(table, "band"),
        table_from=table.whole("table_from"),
        table_below=table.whole("table_below"),
        table_step=max(1, table.whole("table_step")),
    )


def _income_adjustment(entry: _Entry) -> IncomeAdjustmentRules:
    keys = ("salary_over", "salary_cap", "rate_percent", "young_dependant_age", "each_cap", "less")
    table = entry.section("income_adjustment", keys)
    return IncomeAdjustmentRules(**{key: table.whole(key) for key in keys})


def _pension(entry: _Entry) -> PensionRules:
    table = entry.section(
        "pension_deduction", ("elderly_age", "other_income", "under_elderly", "elderly")
    )
    steps = table.rows("other_income", ("over", "less"))
    pairs = tuple((row.whole("over"), row.whole("less")) for row in steps)
    for row, (over, _), before in zip(steps[1:], pairs[1:], pairs, strict=False):
        if over <= before[0]:
            raise row.error(_NOT_RISING, value=over)
    return PensionRules(
        elderly_age=table.whole("elderly_age"),
        under_elderly=_bands(table, "under_elderly"),
        elderly=_bands(table, "elderly"),
        other_income_steps=pairs,
    )


def _life(entry: _Entry) -> LifeInsuranceRules:
    table = entry.section("life_insurance", ("combined_limit", "total_limit", "new", "old"))
    return LifeInsuranceRules(
        new=_bands(table, "new"),
        old=_bands(table, "old"),
        combined_limit=table.whole("combined_limit"),
        total_limit=table.whole("total_limit"),
    )


def _earthquake(entry: _Entry) -> EarthquakeRules:
    keys = ("earthquake_limit", "total_limit", "old_long_term")
    table = entry.section("earthquake_insurance", keys)
    return EarthquakeRules(
        earthquake_limit=table.whole("earthquake_limit"),
        old_long_term=_bands(table, "old_long_term"),
        total_limit=table.whole("total_limit"),
    )


def _spouse(entry: _Entry) -> SpouseRules:
    keys = ("income_limit", "elderly_age", "special_income_limit", "taxpayer_band", "special")
    table = entry.section("spouse", keys)
    rows = table.rows("taxpayer_band", ("up_to", "general", "elderly"))
    limits = _rising(rows, open_last=False)
    taxpayer_bands = tuple(
        SpouseTaxpayerBand(
            up_to=up_to or 0, general=row.whole("general"), elderly=row.whole("elderly")
        )
        for row, up_to in zip(rows, limits, strict=True)
    )
    special_rows = table.rows("special", ("up_to", "amounts"))
    special_limits = _rising(special_rows, open_last=False)
    special: list[SpecialSpouseBand] = []
    for row, up_to in zip(special_rows, special_limits, strict=True):
        amounts = row.required("amounts")
        if (
            not isinstance(amounts, list)
            or len(amounts) != len(taxpayer_bands)
            or not all(isinstance(a, int) and not isinstance(a, bool) and a >= 0 for a in amounts)
        ):
            raise row.error(_WRONG_COUNT, key="amounts", count=len(taxpayer_bands))
        special.append(SpecialSpouseBand(up_to=up_to, amounts=tuple(amounts)))
    return SpouseRules(
        income_limit=table.whole("income_limit"),
        elderly_age=table.whole("elderly_age"),
        special_income_limit=table.whole("special_income_limit"),
        taxpayer_bands=taxpayer_bands,
        special=tuple(special),
    )


def _dependants(entry: _Entry) -> DependantRules:
    keys = (
        "income_limit",
        "minimum_age",
        "general",
        "specified_from_age",
        "specified_below_age",
        "specified",
        "elderly_age",
        "elderly",
        "elderly_parent_living_together",
    )
    table = entry.section("dependants", keys)
    return DependantRules(**{key: table.whole(key) for key in keys})


def _specified_relative(entry: _Entry) -> SpecifiedRelativeRules:
    table = entry.section("specified_relative", ("from_age", "below_age", "band"))
    return SpecifiedRelativeRules(
        from_age=table.whole("from_age"),
        below_age=table.whole("below_age"),
        bands=_bands(table, "band", open_last=False),
    )


def _income_tax(entry: _Entry) -> tuple[TaxBand, ...]:
    rows = entry.rows("income_tax", ("up_to", "rate_percent", "less"))
    limits = _rising(rows)
    return tuple(
        TaxBand(up_to=up_to, rate_percent=row.whole("rate_percent"), less=row.whole("less"))
        for row, up_to in zip(rows, limits, strict=True)
    )


_TOP_KEYS = (
    "year",
    "name",
    "salary_deduction",
    "income_adjustment",
    "pension_deduction",
    "life_insurance",
    "earthquake_insurance",
    "medical_expenses",
    "self_medication",
    "donations",
    "disability",
    "spouse",
    "dependants",
    "specified_relative",
    "basic_deduction",
    "income_tax",
    "reconstruction_tax",
    "rounding",
)


def parse_rules(file: str, text: str, *, year: int | None = None) -> TaxRules:
    """The rules in ``text`` (the content of ``file``), checked; ``year`` if the name says one."""
    document: Any = tomlfile.read_toml(file, text, TaxRulesFileError)
    top = _Entry(file, "-", document, frozenset(_TOP_KEYS))
    found_year = top.whole("year")
    if year is not None and found_year != year:
        raise top.error(_WRONG_YEAR, value=found_year)
    medical = top.section("medical_expenses", ("threshold", "threshold_percent", "limit"))
    self_medication = top.section("self_medication", ("threshold", "limit"))
    donations = top.section("donations", ("floor", "income_percent"))
    disability = top.section("disability", ("ordinary", "special", "special_living_together"))
    reconstruction = top.section("reconstruction_tax", ("rate_per_mille",))
    rounding = top.section("rounding", ("taxable_income", "tax_due"))
    return TaxRules(
        year=found_year,
        name=top.text("name"),
        salary=_salary(top),
        income_adjustment=_income_adjustment(top),
        pension=_pension(top),
        life_insurance=_life(top),
        earthquake=_earthquake(top),
        medical_threshold=medical.whole("threshold"),
        medical_threshold_percent=medical.whole("threshold_percent"),
        medical_limit=medical.whole("limit"),
        self_medication_threshold=self_medication.whole("threshold"),
        self_medication_limit=self_medication.whole("limit"),
        donation_floor=donations.whole("floor"),
        donation_income_percent=donations.whole("income_percent"),
        disability_ordinary=disability.whole("ordinary"),
        disability_special=disability.whole("special"),
        disability_special_living_together=disability.whole("special_living_together"),
        spouse=_spouse(top),
        dependants=_dependants(top),
        specified_relative=_specified_relative(top),
        basic=_bands(top, "basic_deduction"),
        income_tax=_income_tax(top),
        reconstruction_per_mille=reconstruction.whole("rate_per_mille"),
        taxable_income_unit=max(1, rounding.whole("taxable_income")),
        tax_due_unit=max(1, rounding.whole("tax_due")),
    )


def available_years() -> tuple[int, ...]:
    """The years whose rules ship with Myna, oldest first."""
    data = resources.files("myna.tax").joinpath("data")
    years = (entry.name.removesuffix(".toml") for entry in data.iterdir())
    return tuple(sorted(int(name) for name in years if name.isdigit()))


@cache
def load_rules(year: int, directory: Path | None = None) -> TaxRules:
    """The rules for ``year`` from ``directory`` (default: the shipped ``data/``), once."""
    name = f"{year}.toml"
    if directory is None:
        resource = resources.files("myna.tax").joinpath("data", name)
        if not resource.is_file():
            raise UnknownTaxYearError(year=year)
        return parse_rules(name, resource.read_text("utf-8"), year=year)
    path = directory / name
    if not path.is_file():
        raise UnknownTaxYearError(year=year)
    return parse_rules(str(path), path.read_text("utf-8"), year=year)
