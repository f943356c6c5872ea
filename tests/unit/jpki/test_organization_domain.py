"""Pure rules of organisation certificates: codes and names, reasons, kinds, messages."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po
from cryptography import x509

from myna.cli import jpki as cli
from myna.jpki.domain import (
    _ORGANIZATION_VERIFICATION_MESSAGES,
    _VERIFICATION_MESSAGES,
    CARD_KINDS,
    EKU_MESSAGE_SIGNING,
    MYNA_ARC,
    POLICY_ORGANIZATION,
    AuthorityKind,
    CertificateKind,
    InvalidOrganizationError,
    OrganizationVerificationError,
    RevocationReason,
    VerificationError,
    check_organization,
    organization_urn,
)
from myna.platform import i18n
from tests.unit.jpki.test_domain import PO_FILE


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("nta", "国税庁"),
        ("muni-131016", "千代田区"),
        ("kokuho-131016", "千代田区 国民健康保険"),
        ("a", "x" * 64),
        ("partner.example_bank", "Example Bank, Ltd."),
    ],
)
def test_it_accepts_codes_and_names_that_fit_a_certificate(code: str, name: str) -> None:
    assert check_organization(code, name) == (code, name)


def test_it_trims_the_name() -> None:
    assert check_organization("nta", "  国税庁 ") == ("nta", "国税庁")


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("", "国税庁"),
        ("NTA", "国税庁"),
        ("-nta", "国税庁"),
        ("nta-", "国税庁"),
        ("n/ta", "国税庁"),
        ("nta ", "国税庁"),
        ("ｎｔａ", "国税庁"),
        ("a" * 65, "国税庁"),
        ("nta", ""),
        ("nta", "   "),
        ("nta", "x" * 65),
        ("nta", "国税\x00庁"),
        ("nta", "国税\u200b庁"),
    ],
)
def test_it_refuses_codes_and_names_that_do_not(code: str, name: str) -> None:
    with pytest.raises(InvalidOrganizationError):
        check_organization(code, name)


def test_the_urn_names_the_agency() -> None:
    assert organization_urn("nta") == "urn:myna:agency:nta"


def test_the_oids_live_under_the_private_arc() -> None:
    assert EKU_MESSAGE_SIGNING.dotted_string == f"{MYNA_ARC}.2.1"
    assert POLICY_ORGANIZATION.dotted_string == f"{MYNA_ARC}.1.3"


def test_each_kind_has_its_issuing_ca() -> None:
    assert CertificateKind.SIGN.authority is AuthorityKind.SIGN
    assert CertificateKind.AUTH.authority is AuthorityKind.AUTH
    assert CertificateKind.ORGANIZATION.authority is AuthorityKind.GOVERNMENT
    assert {kind for kind in CertificateKind if kind.on_card} == CARD_KINDS
    assert AuthorityKind.GOVERNMENT.value == "gov"


@pytest.mark.parametrize(
    ("reason", "flag"),
    [
        (RevocationReason.KEY_COMPROMISE, x509.ReasonFlags.key_compromise),
        (RevocationReason.CESSATION_OF_OPERATION, x509.ReasonFlags.cessation_of_operation),
        (RevocationReason.SUPERSEDED, x509.ReasonFlags.superseded),
    ],
)
def test_organisation_reasons_map_to_crl_reasons_and_revoke_organisations_only(
    reason: RevocationReason, flag: x509.ReasonFlags
) -> None:
    assert reason.crl_reason is flag
    assert reason.revokes == {CertificateKind.ORGANIZATION, CertificateKind.ORGANIZATION_PQ}
    assert reason.applies_to(CertificateKind.ORGANIZATION)
    assert reason.applies_to(CertificateKind.ORGANIZATION_PQ)
    assert not reason.applies_to(CertificateKind.SIGN)
    assert not reason.applies_to(CertificateKind.AUTH)


@pytest.mark.parametrize(
    "reason",
    [
        RevocationReason.LOSS,
        RevocationReason.DEATH,
        RevocationReason.CARD_REPLACEMENT,
        RevocationReason.BASIC_INFO_CHANGE,
    ],
)
def test_card_reasons_never_revoke_an_organisation(reason: RevocationReason) -> None:
    assert not reason.applies_to(CertificateKind.ORGANIZATION)
    assert reason.applies_to(CertificateKind.SIGN)
    assert CertificateKind.ORGANIZATION not in reason.revokes


def test_organisation_verification_errors_keep_the_codes_and_speak_to_operators() -> None:
    error = OrganizationVerificationError("revoked")
    assert isinstance(error, VerificationError)
    assert error.code == "revoked"
    assert "Government CA" in error.message
    assert "municipality" not in error.message
    # Codes without an organisation wording fall back to the general one.
    assert (
        OrganizationVerificationError("not_yet_valid").message
        == (_VERIFICATION_MESSAGES["not_yet_valid"])
    )
    with pytest.raises(ValueError, match="unknown verification failure code"):
        OrganizationVerificationError("nope")


def test_every_organisation_message_has_a_japanese_translation() -> None:
    with PO_FILE.open("rb") as handle:
        catalog = read_po(handle, locale="ja")
    messages = [
        *_ORGANIZATION_VERIFICATION_MESSAGES.values(),
        cli.KeyFileExistsError.message,
        cli.PassphraseMissingError.message,
    ]
    for message in messages:
        entry = catalog.get(message)
        assert entry is not None, message
        assert entry.string, message
        assert not entry.fuzzy, message


def test_organisation_errors_are_shown_in_japanese() -> None:
    i18n.set_locale("ja")
    assert (
        OrganizationVerificationError("revoked")
        .localized()
        .startswith("組織の電子証明書は失効しています")
    )
    assert InvalidOrganizationError().localized().startswith("組織コードは")
