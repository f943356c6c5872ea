"""接種証明書 (vaccination certificates): the two formats, pure rules, no I/O.

* **SMART Health Card** (https://spec.smarthealth.cards): a JWS in compact serialization,
  ES256, protected header ``{"alg": "ES256", "zip": "DEF", "kid": <JWK thumbprint>}``, the
  payload minified JSON compressed with raw DEFLATE (RFC 1951); the payload holds ``iss``
  (the issuer's https URL, keys at ``iss + "/.well-known/jwks.json"``), ``nbf`` and a
  ``vc`` whose ``credentialSubject.fhirBundle`` is a FHIR R4 Bundle of one Patient and its
  Immunizations (vaccines coded in CVX). In a QR code it travels as ``shc:/`` and two
  digits per character (``ord(c) - 45``), a byte segment then a numeric one.
* **ICAO VDS-NC** (Visible Digital Seal for non-constrained environments, ICAO TR, the
  ``icao.vacc`` profile of WHO's data set): JSON ``{"data": {"hdr", "msg"}, "sig": {"alg",
  "cer", "sigvl"}}``; the signature is over the canonical form of ``data`` (RFC 8785 JSON
  Canonicalization Scheme), ``cer`` the signer's DER certificate and ``sigvl`` the ECDSA
  signature as r‖s, both base64url without padding.

Everything here is deterministic and testable alone: encodings, the documents' shapes,
the catalogue of vaccines with their codes, the romanized name ICAO asks for.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Protocol, cast

import pykakasi

from myna.platform.errors import N_, MynaError

SHC_PREFIX = "shc:/"
SHC_HEALTH_CARD = "https://smarthealth.cards#health-card"
SHC_IMMUNIZATION = "https://smarthealth.cards#immunization"
FHIR_VERSION = "4.0.1"
CVX_SYSTEM = "http://hl7.org/fhir/sid/cvx"
VDS_TYPE = "icao.vacc"
VDS_VERSION = 1
ISSUING_STATE = "JPN"  # ICAO Doc 9303-3 three-letter code
# A single-chunk SHC fits a version 22 QR code at error correction L (spec: 1195 chars).
MAX_SHC_JWS_CHARS = 1195
# What the verifier reads at most: a QR code holds under 3 KB; a pasted text a bit more.
MAX_PAYLOAD_CHARS = 8192
# A decompressed SHC payload is a few kilobytes; anything beyond is a compression bomb.
MAX_INFLATED_BYTES = 64 << 10
MAX_ICAO_NAME = 39  # pid.n, as in the MRZ (Doc 9303-3)
MAX_ICAO_ADMINISTERING = 20  # vd.adm
MAX_ICAO_LOT = 20  # vd.lot
MAX_UVCI = 12


class VaccinationError(MynaError, code="vaccination_error"):
    """Something about a vaccination certificate went wrong."""


class UnknownVaccineError(VaccinationError, code="unknown_vaccine", status_code=404):
    """The vaccine asked for is not one a certificate can be issued for."""

    message = N_("There is no certificate for this vaccine. Choose a vaccine from the list.")


class NoVaccinationRecordError(VaccinationError, code="no_vaccination_record", status_code=404):
    """The municipality holds no dose of the vaccine for the resident."""

    message = N_(
        "Your municipality holds no record of this vaccination for you. If you were "
        "vaccinated, ask the municipality that gave it to record it."
    )


class RecordsUnavailableError(VaccinationError, code="records_unavailable", status_code=503):
    """The municipality's vaccination register did not answer through the network."""

    message = N_(
        "Your municipality's vaccination records could not be read just now. "
        "Please try again in a few minutes."
    )


class LotNumberMissingError(VaccinationError, code="lot_number_missing", status_code=409):
    """A dose has no lot number, which the ICAO seal requires."""

    message = N_(
        "A dose of this vaccination was recorded without its lot number, which the "
        "certificate for travel requires. Ask your municipality to complete the record."
    )


# Reasons a verifier gives, by code (translated on display).
REJECTION_REASONS: Mapping[str, str] = {
    "unreadable": N_("The code could not be read as a SMART Health Card or an ICAO seal."),
    "too_large": N_("The code is larger than any certificate Myna issues."),
    "malformed": N_("The certificate's contents are not in the expected format."),
    "unknown_issuer": N_("It was not issued by a municipality known to Myna."),
    "unknown_key": N_("The key that signed it is not one its issuer publishes."),
    "bad_signature": N_("The signature does not match: the contents were changed or forged."),
    "not_yet_valid": N_("It is not valid yet."),
    "untrusted_signer": N_("The signer's certificate was not issued by Myna's government CA."),
    "revoked": N_("The signer's certificate has been revoked."),
    "expired": N_("The signer's certificate has expired."),
    "signer_mismatch": N_("The signer's certificate does not belong to the issuer named."),
    "no_image_code": N_("No QR code was found in the image."),
    "bad_image": N_("The file is not an image that could be read (PNG or JPEG)."),
}


class CertificateRejectedError(VaccinationError, code="certificate_rejected", status_code=422):
    """A presented certificate failed verification; ``reason`` says why (a stable code)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason if reason in REJECTION_REASONS else "malformed"
        super().__init__(REJECTION_REASONS[self.reason])


def rejection(reason: str) -> CertificateRejectedError:
    """The refusal for ``reason`` (a key of :data:`REJECTION_REASONS`)."""
    return CertificateRejectedError(reason)


# --- the vaccines --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Vaccine:
    """A routine vaccine (定期接種) as the register names it, with its codes.

    ``cvx`` is the CDC's CVX code (the SHC immunization profile's system) and ``icd11``
    the WHO ICD-11 extension code (``XM…``) that VDS-NC's ``des`` carries.
    """

    slug: str
    name_ja: str
    name_en: str
    cvx: str
    cvx_display: str
    icd11: str


VACCINES: tuple[Vaccine, ...] = (
    Vaccine("hib", "Hib", "Haemophilus influenzae type b (Hib)", "17",
            "Hib, unspecified formulation", "XM11V3"),
    Vaccine("pcv", "小児用肺炎球菌", "Pneumococcal conjugate (paediatric)", "109",
            "pneumococcal, unspecified formulation", "XM96S7"),
    Vaccine("hepb", "B型肝炎", "Hepatitis B", "45",
            "Hep B, unspecified formulation", "XM9V38"),
    Vaccine("rota", "ロタウイルス", "Rotavirus", "122",
            "rotavirus, unspecified formulation", "XM4GV0"),
    Vaccine("dtap-ipv", "四種混合", "DTaP-IPV (diphtheria, tetanus, pertussis, polio)", "130",
            "DTaP-IPV", "XM9JP8"),
    Vaccine("dtap-ipv-hib", "五種混合", "DTaP-IPV-Hib", "120",
            "DTaP-Hib-IPV", "XM21E6"),
    Vaccine("bcg", "BCG", "BCG (tuberculosis)", "19", "BCG", "XM8142"),
    Vaccine("mr", "MR（麻しん風しん）", "Measles-rubella (MR)", "04", "M/R", "XM21H2"),
    Vaccine("varicella", "水痘", "Varicella", "21", "varicella", "XM0NS8"),
    Vaccine("je", "日本脳炎", "Japanese encephalitis (inactivated)", "129",
            "Japanese Encephalitis, unspecified formulation", "XM0LB5"),
    Vaccine("hpv", "HPV", "Human papillomavirus (HPV)", "137",
            "HPV, unspecified formulation", "XM9QP0"),
)  # fmt: skip
VACCINES_BY_SLUG: Mapping[str, Vaccine] = {v.slug: v for v in VACCINES}
VACCINES_BY_NAME: Mapping[str, Vaccine] = {v.name_ja: v for v in VACCINES}
VACCINES_BY_CVX: Mapping[str, Vaccine] = {v.cvx: v for v in VACCINES}
VACCINES_BY_ICD11: Mapping[str, Vaccine] = {v.icd11: v for v in VACCINES}


def vaccine(slug: str) -> Vaccine:
    """The vaccine of ``slug``, or UnknownVaccineError."""
    found = VACCINES_BY_SLUG.get(slug)
    if found is None:
        raise UnknownVaccineError
    return found


@dataclass(frozen=True, slots=True)
class Dose:
    """One dose as the municipality's 予防接種台帳 holds it."""

    vaccine: Vaccine
    dose: int
    on: date
    municipality: str
    lot: str | None


@dataclass(frozen=True, slots=True)
class Holder:
    """The vaccinated person as the certificate names them (住民票 name and reading)."""

    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: str  # "M" or "F" (Doc 9303-4 §4.1.1.1)

    @property
    def full_name(self) -> str:
        """The name as written on the 住民票."""
        return f"{self.family_name} {self.given_name}"

    @property
    def romanized(self) -> tuple[str, str]:
        """Family and given names in passport Hepburn capitals."""
        return passport_hepburn(self.family_name_kana), passport_hepburn(self.given_name_kana)


def doses_from_payloads(payloads: Sequence[Mapping[str, Any]]) -> list[Dose]:
    """The register's records as doses, in the order given (unknown vaccines skipped)."""
    doses: list[Dose] = []
    for payload in payloads:
        found = VACCINES_BY_NAME.get(str(payload.get("vaccine", "")))
        if found is None:
            continue
        try:
            day = date.fromisoformat(str(payload["vaccinated_on"]))
            number = int(payload["dose"])
        except (KeyError, TypeError, ValueError):
            continue
        lot = payload.get("lot")
        doses.append(
            Dose(
                vaccine=found,
                dose=number,
                on=day,
                municipality=str(payload.get("municipality", "")),
                lot=str(lot) if isinstance(lot, str) and lot else None,
            )
        )
    return sorted(doses, key=lambda d: (d.vaccine.slug, d.on, d.dose))


# --- romanization (ICAO pid.n) ---------------------------------------------------------


class _Converter(Protocol):
    def convert(self, text: str) -> list[dict[str, str]]: ...


@cache
def _kakasi() -> _Converter:
    # The dictionary loads once per process, on first use (as the catalog's readings).
    return cast(_Converter, pykakasi.kakasi())  # type: ignore[no-untyped-call]


_LONG_VOWELS = (("ou", "o"), ("oo", "o"), ("uu", "u"))
_N_BEFORE_LABIAL = re.compile(r"n(?=[bmp])")


def passport_hepburn(kana: str) -> str:
    """A kana reading in passport Hepburn (ヘボン式), upper case: ヤマダ → YAMADA.

    The passport rules: long vowels unwritten (タロウ → TARO, ユウキ → YUKI), ん before
    b, m, p written M (ナンバ → NAMBA); the syllabic ん before a vowel or y needs no mark.
    """
    text = "".join(item["hepburn"] for item in _kakasi().convert(kana.replace(" ", "")))
    for long, short in _LONG_VOWELS:
        text = text.replace(long, short)
    text = _N_BEFORE_LABIAL.sub("m", text)
    return re.sub(r"[^a-z]", "", text).upper()


def icao_name(holder: Holder) -> str:
    """``pid.n``: ``FAMILY GIVEN`` in capitals, cut to the 39 characters of the MRZ."""
    family, given = holder.romanized
    return f"{family} {given}".strip()[:MAX_ICAO_NAME]


# --- encodings ---------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url_decode(text: str) -> bytes:
    """The bytes of base64url text without padding; ValueError on anything else."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        msg = "not base64url"
        raise ValueError(msg)
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def deflate_raw(data: bytes) -> bytes:
    """Raw DEFLATE (RFC 1951, no zlib header), as the SHC header ``zip: DEF`` means."""
    compressor = zlib.compressobj(level=9, wbits=-15)
    return compressor.compress(data) + compressor.flush()


def inflate_raw(data: bytes, *, limit: int = MAX_INFLATED_BYTES) -> bytes:
    """Undo :func:`deflate_raw`, refusing more than ``limit`` bytes of output."""
    decompressor = zlib.decompressobj(wbits=-15)
    try:
        out = decompressor.decompress(data, limit + 1)
    except zlib.error as exc:
        raise rejection("malformed") from exc
    if len(out) > limit:
        raise rejection("too_large")
    if not decompressor.eof or decompressor.unused_data:
        raise rejection("malformed")
    return out


def shc_numeric(jws: str) -> str:
    """The QR form of a JWS: ``shc:/`` and two digits per character, ``ord(c) - 45``."""
    digits = []
    for character in jws:
        value = ord(character) - 45
        if not 0 <= value <= 77:
            msg = "a JWS holds only base64url characters and dots"
            raise ValueError(msg)
        digits.append(f"{value:02d}")
    return SHC_PREFIX + "".join(digits)


def shc_from_numeric(text: str) -> str:
    """The JWS of an ``shc:/`` QR text; a refusal for anything else (chunked ones too)."""
    text = text.strip()
    if len(text) > MAX_PAYLOAD_CHARS:
        raise rejection("too_large")
    if not text.lower().startswith(SHC_PREFIX):
        raise rejection("unreadable")
    digits = text[len(SHC_PREFIX) :]
    if not digits or len(digits) % 2 or not digits.isascii() or not digits.isdigit():
        raise rejection("malformed")
    pairs = [int(digits[i : i + 2]) for i in range(0, len(digits), 2)]
    if any(value > 77 for value in pairs):
        raise rejection("malformed")
    return "".join(chr(value + 45) for value in pairs)


def _jcs_string(text: str) -> str:
    # RFC 8785 §3.2.2.2: JSON's shortest escapes, everything else as is (UTF-8).
    return json.dumps(text, ensure_ascii=False)


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) for the values these documents hold, as UTF-8 bytes.

    Objects' members sorted by their names' UTF-16 code units (§3.2.3), no whitespace,
    strings as ECMAScript serializes them. Integers are written as they are; floats, which
    neither document holds, are refused rather than approximated (§3.2.2.3).
    """
    return _canonical(value).encode("utf-8")


def _canonical(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            msg = "integers beyond IEEE 754 double precision have no canonical form"
            raise ValueError(msg)
        return str(value)
    if isinstance(value, str):
        return _jcs_string(value)
    if isinstance(value, Mapping):
        keys = sorted(value, key=lambda k: str(k).encode("utf-16-be"))
        for key in keys:
            if not isinstance(key, str):
                msg = "object member names are strings"
                raise TypeError(msg)
        return "{" + ",".join(f"{_jcs_string(k)}:{_canonical(value[k])}" for k in keys) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_canonical(item) for item in value) + "]"
    msg = f"{type(value).__name__} has no place in a canonical document"
    raise TypeError(msg)


def minified(value: Any) -> bytes:
    """Minified JSON (no whitespace), UTF-8, as the SHC payload is written."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint of an EC public JWK (the SHC ``kid``)."""
    members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
    return b64url(hashlib.sha256(minified(dict(sorted(members.items())))).digest())


# --- the documents -------------------------------------------------------------------


def fhir_bundle(holder: Holder, doses: Sequence[Dose]) -> dict[str, Any]:
    """The SHC's FHIR R4 Bundle: a Patient and one Immunization per dose.

    Minimal as the spec asks (no ids, no narrative, ``resource:N`` references); the name
    as written (kanji) and in passport Hepburn, the date of birth, each dose's CVX code,
    date, lot and the municipality that performed it.
    """
    family, given = holder.romanized
    patient = {
        "resourceType": "Patient",
        "name": [
            {"family": holder.family_name, "given": [holder.given_name]},
            {"family": family, "given": [given]},
        ],
        "birthDate": holder.birth_date.isoformat(),
    }
    entries: list[dict[str, Any]] = [{"fullUrl": "resource:0", "resource": patient}]
    for index, dose in enumerate(doses, start=1):
        immunization: dict[str, Any] = {
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"coding": [{"system": CVX_SYSTEM, "code": dose.vaccine.cvx}]},
            "patient": {"reference": "resource:0"},
            "occurrenceDateTime": dose.on.isoformat(),
            "performer": [{"actor": {"display": dose.municipality}}],
            "protocolApplied": [{"doseNumberPositiveInt": dose.dose}],
        }
        if dose.lot:
            immunization["lotNumber"] = dose.lot
        entries.append({"fullUrl": f"resource:{index}", "resource": immunization})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def shc_payload(*, issuer: str, issued_at: int, bundle: Mapping[str, Any]) -> dict[str, Any]:
    """The JWS payload of a SMART Health Card (spec: "Health Cards are encoded as JWS")."""
    return {
        "iss": issuer,
        "nbf": issued_at,
        "vc": {
            "type": [SHC_HEALTH_CARD, SHC_IMMUNIZATION],
            "credentialSubject": {"fhirVersion": FHIR_VERSION, "fhirBundle": dict(bundle)},
        },
    }


def uvci(*, municipality_code: str, serial: int) -> str:
    """A unique vaccination certificate identifier: ``J``, the municipality, a serial."""
    return f"J{municipality_code}{serial % 100000:05d}"[:MAX_UVCI]


def vds_data(*, holder: Holder, doses: Sequence[Dose], certificate_id: str) -> dict[str, Any]:
    """VDS-NC ``data`` for the ``icao.vacc`` profile (header, then the WHO data set)."""
    if not doses:
        raise NoVaccinationRecordError
    if any(d.lot is None for d in doses):
        raise LotNumberMissingError
    first = doses[0].vaccine
    return {
        "hdr": {"t": VDS_TYPE, "v": VDS_VERSION, "is": ISSUING_STATE},
        "msg": {
            "uvci": certificate_id,
            "pid": {
                "n": icao_name(holder),
                "dob": holder.birth_date.isoformat(),
                "sex": holder.sex,
            },
            "ve": [
                {
                    "des": first.icd11,
                    "nam": first.name_en,
                    "vd": [
                        {
                            "dvc": d.on.isoformat(),
                            "seq": d.dose,
                            "ctr": ISSUING_STATE,
                            "adm": d.municipality[:MAX_ICAO_ADMINISTERING],
                            "lot": (d.lot or "")[:MAX_ICAO_LOT],
                        }
                        for d in doses
                    ],
                }
            ],
        },
    }


# --- what a verifier shows ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifiedDose:
    """A dose as a verified certificate states it."""

    vaccine: str
    dose: int | None
    on: date
    performer: str
    lot: str | None


@dataclass(frozen=True, slots=True)
class VerifiedCertificate:
    """What a valid certificate certifies, and who signed it."""

    format: str  # "shc" or "vds-nc"
    names: tuple[str, ...]
    birth_date: date
    doses: tuple[VerifiedDose, ...]
    issuer_name: str
    issuer: str  # the SHC iss, or the signer certificate's organisation code


def _as_date(value: Any) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise rejection("malformed") from exc


def read_shc_bundle(payload: Mapping[str, Any]) -> tuple[tuple[str, ...], date, list[VerifiedDose]]:
    """Names, date of birth and doses of an SHC payload's bundle; a refusal if malformed."""
    try:
        vc = payload["vc"]
        if SHC_HEALTH_CARD not in vc["type"]:
            raise rejection("malformed")
        entries = vc["credentialSubject"]["fhirBundle"]["entry"]
        resources = [entry["resource"] for entry in entries]
        patients = [r for r in resources if r["resourceType"] == "Patient"]
        if len(patients) != 1:
            raise rejection("malformed")
        names = tuple(
            " ".join([str(n.get("family", "")), *map(str, n.get("given", []))]).strip()
            for n in patients[0]["name"]
        )
        birth = _as_date(patients[0]["birthDate"])
        doses = []
        for resource in resources:
            if resource["resourceType"] != "Immunization":
                continue
            coding = resource["vaccineCode"]["coding"][0]
            known = (
                VACCINES_BY_CVX.get(str(coding["code"])) if coding["system"] == CVX_SYSTEM else None
            )
            protocol = resource.get("protocolApplied") or [{}]
            doses.append(
                VerifiedDose(
                    vaccine=known.name_ja if known else f"CVX {coding['code']}",
                    dose=protocol[0].get("doseNumberPositiveInt"),
                    on=_as_date(resource["occurrenceDateTime"]),
                    performer=str(
                        (resource.get("performer") or [{}])[0].get("actor", {}).get("display", "")
                    ),
                    lot=resource.get("lotNumber"),
                )
            )
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise rejection("malformed") from exc
    return names, birth, doses


def read_vds_message(data: Mapping[str, Any]) -> tuple[tuple[str, ...], date, list[VerifiedDose]]:
    """Name, date of birth and doses of a VDS-NC ``data``; a refusal if malformed."""
    try:
        header = data["hdr"]
        if header["t"] != VDS_TYPE or header["v"] != VDS_VERSION:
            raise rejection("malformed")
        message = data["msg"]
        person = message["pid"]
        doses = []
        for event in message["ve"]:
            known = VACCINES_BY_ICD11.get(str(event["des"]))
            for given in event["vd"]:
                doses.append(
                    VerifiedDose(
                        vaccine=known.name_ja if known else str(event["nam"]),
                        dose=int(given["seq"]),
                        on=_as_date(given["dvc"]),
                        performer=str(given.get("adm", "")),
                        lot=given.get("lot"),
                    )
                )
        return (str(person["n"]),), _as_date(person["dob"]), doses
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise rejection("malformed") from exc
