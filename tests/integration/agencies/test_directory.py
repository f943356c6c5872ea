"""The directory lists national agencies and one of each kind per municipality."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from myna.agencies import AgencyKind, UnknownAgencyError, agency_directory, resolve_agency
from myna.registry import ensure_municipalities, list_municipalities


def test_every_municipality_is_an_agency_with_its_own_health_insurance(session: Session) -> None:
    ensure_municipalities(session=session)
    codes = {a.code: a for a in agency_directory(session=session)}
    municipalities = list_municipalities(session=session)
    assert municipalities
    for municipality in municipalities:
        assert codes[f"muni-{municipality.code}"].kind == AgencyKind.MUNICIPALITY
        assert codes[f"kokuho-{municipality.code}"].kind == AgencyKind.INSURER
        assert codes[f"koki-{municipality.prefecture_code}"].kind == AgencyKind.INSURER
    for national in ("portal", "nta", "mhlw", "jps", "hellowork", "mext", "police", "kyokai"):
        assert national in codes


def test_an_agency_is_resolved_with_its_japanese_name(session: Session) -> None:
    ensure_municipalities(session=session)
    assert resolve_agency(session=session, code="muni-131016").name_ja == "東京都千代田区"
    assert resolve_agency(session=session, code="koki-01").name_ja == "北海道後期高齢者医療広域連合"
    assert resolve_agency(session=session, code="jps").name_ja == "日本年金機構"
    with pytest.raises(UnknownAgencyError):
        resolve_agency(session=session, code="muni-999999")
