"""The income tax return (確定申告) computed from its inputs, for the common cases.

Pure rules: no file, no database, no web. The year's figures are a :class:`TaxRules`
value read from ``data/<year>.toml`` by :mod:`myna.tax.rules`; this module knows which
article of the law does what with them, never the numbers themselves.

The walk follows the return form (申告書第一表):

1. Income (所得金額): 給与所得 (所得税法第28条, 所得金額調整控除 租税特別措置法第41条の3の3)
   and 公的年金等に係る雑所得 (所得税法第35条), their sum the 合計所得金額, which for
   these incomes alone is also the 総所得金額 and the 総所得金額等.
2. Deductions from income (所得控除, 所得税法第72条–第86条).
3. Tax: 課税総所得金額 rounded down to 1,000 yen (国税通則法第118条第1項), the rate table
   (所得税法第89条), 復興特別所得税 (復興財源確保法第13条), less the tax withheld
   (所得税法第120条第1項第5号), the amount due rounded down to 100 yen (国税通則法第119条
   第1項), less 予定納税額; a negative balance is refunded (所得税法第138条, 第139条).

Left out: other kinds of income (business, real estate, dividends, capital gains and the
separately taxed ones), 雑損控除, 寡婦控除・ひとり親控除・勤労学生控除, the tax credits
(住宅借入金等特別控除, 配当控除 ...), losses carried forward, non-residents, and the
settlement of 住民税. Fractions of a yen in a deduction table are rounded in the
taxpayer's favour (the deduction up, the income down), as the 国税庁 tables do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from myna.platform import i18n
from myna.platform.errors import N_, MynaError, NotFoundError
from myna.platform.tomlfile import ReasonedError
from myna.reference.domain import Relation

# No yen figure on a return comes near a trillion yen: beyond it, a typing slip.
MAX_AMOUNT = 10**12
# Nobody on a return is older than this on the last day of the year.
MAX_AGE = 130


class TaxRulesFileError(ReasonedError):
    """A year's rules file is malformed: nothing is computed with it."""

    code = "invalid_tax_rules"
    message = N_(
        "The tax rules file {file} is not valid at {entry}: {reason} "
        "Correct the entry and try again."
    )
    status_code = 500


class UnknownTaxYearError(NotFoundError):
    """No rules are known for the year asked for."""

    code = "unknown_tax_year"
    message = N_("The tax rules for the year {year} are not available.")


# --- the year's rules, as read from the data file --------------------------------------


@dataclass(frozen=True, slots=True)
class Band:
    """One row of a table: for figures up to ``up_to`` (inclusive; None for the last row).

    The row's value is ``amount`` when fixed, otherwise ``rate_percent`` of the figure
    plus ``add``; a fraction of a yen is rounded up (it is a deduction).
    """

    up_to: int | None
    amount: int | None = None
    rate_percent: int = 0
    add: int = 0

    def value(self, figure: int) -> int:
        """The row's value for ``figure``."""
        if self.amount is not None:
            return self.amount
        return _ceil_div(figure * self.rate_percent, 100) + self.add


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


class _Row(Protocol):
    @property
    def up_to(self) -> int | None: ...


_R = TypeVar("_R", bound=_Row)


def band_for(bands: tuple[_R, ...], figure: int) -> _R:
    """The first row whose ``up_to`` is at least ``figure`` (the last row is open)."""
    for band in bands:
        if band.up_to is None or figure <= band.up_to:
            return band
    return bands[-1]


def table_value(bands: tuple[Band, ...], figure: int) -> int:
    """The value of the table ``bands`` for ``figure``."""
    return band_for(bands, figure).value(figure)


@dataclass(frozen=True, slots=True)
class TaxBand:
    """A row of the income tax 速算表: ``rate_percent`` of the taxable income less ``less``."""

    up_to: int | None
    rate_percent: int
    less: int


@dataclass(frozen=True, slots=True)
class SpecialSpouseBand:
    """A row of the 配偶者特別控除 table: one amount per taxpayer band."""

    up_to: int | None
    amounts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SpouseTaxpayerBand:
    """A band of the taxpayer's 合計所得金額 and its 配偶者控除 (general, elderly)."""

    up_to: int
    general: int
    elderly: int


@dataclass(frozen=True, slots=True)
class SalaryRules:
    """給与所得控除 (所得税法第28条第3項) and the 別表第五 rounding (第28条第4項)."""

    bands: tuple[Band, ...]
    table_from: int
    table_below: int
    table_step: int


@dataclass(frozen=True, slots=True)
class IncomeAdjustmentRules:
    """所得金額調整控除 (租税特別措置法第41条の3の3第1項・第2項)."""

    salary_over: int
    salary_cap: int
    rate_percent: int
    young_dependant_age: int
    each_cap: int
    less: int


@dataclass(frozen=True, slots=True)
class PensionRules:
    """公的年金等控除 (所得税法第35条第4項, 租税特別措置法第41条の15の3)."""

    elderly_age: int
    under_elderly: tuple[Band, ...]
    elderly: tuple[Band, ...]
    other_income_steps: tuple[tuple[int, int], ...]  # (over, less), ascending


@dataclass(frozen=True, slots=True)
class LifeInsuranceRules:
    """生命保険料控除 (所得税法第76条)."""

    new: tuple[Band, ...]
    old: tuple[Band, ...]
    combined_limit: int
    total_limit: int


@dataclass(frozen=True, slots=True)
class EarthquakeRules:
    """地震保険料控除 (所得税法第77条, 平成18年改正法附則第10条)."""

    earthquake_limit: int
    old_long_term: tuple[Band, ...]
    total_limit: int


@dataclass(frozen=True, slots=True)
class SpouseRules:
    """配偶者控除 (所得税法第83条) and 配偶者特別控除 (第83条の2)."""

    income_limit: int
    elderly_age: int
    special_income_limit: int
    taxpayer_bands: tuple[SpouseTaxpayerBand, ...]
    special: tuple[SpecialSpouseBand, ...]


@dataclass(frozen=True, slots=True)
class DependantRules:
    """扶養控除 (所得税法第84条, 同居老親等 租税特別措置法第41条の16)."""

    income_limit: int
    minimum_age: int
    general: int
    specified_from_age: int
    specified_below_age: int
    specified: int
    elderly_age: int
    elderly: int
    elderly_parent_living_together: int


@dataclass(frozen=True, slots=True)
class SpecifiedRelativeRules:
    """特定親族特別控除 (所得税法第84条の2)."""

    from_age: int
    below_age: int
    bands: tuple[Band, ...]


@dataclass(frozen=True, slots=True)
class TaxRules:
    """Everything that changes from year to year, for one year (年分)."""

    year: int
    name: str
    salary: SalaryRules
    income_adjustment: IncomeAdjustmentRules
    pension: PensionRules
    life_insurance: LifeInsuranceRules
    earthquake: EarthquakeRules
    medical_threshold: int
    medical_threshold_percent: int
    medical_limit: int
    self_medication_threshold: int
    self_medication_limit: int
    donation_floor: int
    donation_income_percent: int
    disability_ordinary: int
    disability_special: int
    disability_special_living_together: int
    spouse: SpouseRules
    dependants: DependantRules
    specified_relative: SpecifiedRelativeRules
    basic: tuple[Band, ...]
    income_tax: tuple[TaxBand, ...]
    reconstruction_per_mille: int
    taxable_income_unit: int
    tax_due_unit: int


# --- the inputs ------------------------------------------------------------------------


class Disability(StrEnum):
    """障害者 (所得税法第2条第1項第28号) or 特別障害者 (第29号)."""

    NONE = "none"
    ORDINARY = "ordinary"
    SPECIAL = "special"


class MedicalChoice(StrEnum):
    """医療費控除 or its alternative, セルフメディケーション税制: one or the other."""

    MEDICAL_EXPENSES = "medical_expenses"
    SELF_MEDICATION = "self_medication"


@dataclass(frozen=True, slots=True)
class SalarySlip:
    """給与所得の源泉徴収票: 支払金額, 源泉徴収税額, 社会保険料等の金額."""

    paid: int
    withheld: int = 0
    social_insurance: int = 0
    payer: str = ""


@dataclass(frozen=True, slots=True)
class PensionSlip:
    """公的年金等の源泉徴収票: 支払金額, 源泉徴収税額, 社会保険料の金額 (介護保険料等)."""

    paid: int
    withheld: int = 0
    social_insurance: int = 0
    payer: str = ""


@dataclass(frozen=True, slots=True)
class LifeInsurancePremiums:
    """Life insurance premiums paid in the year, net of dividends, from the 控除証明書.

    New contracts (新契約, from 2012) in three kinds; old ones (旧契約) in two.
    """

    new_general: int = 0
    new_medical: int = 0
    new_annuity: int = 0
    old_general: int = 0
    old_annuity: int = 0


@dataclass(frozen=True, slots=True)
class EarthquakePremiums:
    """地震保険料 and 旧長期損害保険料 paid in the year."""

    earthquake: int = 0
    old_long_term: int = 0


@dataclass(frozen=True, slots=True)
class MedicalExpenses:
    """Medical expenses paid in the year and what insurance or benefits made good."""

    paid: int = 0
    reimbursed: int = 0


@dataclass(frozen=True, slots=True)
class Relative:
    """The spouse or a relative in the same household (生計を一にする親族).

    Their own income is given as revenue (salary, public pension) and other income
    already net (所得), so their 合計所得金額 follows the same year's rules.
    """

    birth_date: date
    salary: int = 0
    pension: int = 0
    other_income: int = 0
    disability: Disability = Disability.NONE
    living_together: bool = True
    # 直系尊属 of the taxpayer or the spouse, for the 同居老親等 amount.
    lineal_ascendant: bool = False


@dataclass(frozen=True, slots=True)
class TaxReturnInput:
    """What the return is computed from (the figures of the documents gathered)."""

    year: int
    birth_date: date
    salaries: tuple[SalarySlip, ...] = ()
    pensions: tuple[PensionSlip, ...] = ()
    # Paid directly (国民年金, 国民健康保険 ...), on top of what the slips show.
    social_insurance: int = 0
    small_business_mutual_aid: int = 0
    life_insurance: LifeInsurancePremiums = field(default_factory=LifeInsurancePremiums)
    earthquake_insurance: EarthquakePremiums = field(default_factory=EarthquakePremiums)
    medical_choice: MedicalChoice = MedicalChoice.MEDICAL_EXPENSES
    medical_expenses: MedicalExpenses = field(default_factory=MedicalExpenses)
    self_medication_spent: int = 0
    donations: int = 0
    disability: Disability = Disability.NONE
    spouse: Relative | None = None
    dependants: tuple[Relative, ...] = ()
    prepaid_tax: int = 0  # 予定納税額 (第1期分 + 第2期分)


# --- validation ------------------------------------------------------------------------

_NEGATIVE = N_("{label}: the amount must not be negative.")
_ABSURD = N_("{label}: the amount is larger than any return could hold ({amount} yen).")
_BORN_AFTER_YEAR = N_("{label}: the date of birth {born} is after the end of the year {year}.")
_TOO_OLD = N_("{label}: the date of birth {born} makes the person older than {age}.")
_REIMBURSED_OVER_PAID = N_(
    "The amount reimbursed ({reimbursed} yen) is more than the medical expenses paid ({paid} yen)."
)
_WITHHELD_OVER_PAID = N_(
    "{label}: the tax withheld ({withheld} yen) is more than the amount paid ({paid} yen)."
)

# Field labels shown with a problem (translated on display).
LABELS: Mapping[str, str] = {
    "birth_date": N_("Your date of birth"),
    "salaries.paid": N_("Salary slip: amount paid (支払金額)"),
    "salaries.withheld": N_("Salary slip: tax withheld (源泉徴収税額)"),
    "salaries.social_insurance": N_("Salary slip: social insurance (社会保険料等の金額)"),
    "pensions.paid": N_("Pension slip: amount paid (支払金額)"),
    "pensions.withheld": N_("Pension slip: tax withheld (源泉徴収税額)"),
    "pensions.social_insurance": N_("Pension slip: social insurance (社会保険料の金額)"),
    "social_insurance": N_("Social insurance premiums paid (社会保険料)"),
    "small_business_mutual_aid": N_("Small business mutual aid premiums (小規模企業共済等掛金)"),
    "life_insurance": N_("Life insurance premiums (生命保険料)"),
    "earthquake_insurance": N_("Earthquake insurance premiums (地震保険料)"),
    "medical_expenses.paid": N_("Medical expenses paid (医療費)"),
    "medical_expenses.reimbursed": N_("Medical expenses reimbursed (補填される金額)"),
    "self_medication_spent": N_("Self-medication purchases (特定一般用医薬品等購入費)"),
    "donations": N_("Donations (寄附金)"),
    "prepaid_tax": N_("Tax prepaid (予定納税額)"),
    "spouse": N_("Spouse (配偶者)"),
    "dependants": N_("Relative in the household (親族)"),
}


@dataclass(frozen=True, slots=True)
class InputProblem:
    """One thing wrong with the inputs: the field (a path) and a message with its params."""

    field: str
    message: str
    params: Mapping[str, Any]

    def localized(self) -> str:
        """The message in the locale in force, its ``label`` translated too."""
        params = dict(self.params)
        label = params.get("label")
        if isinstance(label, str):
            params["label"] = i18n.gettext(label)
        return i18n.gettext(self.message).format(**params)


class TaxInputError(MynaError):
    """The inputs of a return hold negative or absurd values; ``problems`` lists each."""

    code = "invalid_tax_input"

    def __init__(self, problems: Iterable[InputProblem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        super().__init__(first.message, **first.params)

    def localized(self) -> str:
        """The first problem, translated (a form shows each of ``problems`` by its field)."""
        return self.problems[0].localized()


def _age_on_last_day(birth_date: date, year: int) -> int:
    """The age on 31 December of ``year`` (所得税法第85条第1項・第3項).

    By the 年齢計算ニ関スル法律 a person gains a year at the end of the day before the
    birthday, so whoever was born on 1 January of the next age reaches it on 31 December:
    the age is the ordinary one on 1 January of the next year.
    """
    reference = date(year + 1, 1, 1)
    return (
        reference.year
        - birth_date.year
        - (
            (reference.month, reference.day)
            < (
                birth_date.month,
                birth_date.day,
            )
        )
    )


def age_on_last_day(birth_date: date, year: int) -> int:
    """The age that counts for ``year``'s return (on 31 December, 所得税法第85条)."""
    return _age_on_last_day(birth_date, year)


def amount_problem(path: str, value: int, label_key: str | None = None) -> InputProblem | None:
    """What is wrong with one yen amount (negative, or beyond any return), if anything.

    ``label_key`` names the field in :data:`LABELS` when ``path`` does not (a path with
    an index, ``salaries[0].paid``, is labelled as ``salaries.paid``).
    """
    label = LABELS[label_key or path]
    if value < 0:
        return InputProblem(path, _NEGATIVE, {"label": label})
    if value > MAX_AMOUNT:
        return InputProblem(path, _ABSURD, {"label": label, "amount": value})
    return None


def validate(inputs: TaxReturnInput) -> tuple[InputProblem, ...]:
    """Every problem with ``inputs``: negative or absurd amounts, impossible dates."""
    problems: list[InputProblem] = []

    def amount(path: str, value: int, label_key: str | None = None) -> None:
        problem = amount_problem(path, value, label_key)
        if problem is not None:
            problems.append(problem)

    def born(path: str, value: date, label_key: str) -> None:
        label = LABELS[label_key]
        if value > date(inputs.year, 12, 31):
            params = {"label": label, "born": value.isoformat(), "year": inputs.year}
            problems.append(InputProblem(path, _BORN_AFTER_YEAR, params))
        elif _age_on_last_day(value, inputs.year) > MAX_AGE:
            params = {"label": label, "born": value.isoformat(), "age": MAX_AGE}
            problems.append(InputProblem(path, _TOO_OLD, params))

    born("birth_date", inputs.birth_date, "birth_date")
    slips: list[tuple[str, Sequence[SalarySlip | PensionSlip]]] = [
        ("salaries", inputs.salaries),
        ("pensions", inputs.pensions),
    ]
    for kind, group in slips:
        for index, slip in enumerate(group):
            for name in ("paid", "withheld", "social_insurance"):
                amount(f"{kind}[{index}].{name}", getattr(slip, name), f"{kind}.{name}")
            if 0 <= slip.paid < slip.withheld:
                params = {
                    "label": LABELS[f"{kind}.withheld"],
                    "withheld": slip.withheld,
                    "paid": slip.paid,
                }
                problems.append(
                    InputProblem(f"{kind}[{index}].withheld", _WITHHELD_OVER_PAID, params)
                )
    for name in (
        "social_insurance",
        "small_business_mutual_aid",
        "self_medication_spent",
        "donations",
        "prepaid_tax",
    ):
        amount(name, getattr(inputs, name))
    for premium_kind in ("life_insurance", "earthquake_insurance"):
        premiums = getattr(inputs, premium_kind)
        for item in fields(premiums):
            amount(f"{premium_kind}.{item.name}", getattr(premiums, item.name), premium_kind)
    medical = inputs.medical_expenses
    amount("medical_expenses.paid", medical.paid)
    amount("medical_expenses.reimbursed", medical.reimbursed)
    if medical.reimbursed > medical.paid >= 0:
        params = {"reimbursed": medical.reimbursed, "paid": medical.paid}
        problems.append(InputProblem("medical_expenses.reimbursed", _REIMBURSED_OVER_PAID, params))
    relatives: list[tuple[str, str, Relative]] = []
    if inputs.spouse is not None:
        relatives.append(("spouse", "spouse", inputs.spouse))
    relatives.extend(
        (f"dependants[{index}]", "dependants", dependant)
        for index, dependant in enumerate(inputs.dependants)
    )
    for path, label_key, relative in relatives:
        born(f"{path}.birth_date", relative.birth_date, label_key)
        for name in ("salary", "pension", "other_income"):
            amount(f"{path}.{name}", getattr(relative, name), label_key)
    return tuple(problems)


# --- income (所得金額) ------------------------------------------------------------------


def salary_income(rules: TaxRules, revenue: int) -> int:
    """給与所得 before 所得金額調整控除: revenue less 給与所得控除 (所得税法第28条).

    Below ``table_below`` (660万円) 第28条第4項 makes 別表第五 the rule: its rows are
    ``table_step`` (4,000 yen) wide from ``table_from``, which the formula reproduces
    on the revenue rounded down to the row's start.
    """
    salary = rules.salary
    figure = revenue
    if salary.table_from <= revenue < salary.table_below:
        figure = revenue - revenue % salary.table_step
    return max(0, figure - table_value(salary.bands, figure))


def pension_deduction(rules: TaxRules, revenue: int, *, age: int, other_income: int) -> int:
    """公的年金等控除額 (所得税法第35条第4項; 65歳以上 租税特別措置法第41条の15の3).

    The table depends on the age on 31 December and is lowered as a whole when the
    合計所得金額 from other sources exceeds 1,000万円 (and again 2,000万円).
    """
    pension = rules.pension
    bands = pension.elderly if age >= pension.elderly_age else pension.under_elderly
    less = 0
    for over, step_less in pension.other_income_steps:
        if other_income > over:
            less = step_less
    return table_value(bands, revenue) - less


def pension_income(rules: TaxRules, revenue: int, *, age: int, other_income: int) -> int:
    """公的年金等に係る雑所得: revenue less 公的年金等控除 (所得税法第35条第2項第1号)."""
    deduction = pension_deduction(rules, revenue, age=age, other_income=other_income)
    return max(0, revenue - deduction)


def relative_income(rules: TaxRules, relative: Relative, year: int) -> int:
    """A relative's 合計所得金額 (所得税法第2条第1項第30号口) from their revenues."""
    age = _age_on_last_day(relative.birth_date, year)
    salary = salary_income(rules, relative.salary)
    other = salary + relative.other_income
    return other + pension_income(rules, relative.pension, age=age, other_income=other)


# --- deductions (所得控除) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LifeInsuranceDeduction:
    """生命保険料控除 by kind and in total (所得税法第76条)."""

    general: int
    medical: int
    annuity: int
    total: int


def life_insurance_deduction(
    rules: TaxRules, premiums: LifeInsurancePremiums
) -> LifeInsuranceDeduction:
    """生命保険料控除 (所得税法第76条第1項–第4項).

    Each kind is read from its table: new contracts up to 40,000 yen (第1項第1号,
    第2項, 第3項第1号), old ones up to 50,000 yen (第1項第2号, 第3項第2号). With both
    new and old contracts of one kind, the taxpayer may claim the old alone or both
    together up to 40,000 yen (第1項第3号, 第3項第3号); the better of the two is taken.
    The three kinds together are limited to 120,000 yen (第4項).
    """
    life = rules.life_insurance

    def kind(new: int, old: int) -> int:
        new_part = table_value(life.new, new) if new else 0
        old_part = table_value(life.old, old) if old else 0
        if new and old:
            return max(old_part, min(life.combined_limit, new_part + old_part))
        return new_part or old_part

    general = kind(premiums.new_general, premiums.old_general)
    medical = kind(premiums.new_medical, 0)
    annuity = kind(premiums.new_annuity, premiums.old_annuity)
    return LifeInsuranceDeduction(
        general=general,
        medical=medical,
        annuity=annuity,
        total=min(life.total_limit, general + medical + annuity),
    )


def earthquake_deduction(rules: TaxRules, premiums: EarthquakePremiums) -> int:
    """地震保険料控除 (所得税法第77条第1項; 旧長期損害保険料 平成18年改正法附則第10条第2項).

    地震保険料 count in full up to 50,000 yen; 旧長期損害保険料 by their table up to
    15,000 yen; the two together are limited to 50,000 yen.
    """
    quake = rules.earthquake
    earthquake = min(quake.earthquake_limit, premiums.earthquake)
    old = table_value(quake.old_long_term, premiums.old_long_term) if premiums.old_long_term else 0
    return min(quake.total_limit, earthquake + old)


def medical_expense_deduction(
    rules: TaxRules, expenses: MedicalExpenses, *, total_income: int
) -> int:
    """医療費控除 (所得税法第73条第1項).

    What was paid less what insurance made good, less the smaller of 100,000 yen and
    5 % of the 総所得金額等; at most 2,000,000 yen.
    """
    threshold = min(rules.medical_threshold, total_income * rules.medical_threshold_percent // 100)
    net = expenses.paid - expenses.reimbursed
    return max(0, min(rules.medical_limit, net - threshold))


def self_medication_deduction(rules: TaxRules, spent: int) -> int:
    """セルフメディケーション税制 (租税特別措置法第41条の17第1項).

    特定一般用医薬品等購入費 less 12,000 yen, at most 88,000 yen; it replaces the
    医療費控除 for the year (第41条の17第3項: one or the other). Claiming it presumes
    the taxpayer's own health check-up (健康診査等) in the year, which the taxpayer
    declares.
    """
    return max(0, min(rules.self_medication_limit, spent - rules.self_medication_threshold))


def better_medical_choice(rules: TaxRules, inputs: TaxReturnInput) -> MedicalChoice:
    """Which of 医療費控除 and セルフメディケーション税制 deducts more (ties: 医療費控除).

    Both are computed on the same 総所得金額等; the taxpayer still declares the choice.
    """
    total_income = compute_income(rules, inputs).total_income
    medical = medical_expense_deduction(rules, inputs.medical_expenses, total_income=total_income)
    self_medication = self_medication_deduction(rules, inputs.self_medication_spent)
    if self_medication > medical:
        return MedicalChoice.SELF_MEDICATION
    return MedicalChoice.MEDICAL_EXPENSES


def donation_deduction(rules: TaxRules, donations: int, *, total_income: int) -> int:
    """寄附金控除 (所得税法第78条第1項).

    The 特定寄附金 (ふるさと納税 included), limited to 40 % of the 総所得金額等, less
    2,000 yen. (The 住民税 part of ふるさと納税 is the municipality's, not computed here.)
    """
    limited = min(donations, total_income * rules.donation_income_percent // 100)
    return max(0, limited - rules.donation_floor)


def basic_deduction(rules: TaxRules, total_income: int) -> int:
    """基礎控除 (所得税法第86条第1項; 令和7・8年分の加算 租税特別措置法第41条の16の2).

    By the taxpayer's 合計所得金額; the year's bands are in the rules file.
    """
    return table_value(rules.basic, total_income)


class RelativeKind(StrEnum):
    """How a relative counts on the return."""

    SPOUSE = "spouse"  # 控除対象配偶者 (配偶者控除)
    ELDERLY_SPOUSE = "elderly_spouse"  # 老人控除対象配偶者
    SPOUSE_SPECIAL = "spouse_special"  # 配偶者特別控除
    SAME_HOUSEHOLD_SPOUSE = "same_household_spouse"  # 同一生計配偶者, no deduction
    YOUNG_DEPENDANT = "young_dependant"  # 年少扶養親族 (under 16), no deduction
    DEPENDANT = "dependant"  # 一般の控除対象扶養親族
    SPECIFIED_DEPENDANT = "specified_dependant"  # 特定扶養親族
    ELDERLY_DEPENDANT = "elderly_dependant"  # 老人扶養親族
    ELDERLY_PARENT = "elderly_parent"  # 同居老親等
    SPECIFIED_RELATIVE = "specified_relative"  # 特定親族特別控除
    NONE = "none"  # too much income: not on the return


@dataclass(frozen=True, slots=True)
class RelativeLine:
    """One relative on the return: their age, 合計所得金額, how they count and for how much."""

    age: int
    income: int
    kind: RelativeKind
    amount: int
    disability_amount: int


def spouse_line(
    rules: TaxRules, spouse: Relative, *, year: int, taxpayer_income: int
) -> RelativeLine:
    """The spouse: 配偶者控除 (所得税法第83条) or 配偶者特別控除 (第83条の2).

    A spouse whose 合計所得金額 is at most 58万円 is the 同一生計配偶者 (第2条第1項
    第33号); with the taxpayer's own 合計所得金額 at most 1,000万円 also the 控除対象
    配偶者 (第33号の2), deducted by the taxpayer's band, more from 70 (老人控除対象配偶者,
    第33号の3). Above 58万円 and up to 133万円 the 配偶者特別控除 applies instead, by the
    spouse's and the taxpayer's bands.
    """
    spouse_rules = rules.spouse
    age = _age_on_last_day(spouse.birth_date, year)
    income = relative_income(rules, spouse, year)
    column = next(
        (
            index
            for index, band in enumerate(spouse_rules.taxpayer_bands)
            if taxpayer_income <= band.up_to
        ),
        None,
    )
    kind, amount = RelativeKind.NONE, 0
    if income <= spouse_rules.income_limit:
        kind = RelativeKind.SAME_HOUSEHOLD_SPOUSE
        if column is not None:
            band = spouse_rules.taxpayer_bands[column]
            elderly = age >= spouse_rules.elderly_age
            kind = RelativeKind.ELDERLY_SPOUSE if elderly else RelativeKind.SPOUSE
            amount = band.elderly if elderly else band.general
    elif income <= spouse_rules.special_income_limit and column is not None:
        kind = RelativeKind.SPOUSE_SPECIAL
        amount = band_for(spouse_rules.special, income).amounts[column]
    disability = 0
    if income <= spouse_rules.income_limit:
        disability = _disability_amount(rules, spouse.disability, spouse.living_together)
    return RelativeLine(age, income, kind, amount, disability)


def dependant_line(rules: TaxRules, relative: Relative, *, year: int) -> RelativeLine:
    """A relative in the household: 扶養控除 (所得税法第84条) or 特定親族特別控除 (第84条の2).

    With a 合計所得金額 of at most 58万円 the relative is a 扶養親族 (第2条第1項第34号):
    none under 16 (年少扶養親族, but they count for 障害者控除), 38万円 (一般), 63万円
    from 19 to 22 (特定扶養親族, 第34号の3), 48万円 from 70 (老人扶養親族, 第34号の4),
    58万円 for a parent or grandparent living together (同居老親等, 租税特別措置法
    第41条の16第1項). From 19 to 22 with more income, up to 123万円, the 特定親族特別控除
    applies by its table.
    """
    dep = rules.dependants
    age = _age_on_last_day(relative.birth_date, year)
    income = relative_income(rules, relative, year)
    kind, amount, disability = RelativeKind.NONE, 0, 0
    if income <= dep.income_limit:
        disability = _disability_amount(rules, relative.disability, relative.living_together)
        if age < dep.minimum_age:
            kind = RelativeKind.YOUNG_DEPENDANT
        elif dep.specified_from_age <= age < dep.specified_below_age:
            kind, amount = RelativeKind.SPECIFIED_DEPENDANT, dep.specified
        elif age >= dep.elderly_age and relative.lineal_ascendant and relative.living_together:
            kind, amount = RelativeKind.ELDERLY_PARENT, dep.elderly_parent_living_together
        elif age >= dep.elderly_age:
            kind, amount = RelativeKind.ELDERLY_DEPENDANT, dep.elderly
        else:
            kind, amount = RelativeKind.DEPENDANT, dep.general
    else:
        specified = rules.specified_relative
        last = specified.bands[-1].up_to
        in_age = specified.from_age <= age < specified.below_age
        if in_age and (last is None or income <= last):
            kind = RelativeKind.SPECIFIED_RELATIVE
            amount = table_value(specified.bands, income)
    return RelativeLine(age, income, kind, amount, disability)


def _disability_amount(rules: TaxRules, disability: Disability, living_together: bool) -> int:
    """障害者控除 for one relative (所得税法第79条第1項–第3項)."""
    if disability is Disability.ORDINARY:
        return rules.disability_ordinary
    if disability is Disability.SPECIAL:
        if living_together:
            return rules.disability_special_living_together
        return rules.disability_special
    return 0


def own_disability_amount(rules: TaxRules, disability: Disability) -> int:
    """障害者控除 for the taxpayer (所得税法第79条第1項・第2項)."""
    return _disability_amount(rules, disability, living_together=False)


# --- the household (世帯) ----------------------------------------------------------------


class Tie(StrEnum):
    """How a member of the household is related to the taxpayer, as far as the return cares."""

    SPOUSE = "spouse"  # 配偶者
    # 直系尊属 of the taxpayer or the spouse: 同居老親等 from 70 (租税特別措置法第41条の16)
    ASCENDANT = "ascendant"
    RELATIVE = "relative"  # another 親族 (6親等内の血族, 3親等内の姻族: 民法第725条)


@dataclass(frozen=True, slots=True)
class HouseholdRelative:
    """A member of the taxpayer's household who may count on the return."""

    tie: Tie
    relation: str  # 世帯主との続柄, as the 住民票 writes it
    birth_date: date


_ASCENDANTS = frozenset(
    {
        Relation.FATHER,
        Relation.MOTHER,
        Relation.GRANDFATHER,
        Relation.GRANDMOTHER,
        Relation.WIFES_FATHER,
        Relation.WIFES_MOTHER,
        Relation.HUSBANDS_FATHER,
        Relation.HUSBANDS_MOTHER,
    }
)
_SIBLINGS = frozenset(
    {
        Relation.ELDER_BROTHER,
        Relation.ELDER_SISTER,
        Relation.YOUNGER_BROTHER,
        Relation.YOUNGER_SISTER,
    }
)
_DESCENDANTS = frozenset(
    {Relation.CHILD, Relation.CHILDS_WIFE, Relation.CHILDS_HUSBAND, Relation.GRANDCHILD}
)
_HEADS_VIEW: Mapping[Relation, Tie] = {
    Relation.WIFE: Tie.SPOUSE,
    Relation.HUSBAND: Tie.SPOUSE,
    **dict.fromkeys(_ASCENDANTS, Tie.ASCENDANT),
    **dict.fromkeys(_DESCENDANTS | _SIBLINGS, Tie.RELATIVE),
}
# The head's spouse: the head is the spouse; the head's parents and grandparents are the
# spouse's 直系尊属 (and 妻の父・夫の母 … one's own); the head's children, their spouses,
# grandchildren and siblings are 親族 (blood or 姻族 within three degrees).
_SPOUSES_VIEW: Mapping[Relation, Tie] = {
    Relation.HEAD: Tie.SPOUSE,
    **dict.fromkeys(_ASCENDANTS, Tie.ASCENDANT),
    **dict.fromkeys(_DESCENDANTS | _SIBLINGS, Tie.RELATIVE),
}
# A child of the head: the head is a parent; the head's spouse may be a step-parent
# (1親等の姻族, not a 直系尊属), which the 住民票 does not tell, so is counted as a 親族
# only; the head's parents and grandparents are one's own 直系尊属; the head's parents-in-
# law are one's grandparents only through that spouse, so they are left out.
_CHILDS_VIEW: Mapping[Relation, Tie] = {
    Relation.HEAD: Tie.ASCENDANT,
    Relation.WIFE: Tie.RELATIVE,
    Relation.HUSBAND: Tie.RELATIVE,
    Relation.FATHER: Tie.ASCENDANT,
    Relation.MOTHER: Tie.ASCENDANT,
    Relation.GRANDFATHER: Tie.ASCENDANT,
    Relation.GRANDMOTHER: Tie.ASCENDANT,
    Relation.CHILD: Tie.RELATIVE,
    Relation.GRANDCHILD: Tie.RELATIVE,
    **dict.fromkeys(_SIBLINGS, Tie.RELATIVE),
}
_RELATIONS = frozenset(relation.value for relation in Relation)
_VIEWS: Mapping[Relation, Mapping[Relation, Tie]] = {
    Relation.HEAD: _HEADS_VIEW,
    Relation.WIFE: _SPOUSES_VIEW,
    Relation.HUSBAND: _SPOUSES_VIEW,
    Relation.CHILD: _CHILDS_VIEW,
}


def household_relatives(
    you: tuple[str, date], members: Sequence[tuple[str, date]], *, year: int
) -> tuple[HouseholdRelative, ...] | None:
    """The members of the taxpayer's household who may count on ``year``'s return.

    ``members`` are the household's (続柄, date of birth) pairs as the 住民票 lists them,
    the taxpayer (``you``) among them; None when the taxpayer is not among them. The 続柄
    is each one's relation to the head, so how a member is related to the taxpayer is
    read from the pair of relations: it is told for a taxpayer who is the head, the
    head's spouse or the head's child. Members the pair does not tell (a 同居人, and
    every member for a taxpayer in another place in the household) are left out, as are
    those born after the year (ages count on 31 December, 所得税法第85条). A 子の妻 or
    子の夫 is the spouse of a taxpayer who is the household's only 子.
    """
    others = list(members)
    if you not in others:
        return None
    others.remove(you)
    try:
        yours = Relation(you[0])
    except ValueError:
        return ()
    view = dict(_VIEWS.get(yours, {}))
    if yours is Relation.CHILD and not any(r == Relation.CHILD for r, _ in others):
        in_law = [r for r, _ in others if r in (Relation.CHILDS_WIFE, Relation.CHILDS_HUSBAND)]
        if len(in_law) == 1:
            view[Relation(in_law[0])] = Tie.SPOUSE
    found: list[HouseholdRelative] = []
    spouse_seen = False
    for relation, born in others:
        tie = view.get(Relation(relation)) if relation in _RELATIONS else None
        if tie is None or born > date(year, 12, 31):
            continue
        if tie is Tie.SPOUSE:
            if spouse_seen:  # a household record with two spouses: only the first counts
                continue
            spouse_seen = True
        found.append(HouseholdRelative(tie, relation, born))
    return tuple(found)


# --- the computation -------------------------------------------------------------------


def income_tax_on(rules: TaxRules, taxable_income: int) -> int:
    """The tax on the 課税総所得金額 (所得税法第89条第1項), by the 速算表 of the rules file."""
    band = band_for(rules.income_tax, taxable_income)
    return max(0, taxable_income * band.rate_percent // 100 - band.less)


@dataclass(frozen=True, slots=True)
class IncomeFigures:
    """The income part of the return (所得金額等)."""

    salary_revenue: int  # 給与 収入金額等
    salary_deduction: int  # 給与所得控除額
    salary_income_before_adjustment: int
    income_adjustment: int  # 所得金額調整控除
    salary_income: int  # 給与所得
    age: int
    pension_revenue: int  # 公的年金等 収入金額等
    pension_deduction: int  # 公的年金等控除額
    pension_income: int  # 公的年金等に係る雑所得
    total_income: int  # 合計所得金額 = 総所得金額 = 総所得金額等 here


def compute_income(rules: TaxRules, inputs: TaxReturnInput) -> IncomeFigures:
    """The 給与所得, the 公的年金等に係る雑所得 and their sum (所得税法第22条第2項).

    所得金額調整控除 (租税特別措置法第41条の3の3) comes off the 給与所得: 第1項 when
    the salary exceeds 850万円 and the taxpayer, the spouse or a dependant is a
    特別障害者 or a 扶養親族 is under 23; 第2項 when there is both salary and pension
    income. The pension table's "other income" is the 給与所得 after 第1項 only.
    """
    age = _age_on_last_day(inputs.birth_date, inputs.year)
    salary_revenue = sum(slip.paid for slip in inputs.salaries)
    before = salary_income(rules, salary_revenue)
    adjustment_rules = rules.income_adjustment
    first = 0
    if salary_revenue > adjustment_rules.salary_over and _qualifies_for_adjustment(rules, inputs):
        over = min(salary_revenue, adjustment_rules.salary_cap) - adjustment_rules.salary_over
        first = _ceil_div(over * adjustment_rules.rate_percent, 100)
    salary_after_first = max(0, before - first)
    pension_revenue = sum(slip.paid for slip in inputs.pensions)
    deduction = 0
    pension = 0
    if pension_revenue:
        deduction = pension_deduction(
            rules, pension_revenue, age=age, other_income=salary_after_first
        )
        pension = max(0, pension_revenue - deduction)
    second = max(
        0,
        min(salary_after_first, adjustment_rules.each_cap)
        + min(pension, adjustment_rules.each_cap)
        - adjustment_rules.less,
    )
    second = min(second, salary_after_first)
    salary = salary_after_first - second
    return IncomeFigures(
        salary_revenue=salary_revenue,
        salary_deduction=salary_revenue - before,
        salary_income_before_adjustment=before,
        income_adjustment=min(before, first) + second,
        salary_income=salary,
        age=age,
        pension_revenue=pension_revenue,
        pension_deduction=min(deduction, pension_revenue),
        pension_income=pension,
        total_income=salary + pension,
    )


def _qualifies_for_adjustment(rules: TaxRules, inputs: TaxReturnInput) -> bool:
    young = rules.income_adjustment.young_dependant_age
    if inputs.disability is Disability.SPECIAL:
        return True
    spouse = inputs.spouse
    if (
        spouse is not None
        and spouse.disability is Disability.SPECIAL
        and relative_income(rules, spouse, inputs.year) <= rules.spouse.income_limit
    ):
        return True
    for relative in inputs.dependants:
        if relative_income(rules, relative, inputs.year) > rules.dependants.income_limit:
            continue
        if relative.disability is Disability.SPECIAL:
            return True
        if _age_on_last_day(relative.birth_date, inputs.year) < young:
            return True
    return False


@dataclass(frozen=True, slots=True)
class TaxComputation:
    """Every figure of the return by name, in the order of the form.

    ``refund`` and ``due`` are never both positive: the 第3期分の税額 is paid (``due``)
    or refunded (``refund``).
    """

    year: int
    rules_name: str
    income: IncomeFigures
    # 所得から差し引かれる金額
    social_insurance: int  # 社会保険料控除 (所得税法第74条)
    small_business_mutual_aid: int  # 小規模企業共済等掛金控除 (第75条)
    life_insurance: LifeInsuranceDeduction  # 生命保険料控除 (第76条)
    earthquake_insurance: int  # 地震保険料控除 (第77条)
    medical_choice: MedicalChoice
    medical: int  # 医療費控除 (第73条) or セルフメディケーション (措置法第41条の17)
    donations: int  # 寄附金控除 (第78条)
    disability: int  # 障害者控除 (第79条)
    spouse: RelativeLine | None
    spouse_deduction: int  # 配偶者控除 (第83条)
    spouse_special_deduction: int  # 配偶者特別控除 (第83条の2)
    dependants: tuple[RelativeLine, ...]
    dependant_deduction: int  # 扶養控除 (第84条)
    specified_relative_deduction: int  # 特定親族特別控除 (第84条の2)
    basic_deduction: int  # 基礎控除 (第86条)
    total_deductions: int  # 所得控除の合計
    # 税金の計算
    taxable_income: int  # 課税される所得金額 (1,000円未満切捨て)
    income_tax: int  # 上の所得に対する税額 = 基準所得税額 (no tax credits here)
    reconstruction_tax: int  # 復興特別所得税額
    total_tax: int  # 所得税及び復興特別所得税の額
    withheld: int  # 源泉徴収税額
    declared_tax: int  # 申告納税額 (negative: 還付される税金)
    prepaid_tax: int  # 予定納税額
    due: int  # 第3期分の税額 納める税金
    refund: int  # 還付される税金

    @property
    def total_income(self) -> int:
        """合計所得金額 (also the 総所得金額等 for these incomes)."""
        return self.income.total_income

    def figures(self) -> dict[str, int]:
        """Every yen figure by its dotted name, for a form that shows each filled field."""
        found: dict[str, int] = {}

        def walk(prefix: str, value: object) -> None:
            if isinstance(value, bool):
                return
            if isinstance(value, int):
                found[prefix] = value
            elif isinstance(value, tuple):
                for index, item in enumerate(value):
                    walk(f"{prefix}[{index}]", item)
            elif hasattr(value, "__dataclass_fields__"):
                for item in fields(value):  # type: ignore[arg-type]
                    walk(
                        f"{prefix}.{item.name}" if prefix else item.name, getattr(value, item.name)
                    )

        walk("", self)
        return found


def compute(rules: TaxRules, inputs: TaxReturnInput) -> TaxComputation:
    """The return for ``inputs`` under ``rules``, or :class:`TaxInputError`.

    Deductions (所得控除) come off the 総所得金額 (所得税法第87条第2項 order is moot here:
    only 総合課税 income); the 課税総所得金額 is rounded down to 1,000 yen (国税通則法
    第118条第1項) and taxed by the 速算表 (所得税法第89条第1項). The 基準所得税額 equals the
    tax as no credit is taken; the 復興特別所得税 is 2.1 % of it, fractions of a yen
    dropped (復興財源確保法第13条). The tax withheld (所得税法第120条第1項第5号; 復興財源確保法
    第17条第1項 第5号) comes off; a positive 申告納税額 is rounded down to 100 yen (国税通則法
    第119条第1項); the 予定納税額 then comes off (所得税法第120条第1項第8号) and a negative
    balance is refunded in full (所得税法第138条第1項, 第139条第1項).
    """
    if inputs.year != rules.year:
        raise UnknownTaxYearError(year=inputs.year)
    problems = validate(inputs)
    if problems:
        raise TaxInputError(problems)

    income = compute_income(rules, inputs)
    total_income = income.total_income

    social = (
        inputs.social_insurance
        + sum(slip.social_insurance for slip in inputs.salaries)
        + sum(slip.social_insurance for slip in inputs.pensions)
    )
    life = life_insurance_deduction(rules, inputs.life_insurance)
    earthquake = earthquake_deduction(rules, inputs.earthquake_insurance)
    if inputs.medical_choice is MedicalChoice.SELF_MEDICATION:
        medical = self_medication_deduction(rules, inputs.self_medication_spent)
    else:
        medical = medical_expense_deduction(
            rules, inputs.medical_expenses, total_income=total_income
        )
    donations = donation_deduction(rules, inputs.donations, total_income=total_income)

    spouse = None
    if inputs.spouse is not None:
        spouse = spouse_line(rules, inputs.spouse, year=inputs.year, taxpayer_income=total_income)
    relatives = tuple(dependant_line(rules, r, year=inputs.year) for r in inputs.dependants)
    on_return = (*relatives, *((spouse,) if spouse else ()))
    disability = own_disability_amount(rules, inputs.disability) + sum(
        line.disability_amount for line in on_return
    )
    spouse_deduction = spouse_special = 0
    if spouse is not None:
        if spouse.kind is RelativeKind.SPOUSE_SPECIAL:
            spouse_special = spouse.amount
        else:
            spouse_deduction = spouse.amount
    specified_relative = sum(
        line.amount for line in relatives if line.kind is RelativeKind.SPECIFIED_RELATIVE
    )
    dependant_deduction = sum(line.amount for line in relatives) - specified_relative
    basic = basic_deduction(rules, total_income)
    total_deductions = (
        social
        + inputs.small_business_mutual_aid
        + life.total
        + earthquake
        + medical
        + donations
        + disability
        + spouse_deduction
        + spouse_special
        + dependant_deduction
        + specified_relative
        + basic
    )

    taxable = max(0, total_income - total_deductions)
    taxable -= taxable % rules.taxable_income_unit
    income_tax = income_tax_on(rules, taxable)
    reconstruction = income_tax * rules.reconstruction_per_mille // 1000
    total_tax = income_tax + reconstruction
    withheld = sum(slip.withheld for slip in inputs.salaries) + sum(
        slip.withheld for slip in inputs.pensions
    )
    declared = total_tax - withheld
    if declared > 0:
        declared -= declared % rules.tax_due_unit
    balance = declared - inputs.prepaid_tax
    return TaxComputation(
        year=inputs.year,
        rules_name=rules.name,
        income=income,
        social_insurance=social,
        small_business_mutual_aid=inputs.small_business_mutual_aid,
        life_insurance=life,
        earthquake_insurance=earthquake,
        medical_choice=inputs.medical_choice,
        medical=medical,
        donations=donations,
        disability=disability,
        spouse=spouse,
        spouse_deduction=spouse_deduction,
        spouse_special_deduction=spouse_special,
        dependants=relatives,
        dependant_deduction=dependant_deduction,
        specified_relative_deduction=specified_relative,
        basic_deduction=basic,
        total_deductions=total_deductions,
        taxable_income=taxable,
        income_tax=income_tax,
        reconstruction_tax=reconstruction,
        total_tax=total_tax,
        withheld=withheld,
        declared_tax=declared,
        prepaid_tax=inputs.prepaid_tax,
        due=max(0, balance),
        refund=max(0, -balance),
    )
