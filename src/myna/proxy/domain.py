"""The pure rules of proxies (代理人): who may act for whom, in what, until when.

Two kinds of authority let one resident act for another in the portal:

* **法定代理人** (legal representative): a parent acts for their own child under 15,
  read straight from the registry's household — the child's 続柄 (relation to the head
  of household) says whose child they are, and the age is taken on today's date in
  Japan. The right ends on the 15th birthday, when the child may use their own card
  (the card's authentication PIN is the holder's own from then on).
* **任意代理人** (appointed proxy): a resident appoints another, for named scopes and
  until a date no more than a year away; the proxy accepts with their own card login.
  The principal may revoke it at once.

No I/O here: callers pass today's date, the records and the time.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from myna.platform.errors import N_, MynaError, NotFoundError
from myna.reference.domain import Relation
from myna.registry.domain import age_on

# A legal representative acts for a child until the child turns this old.
LEGAL_AGE_LIMIT = 15
# An appointment lasts at most this long (the principal can appoint again).
MAX_APPOINTMENT_DAYS = 366
# The code a prospective proxy hands to the principal: short-lived, single use.
CODE_MINUTES = 30
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
CODE_GROUPS = 3
CODE_GROUP_LENGTH = 4


class Scope(StrEnum):
    """What a proxy may do for the principal."""

    NOTICES = "notices"  # read the principal's お知らせ
    MY_INFO = "my_info"  # see the principal's わたしの情報 (through the hub)
    APPLY = "apply"  # make e-applications for the principal, signed with the proxy's card


SCOPE_LABELS: dict[Scope, str] = {
    Scope.NOTICES: N_("Read notices"),
    Scope.MY_INFO: N_("See My information"),
    Scope.APPLY: N_("Make e-applications"),
}

# A legal representative may do everything a proxy can be given.
ALL_SCOPES = frozenset(Scope)


class Kind(StrEnum):
    """Where an authority comes from."""

    LEGAL = "legal"  # 法定代理人: parent of a child under 15
    APPOINTED = "appointment"  # 任意代理人: appointed by the principal


class ProxyError(MynaError):
    """Base of the proxies' refusals."""

    code = "proxy_error"
    status_code = 403


class NotARepresentativeError(ProxyError):
    """Neither a parent of a child under 15 nor an accepted, live appointment."""

    code = "not_a_representative"
    message = N_(
        "You cannot act for this person: you are not their legal representative "
        "and they have not appointed you."
    )


class AuthorityEndedError(ProxyError):
    """The authority a session was acting on has ended (expired, revoked, the child is 15)."""

    code = "proxy_authority_ended"
    message = N_(
        "Your authority to act for this person has ended (it expired or was revoked). "
        "You are back in your own portal."
    )


class ScopeNotGrantedError(ProxyError):
    """The page needs a scope the authority does not give."""

    code = "proxy_scope_not_granted"
    message = N_("You have not been authorised to use this page for the person you act for.")


class NoScopeChosenError(ProxyError):
    code = "proxy_no_scope"
    message = N_("Choose at least one thing the proxy may do.")
    status_code = 422


class InvalidUntilError(ProxyError):
    code = "proxy_invalid_until"
    message = N_("The end date must be after today and no more than {days} days away.")
    status_code = 422


class InvalidCodeError(ProxyError):
    """An appointment code that does not exist, has expired or was used (never told apart)."""

    code = "proxy_invalid_code"
    message = N_(
        "This appointment code is not valid. It may have expired or been used already. "
        "Ask the person to show you a new code."
    )
    status_code = 422


class SelfAppointmentError(ProxyError):
    code = "proxy_self_appointment"
    message = N_("You cannot appoint yourself as your own proxy.")
    status_code = 422


class AppointmentNotFoundError(NotFoundError):
    """An appointment that does not exist or is not the caller's (never told apart)."""

    code = "proxy_appointment_not_found"
    message = N_("This appointment was not found. Go back to your proxies page.")


class AppointmentNotPendingError(ProxyError):
    code = "proxy_appointment_not_pending"
    message = N_("This appointment can no longer be accepted: it was revoked or has expired.")
    status_code = 409


class ActingWhileActingError(ProxyError):
    """A proxy who acts for someone cannot act for a third person from there."""

    code = "proxy_no_redelegation"
    message = N_("Return to your own portal before acting for another person.")


def parse_scopes(values: Iterable[str]) -> frozenset[Scope]:
    """The scopes named in a form (unknown names are refused); at least one."""
    chosen: set[Scope] = set()
    for value in values:
        try:
            chosen.add(Scope(value))
        except ValueError as exc:
            raise NoScopeChosenError from exc
    if not chosen:
        raise NoScopeChosenError
    return frozenset(chosen)


def scopes_text(scopes: Iterable[Scope]) -> str:
    """Scopes as stored: names in a fixed order, space-separated."""
    return " ".join(s.value for s in Scope if s in set(scopes))


def scopes_of(text: str) -> frozenset[Scope]:
    """Scopes as stored, read back (names no longer known are dropped, never added)."""
    known = {s.value: s for s in Scope}
    return frozenset(known[name] for name in text.split() if name in known)


def check_until(until: date, today: date) -> date:
    """An appointment's last day: after today, at most ``MAX_APPOINTMENT_DAYS`` ahead."""
    if until <= today or until > today + timedelta(days=MAX_APPOINTMENT_DAYS):
        raise InvalidUntilError(days=MAX_APPOINTMENT_DAYS)
    return until


@dataclass(frozen=True, slots=True)
class Member:
    """What the legal-representative rule needs of a household member."""

    resident_id: int
    household_id: int
    relation: Relation
    birth_date: date
    active: bool


# A child's relation to the head of household → the relations of their parents in it.
PARENTS_BY_CHILD_RELATION: dict[Relation, frozenset[Relation]] = {
    Relation.CHILD: frozenset({Relation.HEAD, Relation.WIFE, Relation.HUSBAND}),
    Relation.GRANDCHILD: frozenset({Relation.CHILD, Relation.CHILDS_WIFE, Relation.CHILDS_HUSBAND}),
}


def is_legal_representative(parent: Member, child: Member, today: date) -> bool:
    """Whether ``parent`` is 親権者 of ``child`` on ``today`` by the household's 続柄.

    Both live in the same household and are current residents; the child's relation is
    子 (the head's child, whose parents are the head and the head's spouse) or 孫 (a
    child of the head's child, whose parents are 子 and 子の妻/子の夫); and the child is
    under 15 on ``today`` in Japan.
    """
    return (
        parent.resident_id != child.resident_id
        and parent.household_id == child.household_id
        and parent.active
        and child.active
        and parent.relation in PARENTS_BY_CHILD_RELATION.get(child.relation, frozenset())
        and age_on(child.birth_date, today) < LEGAL_AGE_LIMIT
    )


@dataclass(frozen=True, slots=True)
class Appointment:
    """An appointment as the rules see it (任意代理)."""

    id: int
    principal_id: int
    proxy_id: int
    scopes: frozenset[Scope]
    valid_until: date
    accepted_at: datetime | None
    revoked_at: datetime | None

    def status(self, today: date) -> str:
        """``revoked``, ``expired``, ``pending`` (not yet accepted) or ``active``."""
        if self.revoked_at is not None:
            return "revoked"
        if today > self.valid_until:
            return "expired"
        if self.accepted_at is None:
            return "pending"
        return "active"

    def in_force(self, today: date) -> bool:
        """Whether the proxy may act on it on ``today``: accepted, not revoked, not past."""
        return self.status(today) == "active"


@dataclass(frozen=True, slots=True)
class Authority:
    """One resident's right to act for another: its kind, its scopes, what it rests on.

    ``grant`` names it in a session (``legal:<child id>`` or ``appointment:<id>``): a
    session acting on it is checked against the live record at every request.
    """

    kind: Kind
    principal_id: int
    proxy_id: int
    scopes: frozenset[Scope]
    grant: str
    valid_until: date | None = None

    def allows(self, scope: Scope) -> bool:
        """Whether the authority covers ``scope``."""
        return scope in self.scopes


def legal_grant(child_id: int) -> str:
    """The grant a legal representative's session names."""
    return f"{Kind.LEGAL.value}:{child_id}"


def appointment_grant(appointment_id: int) -> str:
    """The grant an appointed proxy's session names."""
    return f"{Kind.APPOINTED.value}:{appointment_id}"


def parse_grant(grant: str) -> tuple[Kind, int]:
    """A session's grant read back; a malformed one is an ended authority."""
    kind, _, number = grant.partition(":")
    if not number.isdigit() or len(number) > 12:
        raise AuthorityEndedError
    try:
        return Kind(kind), int(number)
    except ValueError as exc:
        raise AuthorityEndedError from exc


def new_code() -> str:
    """A one-time appointment code (60 bits), e.g. ``7K3M-Q9TD-2HXA``."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * CODE_GROUP_LENGTH))
    return "-".join(
        chars[i : i + CODE_GROUP_LENGTH] for i in range(0, len(chars), CODE_GROUP_LENGTH)
    )


def normalize_code(value: str) -> str:
    """A typed code in its canonical form (case, spaces, hyphens, O/I/L read as 0/1)."""
    compact = "".join(value.split()).replace("-", "").upper()
    compact = compact.translate(str.maketrans("OIL", "011"))
    length = CODE_GROUPS * CODE_GROUP_LENGTH
    if len(compact) != length or any(c not in CODE_ALPHABET for c in compact):
        raise InvalidCodeError
    return "-".join(compact[i : i + CODE_GROUP_LENGTH] for i in range(0, length, 4))
