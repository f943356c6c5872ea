"""The JPKI certificate and CRL profile: what Myna's CAs put into what they sign.

Pure construction (no I/O): the service hands in keys, times and URLs. Follows RFC
5280 §4 (certificates) and §5 (CRLs) and the J-LIS profile for the two card
certificates, and the organisation-certificate profile of the government CA (the
role of 政府認証基盤 GPKI's 官職/組織認証局); docs/jpki.md has the profiles as tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from myna.jpki.domain import (
    EKU_DOCUMENT_SIGNING,
    EKU_MESSAGE_SIGNING,
    EKU_TIME_STAMPING,
    POLICIES,
    POLICY_AUTH,
    POLICY_ORGANIZATION,
    POLICY_ORGANIZATION_PQ,
    POLICY_SIGN,
    AuthorityKind,
    BasicInfo,
    CertificateKind,
    CredentialMedium,
    OrganizationPurpose,
    organization_urn,
)

ORGANIZATION = "Myna JPKI"
AUTHORITY_NAMES = {
    AuthorityKind.ROOT: "Myna JPKI Root CA",
    AuthorityKind.SIGN: "Myna JPKI Signing CA",
    AuthorityKind.AUTH: "Myna JPKI User Authentication CA",
    AuthorityKind.GOVERNMENT: "Myna Government CA",
    AuthorityKind.PQ_ROOT: "Myna JPKI Post-Quantum Root CA",
    AuthorityKind.PQ_GOVERNMENT: "Myna Government Post-Quantum CA",
}
# A CA's key: RSA-2048 (the J-LIS hierarchy) or ML-DSA-65 (the post-quantum one).
CaPrivateKey = rsa.RSAPrivateKey | mldsa.MLDSA65PrivateKey
OrganizationKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | mldsa.MLDSA65PublicKey
ROOT_LIFETIME = timedelta(days=20 * 365)
# Longer than the longest card certificate (five birthdays, just over five years).
ISSUING_LIFETIME = timedelta(days=10 * 365)
# Tolerates clocks that run a little behind ours.
BACKDATE = timedelta(hours=1)

_POLICIES = {
    CertificateKind.SIGN: POLICY_SIGN,
    CertificateKind.AUTH: POLICY_AUTH,
    CertificateKind.ORGANIZATION: POLICY_ORGANIZATION,
    CertificateKind.ORGANIZATION_PQ: POLICY_ORGANIZATION_PQ,
}
_AUTHORITY_POLICIES = {
    AuthorityKind.SIGN: POLICY_SIGN,
    AuthorityKind.AUTH: POLICY_AUTH,
    AuthorityKind.GOVERNMENT: POLICY_ORGANIZATION,
    AuthorityKind.PQ_GOVERNMENT: POLICY_ORGANIZATION_PQ,
}


def signature_hash(key: CaPrivateKey) -> hashes.SHA256 | None:
    """The hash a CA's signature names: SHA-256 for RSA (sha256WithRSAEncryption, RFC 4055
    §5); none for ML-DSA-65, which signs the whole message itself (FIPS 204, RFC 9881 §2:
    id-ml-dsa-65 with absent parameters)."""
    return None if isinstance(key, mldsa.MLDSA65PrivateKey) else hashes.SHA256()


def authority_name(kind: AuthorityKind) -> x509.Name:
    """The distinguished name of a Myna CA."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, AUTHORITY_NAMES[kind]),
        ]
    )


def ca_url(base: str, kind: AuthorityKind) -> str:
    """Where a CA certificate is published (AIA caIssuers, RFC 5280 §4.2.2.1)."""
    return f"{base.rstrip('/')}/jpki/ca/{kind.value}.crt"


def crl_url(base: str, kind: AuthorityKind) -> str:
    """Where a CA's CRL is published (CRL distribution point, RFC 5280 §4.2.1.13)."""
    return f"{base.rstrip('/')}/jpki/crl/{kind.value}.crl"


def ocsp_url(base: str) -> str:
    """The OCSP responder (AIA id-ad-ocsp, RFC 5280 §4.2.2.1; RFC 6960 Appendix A)."""
    return f"{base.rstrip('/')}/jpki/ocsp"


def _distribution_point(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
        ]
    )


def _key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def leaf_key_usage(kind: CertificateKind) -> x509.KeyUsage:
    """Signing: digitalSignature + nonRepudiation; user-auth, organisation: digitalSignature."""
    return _key_usage(digital_signature=True, content_commitment=kind is CertificateKind.SIGN)


def _certificate(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    public_key: CertificatePublicKeyTypes,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    constraints: x509.BasicConstraints,
    key_usage: x509.KeyUsage,
) -> x509.CertificateBuilder:
    """The fields every certificate has (RFC 5280 §4.1.2) and its two critical extensions.

    basicConstraints (§4.2.1.9) and keyUsage (§4.2.1.3) come first, in that order.
    """
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(constraints, critical=True)
        .add_extension(key_usage, critical=True)
    )


def _issued(
    builder: x509.CertificateBuilder,
    *,
    public_key: CertificatePublicKeyTypes,
    issuer_key: CaPrivateKey,
    policy: x509.ObjectIdentifier,
    crl: str,
    access: x509.AuthorityInformationAccess,
) -> x509.CertificateBuilder:
    """The extensions of a certificate a CA issues, after the profile's own (RFC 5280 §4.2).

    Key identifiers (§4.2.1.2, §4.2.1.1), the policy (§4.2.1.4), where the issuer's CRL
    is (§4.2.1.13) and where its certificate and OCSP are (§4.2.2.1).
    """
    return (
        builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(policy, None)]), critical=False
        )
        .add_extension(_distribution_point(crl), critical=False)
        .add_extension(access, critical=False)
    )


def _end_entity(
    kind: CertificateKind,
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    issuer: x509.Certificate,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    key_usage: x509.KeyUsage | None = None,
) -> x509.CertificateBuilder:
    """A certificate that is no CA (RFC 5280 §4.2.1.9), with its kind's key usage."""
    return _certificate(
        subject=subject,
        issuer=issuer.subject,
        public_key=public_key,
        serial=serial,
        not_before=not_before,
        not_after=not_after,
        constraints=x509.BasicConstraints(ca=False, path_length=None),
        key_usage=key_usage or leaf_key_usage(kind),
    )


def build_root(
    *, key: CaPrivateKey, now: datetime, kind: AuthorityKind = AuthorityKind.ROOT
) -> x509.Certificate:
    """The self-signed root CA (RFC 5280 §4.2.1.9: CA, pathLenConstraint 1)."""
    name = authority_name(kind)
    public_key = key.public_key()
    return (
        _certificate(
            subject=name,
            issuer=name,
            public_key=public_key,
            serial=x509.random_serial_number(),
            not_before=now - BACKDATE,
            not_after=now + ROOT_LIFETIME,
            constraints=x509.BasicConstraints(ca=True, path_length=1),
            key_usage=_key_usage(key_cert_sign=True, crl_sign=True),
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, signature_hash(key))
    )


def build_issuing(
    *,
    kind: AuthorityKind,
    key: CaPrivateKey,
    root: x509.Certificate,
    root_key: CaPrivateKey,
    now: datetime,
    base_url: str,
) -> x509.Certificate:
    """An issuing CA under the root: CA, pathLenConstraint 0.

    digitalSignature is set besides keyCertSign and cRLSign because the CA signs its
    own OCSP responses (RFC 6960 §4.2.2.2, the CA-designated-by-itself case).
    """
    public_key = key.public_key()
    builder = _certificate(
        subject=authority_name(kind),
        issuer=root.subject,
        public_key=public_key,
        serial=x509.random_serial_number(),
        not_before=now - BACKDATE,
        not_after=min(now + ISSUING_LIFETIME, root.not_valid_after_utc),
        constraints=x509.BasicConstraints(ca=True, path_length=0),
        key_usage=_key_usage(digital_signature=True, key_cert_sign=True, crl_sign=True),
    )
    # The root answers no OCSP: the access names its certificate only.
    root_certificate = x509.AccessDescription(
        AuthorityInformationAccessOID.CA_ISSUERS,
        x509.UniformResourceIdentifier(ca_url(base_url, kind.root)),
    )
    return _issued(
        builder,
        public_key=public_key,
        issuer_key=root_key,
        policy=_AUTHORITY_POLICIES[kind],
        crl=crl_url(base_url, kind.root),
        access=x509.AuthorityInformationAccess([root_certificate]),
    ).sign(root_key, signature_hash(root_key))


def leaf_subject(subject_cn: str) -> x509.Name:
    """A card certificate's subject: the CN is an opaque identifier, never the name."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.COMMON_NAME, subject_cn),
        ]
    )


def build_leaf(
    *,
    kind: CertificateKind,
    medium: CredentialMedium = CredentialMedium.CARD,
    public_key: rsa.RSAPublicKey,
    issuer: x509.Certificate,
    issuer_key: CaPrivateKey,
    serial: int,
    subject_cn: str,
    not_before: datetime,
    not_after: datetime,
    basic_info: BasicInfo | None,
    base_url: str,
) -> x509.Certificate:
    """A card or phone certificate (署名用 or 利用者証明用), J-LIS profile and RFC 5280 §4.2.

    The phone credential's (スマホ用電子証明書) differ only in their certificate policy.
    """
    builder = _issued(
        _end_entity(
            kind, leaf_subject(subject_cn), public_key, issuer, serial, not_before, not_after
        ),
        public_key=public_key,
        issuer_key=issuer_key,
        policy=POLICIES[(kind, medium)],
        crl=crl_url(base_url, kind.authority),
        access=_access(base_url, kind.authority),
    )
    if basic_info is not None:
        # Non-critical: the subject DN is not empty (RFC 5280 §4.2.1.6).
        builder = builder.add_extension(
            x509.SubjectAlternativeName(basic_info.other_names()), critical=False
        )
    return builder.sign(issuer_key, signature_hash(issuer_key))


def organization_subject(code: str, name: str) -> x509.Name:
    """An organisation certificate's subject: ``C=JP, O=<name>, CN=<code>``."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            x509.NameAttribute(NameOID.COMMON_NAME, code),
        ]
    )


def _access(base_url: str, authority: AuthorityKind) -> x509.AuthorityInformationAccess:
    return x509.AuthorityInformationAccess(
        [
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP,
                x509.UniformResourceIdentifier(ocsp_url(base_url)),
            ),
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier(ca_url(base_url, authority)),
            ),
        ]
    )


def build_organization(
    *,
    public_key: OrganizationKey,
    issuer: x509.Certificate,
    issuer_key: CaPrivateKey,
    serial: int,
    code: str,
    name: str,
    not_before: datetime,
    not_after: datetime,
    base_url: str,
    uri: str | None = None,
    purpose: OrganizationPurpose = OrganizationPurpose.MESSAGES,
) -> x509.Certificate:
    """An organisation certificate for signing exchange messages (RFC 5280 §4.2).

    keyUsage digitalSignature only (critical, §4.2.1.3) and extendedKeyUsage the Myna
    message-signing purpose (§4.2.1.12), so the key signs messages and nothing else; the
    subjectAltName URI ``urn:myna:agency:<code>`` names the organisation (§4.2.1.6). An
    ML-DSA-65 key gets the same profile from the post-quantum government CA, under the
    policy of its own (docs/adr/0010-post-quantum-signatures.md). ``uri``, when given,
    is a second URI name: the https address the organisation signs as (a SMART Health
    Card issuer's ``iss``, docs/adr/0018-vaccination-certificates.md).

    Other ``purpose``s: a key that signs the documents the organisation issues gets
    digitalSignature + nonRepudiation and id-kp-documentSigning (RFC 9336 §3.1); a
    time-stamping authority's, id-kp-timeStamping alone and critical (RFC 3161 §2.3).
    """
    subject = organization_subject(code, name)
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(organization_urn(code))]
    if uri is not None:
        names.append(x509.UniformResourceIdentifier(uri))
    kind = (
        CertificateKind.ORGANIZATION_PQ
        if isinstance(public_key, mldsa.MLDSA65PublicKey)
        else CertificateKind.ORGANIZATION
    )
    documents = purpose is OrganizationPurpose.DOCUMENTS
    usage = _key_usage(digital_signature=True, content_commitment=documents)
    builder = _end_entity(kind, subject, public_key, issuer, serial, not_before, not_after, usage)
    if purpose is OrganizationPurpose.MESSAGES:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([EKU_MESSAGE_SIGNING]), critical=False
        )
    elif documents:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([EKU_DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([EKU_TIME_STAMPING]), critical=True)
    builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    authority = kind.authority
    return _issued(
        builder,
        public_key=public_key,
        issuer_key=issuer_key,
        policy=_POLICIES[kind],
        crl=crl_url(base_url, authority),
        access=_access(base_url, authority),
    ).sign(issuer_key, signature_hash(issuer_key))


@dataclass(frozen=True, slots=True)
class RevokedEntry:
    """One CRL entry (RFC 5280 §5.3)."""

    serial: int
    revoked_at: datetime
    reason: x509.ReasonFlags
    invalidity_date: datetime | None


def build_crl(
    *,
    issuer: x509.Certificate,
    issuer_key: CaPrivateKey,
    number: int,
    this_update: datetime,
    next_update: datetime,
    entries: Iterable[RevokedEntry],
) -> x509.CertificateRevocationList:
    """A v2 CRL with CRL number and AKI (RFC 5280 §5.2.1, §5.2.3), reasons and dates (§5.3).

    A post-quantum CA signs it with ML-DSA-65 (signatureAlgorithm id-ml-dsa-65, RFC 9881).
    """
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    for entry in entries:
        revoked = (
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(entry.revoked_at)
            .add_extension(x509.CRLReason(entry.reason), critical=False)
        )
        if entry.invalidity_date is not None:
            revoked = revoked.add_extension(
                x509.InvalidityDate(entry.invalidity_date.astimezone(UTC).replace(tzinfo=None)),
                critical=False,
            )
        builder = builder.add_revoked_certificate(revoked.build())
    return builder.sign(issuer_key, signature_hash(issuer_key))
