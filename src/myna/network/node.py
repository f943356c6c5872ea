"""Distributed mode: an agency node (中間サーバー) as its own process, and the hub's HTTP
transport to it.

The node answers ``POST /network/query``: the body is the hub's signed ProviderQuery,
a JWS compact serialisation (RFC 7515 §7.1) sent as ``application/jose`` (RFC 7515
§9.2.1); the answer is the node's signed ProviderAnswer in the same media type. The
node has a database of its own holding only its replica records (副本), so it cannot
look the hub's certificate up in the JPKI tables as the hub does: it verifies the
``x5c`` certificate against the government CA chain it was configured with (RFC 5280
§6.1: signature, names, validity, key usage) and against the government CA's CRL
(RFC 5280 §5), fetched from the CA's distribution point and cached
(:func:`verify_hub_message`). The hub verifies the node's answers with the JPKI tables,
where ``myna jpki org-issue`` recorded the node's certificate. docs/network.md has the
protocol for integrators.

Hybrid messages (ADR 0010): under ``MYNA_MESSAGE_SIGNATURE_POLICY`` ``hybrid`` or
``post-quantum`` the node also checks the ML-DSA-65 signature, its certificate against
the post-quantum government CA and root it was given (``pq-gov-chain.pem``) and that
CA's own CRL, signed with ML-DSA-65.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import anyio
import anyio.to_thread
import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, mldsa
from cryptography.x509.oid import NameOID, SignatureAlgorithmOID
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from myna import __version__, agencies, jpki
from myna.network.corrections import (
    MAX_CORRECTION_MESSAGE_BYTES,
    CorrectionAnswer,
    ProviderCorrection,
)
from myna.network.domain import (
    HUB,
    ExchangeError,
    MalformedMessageError,
    ProviderQuery,
    ProviderUpdate,
    SenderMismatchError,
    UntrustedPqCertificateError,
    new_request_id,
)
from myna.network.interfaces import AgencyTransport
from myna.network.messages import (
    MAX_TOKEN_BYTES,
    Credential,
    OpenedMessage,
    read_envelope,
    registry_for,
    required_pq,
    sign,
)
from myna.network.models import LinkCode
from myna.network.provider import apply_update, receive_correction, respond
from myna.network.replay import admit_once
from myna.platform.attributes import from_attributes
from myna.platform.db import unit_of_work, utcnow
from myna.platform.errors import N_, MynaError
from myna.platform.logging import get_logger
from myna.platform.operations import app_operations, install_operations
from myna.platform.readiness import Check, NotReadyError, database_check, schema_head
from myna.platform.web import (
    NO_TELEMETRY,
    BodyLimit,
    RejectNulMiddleware,
    SecurityHeadersMiddleware,
    UnexpectedErrorMiddleware,
)

if TYPE_CHECKING:
    from myna.bootstrap import Container

log = get_logger(__name__)

MEDIA_TYPE = "application/jose"  # RFC 7515 §9.2.1: a JWS in compact serialisation
QUERY_PATH = "/network/query"
UPDATE_PATH = "/network/update"
CORRECTION_PATH = "/network/correction"


# -- errors ---------------------------------------------------------------------------


class NodeMediaTypeError(ExchangeError, code="unsupported_media_type", status_code=415):
    """The query was not sent as application/jose."""

    message = N_("Send the signed query with the content type application/jose.")


class MessageTooLargeError(ExchangeError, code="message_too_large", status_code=413):
    """The query body is over the limit."""

    message = N_("The message is too large. An exchange message is at most 256 KiB.")


class WrongProviderError(ExchangeError, code="wrong_provider", status_code=421):
    """A query addressed to another agency reached this node."""

    message = N_("This node answers for {agency} only; the query is addressed to {provider}.")


class RevocationUnavailableError(ExchangeError, code="revocation_unavailable", status_code=503):
    """The node has no current CRL of the government CA, so it cannot trust a certificate."""

    message = N_(
        "The node could not obtain a current revocation list of the government CA, so it "
        "cannot accept the message. Check that the CRL address is reachable and try again."
    )


class NodeConfigurationError(ExchangeError, code="node_configuration"):
    """An agency node cannot start with the files or options it was given."""

    message = N_("The agency node cannot start: {reason}")


class ProviderRefusedError(ExchangeError, code="provider_refused", status_code=502):
    """An agency node answered the hub's query with an error instead of an answer."""

    message = N_("The agency node {provider} refused the query ({reason}).")


# -- trust: the government CA chain and its CRL ------------------------------------------


def _verification(code: str) -> jpki.OrganizationVerificationError:
    return jpki.OrganizationVerificationError(code)


def _check_validity(certificate: x509.Certificate, at: datetime) -> None:
    if at < certificate.not_valid_before_utc:
        raise _verification("not_yet_valid")
    if at > certificate.not_valid_after_utc:
        raise _verification("expired")


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return constraints.value.ca


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _chain(data: bytes) -> tuple[x509.Certificate, x509.Certificate]:
    """The root and the government CA it issued, from a PEM bundle."""
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise NodeConfigurationError(reason="the CA chain file holds no PEM certificate") from exc
    roots = [c for c in certificates if c.subject == c.issuer and _issued_by(c, c)]
    if len(roots) != 1 or not _is_ca(roots[0]):
        raise NodeConfigurationError(reason="the CA chain file must hold exactly one root CA")
    root = roots[0]
    issuing = [c for c in certificates if c is not root and _is_ca(c) and _issued_by(c, root)]
    if len(issuing) != 1:
        raise NodeConfigurationError(
            reason="the CA chain file must hold the government CA issued by its root"
        )
    return root, issuing[0]


@dataclass(frozen=True, slots=True)
class HubTrust:
    """What an agency node trusts: the government CA under its root, and the hub's code.

    Loaded from ``gov-chain.pem`` (written by ``myna jpki org-issue``, also served at
    ``/jpki/ca/gov.crt`` and ``/jpki/ca/root.crt``); the root is the trust anchor of
    RFC 5280 §6.1.1 (d), configured out of band. ``pq_root`` and ``pq_government`` are
    the post-quantum hierarchy's (``pq-gov-chain.pem``), for ML-DSA-65 signatures.
    """

    root: x509.Certificate
    government: x509.Certificate
    hub_code: str = HUB
    pq_root: x509.Certificate | None = None
    pq_government: x509.Certificate | None = None

    @classmethod
    def from_pem(cls, data: bytes, *, hub_code: str = HUB) -> HubTrust:
        """The government CA and the root from a PEM bundle; NodeConfigurationError if not."""
        root, government = _chain(data)
        if government.signature_algorithm_oid != SignatureAlgorithmOID.RSA_WITH_SHA256:
            raise NodeConfigurationError(reason="the CA chain file is not the RSA hierarchy's")
        return cls(root=root, government=government, hub_code=hub_code)

    def with_pq(self, data: bytes) -> HubTrust:
        """This trust and the post-quantum government CA and root from a PEM bundle."""
        root, government = _chain(data)
        if not isinstance(government.public_key(), mldsa.MLDSA65PublicKey) or (
            government.signature_algorithm_oid != SignatureAlgorithmOID.ML_DSA_65
        ):
            raise NodeConfigurationError(
                reason="the post-quantum CA chain file must hold ML-DSA-65 CAs"
            )
        return replace(self, pq_root=root, pq_government=government)

    def check_pq_certificate(
        self, certificate: x509.Certificate, *, organization: str, at: datetime
    ) -> x509.Certificate:
        """:meth:`check_certificate` for an ML-DSA-65 certificate under the post-quantum
        government CA (signed with ML-DSA-65, ML-DSA-65 key); returns that CA."""
        if self.pq_government is None or self.pq_root is None:
            raise UntrustedPqCertificateError(reason="untrusted_issuer")
        if certificate.signature_algorithm_oid != SignatureAlgorithmOID.ML_DSA_65:
            raise UntrustedPqCertificateError(reason="weak_algorithm")
        if not isinstance(certificate.public_key(), mldsa.MLDSA65PublicKey):
            raise UntrustedPqCertificateError(reason="weak_algorithm")
        if certificate.issuer != self.pq_government.subject:
            raise UntrustedPqCertificateError(reason="untrusted_issuer")
        if not _issued_by(certificate, self.pq_government):
            raise UntrustedPqCertificateError(reason="bad_certificate_signature")
        try:
            for authority in (self.pq_root, self.pq_government, certificate):
                _check_validity(authority, at)
            _check_profile(certificate)
        except jpki.VerificationError as exc:
            raise UntrustedPqCertificateError(reason=exc.code) from exc
        _check_subject(certificate, organization)
        return self.pq_government

    def check_certificate(
        self, certificate: x509.Certificate, *, organization: str, at: datetime
    ) -> None:
        """RFC 5280 §6.1.3 for the chain certificate → government CA → root, without
        revocation: issuer and signature, validity of all three, the organisation
        profile (P-256 or RSA key, SHA-256 with RSA from the CA, not a CA, keyUsage
        exactly digitalSignature, the message-signing EKU) and the subject's code."""
        if certificate.signature_algorithm_oid != SignatureAlgorithmOID.RSA_WITH_SHA256:
            raise _verification("weak_algorithm")
        key = certificate.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            raise _verification("weak_algorithm")
        if certificate.issuer != self.government.subject:
            raise _verification("untrusted_issuer")
        if not _issued_by(certificate, self.government):
            raise _verification("bad_certificate_signature")
        for authority in (self.root, self.government):
            _check_validity(authority, at)
        _check_validity(certificate, at)
        _check_profile(certificate)
        _check_subject(certificate, organization)


def _check_subject(certificate: x509.Certificate, organization: str) -> None:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(names) != 1 or names[0].value != organization:
        signer = str(names[0].value) if len(names) == 1 else "?"
        raise SenderMismatchError(claimed=organization, signer=signer)


def _check_profile(certificate: x509.Certificate) -> None:
    try:
        extensions = certificate.extensions
        usage = extensions.get_extension_for_class(x509.KeyUsage).value
        purposes = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise _verification("wrong_key_usage") from exc
    # RFC 5280 §4.2.1.3: digitalSignature and nothing else (no cert or CRL signing).
    if (
        _is_ca(certificate)
        or not usage.digital_signature
        or usage.content_commitment
        or usage.key_encipherment
        or usage.data_encipherment
        or usage.key_agreement
        or usage.key_cert_sign
        or usage.crl_sign
        or jpki.EKU_MESSAGE_SIGNING not in purposes
    ):
        raise _verification("wrong_key_usage")


class RevocationSource(Protocol):
    """Where a node gets the government CA's current CRL (RFC 5280 §5)."""

    def revocation_list(self) -> x509.CertificateRevocationList:
        """The newest CRL the source has; RevocationUnavailableError if none."""
        ...

    def refresh(self) -> None:
        """Fetch a newer CRL now, keeping the one held if that fails."""
        ...


def _current(crl: x509.CertificateRevocationList, at: datetime) -> bool:
    next_update = crl.next_update_utc
    return next_update is None or at < next_update


@dataclass
class CrlCache:
    """The government CA's CRL fetched over HTTP (its distribution point, RFC 5280
    §4.2.1.13) and kept while current (before nextUpdate, §5.1.2.5).

    The node refreshes it in the background every ``MYNA_NODE_CRL_MAX_AGE_SECONDS``
    (:func:`create_node_app`),
    so a revocation reaches the node within that time, and a query never waits for a
    fetch unless the node holds no current CRL at all. The CRL's issuer and signature
    are checked by :func:`verify_hub_message`, not here.
    """

    url: str
    client: httpx.Client
    _crl: x509.CertificateRevocationList | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def revocation_list(self) -> x509.CertificateRevocationList:
        """The CRL held, or one fetched now when none is held or it has lapsed."""
        crl = self._crl
        if crl is not None and _current(crl, utcnow()):
            return crl
        return self._fetch()

    def refresh(self) -> None:
        """Fetch the CRL again; on failure keep the one held (until its nextUpdate)."""
        # Logged by _fetch; the CRL held serves until it lapses.
        with contextlib.suppress(RevocationUnavailableError):
            self._fetch()

    def _fetch(self) -> x509.CertificateRevocationList:
        with self._lock:
            try:
                response = self.client.get(self.url)
                response.raise_for_status()
                crl = x509.load_der_x509_crl(response.content)
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("node_crl_unavailable", url=self.url)
                raise RevocationUnavailableError from exc
            self._crl = crl
            return crl


def _check_revocation(
    certificate: x509.Certificate,
    issuer: x509.Certificate,
    crl: x509.CertificateRevocationList,
    at: datetime,
) -> None:
    # RFC 5280 §6.3.3: the CRL must come from the certificate's issuer, verify with its
    # key and be current; then the serial must not be listed.
    if crl.issuer != issuer.subject or not crl.is_signature_valid(
        issuer.public_key()  # type: ignore[arg-type]  # the CA key is RSA or ML-DSA-65
    ):
        raise RevocationUnavailableError
    next_update = crl.next_update_utc
    if at < crl.last_update_utc - timedelta(minutes=5) or (
        next_update is not None and at > next_update
    ):
        raise RevocationUnavailableError
    if crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None:
        raise _verification("revoked")


def verify_hub_message(
    token: str,
    *,
    trust: HubTrust,
    revocation: RevocationSource,
    at: datetime | None = None,
    max_bytes: int = MAX_TOKEN_BYTES,
    policy: str = "classic",
    pq_revocation: RevocationSource | None = None,
) -> OpenedMessage:
    """Verify a message from the hub without the JPKI database: the node's one verifier.

    In order: the JWS shape and ES256 (RFC 7515 §4.1.1, RFC 7518 §3.4); ``kid`` names the
    hub; the ``x5c`` certificate chains to the configured government CA and root with
    the organisation profile and names the hub (:meth:`HubTrust.check_certificate`); it
    is not on a current, CA-signed CRL (RFC 5280 §6.3); the signature verifies with its
    key (RFC 7515 §5.2). Raises ``OrganizationVerificationError`` with the JPKI code
    (untrusted_issuer, revoked, ...), SenderMismatchError, RevocationUnavailableError or
    BadMessageSignatureError; returns the sender and the payload.

    Under ``hybrid`` the ML-DSA-65 signature is checked the same way against the
    post-quantum government CA and its CRL (``pq_revocation``) — MissingPqSignatureError,
    UntrustedPqCertificateError, BadPqSignatureError; under ``post-quantum`` only it.
    """
    moment = at or utcnow()
    envelope = read_envelope(
        token, bad_certificate=lambda: _verification("malformed_certificate"), max_bytes=max_bytes
    )
    sender, certificate = envelope.sender, envelope.certificate
    if sender != trust.hub_code:
        raise SenderMismatchError(claimed=trust.hub_code, signer=sender)
    pq = required_pq(envelope, policy)
    if pq is not None:
        issuer = trust.check_pq_certificate(pq.certificate, organization=trust.hub_code, at=moment)
        if pq_revocation is None:
            raise RevocationUnavailableError
        try:
            _check_revocation(pq.certificate, issuer, pq_revocation.revocation_list(), moment)
        except jpki.OrganizationVerificationError as exc:
            raise UntrustedPqCertificateError(reason=exc.code) from exc
        pq.verify()
    if policy == "post-quantum":
        return OpenedMessage(sender=sender, payload=envelope.payload)
    trust.check_certificate(certificate, organization=trust.hub_code, at=moment)
    _check_revocation(certificate, trust.government, revocation.revocation_list(), moment)
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):  # pragma: no cover - checked above
        raise _verification("weak_algorithm")
    try:
        # The JWS as read_envelope read it, not the token read a second time.
        valid = jws.validate_compact(
            envelope.signed, ECKey.import_key(key), registry=registry_for(max_bytes)
        )
    except (JoseError, ValueError) as exc:
        raise _verification("bad_signature") from exc
    if not valid:
        raise _verification("bad_signature")
    return OpenedMessage(sender=sender, payload=envelope.payload)


# -- the node ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgencyNode:
    """One agency's intermediate server: its code, signing credential and trust."""

    agency_code: str
    credential: Credential
    trust: HubTrust
    revocation: RevocationSource
    # The post-quantum government CA's CRL, and what the node requires of the hub's
    # messages (MYNA_MESSAGE_SIGNATURE_POLICY).
    pq_revocation: RevocationSource | None = None
    policy: str = "classic"

    def verify(self, token: str, *, max_bytes: int = MAX_TOKEN_BYTES) -> OpenedMessage:
        """:func:`verify_hub_message` with this node's trust, CRLs and policy."""
        return verify_hub_message(
            token,
            trust=self.trust,
            revocation=self.revocation,
            max_bytes=max_bytes,
            policy=self.policy,
            pq_revocation=self.pq_revocation,
        )


def answer_on_node(*, session: Session, node: AgencyNode, token: str) -> str:
    """情報提供 on a node: verify the hub's query, refuse stale or replayed ones, answer.

    The node keeps the request ids it answered (its own ``network_seen_requests``), so a
    captured query cannot be played again within the clock-skew window.
    """
    opened = node.verify(token)
    query = ProviderQuery.from_json(opened.payload)
    _admit(session, node, query.provider, query.request_id, query.requester, query.issued_at)
    return respond(
        session=session, query=query, provider=node.agency_code, credential=node.credential
    )


def update_on_node(*, session: Session, node: AgencyNode, token: str) -> str:
    """副本の更新 on a node: verify the hub's update, refuse stale or replayed ones, write."""
    opened = node.verify(token)
    update = ProviderUpdate.from_json(opened.payload)
    _admit(session, node, update.owner, update.request_id, update.publisher, update.issued_at)
    return apply_update(
        session=session, update=update, owner=node.agency_code, credential=node.credential
    )


def correction_on_node(*, session: Session, node: AgencyNode, token: str) -> str:
    """訂正の申出 on a node: verify the hub's delivery, refuse stale or replayed ones, queue."""
    opened = node.verify(token, max_bytes=MAX_CORRECTION_MESSAGE_BYTES)
    correction = ProviderCorrection.from_json(opened.payload)
    _admit(
        session,
        node,
        correction.owner,
        correction.request_id,
        correction.requester,
        correction.issued_at,
    )
    return receive_correction(
        session=session, correction=correction, owner=node.agency_code, credential=node.credential
    )


class HubRefusedError(ExchangeError, code="hub_refused", status_code=502):
    message = N_("The hub refused the message ({reason}). Nothing was changed.")


def post_to_hub(client: httpx.Client, hub_url: str, path: str, token: str) -> bytes:
    """POST a signed message to the hub (the portal); its answer, or HubRefusedError."""
    try:
        response = client.post(
            hub_url.rstrip("/") + path,
            content=token.encode("ascii"),
            headers={"content-type": MEDIA_TYPE},
        )
    except httpx.HTTPError as exc:
        raise HubRefusedError(reason=type(exc).__name__) from exc
    if response.status_code != 200:
        raise HubRefusedError(reason=_error_code(response))
    return response.content


def answer_correction_on_node(
    *,
    session: Session,
    node_agency: str,
    credential: Credential,
    correction_id: int,
    corrected: bool,
    reason: str,
    record_id: int | None,
    field: str,
    value: str,
    send: Callable[[str], object],
) -> CorrectionAnswer:
    """A node's staff answers a correction request from its queue, through the hub.

    The decision (and the corrected record) is written in ``session``'s transaction and
    the signed answer sent with ``send``; if the hub refuses it, ``send`` raises and the
    caller's transaction rolls back: nothing is corrected that the resident is not told.
    """
    decision = agencies.decide_correction(
        session=session,
        agency_code=node_agency,
        correction_id=correction_id,
        corrected=corrected,
        reason=reason,
        record_id=record_id,
        field=field,
        value=value,
    )
    answer = CorrectionAnswer(
        answer_id=new_request_id(),
        request_id=decision.request_id,
        owner=node_agency,
        item=decision.item,
        corrected=decision.corrected,
        reason=decision.reason,
        issued_at=utcnow(),
    )
    send(sign(answer.to_json(), credential))
    return answer


def _admit(
    session: Session,
    node: AgencyNode,
    addressee: str,
    request_id: str,
    sender: str,
    issued_at: datetime,
) -> None:
    """Refuse a message meant for another agency, a stale one, or a replayed one."""
    if addressee != node.agency_code:
        raise WrongProviderError(agency=node.agency_code, provider=addressee)
    admit_once(session=session, request_id=request_id, requester=sender, issued_at=issued_at)


def _error(error: MynaError) -> JSONResponse:
    # A certificate the node cannot trust is an authentication failure (401).
    status = 401 if isinstance(error, jpki.VerificationError) else error.status_code
    return JSONResponse({"error": error.code, "message": error.localized()}, status_code=status)


_QUERY_BODY = BodyLimit(MEDIA_TYPE, MAX_TOKEN_BYTES, NodeMediaTypeError, MessageTooLargeError)
# A correction request carries its evidence file: a larger limit, on that path only.
_CORRECTION_BODY = BodyLimit(
    MEDIA_TYPE, MAX_CORRECTION_MESSAGE_BYTES, NodeMediaTypeError, MessageTooLargeError
)


async def _body(request: Request, limit: BodyLimit = _QUERY_BODY) -> str:
    body = await limit.read(request)
    try:
        return body.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise MalformedMessageError from exc


def create_node_app(container: Container, node: AgencyNode) -> FastAPI:
    """The agency node's HTTP face: ``POST /network/query`` and the operator's endpoints.

    ``/healthz``, ``/readyz`` (its database, the government CA's CRL) and ``/metrics``
    are the ones every Myna app has (:func:`myna.platform.operations.install_operations`).

    At start-up the node fetches the government CA's CRL, then again every
    ``MYNA_NODE_CRL_MAX_AGE_SECONDS`` in the background.
    """
    interval = container.settings.node_crl_max_age_seconds

    sources = [node.revocation, *([node.pq_revocation] if node.pq_revocation else [])]

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for source in sources:
            await anyio.to_thread.run_sync(source.refresh)
        async with anyio.create_task_group() as tasks:
            for source in sources:
                tasks.start_soon(_refresh_revocation, source, interval)
            yield
            tasks.cancel_scope.cancel()

    app = FastAPI(
        telemetry=NO_TELEMETRY,
        lifespan=lifespan,
        title=f"Myna agency node {node.agency_code}",
        version=__version__,
        description="An agency's intermediate server (中間サーバー): answers the hub's signed "
        "queries from its replica store. See docs/network.md.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/network/openapi.json",
    )

    def answer(token: str) -> str:
        with unit_of_work(container.session_factory) as session:
            return answer_on_node(session=session, node=node, token=token)

    def write(token: str) -> str:
        with unit_of_work(container.session_factory) as session:
            return update_on_node(session=session, node=node, token=token)

    def queue(token: str) -> str:
        with unit_of_work(container.session_factory) as session:
            return correction_on_node(session=session, node=node, token=token)

    async def handle(
        request: Request, work: Callable[[str], str], event: str, limit: BodyLimit = _QUERY_BODY
    ) -> Response:
        try:
            token = await _body(request, limit)
            signed = await run_in_threadpool(work, token)
        except MynaError as error:
            log.warning(event, agency=node.agency_code, reason=error.code)
            return _error(error)
        return Response(content=signed, media_type=MEDIA_TYPE)

    @app.post(QUERY_PATH, response_model=None, summary="Answer the hub's signed query")
    async def query(request: Request) -> Response:
        return await handle(request, answer, "node_query_refused")

    @app.post(
        UPDATE_PATH, response_model=None, summary="Write the hub's signed update (副本の更新)"
    )
    async def update(request: Request) -> Response:
        return await handle(request, write, "node_update_refused")

    @app.post(
        CORRECTION_PATH,
        response_model=None,
        summary="Queue the hub's signed correction request (訂正の申出)",
    )
    async def correction(request: Request) -> Response:
        return await handle(request, queue, "node_correction_refused", _CORRECTION_BODY)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = "not_found" if exc.status_code == 404 else "bad_request"
        if exc.status_code == 405:
            code = "method_not_allowed"
        return JSONResponse(
            {"error": code, "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, _exc: RequestValidationError) -> JSONResponse:
        return _error(MalformedMessageError())

    app.add_middleware(UnexpectedErrorMiddleware)  # innermost: a 500 gets the headers
    app.add_middleware(RejectNulMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    # /healthz, /readyz (the node's database, the government CA's CRL), /metrics, ids.
    checks = [
        database_check(
            container.session_factory,
            expected_revision=schema_head(),
            timeout_seconds=container.settings.ready_timeout_seconds,
        ),
        *(_crl_check(name, source) for name, source in _revocation_checks(node)),
    ]
    install_operations(
        app, app_operations(container.settings, checks, health={"agency": node.agency_code})
    )
    return app


def _revocation_checks(node: AgencyNode) -> list[tuple[str, RevocationSource]]:
    named = [("hub_crl", node.revocation)]
    if node.pq_revocation is not None:
        named.append(("hub_pq_crl", node.pq_revocation))
    return named


def _crl_check(name: str, source: RevocationSource) -> Check:
    """The government CA's CRL is held and current (fetched now if it lapsed)."""

    def run() -> str:
        try:
            crl = source.revocation_list()
        except RevocationUnavailableError as error:
            raise NotReadyError("unavailable") from error
        return f"current until {crl.next_update_utc:%Y-%m-%dT%H:%M:%SZ}"

    return Check(name, run)


async def _refresh_revocation(source: RevocationSource, interval: float) -> None:
    while True:
        await anyio.sleep(interval)
        await anyio.to_thread.run_sync(source.refresh)


def check_own_credential(node: AgencyNode, *, at: datetime | None = None) -> None:
    """Refuse to start with a certificate that is not the agency's, or a key not its own."""
    moment = at or utcnow()
    certificate = node.credential.certificate
    try:
        node.trust.check_certificate(certificate, organization=node.agency_code, at=moment)
    except MynaError as exc:
        raise NodeConfigurationError(
            reason=f"the certificate does not verify as {node.agency_code} ({exc.code})"
        ) from exc
    if node.credential.private_key.public_key() != certificate.public_key():
        raise NodeConfigurationError(reason="the key file does not belong to the certificate")
    _check_own_pq(node, moment)
    if not agencies.load_catalog().knows(node.agency_code):
        raise NodeConfigurationError(reason=f"{node.agency_code} is not in the agency catalog")


def _check_own_pq(node: AgencyNode, moment: datetime) -> None:
    """The ML-DSA-65 key and certificate, and what the policy needs to check the hub's."""
    pq = node.credential.pq
    if pq is not None:
        try:
            node.trust.check_pq_certificate(
                pq.certificate, organization=node.agency_code, at=moment
            )
        except MynaError as exc:
            raise NodeConfigurationError(
                reason=f"the ML-DSA-65 certificate does not verify as {node.agency_code} "
                f"({exc.code}); pass --pq-ca-chain"
            ) from exc
        if pq.private_key.public_key() != pq.certificate.public_key():
            raise NodeConfigurationError(
                reason="the ML-DSA-65 key file does not belong to its certificate"
            )
    if node.policy != "classic" and (
        node.trust.pq_government is None or node.pq_revocation is None
    ):
        raise NodeConfigurationError(
            reason=f"the {node.policy} policy needs the post-quantum CA chain (--pq-ca-chain)"
        )


def crl_url_of(certificate: x509.Certificate) -> str:
    """The CRL distribution point (RFC 5280 §4.2.1.13) of a government-CA certificate."""
    try:
        points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    except x509.ExtensionNotFound as exc:
        raise NodeConfigurationError(reason="the certificate names no CRL; pass --crl-url") from exc
    for point in points.value:
        for name in point.full_name or []:
            if isinstance(name, x509.UniformResourceIdentifier):
                return name.value
    raise NodeConfigurationError(reason="the certificate names no CRL; pass --crl-url")


def copy_agency_records(*, source: Session, target: Session, agency_code: str) -> int:
    """Fill a node's replica store with ``agency_code``'s records from an embedded database.

    Reads through the replica store's public queries, person by person (the source's
    link codes for the agency), and writes through ``upsert_records``: the node's rows
    are the agency's rows, checked again on the way in. Returns how many were written.
    """
    catalog = agencies.load_catalog()
    agency = catalog.resolve(agency_code)
    if agency is None:
        raise NodeConfigurationError(reason=f"{agency_code} is not in the agency catalog")
    items = [item.code for item in catalog.items_provided_by(agency)]
    codes = source.scalars(
        select(LinkCode.link_code)
        .where(LinkCode.agency_code == agency_code)
        .order_by(LinkCode.link_code)
    ).all()
    written = 0
    batch: list[agencies.RecordWrite] = []
    for link_code in codes:
        for record in agencies.answer_query(
            session=source, agency_code=agency_code, link_code=link_code, items=items
        ):
            batch.append(from_attributes(agencies.RecordWrite, record, link_code=link_code))
        if len(batch) >= 1000:
            written += agencies.upsert_records(
                session=target, agency_code=agency_code, records=batch
            )
            batch = []
    written += agencies.upsert_records(session=target, agency_code=agency_code, records=batch)
    return written


# -- the hub's side: HTTP transport -----------------------------------------------------


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"http_{response.status_code}"
    code = body.get("error") if isinstance(body, dict) else None
    if isinstance(code, str) and code.isascii() and 0 < len(code) <= 64:
        return code
    return f"http_{response.status_code}"


class HttpTransport:
    """Distributed mode: the hub posts each signed query to the provider's node.

    ``nodes`` maps agency codes to node base URLs. A node that does not answer within
    ``timeout`` seconds (connect, send, or between bytes of the answer) raises
    ``TimeoutError``; one that cannot be reached, ``ConnectionError``; one that answers
    with an error, :class:`ProviderRefusedError` carrying the node's error code.
    """

    def __init__(
        self, nodes: Mapping[str, str], *, timeout: float, client: httpx.Client | None = None
    ) -> None:
        self.nodes = {code: url.rstrip("/") for code, url in nodes.items()}
        self._client = client or httpx.Client(timeout=httpx.Timeout(timeout), trust_env=False)

    def serves(self, provider: str) -> bool:
        """Whether ``provider`` has a node of its own."""
        return provider in self.nodes

    def query(self, provider: str, signed_query: str) -> str:
        """POST ``signed_query`` to the provider's node; its signed answer."""
        return self._post(provider, QUERY_PATH, signed_query)

    def publish(self, owner: str, signed_update: str) -> str:
        """POST ``signed_update`` to the owner's node; its signed receipt."""
        return self._post(owner, UPDATE_PATH, signed_update)

    def correct(self, owner: str, signed_correction: str) -> str:
        """POST ``signed_correction`` to the owner's node; its signed receipt."""
        return self._post(owner, CORRECTION_PATH, signed_correction)

    def _post(self, provider: str, path: str, message: str) -> str:
        base = self.nodes.get(provider)
        if base is None:
            msg = f"no node is configured for {provider}"
            raise ConnectionError(msg)
        try:
            response = self._client.post(
                base + path,
                content=message.encode("ascii"),
                headers={"content-type": MEDIA_TYPE, "accept": MEDIA_TYPE},
            )
        except httpx.TimeoutException as exc:
            raise TimeoutError(provider) from exc
        except httpx.HTTPError as exc:
            raise ConnectionError(provider) from exc
        if response.status_code != 200:
            reason = _error_code(response)
            log.warning("node_refused", provider=provider, reason=reason)
            raise ProviderRefusedError(provider=provider, reason=reason)
        if len(response.content) > MAX_TOKEN_BYTES:
            raise MessageTooLargeError
        return response.text.strip()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


@dataclass
class RoutingTransport:
    """Some agencies over HTTP (those with a node), the others in-process."""

    remote: HttpTransport
    local: AgencyTransport

    def query(self, provider: str, signed_query: str) -> str:
        """Deliver through the provider's node if it has one, else in-process."""
        if self.remote.serves(provider):
            return self.remote.query(provider, signed_query)
        return self.local.query(provider, signed_query)

    def publish(self, owner: str, signed_update: str) -> str:
        """Deliver through the owner's node if it has one, else in-process."""
        if self.remote.serves(owner):
            return self.remote.publish(owner, signed_update)
        return self.local.publish(owner, signed_update)

    def correct(self, owner: str, signed_correction: str) -> str:
        """Deliver through the owner's node if it has one, else in-process."""
        if self.remote.serves(owner):
            return self.remote.correct(owner, signed_correction)
        return self.local.correct(owner, signed_correction)
