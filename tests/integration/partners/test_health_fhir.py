"""自己情報取得API in FHIR: the consented health items as one signed FHIR R4 Bundle.

The consents here are made as the consent page makes them (``create_consent`` with the
ticked items); tokens are minted and proofs signed as in ``test_resources``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from joserfc import jwe, jwt
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import agencies, jpki, network, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.network.transparency.models import LogEntryRow
from myna.partners import authorization, consents, discovery, organizations, resources
from myna.partners.models import ConsentUse, Organization
from myna.platform.db import utcnow
from myna.platform.settings import Settings
from tests.integration.partners.test_resources import (
    CLIENT,
    MYINFO,
    PORTAL,
    _call,
    _platform_keys,
    _proof,
    _token,
)

HEALTH_FHIR = "/api/partners/v1/myinfo/health.fhir"
INSURERS_ITEMS = [
    "health-insurance",
    "medication",
    "clinical-record",
    "specific-checkup",
    "medical-expense",
]


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url=PORTAL) as c:
        yield c


@pytest.fixture
def family(session: Session, settings: Settings) -> dict[str, int]:
    """Taro and Hanako (his wife, insured with him), with their insurers' records."""
    registry.ensure_municipalities(session=session)
    jpki.ensure_authorities(session=session, settings=settings)
    personas = registry.ensure_personas(session=session)
    network.seed_agency_data(session=session, seed=1)
    session.commit()
    return {key: personas[key].id for key in ("taro", "hanako")}


def _organization(session: Session, *, enc_key: ECKey | None = None) -> None:
    keys = [] if enc_key is None else [enc_key.as_dict(private=False, kid="enc-1", use="enc")]
    session.add(
        Organization(
            client_id=CLIENT,
            name="みなと銀行",
            purpose="住宅ローンの団体信用生命保険の引受審査",
            contact="api@minato-bank.example",
            retention="審査終了後1年",
            status="approved",
            redirect_uris=["https://minato-bank.example/callback"],
            jwks={"keys": keys},
            jwks_uri=None,
            requested_scopes=[{"scope": "myinfo.health", "reason": "告知内容の確認"}],
            approved_scopes=["openid", "name", "myinfo.health"],
            created_at=utcnow(),
        )
    )
    session.flush()


def _consent(
    session: Session, settings: Settings, resident_id: int, scopes: list[str], chosen: list[str]
) -> str:
    """The resident ticks ``chosen`` (``scope:item``) on the consent page."""
    given = consents.create_consent(
        session=session,
        settings=settings,
        resident_id=resident_id,
        client=organizations.get_client(session=session, client_id=CLIENT),
        scopes=scopes,
        chosen=chosen,
    )
    return given.id


def _health(*items: str) -> list[str]:
    return [f"myinfo.health:{item}" for item in items]


def _log_length(session: Session) -> int:
    return len(session.scalars(select(LogEntryRow.leaf_index)).all())


def _log_since(session: Session, before: int) -> list[LogEntryRow]:
    session.expire_all()
    return list(session.scalars(select(LogEntryRow).order_by(LogEntryRow.leaf_index)).all())[
        before:
    ]


def _uses(session: Session, consent_id: str) -> list[tuple[str, list[str], bool]]:
    rows = session.scalars(select(ConsentUse).where(ConsentUse.consent_id == consent_id)).all()
    return [(u.api, list(u.items), u.succeeded) for u in rows]


def _resources(document: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == kind]


def test_the_consented_health_items_come_as_one_signed_fhir_bundle(
    client: TestClient, session: Session, settings: Settings, family: dict[str, int]
) -> None:
    taro = family["taro"]
    _organization(session)
    consent_id = _consent(
        session, settings, taro, ["openid", "myinfo.health"], _health(*INSURERS_ITEMS)
    )
    key = ECKey.generate_key("P-256")
    token = _token(session, taro, consent_id, "openid myinfo.health", key)
    before = _log_length(session)
    answer = _call(client, HEALTH_FHIR, token, key)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/jwt")
    assert answer.headers["cache-control"] == "no-store"
    # Signed by the platform: it verifies with the keys at /oauth/jwks.
    result = jwt.decode(answer.text, _platform_keys(client), algorithms=["ES256"])
    assert result.header["typ"] == "fhir-bundle+jwt"
    claims = result.claims
    assert claims["iss"] == PORTAL
    assert claims["aud"] == CLIENT
    assert claims["sub"] == authorization.subject(
        settings=settings, client_id=CLIENT, resident_id=taro
    )
    assert claims["exp"] - claims["iat"] == 300
    assert claims["jti"]
    assert claims["consent_id"] == consent_id
    assert claims["unavailable"] == []
    document = claims["bundle"]
    Bundle.model_validate(document)
    assert document["type"] == "collection"
    kinds = {e["resource"]["resourceType"] for e in document["entry"]}
    assert {"Patient", "Coverage", "MedicationDispense", "ExplanationOfBenefit"} <= kinds
    (patient,) = _resources(document, "Patient")
    assert patient["birthDate"] == "1985-04-12"
    # Every item fetched through the hub for Taro only, under partner-disclosure, logged
    # with the organisation's name as the purpose.
    entries = _log_since(session, before)
    assert {e.item for e in entries} == set(INSURERS_ITEMS)
    assert {e.procedure for e in entries} == {"partner-disclosure"}
    assert {e.subject for e in entries} == {str(taro)}
    assert all("みなと銀行" in (e.purpose or "") for e in entries)
    ((api, items, succeeded),) = _uses(session, consent_id)
    assert (api, succeeded) == ("myinfo-health-fhir", True)
    assert "health-insurance" in items
    assert set(items) <= set(INSURERS_ITEMS)


def test_items_not_consented_are_neither_asked_for_nor_answered(
    client: TestClient, session: Session, settings: Settings, family: dict[str, int]
) -> None:
    taro = family["taro"]
    _organization(session)
    # The whole category in the scope, but only the coverage ticked.
    consent_id = _consent(
        session, settings, taro, ["openid", "myinfo.health"], _health("health-insurance")
    )
    key = ECKey.generate_key("P-256")
    token = _token(session, taro, consent_id, "openid myinfo.health", key)
    before = _log_length(session)
    answer = _call(client, HEALTH_FHIR, token, key)
    assert answer.status_code == 200, answer.text
    document = jwt.decode(answer.text, _platform_keys(client), algorithms=["ES256"]).claims[
        "bundle"
    ]
    Bundle.model_validate(document)
    kinds = {e["resource"]["resourceType"] for e in document["entry"]}
    assert kinds == {"Patient", "Organization", "Coverage"}
    # The hub was asked for the coverage alone.
    assert {e.item for e in _log_since(session, before)} == {"health-insurance"}
    assert _uses(session, consent_id) == [("myinfo-health-fhir", ["health-insurance"], True)]


def test_without_the_coverage_item_nothing_is_fetched_and_the_refusal_says_why(
    client: TestClient, session: Session, settings: Settings, family: dict[str, int]
) -> None:
    taro = family["taro"]
    _organization(session)
    consent_id = _consent(
        session, settings, taro, ["openid", "myinfo.health"], _health("medication")
    )
    key = ECKey.generate_key("P-256")
    token = _token(session, taro, consent_id, "openid myinfo.health", key)
    before = _log_length(session)
    refused = _call(client, HEALTH_FHIR, token, key)
    assert refused.status_code == 403
    assert refused.headers["www-authenticate"].startswith('DPoP error="insufficient_scope"')
    assert refused.json()["error"] == "insufficient_scope"
    assert "医療保険の資格情報" in refused.json()["error_description"]
    english = client.get(
        HEALTH_FHIR,
        headers={
            "Authorization": f"DPoP {token}",
            "DPoP": _proof(key, PORTAL + HEALTH_FHIR, token),
            "Accept-Language": "en",
        },
    )
    assert english.status_code == 403
    assert "health insurance qualification" in english.json()["error_description"]
    assert _log_since(session, before) == []
    assert _uses(session, consent_id) == [("myinfo-health-fhir", [], False)] * 2
    # The same consent still serves its medication on the JSON API.
    served = _call(client, MYINFO, token, key)
    assert served.status_code == 200, served.text


def test_a_token_or_a_consent_without_myinfo_health_gets_insufficient_scope(
    client: TestClient, session: Session, settings: Settings, family: dict[str, int]
) -> None:
    taro = family["taro"]
    _organization(session)
    key = ECKey.generate_key("P-256")
    before = _log_length(session)
    # The consent covers the health items, the token does not carry the scope.
    with_health = _consent(
        session,
        settings,
        taro,
        ["openid", "name", "myinfo.health"],
        ["name:name", *_health(*INSURERS_ITEMS)],
    )
    narrow = _call(client, HEALTH_FHIR, _token(session, taro, with_health, "openid name", key), key)
    # The token claims the scope, the consent (a new one, replacing it) does not give it.
    without = _consent(session, settings, taro, ["openid", "name"], ["name:name"])
    wide = _call(
        client, HEALTH_FHIR, _token(session, taro, without, "openid name myinfo.health", key), key
    )
    for refused in (narrow, wide):
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "insufficient_scope"
    assert _log_since(session, before) == []
    assert _uses(session, with_health) == [("myinfo-health-fhir", [], False)]
    assert _uses(session, without) == [("myinfo-health-fhir", [], False)]


def test_only_the_consenting_residents_records_appear(
    client: TestClient, session: Session, settings: Settings, family: dict[str, int]
) -> None:
    taro, hanako = family["taro"], family["hanako"]
    _organization(session)
    key = ECKey.generate_key("P-256")
    keys = _platform_keys(client)

    def bundle_of(resident_id: int) -> tuple[str, dict[str, Any]]:
        consent_id = _consent(
            session, settings, resident_id, ["openid", "myinfo.health"], _health(*INSURERS_ITEMS)
        )
        token = _token(session, resident_id, consent_id, "openid myinfo.health", key)
        answer = _call(client, HEALTH_FHIR, token, key)
        assert answer.status_code == 200, answer.text
        claims = jwt.decode(answer.text, keys, algorithms=["ES256"]).claims
        return claims["sub"], claims["bundle"]

    before = _log_length(session)
    taro_sub, taros = bundle_of(taro)
    assert {e.subject for e in _log_since(session, before)} == {str(taro)}
    hanako_sub, hanakos = bundle_of(hanako)
    assert taro_sub != hanako_sub  # pairwise, one per resident
    (taro_patient,) = _resources(taros, "Patient")
    (hanako_patient,) = _resources(hanakos, "Patient")
    assert any("太郎" in name["text"] for name in taro_patient["name"])
    assert any("花子" in name["text"] for name in hanako_patient["name"])
    # Nothing of Hanako's (her name, her insured-person id) is in Taro's Bundle.
    text = json.dumps(taros, ensure_ascii=False)
    assert "花子" not in text
    assert hanako_patient["identifier"][0]["value"] not in text
    # Coverage and every record refer to Taro's Patient alone.
    (patient_url,) = [e["fullUrl"] for e in taros["entry"] if e["resource"] is taro_patient]
    for kind, field in (("Coverage", "beneficiary"), ("MedicationDispense", "subject")):
        for resource in _resources(taros, kind):
            assert resource[field]["reference"] == patient_url


def test_the_bundle_is_encrypted_to_an_organisation_that_registered_a_key(
    client: TestClient, session: Session, settings: Settings, family: dict[str, int]
) -> None:
    taro = family["taro"]
    enc = ECKey.generate_key("P-256")
    _organization(session, enc_key=enc)
    consent_id = _consent(
        session, settings, taro, ["openid", "myinfo.health"], _health("health-insurance")
    )
    key = ECKey.generate_key("P-256")
    token = _token(session, taro, consent_id, "openid myinfo.health", key)
    answer = _call(client, HEALTH_FHIR, token, key)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/jose")
    opened = jwe.decrypt_compact(answer.text, enc)
    assert opened.protected["cty"] == "JWT"
    assert opened.plaintext is not None
    inner = jwt.decode(opened.plaintext, _platform_keys(client), algorithms=["ES256"])
    assert inner.header["typ"] == "fhir-bundle+jwt"
    Bundle.model_validate(inner.claims["bundle"])


def test_the_endpoint_is_in_the_openapi_with_the_other_resource_apis(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    operation = paths[HEALTH_FHIR]["get"]
    assert operation["tags"] == paths[MYINFO]["get"]["tags"] == ["resource APIs"]
    assert "fhir-bundle+jwt" in operation["description"]
    assert set(operation["responses"]) >= {"200", "401", "403"}


class _SilentInsurers:
    """Agencies that never answer in time."""

    def query(self, provider: str, signed_query: str) -> str:
        del provider, signed_query
        raise TimeoutError

    def publish(self, owner: str, signed_update: str) -> str:  # pragma: no cover - not used
        del owner, signed_update
        raise TimeoutError


def test_when_the_coverage_cannot_be_read_the_answer_has_no_bundle_and_says_so(
    session: Session, settings: Settings, family: dict[str, int]
) -> None:
    # The use case alone, its hub wired to agencies that time out.
    taro = family["taro"]
    _organization(session)
    consent_id = _consent(
        session, settings, taro, ["openid", "myinfo.health"], _health(*INSURERS_ITEMS)
    )
    hub = network.Hub(
        settings=settings, directory=agencies.load_catalog(), transport=_SilentInsurers()
    )
    context = authorization.TokenContext(CLIENT, taro, consent_id, ("openid", "myinfo.health"))
    answer = resources.health_bundle(
        session=session,
        settings=settings,
        hub=hub,
        cache=organizations.JwksCache(),
        context=context,
    )
    platform = KeySet.import_key_set(discovery.public_jwks(session=session, settings=settings))
    claims = jwt.decode(answer.body, platform, algorithms=["ES256"]).claims
    assert claims["bundle"] is None
    assert claims["unavailable"] == sorted(INSURERS_ITEMS)
    assert answer.items == ()
    assert _uses(session, consent_id) == [("myinfo-health-fhir", [], False)]
