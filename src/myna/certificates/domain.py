"""Rules of certificate issuance (証明書の交付): the forms, their options, fees, refusals.

Pure rules, no I/O. The three forms a municipality issues through Myna:

* 住民票の写し (copy of the residence record): the whole household (世帯全員) or chosen
  members (一部); with or without 続柄 (relation to the head), 本籍 (registered
  domicile) and 個人番号 (MyNumber). The MyNumber is printed only when asked for, and
  only on a copy of the applicant's own entry alone (番号法 第7条: a copy with the
  number goes to the person it belongs to, not to anyone on their behalf);
* 印鑑登録証明書 (seal registration certificate): the registered imprint;
* 課税（所得）証明書 (tax and income certificate): the municipality's assessment.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from myna.platform.errors import N_, MynaError


class CertificateKind(StrEnum):
    """The certificate forms."""

    RESIDENT_RECORD = "resident-record"  # 住民票の写し
    SEAL = "seal-registration"  # 印鑑登録証明書
    TAX = "tax"  # 課税（所得）証明書

    @property
    def form_title(self) -> str:
        """The form's title as printed."""
        return _TITLES[self]


_TITLES = {
    CertificateKind.RESIDENT_RECORD: "住民票の写し",
    CertificateKind.SEAL: "印鑑登録証明書",
    CertificateKind.TAX: "課税（所得）証明書",
}


class Door(StrEnum):
    """Where a resident asks for a certificate, having proved who they are with the card."""

    KIOSK = "kiosk"  # コンビニ交付: a multifunction copier, card and PIN
    PORTAL = "portal"  # the resident's own pages, logged in with the card


# 手数料 (yen), per door: a kiosk copy is cheaper than one by post, as most
# municipalities set it (shown, not charged: Myna takes no payment).
FEES: dict[Door, dict[CertificateKind, int]] = {
    Door.KIOSK: {
        CertificateKind.RESIDENT_RECORD: 200,
        CertificateKind.SEAL: 200,
        CertificateKind.TAX: 200,
    },
    Door.PORTAL: {
        CertificateKind.RESIDENT_RECORD: 300,
        CertificateKind.SEAL: 300,
        CertificateKind.TAX: 300,
    },
}

# A log item per form in やりとり履歴, and the procedure they are logged under.
LOG_PROCEDURE = "certificate-issuance"
LOG_ITEMS = {
    CertificateKind.RESIDENT_RECORD: "certificate-resident-record",
    CertificateKind.SEAL: "certificate-seal-registration",
    CertificateKind.TAX: "certificate-tax",
}
KIOSK_REQUESTER = "kiosk"
MAX_MEMBERS = 20


class Scope(StrEnum):
    """Whose entries a 住民票の写し shows."""

    HOUSEHOLD = "household"  # 世帯全員
    CHOSEN = "chosen"  # 一部


class UnknownCertificateKindError(MynaError, code="unknown_certificate_kind"):
    message = N_("Choose the certificate to issue: 住民票の写し, 印鑑登録証明書 or 課税証明書.")


class NoMemberChosenError(MynaError, code="certificate_no_member"):
    message = N_("Choose at least one member of your household to appear on the copy.")


class NotOwnHouseholdError(MynaError, code="certificate_not_own_household", status_code=403):
    message = N_(
        "A copy can only show members of your own household. A certificate about "
        "someone else is issued at the municipal office, with their authorisation."
    )


class MyNumberOfOthersError(MynaError, code="certificate_my_number_of_others", status_code=403):
    message = N_(
        "The MyNumber can only be printed on a copy of your own entry alone. Choose only "
        "yourself, or leave the MyNumber out."
    )


class NoTaxRecordError(MynaError, code="certificate_no_tax_record", status_code=404):
    message = N_(
        "The municipality holds no resident tax assessment for you, so no tax "
        "certificate can be issued. Ask the municipal office's tax section."
    )


class UnknownIssuanceError(MynaError, code="certificate_unknown_issuance", status_code=404):
    message = N_("No certificate with this number was issued through Myna.")


@dataclass(frozen=True, slots=True)
class ResidentRecordOptions:
    """The options of a 住民票の写し, as ticked on the request form."""

    scope: Scope = Scope.HOUSEHOLD
    members: tuple[int, ...] = ()  # resident ids, for Scope.CHOSEN
    relation: bool = False  # 続柄
    domicile: bool = False  # 本籍・筆頭者
    my_number: bool = False  # 個人番号

    def as_json(self) -> dict[str, object]:
        """The options as stored with the issuance (no personal data)."""
        return {
            "scope": self.scope.value,
            "members": len(self.members),
            "relation": self.relation,
            "domicile": self.domicile,
            "my_number": self.my_number,
        }


def chosen_members(
    options: ResidentRecordOptions, *, applicant: int, household: list[int]
) -> list[int]:
    """The resident ids the copy shows, in household order, or the refusal.

    Every chosen id must be a member of the applicant's own household; the MyNumber is
    printed only when the copy shows the applicant alone.
    """
    if options.scope is Scope.HOUSEHOLD:
        shown = list(household)
    else:
        if not options.members:
            raise NoMemberChosenError
        if len(options.members) > MAX_MEMBERS or not set(options.members) <= set(household):
            raise NotOwnHouseholdError
        shown = [member for member in household if member in set(options.members)]
    if options.my_number and shown != [applicant]:
        raise MyNumberOfOthersError
    return shown


def check_member_ids(values: list[str]) -> tuple[int, ...]:
    """Member ids posted by a form: positive integers, else NotOwnHouseholdError."""
    ids: list[int] = []
    for value in values[: MAX_MEMBERS + 1]:
        if not value.isascii() or not value.isdigit() or len(value) > 12:
            raise NotOwnHouseholdError
        ids.append(int(value))
    return tuple(ids)


def parse_kind(value: str) -> CertificateKind:
    """The form chosen on a request form, or UnknownCertificateKindError."""
    try:
        return CertificateKind(value)
    except ValueError as exc:
        raise UnknownCertificateKindError from exc


def parse_request(
    *,
    kind: str,
    scope: str,
    members: list[str],
    relation: bool,
    domicile: bool,
    my_number: bool,
) -> tuple[CertificateKind, ResidentRecordOptions]:
    """A request form's fields as the form and its options (options only for 住民票の写し)."""
    chosen = parse_kind(kind)
    if chosen is not CertificateKind.RESIDENT_RECORD:
        return chosen, ResidentRecordOptions()
    try:
        parsed_scope = Scope(scope or Scope.HOUSEHOLD.value)
    except ValueError as exc:
        raise NoMemberChosenError from exc
    return chosen, ResidentRecordOptions(
        scope=parsed_scope,
        members=check_member_ids(members) if parsed_scope is Scope.CHOSEN else (),
        relation=relation,
        domicile=domicile,
        my_number=my_number,
    )


# コンビニ交付: a kiosk session lasts while the user stands at the copier.
KIOSK_SESSION_MINUTES = 10


class KioskSessionUnknownError(MynaError, code="kiosk_session_unknown", status_code=404):
    message = N_(
        "This session at the kiosk has ended (the card was taken out, or it was left too "
        "long). Start again from the first screen."
    )


class KioskNotIdentifiedError(MynaError, code="kiosk_not_identified", status_code=409):
    message = N_("Put your card on the reader and enter your PIN first.")


class KioskCardRefusedError(MynaError, code="kiosk_card_refused", status_code=403):
    message = N_(
        "Your card could not be confirmed: its user-authentication certificate is not "
        "valid (expired, revoked or not Myna's), or the signature does not match. Ask at "
        "the municipal office."
    )


class KioskAlreadyIdentifiedError(MynaError, code="kiosk_already_identified", status_code=409):
    message = N_("A card has already been confirmed in this session. Start again to use another.")
