"""Pure rules of notices (お知らせ): categories, segments, attachments (no I/O).

A **segment** (対象者の条件) is a small rule language kept as data: every rule present
must hold (AND). It is evaluated against one resident's :class:`Facts` — their
registry record and their household's members — so a segment notice is stored once
and resolved when a resident opens the inbox.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any

from myna.platform.errors import N_, MynaError
from myna.platform.files import DOCUMENT_SIGNATURES
from myna.platform.urls import is_allowed_external, is_site_path

MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024
MAX_ATTACHMENTS = 5
MAX_AGE = 150
# Media types a notice may carry, with the bytes each file must start with.
ATTACHMENT_SIGNATURES = DOCUMENT_SIGNATURES
_MUNICIPALITY_CODE = re.compile(r"[0-9]{6}")
SEGMENT_RULES = (
    "municipality_codes",
    "age_from",
    "age_to",
    "reference_date",
    "sex",
    "child_under",
    "member_aged_at_least",
    "head_only",
)
_SAFE_NAME = re.compile(r"[^\\/\x00-\x1f\x7f]{1,120}")


class Category(StrEnum):
    """What a notice is about; the portal shows the Japanese label."""

    CHILD_REARING = "child-rearing"
    TAX = "tax"
    PENSION = "pension"
    CARE = "care"
    HEALTH = "health"
    PROCEDURE = "procedure"


CATEGORY_LABELS: dict[Category, str] = {
    Category.CHILD_REARING: N_("Child-rearing"),
    Category.TAX: N_("Tax"),
    Category.PENSION: N_("Pension"),
    Category.CARE: N_("Long-term care"),
    Category.HEALTH: N_("Health"),
    Category.PROCEDURE: N_("Procedures"),
}


class InvalidSegmentError(MynaError):
    """A segment rule that cannot be evaluated."""

    code = "invalid_segment"
    message = N_("The audience rule is not valid: {detail}. Please correct it and send again.")


class EmptySegmentError(MynaError):
    """A segment without any rule would address every resident by accident."""

    code = "empty_segment"
    message = N_(
        "The audience has no rule. Add at least one rule (for example municipality codes "
        "or an age band)."
    )


class UnknownSegmentRuleError(MynaError):
    """A rule name that the segment language does not have."""

    code = "unknown_segment_rule"
    message = N_("The audience rule {rule} is not known. Known rules: {known}.")


class AttachmentTooLargeError(MynaError):
    """An attachment above the size limit."""

    code = "attachment_too_large"
    message = N_("The attachment {name} is larger than {limit} MiB. Please send a smaller file.")
    status_code = 413


class AttachmentTypeError(MynaError):
    """An attachment that is not a PDF, PNG or JPEG, or whose bytes do not match its type."""

    code = "attachment_type"
    message = N_("The attachment {name} must be a PDF, PNG or JPEG file.")
    status_code = 415


class InvalidNoticeError(MynaError):
    """A notice whose content breaks a rule."""

    code = "invalid_notice"
    message = N_("The notice is not valid: {detail}. Please correct it and send again.")
    status_code = 422


@dataclass(frozen=True, slots=True)
class Facts:
    """What a segment may look at: one resident and their household, on a day."""

    birth_date: date
    sex: int
    municipality_code: str
    is_head: bool
    household_birth_dates: tuple[date, ...]
    on: date


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on ``day`` (年齢計算ニ関スル法律: a year ends the day before)."""
    years = day.year - birth_date.year
    return years - 1 if (day.month, day.day) < (birth_date.month, birth_date.day) else years


def _age(value: Any, rule: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AGE:
        raise InvalidSegmentError(detail=f"{rule} must be a whole number from 0 to {MAX_AGE}")
    return value


@dataclass(frozen=True, slots=True)
class Segment:
    """An audience defined by rules; every rule present must hold.

    ``age_from``/``age_to`` are inclusive ages on ``reference_date`` (the day of
    evaluation when absent); ``child_under`` asks for a household member younger than
    N; ``member_aged_at_least`` for a member aged N or more (the resident counts as a
    member of their own household); ``head_only`` keeps heads of household (世帯主).
    """

    municipality_codes: tuple[str, ...] = ()
    age_from: int | None = None
    age_to: int | None = None
    reference_date: date | None = None
    sex: int | None = None
    child_under: int | None = None
    member_aged_at_least: int | None = None
    head_only: bool = False

    @classmethod
    def from_dict(cls, data: Any) -> Segment:
        """Parse and validate a segment; refuse unknown rules and an empty segment."""
        if not isinstance(data, dict):
            raise InvalidSegmentError(detail="the segment must be an object")
        known = SEGMENT_RULES
        for name in data:
            if name not in known:
                raise UnknownSegmentRuleError(rule=str(name)[:40], known=", ".join(known))
        codes = data.get("municipality_codes", [])
        if not isinstance(codes, list) or not all(
            isinstance(c, str) and _MUNICIPALITY_CODE.fullmatch(c) for c in codes
        ):
            raise InvalidSegmentError(detail="municipality_codes must be 6-digit codes")
        reference = data.get("reference_date")
        if reference is not None:
            try:
                reference = date.fromisoformat(reference)
            except (TypeError, ValueError) as exc:
                raise InvalidSegmentError(detail="reference_date must be YYYY-MM-DD") from exc
        sex = data.get("sex")
        if sex is not None and sex not in (1, 2):
            raise InvalidSegmentError(detail="sex must be 1 (male) or 2 (female)")
        head_only = data.get("head_only", False)
        if not isinstance(head_only, bool):
            raise InvalidSegmentError(detail="head_only must be true or false")
        ages = {
            name: None if data.get(name) is None else _age(data[name], name)
            for name in ("age_from", "age_to", "child_under", "member_aged_at_least")
        }
        segment = cls(
            municipality_codes=tuple(dict.fromkeys(codes)),
            reference_date=reference,
            sex=sex,
            head_only=head_only,
            **ages,
        )
        if (
            segment.age_from is not None
            and segment.age_to is not None
            and segment.age_from > segment.age_to
        ):
            raise InvalidSegmentError(detail="age_from must not be above age_to")
        if segment.is_empty:
            raise EmptySegmentError
        return segment

    @property
    def is_empty(self) -> bool:
        """True when no rule narrows the audience."""
        return not (
            self.municipality_codes
            or self.head_only
            or any(
                value is not None
                for value in (
                    self.age_from,
                    self.age_to,
                    self.sex,
                    self.child_under,
                    self.member_aged_at_least,
                )
            )
        )

    def to_dict(self) -> dict[str, Any]:
        """The segment as stored and sent (rules that are absent are left out)."""
        data: dict[str, Any] = {}
        if self.municipality_codes:
            data["municipality_codes"] = list(self.municipality_codes)
        for name in ("age_from", "age_to", "sex", "child_under", "member_aged_at_least"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.reference_date is not None:
            data["reference_date"] = self.reference_date.isoformat()
        if self.head_only:
            data["head_only"] = True
        return data

    def matches(self, facts: Facts) -> bool:
        """Whether the resident described by ``facts`` belongs to this audience."""
        day = self.reference_date or facts.on
        age = age_on(facts.birth_date, day)
        ages = [age_on(born, day) for born in facts.household_birth_dates]
        checks = (
            not self.municipality_codes or facts.municipality_code in self.municipality_codes,
            self.age_from is None or age >= self.age_from,
            self.age_to is None or age <= self.age_to,
            self.sex is None or facts.sex == self.sex,
            not self.head_only or facts.is_head,
            self.child_under is None or any(a < self.child_under for a in ages),
            self.member_aged_at_least is None or any(a >= self.member_aged_at_least for a in ages),
        )
        return all(checks)


class AudienceNotAllowedError(MynaError):
    """A sender addressing residents outside its mandate (another municipality's, say)."""

    code = "audience_not_allowed"
    message = N_("This sender may not address this audience.")
    status_code = 403


_ONE_BY_ONE = N_("This sender addresses residents one by one by their link code, not by a segment.")
_NOT_YOURS = N_(
    "Municipality {code} is not among this sender's ({allowed}). A municipality addresses "
    "its own residents only."
)
_NAME_THEM = N_("Name the municipalities of prefecture {prefecture} that the notice is for.")
_OUTSIDE_PREFECTURE = N_(
    "Municipality {code} is outside prefecture {prefecture}, the only one this sender serves."
)


@dataclass(frozen=True, slots=True)
class Reach:
    """Which residents a sender may address with a segment notice (its mandate).

    * ``nationwide`` — a national agency (国の機関): any segment.
    * ``municipalities`` — a municipality or its National Health Insurance: its own
      residents only; a segment without municipality codes is narrowed to them.
    * ``prefecture`` — a prefecture's 後期高齢者医療広域連合: municipalities of that
      prefecture, named explicitly.
    * none of them — an insurer or the police, whose audience (their insured, licence
      holders) no segment can describe: they address residents one by one by link code.
    """

    nationwide: bool = False
    municipalities: frozenset[str] = frozenset()
    prefecture: str | None = None

    @property
    def segments_allowed(self) -> bool:
        """Whether this sender may send segment notices at all."""
        return self.nationwide or bool(self.municipalities) or self.prefecture is not None

    def narrow(self, segment: Segment) -> Segment:
        """``segment`` limited to this reach, or :class:`AudienceNotAllowedError`."""
        if self.nationwide:
            return segment
        if not self.segments_allowed:
            raise AudienceNotAllowedError(_ONE_BY_ONE)
        codes = segment.municipality_codes
        if self.municipalities:
            if not codes:
                return replace(segment, municipality_codes=tuple(sorted(self.municipalities)))
            outside = [c for c in codes if c not in self.municipalities]
            if outside:
                allowed = ", ".join(sorted(self.municipalities))
                raise AudienceNotAllowedError(_NOT_YOURS, code=outside[0], allowed=allowed)
            return segment
        if not codes:
            raise AudienceNotAllowedError(_NAME_THEM, prefecture=self.prefecture)
        outside = [c for c in codes if not c.startswith(self.prefecture or "")]
        if outside:
            raise AudienceNotAllowedError(
                _OUTSIDE_PREFECTURE, code=outside[0], prefecture=self.prefecture
            )
        return segment


@dataclass(frozen=True, slots=True)
class AttachmentMeta:
    """What a resident sees of an attachment before downloading it."""

    name: str
    media_type: str
    size: int
    sha256: str


def check_attachment(name: str, media_type: str, data: bytes) -> AttachmentMeta:
    """Validate an attachment's name, type (by its first bytes too) and size."""
    shown = name[:60]
    if not _SAFE_NAME.fullmatch(name):
        raise InvalidNoticeError(detail="an attachment name is empty, too long or has a slash")
    signatures = ATTACHMENT_SIGNATURES.get(media_type)
    if signatures is None or not data.startswith(signatures):
        raise AttachmentTypeError(name=shown)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise AttachmentTooLargeError(name=shown, limit=MAX_ATTACHMENT_BYTES // (1024 * 1024))
    return AttachmentMeta(
        name=name, media_type=media_type, size=len(data), sha256=hashlib.sha256(data).hexdigest()
    )


def check_action_url(url: str) -> str:
    """A notice links to a page of this site (``/services/...``) or a government site.

    The same rule as the login's ``next`` (:func:`myna.platform.urls.is_site_path`), or
    an https address on a government domain (``*.go.jp``, ``*.lg.jp``): a notice is read
    as the government speaking, so it never sends a resident to any other site.
    """
    if is_site_path(url) or is_allowed_external(url):
        return url
    raise InvalidNoticeError(
        detail="action_url must be a path of this site (/...) or an https address on go.jp or lg.jp"
    )


def paragraphs(body: str) -> list[list[str]]:
    """The body as paragraphs (split on blank lines), each a list of lines."""
    blocks = re.split(r"\n\s*\n", body.replace("\r\n", "\n").strip())
    return [[line.strip() for line in block.split("\n")] for block in blocks if block.strip()]


@dataclass(frozen=True, slots=True)
class ToResident:
    """A notice to one resident, named by the sender's own link code (機関別符号)."""

    link_code: str


@dataclass(frozen=True, slots=True)
class ToSegment:
    """A notice to every resident a segment matches, resolved when they read."""

    segment: Segment


Audience = ToResident | ToSegment
