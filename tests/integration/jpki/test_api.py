"""The JPKI HTTP routes: CA certificates, CRLs and OCSP over POST and GET."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import jpki
from myna.jpki.api import MAX_OCSP_REQUEST_BYTES
from myna.platform import i18n
from myna.platform.settings import Settings
from tests.integration.jpki.conftest import IssueFn

AUTH = jpki.CertificateKind.AUTH
# RFC 5019 §2.1.1: OCSP clients identify certificates by SHA-1 CertIDs.
CERT_ID_HASH = hashes.SHA1()  # noqa: S303
OCSP_HEADERS = {"Content-Type": "application/ocsp-request"}


def _ocsp_request(certificate: x509.Certificate, issuer: x509.Certificate, *, nonce: bool) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, CERT_ID_HASH)
    if nonce:
        builder = builder.add_extension(x509.OCSPNonce(b"0123456789abcdef"), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def _auth_ca(session: Session) -> x509.Certificate:
    return x509.load_der_x509_certificate(jpki.ca_certificate(session=session, kind="auth"))


def test_the_index_lists_the_authorities_and_their_urls(
    authorities: None, client: TestClient
) -> None:
    response = client.get("/jpki/ca/")
    assert response.status_code == 200
    body = response.json()
    assert [a["kind"] for a in body["authorities"]] == [
        "root",
        "sign",
        "auth",
        "gov",
        "pq-root",
        "pq-gov",
    ]
    sign = body["authorities"][1]
    assert sign["certificate_url"] == "http://testserver/jpki/ca/sign.crt"
    assert sign["crl_url"] == "http://testserver/jpki/crl/sign.crl"
    assert sign["subject"] == "CN=Myna JPKI Signing CA,O=Myna JPKI,C=JP"
    assert body["ocsp_url"] == "http://testserver/jpki/ocsp"
    gov = body["authorities"][3]
    assert gov["subject"] == "CN=Myna Government CA,O=Myna JPKI,C=JP"
    assert gov["certificate_url"] == "http://testserver/jpki/ca/gov.crt"
    assert gov["crl_url"] == "http://testserver/jpki/crl/gov.crl"


@pytest.mark.parametrize("kind", ["root", "sign", "auth", "gov"])
def test_it_serves_each_ca_certificate_as_der(
    authorities: None, client: TestClient, session: Session, kind: str
) -> None:
    response = client.get(f"/jpki/ca/{kind}.crt")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pkix-cert"
    assert response.content == jpki.ca_certificate(session=session, kind=kind)
    x509.load_der_x509_certificate(response.content)


def test_an_unknown_ca_is_a_404_with_a_code(authorities: None, client: TestClient) -> None:
    for path in ("/jpki/ca/evil.crt", "/jpki/crl/evil.crl"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["code"] == "unknown_authority"


def test_before_init_it_says_the_authorities_are_missing(client: TestClient) -> None:
    i18n.set_locale("en")
    try:
        response = client.get("/jpki/ca/root.crt")
    finally:
        i18n.set_locale("ja")
    assert response.status_code == 503
    assert response.json()["code"] == "authorities_not_initialized"


def test_it_serves_the_crl_cacheable_until_next_update(
    authorities: None, client: TestClient
) -> None:
    response = client.get("/jpki/crl/sign.crl")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.content)
    max_age = int(response.headers["cache-control"].split("max-age=")[1])
    assert 23 * 3600 < max_age <= 24 * 3600
    assert crl.next_update_utc is not None
    assert response.headers["expires"] == crl.next_update_utc.strftime("%a, %d %b %Y %H:%M:%S GMT")
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    assert response.headers["etag"] == f'"sign-{number}"'


def test_ocsp_over_post_answers_good_and_is_not_cached_with_a_nonce(
    issue: IssueFn, client: TestClient, session: Session
) -> None:
    certificate = issue(AUTH)
    response = client.post(
        "/jpki/ocsp",
        content=_ocsp_request(certificate, _auth_ca(session), nonce=True),
        headers=OCSP_HEADERS,
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ocsp-response"
    assert response.headers["cache-control"] == "no-store"
    answer = ocsp.load_der_ocsp_response(response.content)
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD


def test_ocsp_over_get_answers_and_may_be_cached(
    issue: IssueFn, client: TestClient, session: Session
) -> None:
    certificate = issue(AUTH)
    jpki.revoke_certificate(
        session=session, serial=certificate.serial_number, reason=jpki.RevocationReason.LOSS
    )
    request = _ocsp_request(certificate, _auth_ca(session), nonce=False)
    encoded = quote(base64.b64encode(request).decode(), safe="")
    response = client.get(f"/jpki/ocsp/{encoded}")
    assert response.status_code == 200
    answer = ocsp.load_der_ocsp_response(response.content)
    assert answer.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert "max-age=" in response.headers["cache-control"]


@pytest.mark.parametrize("path", ["/jpki/ocsp/!!!notbase64", "/jpki/ocsp/aGVsbG8%3D"])
def test_ocsp_over_get_answers_garbage_with_malformed_request(
    authorities: None, client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    answer = ocsp.load_der_ocsp_response(response.content)
    assert answer.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_ocsp_over_post_answers_garbage_with_malformed_request(
    authorities: None, client: TestClient
) -> None:
    response = client.post("/jpki/ocsp", content=b"\x30\x80garbage", headers=OCSP_HEADERS)
    assert response.status_code == 200
    answer = ocsp.load_der_ocsp_response(response.content)
    assert answer.response_status is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_ocsp_refuses_an_oversized_body(authorities: None, client: TestClient) -> None:
    response = client.post(
        "/jpki/ocsp", content=b"\x00" * (MAX_OCSP_REQUEST_BYTES + 1), headers=OCSP_HEADERS
    )
    assert response.status_code == 413
    assert response.json()["code"] == "ocsp_request_too_large"


def test_ocsp_refuses_an_oversized_body_sent_in_chunks(
    authorities: None, client: TestClient
) -> None:
    def chunks() -> object:
        for _ in range(MAX_OCSP_REQUEST_BYTES // 1024 + 2):
            yield b"\x00" * 1024

    response = client.post("/jpki/ocsp", content=chunks(), headers=OCSP_HEADERS)  # type: ignore[arg-type]
    assert response.status_code == 413


def test_ocsp_refuses_another_media_type(authorities: None, client: TestClient) -> None:
    response = client.post(
        "/jpki/ocsp", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 415
    assert response.json()["code"] == "ocsp_unsupported_media_type"


def test_the_urls_in_certificates_are_served(
    issue: IssueFn, client: TestClient, settings: Settings
) -> None:
    certificate = issue(AUTH)
    points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    urls = [str(points[0].full_name[0].value)] + [  # type: ignore[index]
        str(d.access_location.value)
        for d in access.value
        if d.access_method == x509.oid.AuthorityInformationAccessOID.CA_ISSUERS
    ]
    for url in urls:
        assert url.startswith(settings.portal_url)
        assert client.get(url.removeprefix(settings.portal_url)).status_code == 200
