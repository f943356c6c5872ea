"""`myna bench crypto`: the signature algorithms Myna uses, and ML-DSA, side by side.

For each algorithm, in one process on one core: the sizes that travel (public key,
signature, a CA-issued X.509 certificate, DER) and the rates that cost (key generation,
signing, verifying) over the same 1 KiB message, which is about what a hub message or a
signed tree head is. The algorithms:

* RSA-2048 with PKCS#1 v1.5 and SHA-256 — the JPKI cards' keys and CAs;
* ECDSA P-256 with SHA-256 (ES256) — the hub's messages, the exchange log's tree heads,
  organisations' requests;
* ML-DSA-44, ML-DSA-65 and ML-DSA-87 (FIPS 204) — the post-quantum candidates for the
  deck's 新たな暗号アルゴリズム; ML-DSA-65 is the one a hybrid signature would add.

Each rate is measured for ``seconds`` (at least one operation) and every signature made
is verified once, so a broken algorithm cannot report a rate.

Then the hub message itself (ADR 0010): a 1 KiB payload signed as the hub signs it —
classic (ES256, certificate in ``x5c``) and hybrid (ES256 and ML-DSA-65 with its
certificate in the ``pq`` header) — with its size on the wire and the rate of sign +
verify of both signatures; and the JPKI's certificates and CRLs of both hierarchies
(RSA-2048 and ML-DSA-65), built with the JPKI's own profile.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, padding, rsa
from cryptography.x509.oid import NameOID
from rich.console import Console
from rich.table import Table

from myna.bench.harness import Result
from myna.jpki import profile
from myna.jpki.domain import AuthorityKind
from myna.network.messages import Credential, PqCredential, read_envelope, required_pq, sign

MESSAGE = bytes(range(256)) * 4  # 1 KiB

PrivateKey = Any  # the algorithms' private keys share no base class worth naming here


@dataclass(frozen=True, slots=True)
class Algorithm:
    """How to make a key, sign and verify with one algorithm."""

    name: str
    generate: Callable[[], PrivateKey]
    sign: Callable[[PrivateKey, bytes], bytes]
    verify: Callable[[Any, bytes, bytes], None]
    # The hash X.509 signing takes (None for ML-DSA, which signs the message itself).
    certificate_hash: hashes.SHA256 | None


def _rsa_sign(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _rsa_verify(key: rsa.RSAPublicKey, signature: bytes, data: bytes) -> None:
    key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())


def _ec_sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def _ec_verify(key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> None:
    key.verify(signature, data, ec.ECDSA(hashes.SHA256()))


def _plain_sign(key: Any, data: bytes) -> bytes:
    signed: bytes = key.sign(data)
    return signed


def _plain_verify(key: Any, signature: bytes, data: bytes) -> None:
    key.verify(signature, data)


ALGORITHMS = (
    Algorithm(
        "RSA-2048 (PKCS#1 v1.5, SHA-256)",
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        _rsa_sign,
        _rsa_verify,
        hashes.SHA256(),
    ),
    Algorithm(
        "ECDSA P-256 (ES256)",
        lambda: ec.generate_private_key(ec.SECP256R1()),
        _ec_sign,
        _ec_verify,
        hashes.SHA256(),
    ),
    Algorithm("ML-DSA-44", mldsa.MLDSA44PrivateKey.generate, _plain_sign, _plain_verify, None),
    Algorithm("ML-DSA-65", mldsa.MLDSA65PrivateKey.generate, _plain_sign, _plain_verify, None),
    Algorithm("ML-DSA-87", mldsa.MLDSA87PrivateKey.generate, _plain_sign, _plain_verify, None),
)


@dataclass(frozen=True, slots=True)
class Measured:
    """One algorithm's sizes (bytes) and rates (per second, one core)."""

    name: str
    public_key_bytes: int
    signature_bytes: int
    certificate_bytes: int
    keygen_ms: float
    sign_per_s: float
    verify_per_s: float
    sign_cpu_ms: float
    verify_cpu_ms: float


def _rate(operation: Callable[[], object], seconds: float) -> tuple[float, float]:
    """Operations per second over at least ``seconds`` (and at least one operation).

    Also the process's CPU milliseconds per operation (user and system, every thread).
    """
    done = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    while True:
        operation()
        done += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            cpu_ms = (time.process_time() - cpu_started) * 1000 / done
            return done / elapsed, round(cpu_ms, 4)


def _certificate(algorithm: Algorithm, key: PrivateKey, issuer_key: PrivateKey) -> bytes:
    """A leaf certificate for ``key`` issued by a CA of the same algorithm, DER."""
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Myna bench")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Myna bench CA")]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    certificate = builder.sign(issuer_key, algorithm.certificate_hash)
    return certificate.public_bytes(serialization.Encoding.DER)


def measure(algorithm: Algorithm, seconds: float) -> Measured:
    """Sizes and rates of one algorithm; every signature made is checked."""
    started = time.perf_counter()
    key = algorithm.generate()
    keygen_ms = (time.perf_counter() - started) * 1000
    public = key.public_key()
    signatures: list[bytes] = []
    sign_rate, sign_cpu_ms = _rate(lambda: signatures.append(algorithm.sign(key, MESSAGE)), seconds)
    signature = signatures[-1]
    verify_rate, verify_cpu_ms = _rate(
        lambda: algorithm.verify(public, signature, MESSAGE), seconds
    )
    for made in signatures[:50]:
        algorithm.verify(public, made, MESSAGE)
    try:
        algorithm.verify(public, signature, MESSAGE + b"!")
    except InvalidSignature:
        pass
    else:  # an algorithm that verifies anything measures nothing
        msg = f"{algorithm.name} verified a signature over another message"
        raise AssertionError(msg)
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return Measured(
        name=algorithm.name,
        public_key_bytes=len(der),
        signature_bytes=len(signature),
        certificate_bytes=len(_certificate(algorithm, key, algorithm.generate())),
        keygen_ms=round(keygen_ms, 2),
        sign_per_s=round(sign_rate, 1),
        verify_per_s=round(verify_rate, 1),
        sign_cpu_ms=sign_cpu_ms,
        verify_cpu_ms=verify_cpu_ms,
    )


BASE_URL = "https://myna.example"


@dataclass(frozen=True, slots=True)
class Hierarchy:
    """One JPKI hierarchy's root, government CA and an organisation certificate."""

    root: x509.Certificate
    government: x509.Certificate
    government_key: Any
    organization: x509.Certificate


def _hierarchy(root_kind: AuthorityKind, gov_kind: AuthorityKind, subject_key: Any) -> Hierarchy:
    now = datetime.now(UTC)
    if root_kind.post_quantum:
        root_key: Any = mldsa.MLDSA65PrivateKey.generate()
        gov_key: Any = mldsa.MLDSA65PrivateKey.generate()
    else:
        root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        gov_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = profile.build_root(key=root_key, now=now, kind=root_kind)
    government = profile.build_issuing(
        kind=gov_kind, key=gov_key, root=root, root_key=root_key, now=now, base_url=BASE_URL
    )
    organization = profile.build_organization(
        public_key=subject_key.public_key(),
        issuer=government,
        issuer_key=gov_key,
        serial=x509.random_serial_number(),
        code="muni-131016",
        name="東京都千代田区",
        not_before=now,
        not_after=now + timedelta(days=365),
        base_url=BASE_URL,
    )
    return Hierarchy(root, government, gov_key, organization)


def _crl_bytes(hierarchy: Hierarchy, entries: int) -> int:
    now = datetime.now(UTC).replace(microsecond=0)
    revoked = [
        profile.RevokedEntry(
            serial=x509.random_serial_number(),
            revoked_at=now,
            reason=x509.ReasonFlags.key_compromise,
            invalidity_date=None,
        )
        for _ in range(entries)
    ]
    crl = profile.build_crl(
        issuer=hierarchy.government,
        issuer_key=hierarchy.government_key,
        number=1,
        this_update=now,
        next_update=now + timedelta(hours=24),
        entries=revoked,
    )
    return len(crl.public_bytes(serialization.Encoding.DER))


def _der(certificate: x509.Certificate) -> int:
    return len(certificate.public_bytes(serialization.Encoding.DER))


def _open(token: str, policy: str) -> bytes:
    """Both signatures checked (signatures only: the chain is checked per certificate)."""
    from joserfc import jws  # noqa: PLC0415
    from joserfc.jwk import ECKey  # noqa: PLC0415

    from myna.network.messages import registry_for  # noqa: PLC0415

    envelope = read_envelope(token, bad_certificate=ValueError)
    pq = required_pq(envelope, policy)
    if pq is not None:
        pq.verify()
    key = ECKey.import_key(envelope.certificate.public_key())  # type: ignore[arg-type]
    return jws.deserialize_compact(token, key, registry=registry_for(len(token))).payload


def _round_trip(credential: Credential, policy: str) -> Callable[[], bytes]:
    return lambda: _open(sign(MESSAGE, credential), policy)


def measure_messages(seconds: float) -> dict[str, Any]:
    """Hub messages classic and hybrid; certificates and CRLs of both hierarchies."""
    ec_key = ec.generate_private_key(ec.SECP256R1())
    pq_key = mldsa.MLDSA65PrivateKey.generate()
    classic_pki = _hierarchy(AuthorityKind.ROOT, AuthorityKind.GOVERNMENT, ec_key)
    pq_pki = _hierarchy(AuthorityKind.PQ_ROOT, AuthorityKind.PQ_GOVERNMENT, pq_key)
    classic = Credential("muni-131016", classic_pki.organization, ec_key)
    hybrid = Credential(
        "muni-131016", classic_pki.organization, ec_key, PqCredential(pq_pki.organization, pq_key)
    )
    messages: dict[str, Any] = {}
    for name, credential, policy in (("classic", classic, "classic"), ("hybrid", hybrid, "hybrid")):
        token = sign(MESSAGE, credential)
        if _open(token, policy) != MESSAGE:  # pragma: no cover - a broken signer
            msg = f"the {name} message does not open"
            raise AssertionError(msg)
        rate, cpu_ms = _rate(_round_trip(credential, policy), seconds)
        messages[name] = {
            "message_bytes": len(token),
            "sign_verify_per_s": round(rate, 1),
            "cpu_ms_per_sign_verify": cpu_ms,
        }
    sizes = {
        "rsa": {
            "root_certificate": _der(classic_pki.root),
            "gov_certificate": _der(classic_pki.government),
            "organization_certificate": _der(classic_pki.organization),
            "crl_empty": _crl_bytes(classic_pki, 0),
            "crl_100": _crl_bytes(classic_pki, 100),
        },
        "ml-dsa-65": {
            "root_certificate": _der(pq_pki.root),
            "gov_certificate": _der(pq_pki.government),
            "organization_certificate": _der(pq_pki.organization),
            "crl_empty": _crl_bytes(pq_pki, 0),
            "crl_100": _crl_bytes(pq_pki, 100),
        },
    }
    return {"messages": messages, "jpki": sizes}


def _print_messages(console: Console, measured: dict[str, Any]) -> None:
    table = Table(title="hub message (1 KiB payload, one core)")
    for column in ("signatures", "message B", "sign+verify/s", "CPU ms each"):
        table.add_column(column, justify="left" if column == "signatures" else "right")
    for name, row in measured["messages"].items():
        table.add_row(
            name,
            f"{row['message_bytes']:,}",
            f"{row['sign_verify_per_s']:,.0f}",
            f"{row['cpu_ms_per_sign_verify']:.3f}",
        )
    console.print(table)
    pki = Table(title="JPKI certificates and CRLs (DER bytes)")
    for column in ("hierarchy", "root", "gov CA", "organisation", "CRL empty", "CRL 100"):
        pki.add_column(column, justify="left" if column == "hierarchy" else "right")
    for name, row in measured["jpki"].items():
        pki.add_row(
            name,
            *(
                f"{row[k]:,}"
                for k in (
                    "root_certificate",
                    "gov_certificate",
                    "organization_certificate",
                    "crl_empty",
                    "crl_100",
                )
            ),
        )
    console.print(pki)


def run(*, console: Console, seconds: float = 2.0) -> Result:
    """Measure every algorithm and print them side by side."""
    rows = []
    for algorithm in ALGORITHMS:
        console.print(f"{algorithm.name}…")
        rows.append(measure(algorithm, seconds))
    console.print("hub messages and JPKI hierarchies…")
    hub = measure_messages(seconds)
    table = Table(title="myna bench crypto (one core, 1 KiB message)")
    for column in (
        "algorithm",
        "public key B",
        "signature B",
        "certificate B",
        "keygen ms",
        "sign/s",
        "verify/s",
        "CPU ms/sign",
        "CPU ms/verify",
    ):
        table.add_column(column, justify="left" if column == "algorithm" else "right")
    for row in rows:
        table.add_row(
            row.name,
            f"{row.public_key_bytes:,}",
            f"{row.signature_bytes:,}",
            f"{row.certificate_bytes:,}",
            f"{row.keygen_ms:.2f}",
            f"{row.sign_per_s:,.0f}",
            f"{row.verify_per_s:,.0f}",
            f"{row.sign_cpu_ms:.3f}",
            f"{row.verify_cpu_ms:.3f}",
        )
    console.print(table)
    _print_messages(console, hub)
    by_name = {row.name: row for row in rows}
    hybrid, classic = by_name["ML-DSA-65"], by_name["ECDSA P-256 (ES256)"]
    return Result(
        scenario="crypto",
        rate_per_s=hybrid.verify_per_s,
        p50_ms=0.0,
        p99_ms=0.0,
        baseline_rate_per_s=classic.verify_per_s,
        ratio=round(hybrid.verify_per_s / classic.verify_per_s, 3),
        details={
            "seconds": seconds,
            "algorithms": [asdict(row) for row in rows],
            "hub_messages": hub["messages"],
            "jpki": hub["jpki"],
        },
    )
