"""接種証明書: issuing through the hub, the published keys, and the verifier's refusals."""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
import segno
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import jpki, network, registry
from myna.bootstrap import Container
from myna.platform.db import utcnow
from myna.platform.settings import Settings
from myna.reader import client as login_client
from myna.vaccination import domain, qr, service
from myna.vaccination.domain import CertificateRejectedError
from tests.integration.portal.conftest import PIN, IssuedCard, issue

PORTAL = "http://testserver"
CHIYODA = "131016"


@dataclass
class World:
    """Haruto (who has routine vaccinations) logged in, and the hub."""

    client: TestClient
    card: IssuedCard
    session: Session
    settings: Settings
    container: Container

    def issue(self, slug: str = "mr", resident_id: int | None = None) -> service.IssuedCertificates:
        return service.issue(
            session=self.session,
            hub=self.container.hub_for(self.session),
            settings=self.settings,
            resident_id=resident_id or self.card.resident_id,
            slug=slug,
        )

    def verify(self, text: str, **kwargs: object) -> domain.VerifiedCertificate:
        return service.verify(session=self.session, settings=self.settings, text=text, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def world(
    portal: TestClient, session: Session, settings: Settings, container: Container, reader: object
) -> World:
    haruto = issue(session, settings, reader, "haruto")  # type: ignore[arg-type]
    network.seed_agency_data(session=session, seed=1)
    session.commit()
    login_client.login(portal, PORTAL, haruto.reader.open_session(haruto.card_id, "auth", PIN))
    return World(portal, haruto, session, settings, container)


def _reason(world: World, text: str) -> str:
    with pytest.raises(CertificateRejectedError) as caught:
        world.verify(text)
    return caught.value.reason


def _jws_parts(jws: str) -> tuple[dict[str, object], dict[str, object], str]:
    head, body, signature = jws.split(".")
    header = json.loads(domain.b64url_decode(head))
    payload = json.loads(domain.inflate_raw(domain.b64url_decode(body)))
    return header, payload, signature


def _resign(
    jws_header: dict[str, object], payload: dict[str, object], key: ec.EllipticCurvePrivateKey
) -> str:
    signer = service.Signer("000000", str(jws_header["kid"]), None, key)  # type: ignore[arg-type]
    return service.sign_shc(payload, signer)


def test_a_resident_gets_both_certificates_of_a_vaccine_and_they_verify(world: World) -> None:
    issued = world.issue("mr")
    assert [d.dose for d in issued.doses] == [1, 2]
    assert issued.issuer == f"{world.settings.portal_url}/vaccination/issuers/{CHIYODA}"
    header, payload, _ = _jws_parts(issued.shc_jws)
    assert header["alg"] == "ES256"
    assert header["zip"] == "DEF"
    assert payload["iss"] == issued.issuer
    vc = payload["vc"]
    assert isinstance(vc, dict)
    assert vc["type"] == [domain.SHC_HEALTH_CARD, domain.SHC_IMMUNIZATION]
    entries = vc["credentialSubject"]["fhirBundle"]["entry"]
    assert entries[0]["resource"]["resourceType"] == "Patient"
    assert {e["resource"]["vaccineCode"]["coding"][0]["code"] for e in entries[1:]} == {"04"}
    shc = world.verify(issued.shc_qr)
    assert shc.format == "shc"
    assert "山田 陽翔" in shc.names
    assert [d.vaccine for d in shc.doses] == ["MR（麻しん風しん）"] * 2
    assert issued.vds is not None
    seal = json.loads(issued.vds)
    assert seal["data"]["hdr"] == {"t": "icao.vacc", "v": 1, "is": "JPN"}
    assert seal["data"]["msg"]["pid"]["n"] == "YAMADA HARUTO"
    vds = world.verify(issued.vds)
    assert vds.format == "vds-nc"
    assert vds.birth_date == shc.birth_date
    assert vds.issuer == f"vax-{CHIYODA}"


def test_the_issuing_read_goes_through_the_hub_and_is_logged(world: World) -> None:
    world.issue("je")
    logged = network.transparency.entries_for_subject(
        session=world.session, subject=str(world.card.resident_id), page_size=100
    )
    assert any(e.item == "vaccination" and e.purpose == service.PURPOSE for e in logged.items)


def test_the_municipality_publishes_its_key_with_the_certificate_chain(world: World) -> None:
    issued = world.issue("mr")
    world.session.commit()
    answer = world.client.get(f"/vaccination/issuers/{CHIYODA}/.well-known/jwks.json")
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    keys = answer.json()["keys"]
    header, _, _ = _jws_parts(issued.shc_jws)
    (key,) = [k for k in keys if k["kid"] == header["kid"]]
    assert domain.jwk_thumbprint(key) == key["kid"]
    leaf = base64.b64decode(key["x5c"][0])
    verified = jpki.verify_organization_certificate(
        session=world.session, settings=world.settings, certificate=leaf
    )
    assert verified.organization_code == f"vax-{CHIYODA}"
    assert world.client.get("/vaccination/issuers/999999/.well-known/jwks.json").status_code == 400
    # A municipality that has issued nothing publishes no key.
    assert world.client.get("/vaccination/issuers/141003/.well-known/jwks.json").json() == {
        "keys": []
    }
    assert world.client.get("/vaccination/issuers/abc/.well-known/jwks.json").status_code == 422


def test_a_card_signed_with_another_key_is_refused(world: World) -> None:
    issued = world.issue("mr")
    header, payload, _ = _jws_parts(issued.shc_jws)
    forged = _resign(header, payload, ec.generate_private_key(ec.SECP256R1()))
    assert _reason(world, domain.shc_numeric(forged)) == "bad_signature"
    # A forger's own kid is no key of the municipality.
    unknown = _resign({"kid": "forger"}, payload, ec.generate_private_key(ec.SECP256R1()))
    assert _reason(world, unknown) == "unknown_key"


def test_a_tampered_payload_is_refused(world: World) -> None:
    issued = world.issue("mr")
    head, _, signature = issued.shc_jws.split(".")
    _, payload, _ = _jws_parts(issued.shc_jws)
    payload["vc"]["credentialSubject"]["fhirBundle"]["entry"][0]["resource"]["birthDate"] = (
        "2000-01-01"  # type: ignore[index]
    )
    body = domain.b64url(domain.deflate_raw(domain.minified(payload)))
    assert _reason(world, f"{head}.{body}.{signature}") == "bad_signature"
    assert issued.vds is not None
    seal = json.loads(issued.vds)
    seal["data"]["msg"]["pid"]["dob"] = "2000-01-01"
    assert _reason(world, json.dumps(seal)) == "bad_signature"


def test_an_unknown_issuer_is_refused(world: World) -> None:
    issued = world.issue("mr")
    header, payload, _ = _jws_parts(issued.shc_jws)
    key = ec.generate_private_key(ec.SECP256R1())
    for issuer in (
        "https://evil.example/vaccination/issuers/131016",
        f"{world.settings.portal_url}/vaccination/issuers/999999",
    ):
        assert _reason(world, _resign(header, {**payload, "iss": issuer}, key)) == "unknown_issuer"
    # A seal signed with a certificate Myna never issued.
    assert issued.vds is not None
    seal = json.loads(issued.vds)
    seal["sig"]["cer"] = domain.b64url(b"\x30\x03\x02\x01\x00")
    assert _reason(world, json.dumps(seal)) == "untrusted_signer"


def test_an_agency_message_key_cannot_sign_a_seal(world: World) -> None:
    issued = world.issue("mr")
    assert issued.vds is not None
    data = json.loads(issued.vds)["data"]
    credential = network.credential_for(
        session=world.session, settings=world.settings, code=f"muni-{CHIYODA}"
    )
    signer = service.Signer(CHIYODA, "k", credential.certificate, credential.private_key)
    assert _reason(world, service.sign_vds(data, signer)) == "signer_mismatch"


def test_a_revoked_signer_is_refused_and_replaced(world: World) -> None:
    issued = world.issue("mr")
    signer = service.current_signer(
        session=world.session, settings=world.settings, municipality_code=CHIYODA
    )
    jpki.revoke_organization_certificate(
        session=world.session,
        serial=signer.certificate.serial_number,
        reason=jpki.RevocationReason.KEY_COMPROMISE,
    )
    assert _reason(world, issued.shc_qr) == "revoked"
    assert issued.vds is not None
    assert _reason(world, issued.vds) == "revoked"
    keys = service.jwks(session=world.session, settings=world.settings, municipality_code=CHIYODA)
    assert signer.kid not in {k["kid"] for k in keys["keys"]}
    again = world.issue("mr")
    assert world.verify(again.shc_qr).format == "shc"
    assert _jws_parts(again.shc_jws)[0]["kid"] != signer.kid


def test_an_expired_signer_is_refused(world: World) -> None:
    issued = world.issue("mr")
    later = utcnow() + timedelta(days=365 * 3 + 30)
    with pytest.raises(CertificateRejectedError) as caught:
        service.verify(
            session=world.session, settings=world.settings, text=issued.shc_qr, now=later
        )
    assert caught.value.reason == "expired"


def test_a_card_from_the_future_is_refused(world: World) -> None:
    issued = world.issue("mr")
    earlier = utcnow() - timedelta(hours=1)
    with pytest.raises(CertificateRejectedError) as caught:
        service.verify(
            session=world.session, settings=world.settings, text=issued.shc_qr, now=earlier
        )
    assert caught.value.reason == "not_yet_valid"


def test_only_the_residents_own_records_are_certified(world: World) -> None:
    taro = registry.ensure_personas(session=world.session)["taro"]
    # Taro's register holds no routine vaccinations: nothing of his son's comes back.
    with pytest.raises(domain.NoVaccinationRecordError):
        world.issue("mr", resident_id=taro.id)
    assert world.client.get("/vaccination/certificates/nope").status_code == 404
    assert world.client.get("/vaccination/certificates/" + "x" * 40).status_code == 422


def test_garbage_gets_a_clear_refusal(world: World) -> None:
    for text, reason in (
        ("hello", "unreadable"),
        ("shc:/123", "malformed"),
        ("shc:/99", "malformed"),
        ("shc:/" + "1" * 9000, "too_large"),
        ("{}", "malformed"),
        ('{"data": {}, "sig": {"alg": "ES256", "cer": "***", "sigvl": ""}}', "malformed"),
        ("a.b.c", "malformed"),
    ):
        assert _reason(world, text) == reason, text


def test_the_portal_pages_show_the_codes_and_the_verifier_reads_them(world: World) -> None:
    index = world.client.get("/vaccination")
    assert index.status_code == 200
    assert "MR（麻しん風しん）" in index.text
    page = world.client.get("/vaccination/certificates/mr")
    assert page.status_code == 200
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page.text)
    assert len(images) == 2
    texts = [qr.decode_image(base64.b64decode(image)) for image in images]
    assert texts[0].startswith("shc:/")
    assert texts[1].startswith('{"data"')
    # The open verifier, without the resident's session.
    world.client.cookies.clear()
    for text in texts:
        checked = world.client.post("/vaccination/verify", data={"payload": text})
        assert checked.status_code == 200
        assert "この証明書は有効です" in checked.text
        assert "山田" in checked.text or "YAMADA HARUTO" in checked.text
    uploaded = world.client.post(
        "/vaccination/verify",
        files={"file": ("code.png", base64.b64decode(images[0]), "image/png")},
    )
    assert uploaded.status_code == 200
    assert "平成" in uploaded.text  # the date of birth in 和暦
    refused = world.client.post("/vaccination/verify", data={"payload": _tampered(texts[0])})
    assert refused.status_code == 422
    assert "この証明書は有効ではありません" in refused.text


def _tampered(qr_text: str) -> str:
    """The code with one character of its signature changed (two digits in the middle)."""
    at = len(qr_text) - 40
    at -= (at - len(domain.SHC_PREFIX)) % 2
    pair = qr_text[at : at + 2]
    return qr_text[:at] + ("10" if pair != "10" else "11") + qr_text[at + 2 :]


def test_a_picture_without_a_code_is_refused(world: World) -> None:
    blank = io.BytesIO()
    segno.make("x").save(blank, kind="png", scale=1, border=0)
    not_code = world.client.post(
        "/vaccination/verify",
        files={"file": ("x.png", b"\x89PNG\r\n\x1a\n" + b"0" * 40, "image/png")},
    )
    assert not_code.status_code == 422
    text = world.client.post(
        "/vaccination/verify", files={"file": ("x.gif", b"GIF89a", "image/gif")}
    )
    assert text.status_code == 422
    empty = world.client.post("/vaccination/verify", data={"payload": ""})
    assert empty.status_code == 400
