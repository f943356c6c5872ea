"""Back office (申請管理): municipal staff accounts, two-factor login, what staff see.

A staff member logs in with a password, then a one-time code from an authenticator
app (TOTP, RFC 6238 with its defaults: SHA-1, 6 digits, 30-second steps, one step of
clock drift either way), or with their own MyNumber card registered as their staff ID
(``office.staff_cards``). Five failures of either lock the account for 15 minutes; a
disabled account logs in by no factor and its sessions end.
Everything a staff member sees is scoped to their own municipality here, in the
service, so no page or API can forget to.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import pyotp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import reference
from myna.applications import service as applications
from myna.applications.domain import STATUS_LABELS
from myna.applications.models import Application
from myna.applications.service import ApplicationRead
from myna.office.models import StaffMember
from myna.office.roles import StaffRole
from myna.platform.attributes import from_attributes
from myna.platform.db import utcnow
from myna.platform.encoding import b64, unb64
from myna.platform.errors import N_, MynaError
from myna.platform.logging import get_logger
from myna.platform.sessions import STAFF, BrowserSession, SessionStore, StaffNotLoggedInError
from myna.platform.settings import Settings

log = get_logger(__name__)

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
TOTP_ISSUER = "Myna 申請管理"
TOTP_STEP_SECONDS = 30
TOTP_DRIFT_STEPS = 1
DASHBOARD_RECENT = 5

# scrypt (RFC 7914) parameters: N=2**14, r=8, p=1 use 16 MiB and ~50 ms per check,
# the interactive-login setting RFC 7914 section 2 suggests; 16-byte random salt per
# user; 32-byte key. They are stored with each hash so they can be raised later; a
# deployment chooses N for new records (``MYNA_STAFF_PASSWORD_WORK_FACTOR``, log2 N).
SCRYPT_LOG2_N = 14
SCRYPT_N = 2**SCRYPT_LOG2_N
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_DKLEN = 32
_HKDF_INFO = b"myna office totp-secret v1"


ROLE_LABELS = {
    StaffRole.CLERK: N_("Clerk"),
    StaffRole.SUPERVISOR: N_("Supervisor"),
    StaffRole.ADMIN: N_("Administrator"),
    StaffRole.PLATFORM_ADMIN: N_("Platform administrator"),
}


class OfficeError(MynaError):
    """A back-office failure."""

    code = "office_error"


class InvalidCredentialsError(OfficeError):
    code = "invalid_credentials"
    message = N_(
        "The login ID or password is not correct. Please check them and try again; "
        "after 5 failures the account is locked for 15 minutes."
    )
    status_code = 401


class InvalidCodeError(OfficeError):
    code = "invalid_code"
    message = N_(
        "The one-time code is not correct or was already used. Please enter the current "
        "code from your authenticator app; after 5 failures the account is locked for "
        "15 minutes."
    )
    status_code = 401


class AccountLockedError(OfficeError):
    code = "account_locked"
    message = N_(
        "This account is locked after too many failed attempts. Please try again in "
        "15 minutes, or ask your administrator."
    )
    status_code = 423


class AccountDisabledError(OfficeError):
    code = "account_disabled"
    message = N_("This account has been disabled. Please ask your municipality's administrator.")
    status_code = 403


class OtherMunicipalityError(OfficeError):
    code = "other_municipality"
    message = N_(
        "You can only see your own municipality's applications. Please log in with an "
        "account of that municipality."
    )
    status_code = 403


class StaffExistsError(OfficeError):
    code = "staff_exists"
    message = N_("The login ID {login} is already taken. Please choose another.")
    status_code = 409


class InvalidStaffError(OfficeError):
    code = "invalid_staff"
    message = N_(
        "The login ID must be 3 to 64 letters, digits, dots, hyphens or underscores, and "
        "the name must not be empty. Please correct them."
    )


class StaffNotFoundError(OfficeError):
    code = "staff_not_found"
    message = N_("No staff account has the login ID {login}. Please check the login ID.")
    status_code = 404


class WeakPasswordError(OfficeError):
    code = "weak_password"
    message = N_("The password must be at least {length} characters. Please choose a longer one.")


@dataclass(frozen=True, slots=True)
class StaffRead:
    """A staff member as pages show them (no secrets)."""

    id: int
    municipality_code: str
    login_id: str
    display_name: str
    role: StaffRole
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class NewStaff:
    """A created account and its TOTP provisioning URI, shown once."""

    staff: StaffRead
    provisioning_uri: str


@dataclass(frozen=True, slots=True)
class Dashboard:
    """One municipality's back-office overview."""

    municipality_code: str
    municipality_name: str
    applications: tuple[ApplicationRead, ...]
    colleagues: tuple[StaffRead, ...]
    # (status, English label id, count) for every status, in the flow's order.
    status_counts: tuple[tuple[str, str, int], ...] = ()


# --- secrets -----------------------------------------------------------------------


def hash_password(password: str, log2_n: int = SCRYPT_LOG2_N) -> str:
    """An scrypt record: ``scrypt$N$r$p$salt$key`` (base64 salt and key), N = 2^log2_n."""
    n = 2**log2_n
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, n, SCRYPT_R, SCRYPT_P)
    return "$".join(("scrypt", str(n), str(SCRYPT_R), str(SCRYPT_P), b64(salt), b64(key)))


def check_password(password: str, record: str) -> bool:
    """Whether ``password`` matches the scrypt ``record`` (constant-time compare)."""
    scheme, n, r, p, salt, key = record.split("$")
    if scheme != "scrypt":
        return False
    candidate = _scrypt(password, unb64(salt), int(n), int(r), int(p))
    return secrets.compare_digest(candidate, unb64(key))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=SCRYPT_DKLEN, maxmem=64 << 20
    )


@cache
def _dummy_hash(log2_n: int) -> str:
    """A hash to check unknown login IDs against, so they take as long as known ones
    (made at the deployment's work factor, as its accounts' records are)."""
    return hash_password(secrets.token_urlsafe(16), log2_n)


def _totp_key(settings: Settings) -> bytes:
    """The AES-256 key sealing TOTP secrets, derived from the secret key (HKDF, RFC 5869)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO)
    return hkdf.derive(settings.secret_key.get_secret_value().encode("utf-8"))


def seal_secret(secret: str, *, settings: Settings, login_id: str) -> str:
    """Encrypt a TOTP secret with AES-GCM, bound to the account by its login ID."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_totp_key(settings)).encrypt(
        nonce, secret.encode("ascii"), login_id.encode("utf-8")
    )
    return b64(nonce + sealed)


def open_secret(sealed: str, *, settings: Settings, login_id: str) -> str:
    """Decrypt a TOTP secret sealed by ``seal_secret``."""
    raw = unb64(sealed)
    plain = AESGCM(_totp_key(settings)).decrypt(raw[:12], raw[12:], login_id.encode("utf-8"))
    return plain.decode("ascii")


# --- accounts ----------------------------------------------------------------------


def create_staff(
    *,
    session: Session,
    settings: Settings,
    municipality_code: str,
    login_id: str,
    display_name: str,
    role: StaffRole,
    password: str,
) -> NewStaff:
    """Create a staff account with a fresh TOTP secret; the URI is returned only here."""
    municipality = reference.get_municipality(session=session, code=municipality_code)
    login_id = login_id.strip()
    display_name = display_name.strip()
    if not _valid_login(login_id) or not display_name or len(display_name) > 100:
        raise InvalidStaffError
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(length=MIN_PASSWORD_LENGTH)
    if session.scalar(select(StaffMember.id).where(StaffMember.login_id == login_id)):
        raise StaffExistsError(login=login_id)
    secret = pyotp.random_base32()
    row = StaffMember(
        municipality_code=municipality.code,
        login_id=login_id,
        display_name=display_name,
        role=StaffRole(role).value,
        password_hash=hash_password(password, settings.staff_password_work_factor),
        totp_secret=seal_secret(secret, settings=settings, login_id=login_id),
        totp_last_step=0,
        failed_attempts=0,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=login_id, issuer_name=TOTP_ISSUER)
    log.info("office_staff_created", staff_id=row.id, role=row.role)
    return NewStaff(staff=read_staff(row), provisioning_uri=uri)


def _valid_login(login_id: str) -> bool:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    return 3 <= len(login_id) <= 64 and set(login_id) <= allowed


def read_staff(row: StaffMember) -> StaffRead:
    """A staff account as pages show it (no secrets), disabled or not."""
    return from_attributes(
        StaffRead, row, role=StaffRole(row.role), disabled=row.disabled_at is not None
    )


def current_code(
    *, session: Session, settings: Settings, login_id: str, at: float | None = None
) -> str:
    """The account's TOTP code at ``at`` (for tests and the operator's recovery tools).

    An unknown login ID is said as such: this is an operator's tool, not a login form,
    so there is no guessing to slow down and no lockout to warn of.
    """
    row = _by_login(session, login_id.strip())
    if row is None:
        raise StaffNotFoundError(login=login_id.strip()[:64])
    secret = open_secret(row.totp_secret, settings=settings, login_id=row.login_id)
    return pyotp.TOTP(secret).at(int(time.time() if at is None else at))


def _by_login(session: Session, login_id: str) -> StaffMember | None:
    return session.scalar(select(StaffMember).where(StaffMember.login_id == login_id))


def _check_not_locked(row: StaffMember, now: datetime) -> None:
    if row.locked_until is not None and row.locked_until > now:
        raise AccountLockedError


def check_may_log_in(row: StaffMember, now: datetime) -> None:
    """Refuse a disabled account, then a locked one (every way of logging in asks this)."""
    if row.disabled_at is not None:
        raise AccountDisabledError
    _check_not_locked(row, now)


def _record_failure(row: StaffMember, now: datetime) -> None:
    """Count a failure; the fifth locks the account (the caller commits, then raises)."""
    row.failed_attempts += 1
    if row.failed_attempts >= MAX_FAILURES:
        row.locked_until = now + LOCKOUT
        row.failed_attempts = 0
        log.warning("office_staff_locked", staff_id=row.id)


def verify_password(
    *, session: Session, login_id: str, password: str, work_factor: int = SCRYPT_LOG2_N
) -> StaffRead:
    """The first factor: the account if the password matches, else a counted failure.

    ``work_factor``: the deployment's (``Settings.staff_password_work_factor``), which an
    unknown login ID is checked at, so that it takes as long as a known one.
    """
    now = utcnow()
    row = _by_login(session, login_id.strip())
    if row is None:
        # The same time whether or not the ID exists.
        check_password(password, _dummy_hash(work_factor))
        raise InvalidCredentialsError
    _check_not_locked(row, now)
    if not check_password(password, row.password_hash):
        _record_failure(row, now)
        raise InvalidCredentialsError
    # Only after the right password: a guess learns nothing of the account's state.
    check_may_log_in(row, now)
    return read_staff(row)


def verify_code(
    *, session: Session, settings: Settings, staff_id: int, code: str, at: float | None = None
) -> StaffRead:
    """The second factor: a current TOTP code not used before (RFC 6238 section 5.2)."""
    now = utcnow()
    row = session.get(StaffMember, staff_id, with_for_update=True)
    if row is None:
        raise StaffNotLoggedInError
    check_may_log_in(row, now)
    secret = open_secret(row.totp_secret, settings=settings, login_id=row.login_id)
    totp = pyotp.TOTP(secret)
    current = int(time.time() if at is None else at) // TOTP_STEP_SECONDS
    code = code.strip()
    matched = None
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            matched = step
    # A step at or before the last accepted one is a replay (section 5.2: "MUST NOT
    # accept the second attempt of the same OTP after the successful validation").
    if matched is None or matched <= row.totp_last_step:
        _record_failure(row, now)
        raise InvalidCodeError
    row.totp_last_step = matched
    row.failed_attempts = 0
    row.locked_until = None
    return read_staff(row)


# --- logging in ------------------------------------------------------------------------


def password_step(
    *,
    session: Session,
    sessions: SessionStore,
    session_token: str | None,
    login_id: str,
    password: str,
    work_factor: int = SCRYPT_LOG2_N,
) -> BrowserSession:
    """Check the password; a new session waiting for the one-time code."""
    staff = verify_password(
        session=session, login_id=login_id, password=password, work_factor=work_factor
    )
    return sessions.rotate(
        session, STAFF, old_token=session_token, subject_id=staff.id, awaiting_second_factor=True
    )


def code_step(
    *,
    session: Session,
    settings: Settings,
    sessions: SessionStore,
    active: BrowserSession,
    code: str,
) -> BrowserSession:
    """Check the one-time code; a new, fully logged-in session."""
    if active.subject_id is None:
        raise StaffNotLoggedInError
    staff = verify_code(session=session, settings=settings, staff_id=active.subject_id, code=code)
    log.info("office_login", staff_id=staff.id)
    return sessions.rotate(session, STAFF, old_token=active.token, subject_id=staff.id)


def staff_names(
    *, session: Session, staff_ids: Sequence[int], municipality_code: str
) -> dict[int, str]:
    """The display names of the municipality's own staff among ``staff_ids``."""
    if not staff_ids:
        return {}
    rows = session.execute(
        select(StaffMember.id, StaffMember.display_name).where(
            StaffMember.id.in_(staff_ids), StaffMember.municipality_code == municipality_code
        )
    )
    return {row.id: row.display_name for row in rows}


def platform_administrator(*, session: Session, staff_id: int) -> str | None:
    """The display name of staff member ``staff_id`` if a platform administrator, else None."""
    row = session.get(StaffMember, staff_id)
    if row is None or row.disabled_at is not None or row.role != StaffRole.PLATFORM_ADMIN.value:
        return None
    return row.display_name


def get_staff(*, session: Session, staff_id: int) -> StaffRead:
    """The logged-in staff member, or StaffNotLoggedInError if the account is gone or disabled."""
    row = session.get(StaffMember, staff_id)
    if row is None or row.disabled_at is not None:
        raise StaffNotLoggedInError
    return read_staff(row)


def set_disabled(
    *, session: Session, sessions: SessionStore, login_id: str, disabled: bool
) -> StaffRead:
    """Disable an account (its sessions end at once) or enable it again (the operator's)."""
    row = _by_login(session, login_id.strip())
    if row is None:
        raise StaffNotFoundError(login=login_id.strip()[:64])
    if disabled:
        if row.disabled_at is None:
            row.disabled_at = utcnow()
        ended = sessions.end_subject(session, STAFF, row.id)
        log.warning("office_staff_disabled", staff_id=row.id, sessions_ended=ended)
    else:
        row.disabled_at = None
        log.info("office_staff_enabled", staff_id=row.id)
    return read_staff(row)


# --- what staff see ------------------------------------------------------------------


def municipality_name(*, session: Session, code: str) -> str:
    """The municipality's full name, or its code when the registry does not know it."""
    try:
        return reference.get_municipality(session=session, code=code).full_name
    except reference.MunicipalityNotFoundError:
        return code


def dashboard(
    *, session: Session, staff: StaffRead, municipality_code: str | None = None
) -> Dashboard:
    """The staff member's municipality overview; another municipality's is refused."""
    code = municipality_code or staff.municipality_code
    if code != staff.municipality_code:
        raise OtherMunicipalityError
    municipality = reference.get_municipality(session=session, code=code)
    colleagues = session.scalars(
        select(StaffMember)
        .where(StaffMember.municipality_code == code)
        .order_by(StaffMember.login_id)
    )
    counts: dict[str, int] = {}
    for status, count in session.execute(
        select(Application.status, func.count())
        .where(Application.municipality_code == code)
        .group_by(Application.status)
    ):
        counts[status] = count
    recent = applications.list_applications(
        session=session, municipality_code=code, page_size=DASHBOARD_RECENT
    )
    return Dashboard(
        municipality_code=code,
        municipality_name=municipality.full_name,
        applications=tuple(recent.items),
        colleagues=tuple(read_staff(c) for c in colleagues),
        status_counts=tuple(
            (status.value, label, counts.get(status.value, 0))
            for status, label in STATUS_LABELS.items()
        ),
    )
