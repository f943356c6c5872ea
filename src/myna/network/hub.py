"""The hub: verifies, authorizes, routes and logs every exchange of personal data.

Per request (情報照会): the sender's JWS and certificate are verified, the message is
fresh and not a replay; the requester's link code is mapped to the person and then to
each provider's link code; every requested item is checked against the authorization
table (別表) — a denied item is logged as denied and never reaches a provider; the
allowed items go, one signed query per provider, through the transport; each (item,
provider) pair is appended to the exchange log in the caller's transaction with its
real outcome, so nothing is logged as a success that did not succeed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from myna import registry
from myna.network import linkcodes
from myna.network.corrections import (
    CORRECTION_ANSWER,
    CORRECTION_REQUEST,
    MAX_CORRECTION_MESSAGE_BYTES,
    CorrectionAnswer,
    CorrectionDeliveryFailedError,
    CorrectionNotAllowedError,
    CorrectionNotPossibleError,
    CorrectionReceipt,
    CorrectionRequest,
    CorrectionUnknownError,
    ProviderCorrection,
)
from myna.network.credentials import credential_for
from myna.network.domain import (
    HUB,
    PORTAL,
    ExchangeRequest,
    ItemResult,
    MalformedMessageError,
    Outcome,
    ProviderAnswer,
    ProviderQuery,
    ProviderUpdate,
    SenderMismatchError,
    UnknownAgencyError,
    UpdateFailedError,
    UpdateNotAllowedError,
    UpdateReceipt,
    UpdateRequest,
    exchange_response_json,
)
from myna.network.interfaces import AgencyTransport, CorrectionInbox, Directory, ExchangeCounter
from myna.network.messages import open_message, sign
from myna.network.models import DeliveredCorrection
from myna.network.replay import admit_once
from myna.network.transparency import NewEntry
from myna.network.transparency import append as append_entries
from myna.platform.attributes import from_attributes
from myna.platform.db import utcnow
from myna.platform.errors import MynaError
from myna.platform.logging import get_logger
from myna.platform.settings import Settings

log = get_logger(__name__)
HUB_NAME = "情報提供ネットワークシステム"


# What an agency that does not answer properly raises: a refusal or a bad answer
# (MynaError), or the transport's timeout or connection failure (OSErrors both).
_UNANSWERED = (MynaError, TimeoutError, ConnectionError, OSError)


def _unanswered(
    exc: Exception, role: str, agency: str, items: Sequence[str]
) -> tuple[ItemResult, ...]:
    """Each item's result when ``agency`` (a provider asked, an owner updated) failed us.

    A timeout is told apart so the requester can retry later; anything else fails with
    its code, or ``unreachable`` when the transport could not connect.
    """
    if isinstance(exc, TimeoutError):
        log.warning(f"{role}_timeout", **{role: agency})
        outcome, detail = Outcome.TIMEOUT, "timeout"
    else:
        detail = exc.code if isinstance(exc, MynaError) else "unreachable"
        log.warning(f"{role}_failed", **{role: agency}, reason=detail)
        outcome = Outcome.FAILED
    return tuple(ItemResult(i, agency, outcome, detail=detail) for i in items)


@dataclass(frozen=True, slots=True)
class ExchangeOutcome:
    """What the hub did with one request: a result per (item, provider)."""

    request_id: str
    requester: str
    procedure: str
    results: tuple[ItemResult, ...]

    def unavailable_items(self) -> list[str]:
        """Items that could not be fetched from at least one provider (retry later)."""
        return sorted(
            {r.item for r in self.results if r.outcome in (Outcome.FAILED, Outcome.TIMEOUT)}
        )


@dataclass
class Hub:
    """The information provision network's hub, wired with its catalog and transport."""

    settings: Settings
    directory: Directory
    transport: AgencyTransport
    inbox: CorrectionInbox | None = None
    counter: ExchangeCounter | None = None

    def exchange(self, *, session: Session, token: str) -> ExchangeOutcome:
        """Handle one signed ExchangeRequest end to end (see the module docstring)."""
        try:
            request, my_number = self._admit(session, token)
        except MynaError as exc:
            # Refused before any personal data moved: the reason goes to the operations
            # log (the exchange log records exchanges of a known person only).
            log.warning("exchange_refused", reason=exc.code)
            raise
        return self._route(session, request, my_number)

    def update(self, *, session: Session, token: str) -> ExchangeOutcome:
        """Handle one signed UpdateRequest end to end: 副本の更新 through the hub.

        Verified, fresh and not replayed like a query; every record's item is checked
        against the update table before anything is delivered (one refused item refuses
        the whole update); the owner gets one signed ProviderUpdate through the transport
        and answers with a signed receipt naming what it wrote. Each item is appended to
        the exchange log with its real outcome. Anything short of a receipt for every
        item raises, so the caller's transaction (a move, an account registration)
        writes nothing of its own either.
        """
        try:
            request, my_number = self._admit_update(session, token)
        except MynaError as exc:
            log.warning("update_refused", reason=exc.code)
            raise
        items = tuple(dict.fromkeys(r.item for r in request.records))
        subject = str(registry.resident_id_of(session=session, my_number=my_number))
        owner_code = linkcodes.ensure_link_code(
            session=session, my_number=my_number, agency_code=request.owner
        )
        update = from_attributes(ProviderUpdate, request, link_code=owner_code, issued_at=utcnow())
        hub = credential_for(session=session, settings=self.settings, code=HUB, name=HUB_NAME)
        results = self._deliver(session, update, items, sign(update.to_json(), hub))
        self._log(session, request.publisher, request.procedure, None, subject, results)
        failed = next((r for r in results if r.outcome is not Outcome.SUCCESS), None)
        if failed is not None:
            raise UpdateFailedError(owner=request.owner, reason=failed.detail or "failed")
        return ExchangeOutcome(
            request_id=request.request_id,
            requester=request.publisher,
            procedure=request.procedure,
            results=results,
        )

    def _admit_update(self, session: Session, token: str) -> tuple[UpdateRequest, str]:
        opened = open_message(token, session=session, settings=self.settings)
        request = UpdateRequest.from_json(opened.payload)
        if request.publisher != opened.sender:
            raise SenderMismatchError(claimed=request.publisher, signer=opened.sender)
        for agency in (request.publisher, request.owner):
            if not self.directory.knows(agency):
                raise UnknownAgencyError(agency=agency)
        for record in request.records:
            if not self.directory.may_update(
                request.publisher, request.owner, request.procedure, record.item
            ):
                raise UpdateNotAllowedError(
                    publisher=request.publisher, owner=request.owner, item=record.item
                )
        return request, self._person(session, request.publisher, request)

    def _deliver(
        self, session: Session, update: ProviderUpdate, items: tuple[str, ...], signed: str
    ) -> tuple[ItemResult, ...]:
        owner = update.owner
        try:
            receipt = UpdateReceipt.from_json(
                self._reply(session, owner, self.transport.publish(owner, signed))
            )
            # A receipt for another update, or for fewer items, is no receipt.
            if receipt.owner != owner or receipt.request_id != update.request_id:
                raise MalformedMessageError
            if set(receipt.items) != set(items):
                raise MalformedMessageError
        except _UNANSWERED as exc:
            return _unanswered(exc, "owner", owner, items)
        return tuple(ItemResult(i, owner, Outcome.SUCCESS) for i in items)

    def _reply(self, session: Session, agency: str, token: str) -> bytes:
        """The payload of ``agency``'s signed reply, verified as signed by that agency."""
        opened = open_message(
            token, session=session, settings=self.settings, expected_sender=agency
        )
        return opened.payload

    def respond(self, *, session: Session, outcome: ExchangeOutcome) -> str:
        """The hub-signed answer to the requester (JWS, ES256, the hub's certificate)."""
        hub = credential_for(session=session, settings=self.settings, code=HUB, name=HUB_NAME)
        return sign(exchange_response_json(outcome.request_id, outcome.results), hub)

    def _admit(self, session: Session, token: str) -> tuple[ExchangeRequest, str]:
        opened = open_message(token, session=session, settings=self.settings)
        request = ExchangeRequest.from_json(opened.payload)
        if request.requester != opened.sender:
            raise SenderMismatchError(claimed=request.requester, signer=opened.sender)
        if not self.directory.knows(request.requester):
            raise UnknownAgencyError(agency=request.requester)
        if not request.items:
            raise MalformedMessageError
        return request, self._person(session, request.requester, request)

    def request_correction(self, *, session: Session, token: str) -> CorrectionReceipt:
        """訂正の申出: pass a resident's signed correction request to the item's holder.

        Only the portal sends these, for the resident whose session it serves (its link
        code). The holder must hold the item for that person; it gets the request with
        its own link code and answers with a receipt. The delivery is remembered (only
        that holder may answer, once) and logged; a holder that does not take the request
        raises, so the portal records nothing either.
        """
        opened = open_message(
            token, session=session, settings=self.settings, max_bytes=MAX_CORRECTION_MESSAGE_BYTES
        )
        request = CorrectionRequest.from_json(opened.payload)
        if request.requester != opened.sender:
            raise SenderMismatchError(claimed=request.requester, signer=opened.sender)
        if request.requester != PORTAL:
            raise CorrectionNotAllowedError(requester=request.requester)
        my_number = self._person(session, request.requester, request)
        holders = linkcodes.agencies_holding(session=session, my_number=my_number)
        owner, item = request.owner, request.item
        if owner not in holders or not self.directory.provides(owner, item):
            raise CorrectionNotPossibleError(owner=owner, item=item)
        delivery = from_attributes(
            ProviderCorrection, request, link_code=holders[owner], issued_at=utcnow()
        )
        hub = credential_for(session=session, settings=self.settings, code=HUB, name=HUB_NAME)
        try:
            receipt = CorrectionReceipt.from_json(
                self._reply(
                    session, owner, self.transport.correct(owner, sign(delivery.to_json(), hub))
                )
            )
            if receipt.owner != owner or receipt.request_id != request.request_id:
                raise MalformedMessageError
        except _UNANSWERED as exc:
            (failed,) = _unanswered(exc, "owner", owner, (item,))
            raise CorrectionDeliveryFailedError(owner=owner, reason=failed.detail) from exc
        subject = str(registry.resident_id_of(session=session, my_number=my_number))
        session.add(
            DeliveredCorrection(
                request_id=request.request_id,
                requester=request.requester,
                owner=owner,
                item=item,
                subject=subject,
                delivered_at=utcnow(),
            )
        )
        result = ItemResult(item=item, provider=owner, outcome=Outcome.SUCCESS)
        self._log(session, request.requester, CORRECTION_REQUEST, None, subject, [result])
        return receipt

    def answer_correction(self, *, session: Session, token: str) -> CorrectionAnswer:
        """A holder's signed answer to a correction request it was given: to the portal.

        Refused unless the sender is the holder the hub delivered that request to and it
        is still unanswered; logged; handed to the portal (the inbox), which tells the
        resident — all in the caller's transaction.
        """
        opened = open_message(token, session=session, settings=self.settings)
        answer = CorrectionAnswer.from_json(opened.payload)
        if answer.owner != opened.sender:
            raise SenderMismatchError(claimed=answer.owner, signer=opened.sender)
        admit_once(
            session=session,
            request_id=answer.answer_id,
            requester=answer.owner,
            issued_at=answer.issued_at,
        )
        delivered = session.get(DeliveredCorrection, answer.request_id, with_for_update=True)
        if (
            delivered is None
            or delivered.owner != answer.owner
            or delivered.item != answer.item
            or delivered.answered_at is not None
            or self.inbox is None
        ):
            raise CorrectionUnknownError(request_id=answer.request_id, owner=answer.owner)
        delivered.answered_at = utcnow()
        self.inbox.answered(session, answer)
        result = ItemResult(item=answer.item, provider=delivered.requester, outcome=Outcome.SUCCESS)
        self._log(session, answer.owner, CORRECTION_ANSWER, None, delivered.subject, [result])
        return answer

    @staticmethod
    def _person(
        session: Session, sender: str, request: ExchangeRequest | UpdateRequest | CorrectionRequest
    ) -> str:
        """Accept the request once (fresh, not a replay); the person its link code names."""
        admit_once(
            session=session,
            request_id=request.request_id,
            requester=sender,
            issued_at=request.issued_at,
        )
        return linkcodes.my_number_of(
            session=session, agency_code=sender, link_code=request.subject
        )

    def _route(self, session: Session, request: ExchangeRequest, my_number: str) -> ExchangeOutcome:
        subject = str(registry.resident_id_of(session=session, my_number=my_number))
        holders = linkcodes.agencies_holding(session=session, my_number=my_number)

        results: list[ItemResult] = []
        wanted: dict[str, list[str]] = defaultdict(list)
        for item in dict.fromkeys(request.items):
            if not self.directory.allows(request.requester, request.procedure, item):
                results.append(
                    ItemResult(
                        item=item,
                        provider=HUB,
                        outcome=Outcome.DENIED,
                        detail="not in the authorization table",
                    )
                )
                continue
            # An agency does not ask itself over the network (it has its own records).
            providers = [
                a for a in holders if a != request.requester and self.directory.provides(a, item)
            ]
            for provider in providers:
                wanted[provider].append(item)
        hub = credential_for(session=session, settings=self.settings, code=HUB, name=HUB_NAME)
        for provider, items in sorted(wanted.items()):
            query = from_attributes(
                ProviderQuery,
                request,
                provider=provider,
                link_code=holders[provider],
                items=tuple(items),
                issued_at=utcnow(),
            )
            results.extend(self._ask(session, query, sign(query.to_json(), hub)))
        self._log(
            session,
            request.requester,
            request.procedure,
            request.purpose,
            subject,
            results,
            actor=request.actor,
        )
        return ExchangeOutcome(
            request_id=request.request_id,
            requester=request.requester,
            procedure=request.procedure,
            results=tuple(results),
        )

    def _ask(
        self, session: Session, query: ProviderQuery, signed_query: str
    ) -> tuple[ItemResult, ...]:
        provider, items = query.provider, query.items
        try:
            answer = ProviderAnswer.from_json(
                self._reply(session, provider, self.transport.query(provider, signed_query))
            )
            # An answer to another query (an old one replayed, say) is not this answer.
            if answer.provider != provider or answer.request_id != query.request_id:
                raise MalformedMessageError
        except _UNANSWERED as exc:
            return _unanswered(exc, "provider", provider, items)
        results = []
        for item in items:
            records = tuple(r for r in answer.records if r.item == item)
            # Sent vs nothing held: the log and the resident see which (該当なし).
            outcome = Outcome.SUCCESS if records else Outcome.NO_RECORD
            results.append(
                ItemResult(item=item, provider=provider, outcome=outcome, records=records)
            )
        return tuple(results)

    def _log(
        self,
        session: Session,
        requester: str,
        procedure: str,
        purpose: str | None,
        subject: str,
        results: Sequence[ItemResult],
        *,
        actor: str | None = None,
    ) -> None:
        now = utcnow()
        append_entries(
            session=session,
            entries=[
                NewEntry(
                    time=now,
                    requester=requester,
                    provider=r.provider,
                    procedure=procedure,
                    item=r.item,
                    subject=subject,
                    outcome=r.outcome,
                    detail=r.detail,
                    purpose=purpose,
                    actor=actor,
                )
                for r in results
            ],
        )
        if self.counter is not None:
            self.counter.exchanged(procedure, [r.outcome.value for r in results])
