"""E-application forms: the shipped schemas, their rendering plan and field-specific errors."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from myna import forms
from myna.catalog import shipped_catalog
from myna.platform import i18n

VALID: dict[str, dict[str, Any]] = {
    "moving-out": {
        "move_out_date": "2027-03-20",
        "new_postal_code": "530-0001",
        "new_municipality_code": "271004",
        "new_address": "北区梅田1-1-1",
        "move_in_date": "2027-03-25",
        "movers": "household",
        "new_head_name": "山田 太郎",
        "phone": "03-1234-5678",
        "declaration": True,
    },
    "child-allowance-claim": {
        "address": "東京都千代田区千代田1-1",
        "pension": "employees",
        "phone": "03-1234-5678",
        "child_name": "山田 陽翔",
        "child_name_kana": "ヤマダ ハルト",
        "child_birth_date": "2025-04-01",
        "child_relationship": "child",
        "living_together": "together",
        "account": "public-fund",
        "notes": "特になし",
        "declaration": True,
    },
    "pregnancy-notification": {
        "diagnosis_date": "2026-10-01",
        "due_date": "2027-05-20",
        "weeks": 9,
        "multiple": "single",
        "clinic_name": "千代田産婦人科クリニック",
        "first_pregnancy": "yes",
        "phone": "090-1234-5678",
        "interview": True,
        "notes": "",
    },
    "disaster-certificate": {
        "disaster_date": "2026-09-15",
        "disaster_type": "storm",
        "damaged_address": "東京都千代田区千代田1-1",
        "building": "owned-home",
        "relationship": "owner-occupant",
        "damage_description": "屋根瓦が飛ばされ、2階の天井から雨漏りがしています。",
        "copies": 2,
        "phone": "03-1234-5678",
        "declaration": True,
    },
}


def _breakers(prop: dict[str, Any], required: bool) -> list[tuple[str, Any, str]]:
    """(rule, a value breaking only that rule or None to leave it out, expected fragment)."""
    cases: list[tuple[str, Any, str]] = []
    if required and prop.get("type") != "boolean":
        cases.append(("required", None, "ください"))
    if "maxLength" in prop:
        long = "01234-5678-9012" if "pattern" in prop and "0-9" in prop["pattern"] else None
        long = long or ("ア" if "pattern" in prop else "あ") * (prop["maxLength"] + 1)
        cases.append(("maxLength", long, "文字以内"))
    if prop.get("minLength", 0) > 1:
        cases.append(("minLength", "あ" * (prop["minLength"] - 1), "文字以上"))
    if "pattern" in prop:
        cases.append(("pattern", "abc", "形式が正しくありません"))
    if prop.get("format") == "date":
        cases.append(("format", "2026-02-30", "日付で"))
    if "enum" in prop:
        cases.append(("enum", "nope", "選択肢から"))
    if prop.get("type") == "integer":
        cases.append(("type", "十", "半角数字"))
        cases.append(("minimum", prop["minimum"] - 1, "以上に"))
        cases.append(("maximum", prop["maximum"] + 1, "以下に"))
    if "const" in prop:
        cases.append(("const", False, "チェックを入れて"))
    return cases


def _rule_cases() -> list[tuple[str, str, str, Any, str]]:
    cases = []
    for code in sorted(VALID):
        form = forms.shipped_forms()[code]
        required = set(form.schema["required"])
        for name, prop in form.schema["properties"].items():
            for rule, value, fragment in _breakers(prop, name in required):
                # A municipality is chosen from a list, so a wrong one is a wrong choice.
                chosen = form.fields[name].widget == "municipality" and rule == "pattern"
                cases.append((code, name, rule, value, "選択肢から" if chosen else fragment))
    return cases


def test_the_forms_ship_and_their_schemas_are_valid_draft_2020_12() -> None:
    shipped = forms.shipped_forms()
    assert set(shipped) >= set(VALID)
    for code, form in shipped.items():
        Draft202012Validator.check_schema(form.schema)
        procedure = shipped_catalog().get(code)
        assert procedure is not None
        assert procedure.online


def test_every_field_has_a_japanese_label_and_a_known_widget() -> None:
    for form in forms.shipped_forms().values():
        assert list(form.fields) == [f.name for g in form.groups for f in g.fields]
        for spec in form.fields.values():
            assert spec.widget in forms.WIDGETS
            assert any(ord(c) > 0x3000 for c in spec.label)


@pytest.mark.parametrize("code", sorted(VALID))
def test_a_complete_application_has_no_errors(code: str) -> None:
    assert forms.validate(forms.shipped_forms()[code], VALID[code]) == []


@pytest.mark.parametrize(("code", "name", "rule", "value", "fragment"), _rule_cases())
def test_every_rule_gives_a_message_on_its_own_field(
    code: str, name: str, rule: str, value: Any, fragment: str
) -> None:
    form = forms.shipped_forms()[code]
    data = dict(VALID[code])
    if value is None:
        del data[name]
    else:
        data[name] = value
    errors = forms.validate(form, data)
    assert [e.field for e in errors] == [name], rule
    assert form.fields[name].label in errors[0].message
    assert fragment in errors[0].message


def test_the_rule_cases_cover_every_keyword_of_the_schemas() -> None:
    rules = {rule for *_, rule, _v, _f in _rule_cases()}
    assert rules >= {"required", "maxLength", "minLength", "pattern", "format", "enum"}
    assert rules >= {"type", "minimum", "maximum", "const"}


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "2101-01-01"])
def test_a_date_outside_1900_to_2100_is_an_error_on_its_field(day: str) -> None:
    form = forms.shipped_forms()["pregnancy-notification"]
    errors = forms.validate(form, {**VALID["pregnancy-notification"], "due_date": day})
    assert [e.field for e in errors] == ["due_date"]
    assert "1900-01-01から2100-12-31まで" in errors[0].message
    assert form.fields["due_date"].label in errors[0].message


@pytest.mark.parametrize("day", ["1900-01-01", "2100-12-31"])
def test_the_ends_of_the_date_range_are_accepted(day: str) -> None:
    form = forms.shipped_forms()["pregnancy-notification"]
    assert forms.validate(form, {**VALID["pregnancy-notification"], "due_date": day}) == []


@pytest.mark.parametrize("text", ["千代田\x1b産婦人科", "bell\x07", "c1\x85", "del\x7f"])
def test_a_control_character_in_text_is_an_error_on_its_field(text: str) -> None:
    form = forms.shipped_forms()["pregnancy-notification"]
    errors = forms.validate(form, {**VALID["pregnancy-notification"], "clinic_name": text})
    assert [e.field for e in errors] == ["clinic_name"]
    label = form.fields["clinic_name"].label
    assert errors[0].message == f"{label}に制御文字を含めないでください。"


def test_line_breaks_and_tabs_are_text() -> None:
    form = forms.shipped_forms()["pregnancy-notification"]
    data = {**VALID["pregnancy-notification"], "notes": "一行目\r\n二行目\tタブ"}
    assert forms.validate(form, data) == []


def test_posted_text_becomes_json_values() -> None:
    form = forms.shipped_forms()["pregnancy-notification"]
    data = forms.coerce(
        form,
        {"weeks": "１２", "clinic_name": "  ", "interview": "on", "unknown": "x", "notes": "メモ"},
    )
    assert data == {"weeks": 12, "interview": True, "notes": "メモ"}


def test_a_number_that_does_not_parse_stays_text_and_fails_on_its_field() -> None:
    form = forms.shipped_forms()["pregnancy-notification"]
    data = {**VALID["pregnancy-notification"], **forms.coerce(form, {"weeks": "9" * 40})}
    assert data["weeks"] == "9" * 40
    assert [e.field for e in forms.validate(form, data)] == ["weeks"]


def test_the_view_carries_values_and_errors_to_their_fields() -> None:
    form = forms.shipped_forms()["disaster-certificate"]
    groups = forms.view(form, {"copies": "x"}, [forms.FieldError("copies", "必要な通数…")])
    fields = {f.spec.name: f for g in groups for f in g.fields}
    assert fields["copies"].value == "x"
    assert fields["copies"].error == "必要な通数…"
    assert fields["phone"].error == ""
    assert groups[0].title == "災害について"


def test_a_form_whose_ui_misses_a_field_is_refused() -> None:
    raw = {
        "procedure": "x",
        "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
        "ui": {"groups": [], "fields": {}},
    }
    with pytest.raises(forms.FormDefinitionError):
        forms.load_form("x", raw)


def test_the_readable_document_shows_a_year_as_typed() -> None:
    # What the card reader shows before signing and the back office reads: numbers as
    # filed, so a year is never grouped (2,026年度).
    raw = {
        "procedure": "sample-year",
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"fiscal_year": {"type": "integer", "minimum": 2000, "maximum": 2100}},
        },
        "ui": {
            "groups": [{"title": "対象", "fields": ["fiscal_year"]}],
            "fields": {"fiscal_year": {"widget": "text", "label": "対象年度"}},
        },
    }
    form = forms.load_form("sample-year", raw)
    [group] = forms.readable(form, {"fiscal_year": 2026})
    assert group.answers == (("対象年度", "2026"),)


def _small_form(schema_extra: dict[str, Any]) -> dict[str, Any]:
    """A form with a choice, a year, a date and a note, plus ``schema_extra``."""
    return {
        "procedure": "x",
        "schema": {
            "type": "object",
            "properties": {
                "kind": {"type": "string", "enum": ["a", "b"]},
                "year": {"type": "integer", "minimum": 2000, "maximum": 2100},
                "day": {"type": "string", "format": "date"},
                "note": {"type": "string", "maxLength": 50},
            },
            "required": ["kind"],
            **schema_extra,
        },
        "ui": {
            "groups": [{"title": "項目", "fields": ["kind", "year", "day", "note"]}],
            "fields": {
                "kind": {"widget": "radio", "label": "種別", "options": {"a": "甲", "b": "乙"}},
                "year": {"widget": "text", "label": "年度", "inputmode": "numeric"},
                "day": {"widget": "date", "label": "日付"},
                "note": {"widget": "text", "label": "備考"},
            },
        },
    }


def test_a_field_required_in_some_cases_says_which() -> None:
    i18n.set_locale("ja")
    form = forms.load_form(
        "x",
        _small_form(
            {
                "allOf": [
                    {
                        "if": {"properties": {"kind": {"const": "b"}}, "required": ["kind"]},
                        "then": {"required": ["year"]},
                    }
                ],
                "dependentRequired": {"day": ["note"]},
            }
        ),
    )
    fields = form.fields
    assert fields["year"].conditional
    assert fields["year"].condition() == "「種別」が「乙」の場合は必須"
    assert fields["note"].condition() == "「日付」を入力した場合は必須"
    assert not fields["day"].conditional and not fields["day"].required  # plain （任意）
    assert [e.field for e in forms.validate(form, {"kind": "b"})] == ["year"]
    assert forms.validate(form, {"kind": "a"}) == []
    i18n.set_locale("en")
    assert fields["year"].condition() == "required if 「種別」 is 「乙」"
    i18n.set_locale("ja")


def test_an_if_the_page_could_not_explain_is_refused() -> None:
    raw = _small_form(
        {"if": {"properties": {"kind": {"minLength": 1}}}, "then": {"required": ["year"]}}
    )
    with pytest.raises(forms.FormDefinitionError):
        forms.load_form("x", raw)


def test_readable_answers_show_wareki_dates_and_years_without_separators() -> None:
    i18n.set_locale("ja")
    form = forms.load_form("x", _small_form({}))
    data = {"kind": "b", "year": 2026, "day": "2026-11-20"}
    (group,) = forms.readable(form, data)
    assert dict(group.answers) == {"種別": "乙", "年度": "2026", "日付": "令和8年11月20日"}
    assert "2,026" not in str(group.answers)
