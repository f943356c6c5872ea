"""Every online procedure of the catalog has a form: it loads, takes a complete example,
and names the field of each rule an entry breaks; its page renders and accepts the example.

Moves (転出届・転入予約) are left out: they have their own pages and forms.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from myna import agencies
from myna import forms as myna_forms
from myna.applications import forms
from myna.catalog.domain import Category, Procedure
from myna.catalog.loader import shipped_catalog
from myna.reader import client as login_client
from tests.integration.portal.conftest import PIN, IssuedCard, portal, reader, taro_card

__all__ = ["portal", "reader", "taro_card"]  # the portal's fixtures, shared

EXAMPLES = Path(__file__).with_name("form_examples")
PORTAL = "http://testserver"
HOME_MUNICIPALITY = "131016"  # 千代田区, where the personas live
# Shipped before every form ended with a declaration; kept as it is until the lead decides.
WITHOUT_DECLARATION = frozenset({"pregnancy-notification"})


def _is_move(procedure: Procedure) -> bool:
    return procedure.code.split("-")[0] in {"move", "moving"} or procedure.name_ja.startswith(
        ("転出", "転入")
    )


ONLINE = [p for p in shipped_catalog().procedures if p.online and not _is_move(p)]
CODES = [p.code for p in ONLINE]


def _form(code: str) -> forms.FormDefinition:
    return forms.shipped_forms()[code]


def _example(code: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{code}.json").read_text(encoding="utf-8"))
    return loaded


def _failing(form: forms.FormDefinition, data: dict[str, Any]) -> list[str]:
    return [error.field for error in forms.validate(form, data)]


def _conditions(code: str) -> list[tuple[str, list[str], list[str]]]:
    """The schema's "field X is required when Y is one of ..." rules, as (Y, values, X's)."""
    found = []
    for rule in _form(code).schema.get("allOf", []):
        ((trigger, test),) = rule["if"]["properties"].items()
        values = test["enum"] if "enum" in test else [test["const"]]
        found.append((trigger, values, rule["then"]["required"]))
    return found


def test_the_catalog_has_online_procedures_to_check() -> None:
    assert len(CODES) >= 30
    assert {"child-allowance-revision", "care-certification", "vehicle-weight-tax"} <= set(CODES)


@pytest.mark.parametrize("code", CODES)
def test_every_online_procedure_has_a_form_that_loads(code: str) -> None:
    procedure = shipped_catalog().get(code)
    assert procedure is not None
    file = Path(myna_forms.__file__).with_name("data").joinpath(f"{code}.json")
    assert file.is_file(), f"{code} is online but has no form"
    form = forms.load_form(code, json.loads(file.read_text("utf-8")))
    assert form.schema["title"] == procedure.name_ja
    assert form.schema["additionalProperties"] is False
    assert 5 <= len(form.fields) <= 15
    assert code in forms.shipped_forms()


@pytest.mark.parametrize("code", CODES)
def test_every_field_speaks_japanese_and_explains_its_format(code: str) -> None:
    form = _form(code)
    for group in form.groups:
        assert not group.title.isascii()
    for name, spec in form.fields.items():
        prop = form.schema["properties"][name]
        assert not spec.label.isascii(), name
        assert all(not label.isascii() for _, label in spec.options), name
        if "pattern" in prop:
            assert spec.hint and spec.help, name  # the pattern error quotes the hint
        if prop.get("format") == "date":
            assert spec.widget == "date", name
        if prop.get("type") == "integer":
            assert spec.widget == "text" and spec.inputmode == "numeric" and spec.help, name


@pytest.mark.parametrize("code", CODES)
def test_a_prefill_takes_only_text_fields_from_fields_the_item_has(code: str) -> None:
    items = agencies.load_catalog().items
    for group in _form(code).groups:
        if group.prefill is None:
            continue
        item_fields = {f.name for f in items[group.prefill.item].fields}
        for name, source in group.prefill.fields:
            assert source in item_fields, (group.title, source)
            assert _form(code).fields[name].widget in {"text", "date"}, name


@pytest.mark.parametrize("code", [c for c in CODES if c not in WITHOUT_DECLARATION])
def test_every_form_ends_with_a_declaration_that_must_be_checked(code: str) -> None:
    form = _form(code)
    last = form.groups[-1].fields[-1]
    assert last.name == "declaration"
    assert last.widget == "checkbox" and last.required
    assert form.schema["properties"]["declaration"] == {"type": "boolean", "const": True}
    assert _failing(form, {**_example(code), "declaration": False}) == ["declaration"]


@pytest.mark.parametrize("code", CODES)
def test_a_complete_example_fills_every_field_and_passes(code: str) -> None:
    form = _form(code)
    example = _example(code)
    assert set(example) == set(form.fields)
    assert forms.validate(form, example) == []


@pytest.mark.parametrize("code", CODES)
def test_removing_a_required_field_gives_an_error_naming_it(code: str) -> None:
    form = _form(code)
    example = _example(code)
    required = form.schema["required"]
    assert required
    for name in required:
        data = {k: v for k, v in example.items() if k != name}
        errors = forms.validate(form, data)
        assert [e.field for e in errors] == [name]
        assert form.fields[name].label in errors[0].message


@pytest.mark.parametrize("code", CODES)
def test_a_wrong_choice_format_or_size_is_an_error_on_its_field(code: str) -> None:
    form = _form(code)
    example = _example(code)
    checked = 0
    for name, prop in form.schema["properties"].items():
        wrong: list[Any] = []
        if "enum" in prop:
            wrong.append("not-a-choice")
        if "pattern" in prop:
            wrong += ["!!!", "ｘ" + str(example[name])]
        if prop.get("format") == "date":
            wrong += ["2026-02-30", "令和8年1月1日"]
        if "minimum" in prop:
            wrong += [prop["minimum"] - 1, "たくさん"]
        if "maximum" in prop:
            wrong.append(prop["maximum"] + 1)
        if "maxLength" in prop and "pattern" not in prop:
            wrong.append("あ" * (prop["maxLength"] + 1))
        for value in wrong:
            assert _failing(form, {**example, name: value}) == [name], (name, value)
            checked += 1
    assert checked


@pytest.mark.parametrize("code", [c for c in CODES if _conditions(c)])
def test_a_field_asked_only_in_some_cases_is_required_just_then(code: str) -> None:
    form = _form(code)
    example = _example(code)
    for trigger, values, then in _conditions(code):
        choices = form.schema["properties"][trigger]["enum"]
        other = next(v for v in choices if v not in values)
        for name in then:
            # The page marks it optional, so its help has to say when it is needed.
            assert form.fields[name].help, name
            data = {k: v for k, v in example.items() if k != name}
            assert _failing(form, {**data, trigger: values[0]}) == [name], (trigger, name)
        untouched = {k: v for k, v in example.items() if k not in then}
        assert not set(then) & set(_failing(form, {**untouched, trigger: other})), trigger


@pytest.mark.parametrize("code", CODES)
def test_a_field_labelled_optional_is_never_demanded(code: str) -> None:
    """（任意） on the page: not required, in no condition, and leaving it empty passes."""
    form = _form(code)
    example = _example(code)
    conditional = {name for _trigger, _values, then in _conditions(code) for name in then}
    optional = [
        spec for spec in form.fields.values() if not spec.required and not spec.required_when
    ]
    for spec in optional:
        assert spec.name not in form.schema["required"], spec.name
        assert spec.name not in conditional, spec.name
        without = {k: v for k, v in example.items() if k != spec.name}
        assert spec.name not in _failing(form, without), spec.name
        assert spec.name not in _failing(form, {}), spec.name
    # Every field the schema can demand is marked: required, or required in a case it names.
    for name in set(form.schema["required"]) | conditional:
        assert form.fields[name].required or form.fields[name].required_when, name


@pytest.mark.parametrize("code", [c for c in CODES if _conditions(c)])
def test_a_conditional_field_says_when_it_is_required(code: str) -> None:
    form = _form(code)
    for trigger, values, then in _conditions(code):
        source = form.fields[trigger]
        shown = [dict(source.options)[v] for v in values]
        for name in then:
            spec = form.fields[name]
            if spec.required:
                continue
            text = spec.condition()
            assert f"「{source.label}」が" in text, (name, text)
            assert "の場合は必須" in text, (name, text)
            assert all(f"「{v}」" in text for v in shown), (name, text)


def _posted(example: dict[str, Any]) -> dict[str, str]:
    """The example as a browser posts it: text, and checked boxes as "on"."""
    return {k: "on" if v is True else str(v) for k, v in example.items() if v is not False}


# One login per category rather than per form: issuing a card is the slow part.
@pytest.mark.parametrize("category", sorted({p.category for p in ONLINE}))
def test_each_form_page_renders_and_accepts_its_example(
    portal: TestClient, taro_card: IssuedCard, category: Category
) -> None:
    login_client.login(
        portal, PORTAL, taro_card.reader.open_session(taro_card.card_id, "auth", PIN)
    )
    for procedure in (p for p in ONLINE if p.category == category):
        code = procedure.code
        where = (
            HOME_MUNICIPALITY
            if procedure.offered_in(HOME_MUNICIPALITY)
            else (procedure.municipalities or ("",))[0]
        )
        url = f"/apply/{where}/{code}"
        page = portal.get(url)
        assert page.status_code == 200, code
        html = page.text
        assert f"<h1>{procedure.name_ja}</h1>" in html, code
        form = _form(code)
        for spec in form.fields.values():
            if spec.conditional:
                assert f"（{spec.condition()}）" in html, (code, spec.name)
        for group in form.groups:
            assert f"<legend>{group.title}</legend>" in html, (code, group.title)
        for name in form.fields:
            assert f'id="field-{name}"' in html, (code, name)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert token, code
        checked = portal.post(
            f"{url}/check", data={**_posted(_example(code)), "csrf_token": token.group(1)}
        )
        errors = re.findall(r'class="field-error"[^>]*>([^<]+)', checked.text)
        assert checked.status_code == 200, (code, errors)
        assert "署名できる状態" in checked.text, code
        assert "<h1>申請内容の確認</h1>" in checked.text, code
