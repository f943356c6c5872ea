"""Myna's certificates, CRLs and OCSP answers as the OpenSSL 3 command line sees them.

A relying party (署名検証者) should not need Myna's code to check a card certificate:
these tests do what docs/jpki.md tells integrators to do.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import jpki
from myna.platform.settings import Settings
from tests.integration.jpki.conftest import BASIC_INFO, IssueFn

GOV = "gov"

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
pytestmark = pytest.mark.skipif(
    not Path(OPENSSL).exists(), reason="the openssl command line is not installed"
)

SIGN = jpki.CertificateKind.SIGN
AUTH = jpki.CertificateKind.AUTH


def _openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OPENSSL, *map(str, args)], capture_output=True, text=True, check=False, timeout=30
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _write_chain(session: Session, directory: Path, kind: str) -> tuple[Path, Path]:
    """The root + issuing CA bundle (for -CAfile) and the issuing CA alone (-issuer)."""
    root = x509.load_der_x509_certificate(jpki.ca_certificate(session=session, kind="root"))
    issuing = x509.load_der_x509_certificate(jpki.ca_certificate(session=session, kind=kind))
    chain = directory / "chain.pem"
    chain.write_bytes(_pem(root) + _pem(issuing))
    issuer = directory / f"{kind}.pem"
    issuer.write_bytes(_pem(issuing))
    return chain, issuer


def _write_crl(session: Session, settings: Settings, directory: Path, kind: str) -> Path:
    path = directory / f"{kind}.crl"
    path.write_bytes(jpki.current_crl(session=session, settings=settings, kind=kind))
    return path


def _verify_with_crl(
    session: Session, settings: Settings, tmp_path: Path, leaf: x509.Certificate, kind: str
) -> subprocess.CompletedProcess[str]:
    chain, _ = _write_chain(session, tmp_path, kind)
    crl_pem = tmp_path / f"{kind}.crl.pem"
    converted = _openssl(
        "crl",
        "-inform",
        "DER",
        "-in",
        _write_crl(session, settings, tmp_path, kind),
        "-out",
        crl_pem,
    )
    assert converted.returncode == 0, converted.stderr
    leaf_path = tmp_path / "leaf.pem"
    leaf_path.write_bytes(_pem(leaf))
    return _openssl("verify", "-crl_check", "-CAfile", chain, "-CRLfile", crl_pem, leaf_path)


def test_openssl_verifies_a_good_certificate_against_chain_and_crl(
    issue: IssueFn, session: Session, settings: Settings, tmp_path: Path
) -> None:
    result = _verify_with_crl(session, settings, tmp_path, issue(SIGN), "sign")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "leaf.pem: OK" in result.stdout


def test_openssl_reports_a_revoked_certificate(
    issue: IssueFn, session: Session, settings: Settings, tmp_path: Path
) -> None:
    certificate = issue(AUTH)
    jpki.revoke_certificate(
        session=session, serial=certificate.serial_number, reason=jpki.RevocationReason.LOSS
    )
    result = _verify_with_crl(session, settings, tmp_path, certificate, "auth")
    assert result.returncode != 0
    assert "certificate revoked" in result.stdout + result.stderr


def test_openssl_reads_the_crl(
    issue: IssueFn, session: Session, settings: Settings, tmp_path: Path
) -> None:
    certificate = issue(SIGN)
    jpki.revoke_certificate(
        session=session,
        serial=certificate.serial_number,
        reason=jpki.RevocationReason.BASIC_INFO_CHANGE,
    )
    crl = _write_crl(session, settings, tmp_path, "sign")
    result = _openssl("crl", "-inform", "DER", "-in", crl, "-noout", "-text")
    assert result.returncode == 0, result.stderr
    assert "Issuer: C = JP, O = Myna JPKI, CN = Myna JPKI Signing CA" in result.stdout
    assert "X509v3 CRL Number" in result.stdout
    assert f"{certificate.serial_number:X}" in result.stdout.replace(":", "").upper()
    assert "Affiliation Changed" in result.stdout
    assert "Invalidity Date" in result.stdout


def _ocsp_round_trip(
    session: Session, client: TestClient, tmp_path: Path, certificate: x509.Certificate, kind: str
) -> tuple[Path, Path, Path, Path]:
    chain, issuer = _write_chain(session, tmp_path, kind)
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(_pem(certificate))
    request = tmp_path / "request.der"
    built = _openssl("ocsp", "-issuer", issuer, "-cert", leaf, "-reqout", request)
    assert built.returncode == 0, built.stderr
    answer = client.post(
        "/jpki/ocsp",
        content=request.read_bytes(),
        headers={"Content-Type": "application/ocsp-request"},
    )
    assert answer.status_code == 200
    response = tmp_path / "response.der"
    response.write_bytes(answer.content)
    return chain, issuer, leaf, response


def test_openssl_verifies_an_ocsp_answer_saying_good(
    issue: IssueFn, session: Session, client: TestClient, tmp_path: Path
) -> None:
    chain, issuer, leaf, response = _ocsp_round_trip(session, client, tmp_path, issue(SIGN), "sign")
    # With the request, openssl also checks that our answer echoes its nonce.
    checked = _openssl(
        "ocsp", "-reqin", tmp_path / "request.der", "-respin", response, "-CAfile", chain
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Response verify OK" in checked.stdout + checked.stderr
    status = _openssl(
        "ocsp",
        "-respin",
        response,
        "-CAfile",
        chain,
        "-issuer",
        issuer,
        "-cert",
        leaf,
        "-no_nonce",
    )
    assert status.returncode == 0, status.stdout + status.stderr
    assert "Response verify OK" in status.stdout + status.stderr
    assert f"{leaf}: good" in status.stdout


def test_openssl_verifies_an_ocsp_answer_saying_revoked(
    issue: IssueFn, session: Session, client: TestClient, tmp_path: Path
) -> None:
    certificate = issue(AUTH)
    jpki.revoke_certificate(
        session=session, serial=certificate.serial_number, reason=jpki.RevocationReason.DEATH
    )
    chain, issuer, leaf, response = _ocsp_round_trip(session, client, tmp_path, certificate, "auth")
    status = _openssl(
        "ocsp",
        "-respin",
        response,
        "-CAfile",
        chain,
        "-issuer",
        issuer,
        "-cert",
        leaf,
        "-no_nonce",
    )
    assert "Response verify OK" in status.stdout + status.stderr
    assert f"{leaf}: revoked" in status.stdout
    assert "Reason: cessationOfOperation" in status.stdout


def test_openssl_shows_the_basic_info_only_in_the_signing_certificate(
    issue: IssueFn, tmp_path: Path
) -> None:
    texts = {}
    for kind in (SIGN, AUTH):
        path = tmp_path / f"{kind.value}.pem"
        path.write_bytes(_pem(issue(kind)))
        result = _openssl("x509", "-in", path, "-noout", "-text")
        assert result.returncode == 0, result.stderr
        texts[kind] = result.stdout
    for arc in range(1, 6):
        assert f"othername: 1.2.392.200149.8.5.5.{arc}::" in texts[SIGN]
    assert f"1.2.392.200149.8.5.5.1::{BASIC_INFO.name}" in texts[SIGN]
    assert f"1.2.392.200149.8.5.5.5::{BASIC_INFO.address}" in texts[SIGN]
    assert "Digital Signature, Non Repudiation" in texts[SIGN]
    assert "othername" not in texts[AUTH].lower()
    assert "Subject Alternative Name" not in texts[AUTH]
    for text in texts.values():
        assert "Signature Algorithm: sha256WithRSAEncryption" in text
        assert "Public-Key: (2048 bit)" in text


# --- organisation certificates from the government CA --------------------------------


def test_openssl_verifies_an_organisation_certificate_against_the_gov_chain_and_crl(
    issue_org: IssueFn, session: Session, settings: Settings, tmp_path: Path
) -> None:
    result = _verify_with_crl(session, settings, tmp_path, issue_org(), GOV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "leaf.pem: OK" in result.stdout


def test_openssl_reports_a_revoked_organisation_certificate(
    issue_org: IssueFn, session: Session, settings: Settings, tmp_path: Path
) -> None:
    certificate = issue_org(key="rsa")
    jpki.revoke_organization_certificate(
        session=session,
        serial=certificate.serial_number,
        reason=jpki.RevocationReason.KEY_COMPROMISE,
    )
    result = _verify_with_crl(session, settings, tmp_path, certificate, GOV)
    assert result.returncode != 0
    assert "certificate revoked" in result.stdout + result.stderr


def test_openssl_reads_the_gov_crl(
    issue_org: IssueFn, session: Session, settings: Settings, tmp_path: Path
) -> None:
    certificate = issue_org()
    jpki.revoke_organization_certificate(
        session=session, serial=certificate.serial_number, reason=jpki.RevocationReason.SUPERSEDED
    )
    crl = _write_crl(session, settings, tmp_path, GOV)
    result = _openssl("crl", "-inform", "DER", "-in", crl, "-noout", "-text")
    assert result.returncode == 0, result.stderr
    assert "Issuer: C = JP, O = Myna JPKI, CN = Myna Government CA" in result.stdout
    assert f"{certificate.serial_number:X}" in result.stdout.replace(":", "").upper()
    assert "Superseded" in result.stdout


def test_openssl_shows_the_organisation_profile(issue_org: IssueFn, tmp_path: Path) -> None:
    path = tmp_path / "nta.pem"
    path.write_bytes(_pem(issue_org("nta", name="国税庁")))
    result = _openssl("x509", "-in", path, "-noout", "-text", "-nameopt", "utf8,sep_comma_plus")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "Subject: C=JP,O=国税庁,CN=nta" in text
    assert "URI:urn:myna:agency:nta" in text
    assert f"{jpki.EKU_MESSAGE_SIGNING.dotted_string}" in text
    assert "X509v3 Key Usage: critical\n                Digital Signature\n" in text
    assert "ASN1 OID: prime256v1" in text
    assert "Signature Algorithm: sha256WithRSAEncryption" in text


def test_openssl_verifies_an_ocsp_answer_about_an_organisation_certificate(
    issue_org: IssueFn, session: Session, client: TestClient, tmp_path: Path
) -> None:
    certificate = issue_org()
    jpki.revoke_organization_certificate(
        session=session,
        serial=certificate.serial_number,
        reason=jpki.RevocationReason.CESSATION_OF_OPERATION,
    )
    chain, issuer, leaf, response = _ocsp_round_trip(session, client, tmp_path, certificate, GOV)
    status = _openssl(
        "ocsp",
        "-respin",
        response,
        "-CAfile",
        chain,
        "-issuer",
        issuer,
        "-cert",
        leaf,
        "-no_nonce",
    )
    assert "Response verify OK" in status.stdout + status.stderr
    assert f"{leaf}: revoked" in status.stdout
    assert "Reason: cessationOfOperation" in status.stdout
