"""Use cases of the municipal counters (市民カード化): identify, lend, check in, list.

The counter acts for the municipality: it reads the registry's public surface (the
holder's record, their household) and never the MyNumber. A card is proven with the
card login's challenge-response (``myna.cardlogin``: the card signs a single-use
challenge after the PIN; chain, validity, key usage, revocation and signature are the
JPKI's checks) or, at a shelter only, by a staff member who compares the face with the
card (its certificate still verified, revocation included). Every use is written to
the holder's 利用履歴 in the same transaction as the use itself.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import card, cardlogin, jpki, registry
from myna.cardlogin import Audience, ChallengeStatus
from myna.counters.domain import (
    PRESENTATION_SECONDS,
    PSEUDONYM_INFO,
    Action,
    AlreadyCheckedInError,
    AlreadyRegisteredError,
    BookNotOnLoanError,
    BookOnLoanError,
    CardNotOnReaderError,
    CheckinNotFoundError,
    FaceNotConfirmedError,
    HolderNotResidentError,
    LoanCheck,
    Method,
    NoFacilityError,
    NoMemberChosenError,
    NotRegisteredError,
    OutsideResidentError,
    PresentationExpiredError,
    Service,
    UnknownBookError,
    check_may_borrow,
    due_date,
    holder_pseudonym,
    is_overdue,
    patron_number,
)
from myna.counters.models import Book, CardUse, Checkin, Facility, Loan, Patron
from myna.counters.seed import BOOKS, SHELTER_NAMES
from myna.platform.clock import today_in_japan
from myna.platform.logging import get_logger
from myna.platform.settings import Settings

log = get_logger(__name__)
PRESENTATION_AAD = b"myna counters presentation v1"


# --- keys and pseudonyms -----------------------------------------------------------------


def _derived_key(settings: Settings, info: bytes) -> bytes:
    secret = settings.secret_key.get_secret_value().encode("utf-8")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def pseudonym_of(
    settings: Settings, *, service: Service, municipality_code: str, resident_id: int
) -> str:
    """The holder pseudonym of ``resident_id`` at ``service`` of ``municipality_code``."""
    return holder_pseudonym(
        _derived_key(settings, PSEUDONYM_INFO),
        service=service,
        municipality_code=municipality_code,
        resident_id=resident_id,
    )


# --- facilities --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FacilityView:
    """A library or shelter as the counter's pages show it."""

    id: int
    municipality_code: str
    kind: Service
    name: str


def _view(row: Facility) -> FacilityView:
    return FacilityView(row.id, row.municipality_code, Service(row.kind), row.name)


def ensure_facilities(*, session: Session, municipality_code: str) -> None:
    """The municipality's library (with its catalogue) and shelters, created once."""
    present = session.scalar(
        select(func.count()).where(Facility.municipality_code == municipality_code)
    )
    if present:
        return
    town = registry.get_municipality(session=session, code=municipality_code).name
    library = Facility(
        municipality_code=municipality_code, kind=Service.LIBRARY.value, name=f"{town}立図書館"
    )
    session.add(library)
    session.flush()
    for number, (title, author) in enumerate(BOOKS, start=1):
        session.add(Book(library_id=library.id, code=f"B{number:05d}", title=title, author=author))
    for name in SHELTER_NAMES:
        session.add(
            Facility(
                municipality_code=municipality_code,
                kind=Service.SHELTER.value,
                name=f"{town}立{name}",
            )
        )
    session.flush()


def library_of(*, session: Session, municipality_code: str) -> FacilityView:
    """The municipality's library."""
    row = session.scalars(
        select(Facility).where(
            Facility.municipality_code == municipality_code,
            Facility.kind == Service.LIBRARY.value,
        )
    ).first()
    if row is None:
        raise NoFacilityError
    return _view(row)


def shelters_of(*, session: Session, municipality_code: str) -> list[FacilityView]:
    """The municipality's shelters, in the order they were set up."""
    rows = session.scalars(
        select(Facility)
        .where(
            Facility.municipality_code == municipality_code,
            Facility.kind == Service.SHELTER.value,
        )
        .order_by(Facility.id)
    )
    return [_view(row) for row in rows]


def shelter(*, session: Session, shelter_id: int, municipality_code: str) -> FacilityView:
    """A shelter that the staff of ``municipality_code`` run.

    Another municipality's shelter is refused as if it did not exist: its id tells the
    caller nothing.
    """
    row = session.get(Facility, shelter_id)
    if (
        row is None
        or row.kind != Service.SHELTER.value
        or row.municipality_code != municipality_code
    ):
        raise NoFacilityError
    return _view(row)


# --- identifying the holder --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identified:
    """A current resident whose card was proven at the counter, and how."""

    resident: registry.ResidentRead
    method: Method
    confirmed_by: str | None = None


def _card_on_reader(reader: card.CardReader, card_id: str) -> str:
    if card_id not in {c.card_id for c in reader.list_cards()}:
        raise CardNotOnReaderError
    return card_id


def card_on_reader(*, reader: card.CardReader, card_id: str) -> card.CardSummary:
    """What the card on the reader shows without a PIN (the surface the staff compare)."""
    found = {c.card_id: c for c in reader.list_cards()}.get(card_id)
    if found is None:
        raise CardNotOnReaderError
    return found


def _current_resident(session: Session, resident_id: int) -> registry.ResidentRead:
    try:
        resident = registry.get_resident(session=session, resident_id=resident_id)
    except registry.ResidentNotFoundError as exc:
        raise HolderNotResidentError from exc
    if resident.status != registry.ResidentStatus.ACTIVE:
        raise HolderNotResidentError
    return resident


def identify_with_pin(
    *,
    session: Session,
    settings: Settings,
    reader: card.CardReader,
    session_token: str,
    card_id: str,
    pin: str,
) -> Identified:
    """Prove the card on the reader with its PIN: the card login's challenge-response.

    A challenge of audience ``counter`` is issued to the staff member's session; the
    card signs it after the PIN (the card counts a wrong PIN and locks after the
    third); ``cardlogin.verify_answer`` checks the certificate (chain, validity, key
    usage, revocation) and the signature; the challenge is completed at once.
    """
    _card_on_reader(reader, card_id)
    challenge = cardlogin.start_challenge(
        session=session, settings=settings, session_token=session_token, audience=Audience.COUNTER
    )
    signature = reader.sign(card_id, "auth", pin, challenge.to_be_signed)
    certificate = reader.read_certificate(card_id, "auth")
    now = datetime.now(UTC)
    answer = cardlogin.verify_answer(
        session=session,
        settings=settings,
        challenge_id=challenge.challenge_id,
        certificate_der=certificate.public_bytes(Encoding.DER),
        signature=signature,
        at=now,
    )
    resident = _current_resident(session, answer.certificate.holder_id)
    cardlogin.accept_answer(
        session=session,
        answer=answer,
        status=ChallengeStatus.COMPLETED,
        at=now,
        resident_id=resident.id,
    )
    return Identified(resident, Method.PIN)


def identify_by_face(
    *,
    session: Session,
    settings: Settings,
    reader: card.CardReader,
    card_id: str,
    confirmed: bool,
    staff_name: str,
) -> Identified:
    """The PIN-less path: a staff member compared the face with the card (顔確認).

    Refused unless the staff member confirmed; the certificate read from the card is
    still verified (chain, validity, key usage, revocation): a revoked card is refused
    whoever looks at it.
    """
    _card_on_reader(reader, card_id)
    if not confirmed:
        raise FaceNotConfirmedError
    certificate = reader.read_certificate(card_id, "auth")
    verified = jpki.verify_certificate(
        session=session, settings=settings, certificate=certificate, kind=jpki.CertificateKind.AUTH
    )
    return Identified(
        _current_resident(session, verified.holder_id), Method.FACE, confirmed_by=staff_name
    )


# --- the use history (利用履歴) ------------------------------------------------------------


def _record_use(
    session: Session,
    *,
    holder: str,
    facility: FacilityView,
    action: Action,
    method: Method,
    detail: str,
    at: datetime,
) -> None:
    session.add(
        CardUse(
            holder=holder,
            municipality_code=facility.municipality_code,
            facility_name=facility.name,
            action=action.value,
            method=method.value,
            detail=detail[:200],
            at=at,
        )
    )


@dataclass(frozen=True, slots=True)
class UseView:
    """One line of the resident's 利用履歴."""

    at: datetime
    facility_name: str
    action: Action
    method: Method
    detail: str


def _holders_of(session: Session, settings: Settings, resident_id: int) -> dict[str, Service]:
    """The resident's pseudonyms at every service of every municipality with counters."""
    codes = session.scalars(select(Facility.municipality_code).distinct())
    return {
        pseudonym_of(
            settings, service=service, municipality_code=code, resident_id=resident_id
        ): service
        for code in codes
        for service in Service
    }


def card_uses_of(
    *, session: Session, settings: Settings, resident_id: int, limit: int = 200
) -> list[UseView]:
    """The resident's own uses of the card at counters, newest first."""
    holders = _holders_of(session, settings, resident_id)
    rows = session.scalars(
        select(CardUse)
        .where(CardUse.holder.in_(holders))
        .order_by(CardUse.at.desc(), CardUse.id.desc())
        .limit(limit)
    )
    return [
        UseView(r.at, r.facility_name, Action(r.action), Method(r.method), r.detail) for r in rows
    ]


# --- the library -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PatronView:
    """A library patron as the desk shows them."""

    number: str
    name: str
    loans: list[LoanView]


@dataclass(frozen=True, slots=True)
class LoanView:
    """A book on loan (or just returned)."""

    id: int
    code: str
    title: str
    author: str
    library: str
    lent_at: datetime
    due_on: date
    returned_at: datetime | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class BookView:
    """A book of the catalogue and whether it is out."""

    code: str
    title: str
    author: str
    on_loan: bool


def _library_holder(settings: Settings, library: FacilityView, resident_id: int) -> str:
    return pseudonym_of(
        settings,
        service=Service.LIBRARY,
        municipality_code=library.municipality_code,
        resident_id=resident_id,
    )


def _admits(settings: Settings, library: FacilityView, resident: registry.ResidentRead) -> None:
    if resident.municipality_code == library.municipality_code:
        return
    if library.municipality_code in settings.library_outside_users:
        return
    raise OutsideResidentError(municipality=library.name.removesuffix("立図書館"))


def _patron(session: Session, library: FacilityView, holder: str) -> Patron | None:
    return session.scalars(
        select(Patron).where(Patron.library_id == library.id, Patron.holder == holder)
    ).first()


def register_patron(
    *,
    session: Session,
    settings: Settings,
    library: FacilityView,
    holder: Identified,
    at: datetime,
) -> PatronView:
    """Register the identified resident at ``library`` (利用登録); their card number."""
    _admits(settings, library, holder.resident)
    pseudonym = _library_holder(settings, library, holder.resident.id)
    found = _patron(session, library, pseudonym)
    if found is not None:
        raise AlreadyRegisteredError(number=patron_number(library.municipality_code, found.id))
    patron = Patron(library_id=library.id, holder=pseudonym, registered_at=at)
    session.add(patron)
    session.flush()
    number = patron_number(library.municipality_code, patron.id)
    _record_use(
        session,
        holder=pseudonym,
        facility=library,
        action=Action.LIBRARY_REGISTERED,
        method=holder.method,
        detail=number,
        at=at,
    )
    log.info("counters.patron_registered", library=library.id)
    return PatronView(number, holder.resident.full_name, [])


def _loan_view(loan: Loan, book: Book, library_name: str, today: date) -> LoanView:
    return LoanView(
        id=loan.id,
        code=book.code,
        title=book.title,
        author=book.author,
        library=library_name,
        lent_at=loan.lent_at,
        due_on=loan.due_on,
        returned_at=loan.returned_at,
        overdue=loan.returned_at is None and is_overdue(loan.due_on, today),
    )


def _open_loans(session: Session, patron_id: int) -> list[tuple[Loan, Book]]:
    rows = session.execute(
        select(Loan, Book)
        .join(Book, Book.id == Loan.book_id)
        .where(Loan.patron_id == patron_id, Loan.returned_at.is_(None))
        .order_by(Loan.due_on, Loan.id)
    )
    return [(loan, book) for loan, book in rows]


def _book(session: Session, library: FacilityView, code: str) -> Book:
    book = session.scalars(
        select(Book).where(Book.library_id == library.id, Book.code == code.strip().upper())
    ).first()
    if book is None:
        raise UnknownBookError(code=code.strip()[:16])
    return book


def lend(
    *,
    session: Session,
    settings: Settings,
    library: FacilityView,
    holder: Identified,
    book_code: str,
    at: datetime,
) -> PatronView:
    """Lend a book to the identified patron (貸出); refused when overdue or at the limit."""
    _admits(settings, library, holder.resident)
    pseudonym = _library_holder(settings, library, holder.resident.id)
    patron = _patron(session, library, pseudonym)
    if patron is None:
        raise NotRegisteredError
    book = _book(session, library, book_code)
    today = today_in_japan(at)
    held = _open_loans(session, patron.id)
    check_may_borrow(
        LoanCheck(
            held=len(held), overdue=sum(1 for loan, _b in held if is_overdue(loan.due_on, today))
        )
    )
    on_loan = session.scalar(
        select(func.count()).where(Loan.book_id == book.id, Loan.returned_at.is_(None))
    )
    if on_loan:
        raise BookOnLoanError
    session.add(Loan(book_id=book.id, patron_id=patron.id, lent_at=at, due_on=due_date(today)))
    session.flush()
    _record_use(
        session,
        holder=pseudonym,
        facility=library,
        action=Action.BOOK_LENT,
        method=holder.method,
        detail=book.title,
        at=at,
    )
    loans = [
        _loan_view(loan, b, library.name, today) for loan, b in _open_loans(session, patron.id)
    ]
    return PatronView(
        patron_number(library.municipality_code, patron.id), holder.resident.full_name, loans
    )


def return_book(
    *, session: Session, library: FacilityView, book_code: str, at: datetime
) -> LoanView:
    """Take a book back at the desk (返却): by the book's code, no card needed."""
    book = _book(session, library, book_code)
    found = session.execute(
        select(Loan, Patron)
        .join(Patron, Patron.id == Loan.patron_id)
        .where(Loan.book_id == book.id, Loan.returned_at.is_(None))
    ).first()
    if found is None:
        raise BookNotOnLoanError
    loan, patron = found
    loan.returned_at = at
    _record_use(
        session,
        holder=patron.holder,
        facility=library,
        action=Action.BOOK_RETURNED,
        method=Method.NONE,
        detail=book.title,
        at=at,
    )
    return _loan_view(loan, book, library.name, today_in_japan(at))


def catalogue(*, session: Session, library: FacilityView) -> list[BookView]:
    """The library's books, in code order, with whether each is out."""
    out = set(
        session.scalars(
            select(Loan.book_id)
            .join(Book, Book.id == Loan.book_id)
            .where(Book.library_id == library.id, Loan.returned_at.is_(None))
        )
    )
    books = session.scalars(select(Book).where(Book.library_id == library.id).order_by(Book.code))
    return [BookView(b.code, b.title, b.author, b.id in out) for b in books]


def loans_of(
    *, session: Session, settings: Settings, resident_id: int, at: datetime | None = None
) -> list[LoanView]:
    """The resident's own books on loan at every library, earliest due first."""
    today = today_in_japan(at)
    holders = [
        h for h, s in _holders_of(session, settings, resident_id).items() if s is Service.LIBRARY
    ]
    rows = session.execute(
        select(Loan, Book, Facility)
        .join(Book, Book.id == Loan.book_id)
        .join(Patron, Patron.id == Loan.patron_id)
        .join(Facility, Facility.id == Patron.library_id)
        .where(Patron.holder.in_(holders), Loan.returned_at.is_(None))
        .order_by(Loan.due_on, Loan.id)
    )
    return [_loan_view(loan, book, library.name, today) for loan, book, library in rows]


# --- shelters ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Presentation:
    """A card presented at a shelter, waiting for the household choice.

    Travels in the staff member's form sealed (AES-256-GCM under a key of the
    municipality's system): the page never shows registry ids, and a token cannot be
    made, changed, used at another shelter, by another staff member or after
    ``PRESENTATION_SECONDS``.
    """

    shelter_id: int
    staff_id: int
    method: Method
    confirmed_by: str | None
    presenter: registry.ResidentRead
    members: list[registry.ResidentRead]
    token: str


def present_at_shelter(
    *,
    session: Session,
    settings: Settings,
    shelter: FacilityView,
    staff_id: int,
    holder: Identified,
    at: datetime,
) -> Presentation:
    """The presenter and the household members who may be checked in with them."""
    members = [
        m
        for m in registry.household_members(
            session=session, household_id=holder.resident.household_id
        )
        if m.status == registry.ResidentStatus.ACTIVE and m.id != holder.resident.id
    ]
    payload = {
        "f": shelter.id,
        "s": staff_id,
        "m": holder.method.value,
        "c": holder.confirmed_by,
        "r": holder.resident.id,
        "h": [m.id for m in members],
        "e": int((at + timedelta(seconds=PRESENTATION_SECONDS)).timestamp()),
    }
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_derived_key(settings, PRESENTATION_AAD)).encrypt(
        nonce, json.dumps(payload).encode("utf-8"), PRESENTATION_AAD
    )
    token = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
    return Presentation(
        shelter.id, staff_id, holder.method, holder.confirmed_by, holder.resident, members, token
    )


def open_presentation(
    *,
    session: Session,
    settings: Settings,
    shelter: FacilityView,
    staff_id: int,
    token: str,
    at: datetime,
) -> Presentation:
    """The presentation sealed in ``token``, for this shelter and staff member, in time."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        opened = AESGCM(_derived_key(settings, PRESENTATION_AAD)).decrypt(
            raw[:12], raw[12:], PRESENTATION_AAD
        )
        payload = json.loads(opened)
    except (ValueError, InvalidTag) as exc:
        raise PresentationExpiredError from exc
    if payload["f"] != shelter.id or payload["s"] != staff_id or payload["e"] < int(at.timestamp()):
        raise PresentationExpiredError
    presenter = _current_resident(session, int(payload["r"]))
    members = [_current_resident(session, int(m)) for m in payload["h"]]
    return Presentation(
        shelter.id,
        staff_id,
        Method(payload["m"]),
        payload["c"],
        presenter,
        members,
        token,
    )


@dataclass(frozen=True, slots=True)
class CheckinView:
    """A line of a shelter's roster (避難者名簿)."""

    id: int
    shelter: str
    party: str
    name: str
    name_kana: str
    birth_date: date
    sex: int
    home_municipality: str
    method: Method
    checked_in_by: str
    confirmed_by: str | None
    checked_in_at: datetime
    checked_out_at: datetime | None


def _checkin_view(row: Checkin, shelter_name: str) -> CheckinView:
    return CheckinView(
        id=row.id,
        shelter=shelter_name,
        party=row.party,
        name=row.name,
        name_kana=row.name_kana,
        birth_date=row.birth_date,
        sex=row.sex,
        home_municipality=row.home_municipality,
        method=Method(row.method),
        checked_in_by=row.checked_in_by,
        confirmed_by=row.confirmed_by,
        checked_in_at=row.checked_in_at,
        checked_out_at=row.checked_out_at,
    )


def check_in(
    *,
    session: Session,
    settings: Settings,
    shelter: FacilityView,
    presentation: Presentation,
    with_members: list[int],
    include_presenter: bool,
    staff_name: str,
    at: datetime,
) -> list[CheckinView]:
    """Check the presenter and the chosen household members in together (one party).

    ``with_members`` are positions in ``presentation.members``. Someone already in (not
    checked out) at this shelter is refused, nothing written.
    """
    chosen = [
        presentation.members[i]
        for i in sorted(set(with_members))
        if 0 <= i < len(presentation.members)
    ]
    people = ([(presentation.presenter, presentation.method)] if include_presenter else []) + [
        (m, Method.HOUSEHOLD) for m in chosen
    ]
    if not people:
        raise NoMemberChosenError
    party = secrets.token_hex(8)
    made: list[CheckinView] = []
    for person, method in people:
        pseudonym = pseudonym_of(
            settings,
            service=Service.SHELTER,
            municipality_code=shelter.municipality_code,
            resident_id=person.id,
        )
        inside = session.scalar(
            select(func.count()).where(
                Checkin.shelter_id == shelter.id,
                Checkin.holder == pseudonym,
                Checkin.checked_out_at.is_(None),
            )
        )
        if inside:
            raise AlreadyCheckedInError(name=person.full_name)
        row = Checkin(
            shelter_id=shelter.id,
            holder=pseudonym,
            party=party,
            name=person.full_name,
            name_kana=person.full_name_kana,
            birth_date=person.birth_date,
            sex=int(person.sex),
            home_municipality=person.municipality_name,
            method=method.value,
            checked_in_by=staff_name,
            confirmed_by=presentation.confirmed_by if method is Method.FACE else None,
            checked_in_at=at,
        )
        session.add(row)
        session.flush()
        _record_use(
            session,
            holder=pseudonym,
            facility=shelter,
            action=Action.SHELTER_CHECKED_IN,
            method=method,
            detail=presentation.presenter.full_name if method is Method.HOUSEHOLD else "",
            at=at,
        )
        made.append(_checkin_view(row, shelter.name))
    log.info("counters.checked_in", shelter=shelter.id, people=len(made))
    return made


def check_out(
    *, session: Session, shelter: FacilityView, checkin_id: int, at: datetime
) -> CheckinView:
    """Record that a person left the shelter (退所)."""
    row = session.get(Checkin, checkin_id)
    if row is None or row.shelter_id != shelter.id or row.checked_out_at is not None:
        raise CheckinNotFoundError
    row.checked_out_at = at
    _record_use(
        session,
        holder=row.holder,
        facility=shelter,
        action=Action.SHELTER_CHECKED_OUT,
        method=Method.NONE,
        detail="",
        at=at,
    )
    return _checkin_view(row, shelter.name)


def roster(*, session: Session, shelter: FacilityView) -> list[CheckinView]:
    """Everyone checked in at ``shelter`` (those who left too), in order of arrival."""
    rows = session.scalars(
        select(Checkin).where(Checkin.shelter_id == shelter.id).order_by(Checkin.id)
    )
    return [_checkin_view(row, shelter.name) for row in rows]
