"""An agency node: the database-free verifier of the hub's messages, and its endpoint."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import jpki, network
from myna.bootstrap import Container
from myna.network.domain import HUB, ProviderAnswer, ProviderQuery, new_request_id
from myna.network.messages import Credential, sign
from myna.network.node import (
    MEDIA_TYPE,
    QUERY_PATH,
    AgencyNode,
    CrlCache,
    HubTrust,
    RevocationUnavailableError,
    create_node_app,
    verify_hub_message,
)
from myna.platform.db import utcnow
from myna.platform.settings import Settings
from tests.integration.network.conftest import World
from tests.integration.network.nodekit import FixedCrl, new_p256_key, real_trust, rogue_authority

CHIYODA = "muni-131016"


@dataclass
class Keys:
    hub: Credential
    trust: HubTrust
    crl: FixedCrl


def _crl(session: Session, settings: Settings) -> FixedCrl:
    der = jpki.current_crl(session=session, settings=settings, kind=jpki.AuthorityKind.GOVERNMENT)
    return FixedCrl(x509.load_der_x509_crl(der))


@pytest.fixture
def keys(session: Session, settings: Settings) -> Keys:
    jpki.ensure_authorities(session=session, settings=settings)
    hub = network.credential_for(session=session, settings=settings, code=HUB)
    return Keys(hub=hub, trust=real_trust(session), crl=_crl(session, settings))


def _query(provider: str = CHIYODA, link_code: str = "LINKCODE") -> bytes:
    return ProviderQuery(
        request_id=new_request_id(),
        requester=network.PORTAL,
        procedure=network.SELF_DISCLOSURE,
        provider=provider,
        link_code=link_code,
        items=("household",),
        issued_at=utcnow(),
    ).to_json()


# -- the verifier ---------------------------------------------------------------------


def test_it_accepts_a_query_signed_by_the_hub(keys: Keys) -> None:
    payload = _query()
    opened = verify_hub_message(sign(payload, keys.hub), trust=keys.trust, revocation=keys.crl)
    assert opened.sender == HUB
    assert opened.payload == payload


def test_it_rejects_a_hub_certificate_from_a_ca_it_does_not_trust(keys: Keys) -> None:
    rogue = rogue_authority()
    with pytest.raises(jpki.OrganizationVerificationError) as caught:
        verify_hub_message(
            sign(_query(), keys.hub), trust=rogue.trust, revocation=FixedCrl(rogue.crl())
        )
    assert caught.value.code == "bad_certificate_signature"


def test_it_rejects_a_revoked_hub_certificate(
    session: Session, settings: Settings, keys: Keys
) -> None:
    token = sign(_query(), keys.hub)
    jpki.revoke_organization_certificate(
        session=session,
        serial=keys.hub.certificate.serial_number,
        reason=jpki.RevocationReason.KEY_COMPROMISE,
    )
    with pytest.raises(jpki.OrganizationVerificationError) as caught:
        verify_hub_message(token, trust=keys.trust, revocation=_crl(session, settings))
    assert caught.value.code == "revoked"


def test_it_rejects_a_tampered_token(keys: Keys) -> None:
    header, _payload, signature = sign(_query(), keys.hub).split(".")
    other = base64.urlsafe_b64encode(_query(link_code="SOMEONEELSE")).rstrip(b"=").decode()
    with pytest.raises(jpki.OrganizationVerificationError) as caught:
        verify_hub_message(f"{header}.{other}.{signature}", trust=keys.trust, revocation=keys.crl)
    assert caught.value.code == "bad_signature"


def test_it_rejects_a_message_signed_by_an_agency_that_is_not_the_hub(
    session: Session, settings: Settings, keys: Keys
) -> None:
    agency = network.credential_for(session=session, settings=settings, code=CHIYODA)
    with pytest.raises(network.SenderMismatchError):
        verify_hub_message(sign(_query(), agency), trust=keys.trust, revocation=keys.crl)


def test_it_rejects_a_hub_key_that_does_not_match_the_certificate(keys: Keys) -> None:
    impostor = Credential(code=HUB, certificate=keys.hub.certificate, private_key=new_p256_key())
    with pytest.raises(jpki.OrganizationVerificationError) as caught:
        verify_hub_message(sign(_query(), impostor), trust=keys.trust, revocation=keys.crl)
    assert caught.value.code == "bad_signature"


def test_it_refuses_to_trust_a_crl_the_government_ca_did_not_sign(keys: Keys) -> None:
    forged = FixedCrl(rogue_authority().crl())
    with pytest.raises(RevocationUnavailableError):
        verify_hub_message(sign(_query(), keys.hub), trust=keys.trust, revocation=forged)


def test_the_crl_cache_fetches_once_and_keeps_its_crl_when_a_refresh_fails(
    session: Session, settings: Settings, keys: Keys
) -> None:
    del keys  # the authorities exist
    der = jpki.current_crl(session=session, settings=settings, kind=jpki.AuthorityKind.GOVERNMENT)
    answers = [httpx.Response(200, content=der), httpx.Response(503)]
    fetched: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        return answers[len(fetched) - 1]

    cache = CrlCache(
        url="http://hub.test/jpki/crl/gov.crl",
        client=httpx.Client(transport=httpx.MockTransport(serve)),
    )
    assert cache.revocation_list().public_bytes(Encoding.DER) == der
    assert cache.revocation_list().public_bytes(Encoding.DER) == der
    assert len(fetched) == 1
    cache.refresh()
    assert len(fetched) == 2
    assert cache.revocation_list().public_bytes(Encoding.DER) == der


def test_a_node_without_a_crl_reports_revocation_unavailable() -> None:
    broken = CrlCache(
        url="http://hub.test/jpki/crl/gov.crl",
        client=httpx.Client(transport=httpx.MockTransport(lambda _r: httpx.Response(503))),
    )
    with pytest.raises(RevocationUnavailableError):
        broken.revocation_list()


def test_a_chain_file_without_a_root_is_refused(keys: Keys) -> None:
    with pytest.raises(network.ExchangeError) as caught:
        HubTrust.from_pem(keys.trust.government.public_bytes(Encoding.PEM))
    assert caught.value.code == "node_configuration"


# -- the endpoint ---------------------------------------------------------------------


@pytest.fixture
def node_client(
    session: Session, settings: Settings, container: Container, keys: Keys, world: World
) -> Iterator[tuple[TestClient, Credential]]:
    del world  # the personas' records are in the store
    credential = network.credential_for(session=session, settings=settings, code=CHIYODA)
    session.commit()
    node = AgencyNode(
        agency_code=CHIYODA, credential=credential, trust=keys.trust, revocation=keys.crl
    )
    with TestClient(create_node_app(container, node), raise_server_exceptions=False) as client:
        yield client, keys.hub


def _post(client: TestClient, body: bytes | str, media_type: str = MEDIA_TYPE) -> httpx.Response:
    response: httpx.Response = client.post(
        QUERY_PATH, content=body, headers={"content-type": media_type}
    )
    return response


def test_the_node_answers_a_signed_query_with_a_signed_answer(
    session: Session,
    settings: Settings,
    world: World,
    node_client: tuple[TestClient, Credential],
) -> None:
    client, hub = node_client
    link_code = network.link_code_for_resident(
        session=session, resident_id=world.residents["taro"].id, agency_code=CHIYODA
    )
    response = _post(client, sign(_query(link_code=link_code), hub))
    assert response.status_code == 200
    assert response.headers["content-type"] == MEDIA_TYPE
    opened = network.open_signed(
        response.text, session=session, settings=settings, expected_sender=CHIYODA
    )
    answer = ProviderAnswer.from_json(opened.payload)
    assert [r.item for r in answer.records] == ["household"]


def test_the_node_refuses_a_replayed_query(node_client: tuple[TestClient, Credential]) -> None:
    client, hub = node_client
    token = sign(_query(), hub)
    assert _post(client, token).status_code == 200
    again = _post(client, token)
    assert again.status_code == 409
    assert again.json()["error"] == "replayed_message"


def test_the_node_refuses_a_query_for_another_agency(
    node_client: tuple[TestClient, Credential],
) -> None:
    client, hub = node_client
    response = _post(client, sign(_query(provider="kenpo-minato-denki"), hub))
    assert response.status_code == 421
    assert response.json()["error"] == "wrong_provider"


@pytest.mark.parametrize(
    ("body", "media_type", "status", "code"),
    [
        (b"", MEDIA_TYPE, 401, "unsigned_message"),
        (b"not a token", MEDIA_TYPE, 401, "unsigned_message"),
        (b"a.b.c", MEDIA_TYPE, 400, "malformed_message"),
        (b"\xff\xfe.\x00.x", MEDIA_TYPE, 400, "malformed_message"),
        (b"eyJhbGciOiJub25lIn0.e30.", MEDIA_TYPE, 401, "unsigned_message"),
        (b"x" * 300_000, MEDIA_TYPE, 413, "message_too_large"),
        (b"{}", "application/json", 415, "unsupported_media_type"),
    ],
)
def test_the_node_answers_garbage_with_a_clear_json_error(
    node_client: tuple[TestClient, Credential],
    body: bytes,
    media_type: str,
    status: int,
    code: str,
) -> None:
    client, _hub = node_client
    response = _post(client, body, media_type)
    assert response.status_code == status
    assert response.json()["error"] == code
    assert response.json()["message"]


def test_the_node_answers_unknown_routes_and_methods_in_json(
    node_client: tuple[TestClient, Credential],
) -> None:
    client, _hub = node_client
    assert client.get(QUERY_PATH).json()["error"] == "method_not_allowed"
    assert client.get("/nothing").json()["error"] == "not_found"
    assert client.get("/healthz").json() == {"status": "ok", "agency": CHIYODA}
