"""Signing and filing the return (電子申告): the card signs, the hub files, a receipt comes.

1. :func:`prepare_filing` freezes the return as it stands: the e-Tax-shaped XML
   (:mod:`myna.tax.etax`, written from the computation, each field's source and the
   本人確認情報 the hub answers) inside the document the card signs, which also says in
   words what is filed. It opens a signing request of the e-application kind
   (:func:`myna.applications.submission.open_signing_request`), so the card reader, its
   API and the waiting page are the ones the resident knows.
2. The card signs with the signing key; the portal verifies the CMS signature (chain,
   revocation, the signer is the resident) and hands the document to
   :class:`ReturnFiling`, which refuses a return changed since it was frozen, files it
   with the National Tax Agency through the hub (副本の更新 of its ``income-tax-return``
   item, logged like every exchange), keeps the signed return and sends the receipt
   (受信通知) to お知らせ — all in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import jpki, network, notices
from myna.applications import submission
from myna.applications.domain import canonical_json
from myna.platform.clock import JST, today_in_japan
from myna.platform.db import utcnow
from myna.platform.errors import N_, MynaError
from myna.platform.wareki import format_wareki
from myna.tax import etax, pdf
from myna.tax.domain import TaxComputation, compute
from myna.tax.models import TaxFilingRow, TaxReturnFieldRow, TaxReturnRow
from myna.tax.rules import load_rules
from myna.tax.service import (
    FILED,
    IdentityUnavailableError,
    ReturnNotDraftError,
    ReturnNotFoundError,
    _draft,
    _field_rows,
    _input,
    _row,
    nenbun,
)

PURPOSE = "tax-return"  # the signing requests of returns
PROCEDURE_CODE = "income-tax-return"
NTA = "nta"
RETURN_ITEM = "income-tax-return"
FILING_PROCEDURE = "income-tax-return-filing"
SOURCE = "e-Tax（マイナポータル経由の電子申告）"
DEFAULT_OFFICE = "住所地の所轄税務署"
DOCUMENT_VERSION = 1


class ReturnChangedError(MynaError, code="tax_return_changed", status_code=409):
    """A field was corrected or gathered after the return was frozen for signing."""

    message = N_(
        "Your return was changed after you asked to sign it, so this signature was not "
        "used. Open the return and press “Sign and file” again."
    )


class FilingFailedError(MynaError, code="tax_filing_failed", status_code=503):
    """The National Tax Agency's system did not take the return: nothing was filed."""

    message = N_(
        "The tax office's system did not accept the return just now, so nothing was "
        "filed. Please sign and file again in a few minutes."
    )


class NotFiledError(MynaError, code="tax_return_not_filed", status_code=404):
    """The return has not been filed: there is no receipt or filed copy yet."""

    message = N_("This return has not been filed yet.")


# -- the tax office --------------------------------------------------------------------------


@cache
def _offices() -> tuple[tuple[str, str], ...]:
    text = resources.files("myna.tax").joinpath("data", "tax_offices.toml").read_text("utf-8")
    pairs = [
        (prefix, str(office["name"]))
        for office in tomllib.loads(text)["office"]
        for prefix in office["addresses"]
    ]
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


def office_for(address: str) -> str:
    """The 所轄税務署 of an address (the longest listed prefix), or the default wording."""
    for prefix, name in _offices():
        if address.startswith(prefix):
            return name
    return DEFAULT_OFFICE


def procedure_name(year: int) -> str:
    """``令和7年分の所得税及び復興特別所得税の確定申告``."""
    return f"{nenbun(year)}の所得税及び復興特別所得税の確定申告"


def payment_deadline(year: int) -> date:
    """The 法定納期限: 15 March of the next year, or the Monday after a weekend."""
    day = date(year + 1, 3, 15)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


# -- freezing the return into the document the card signs ------------------------------------


def _taxpayer(session: Session, hub: network.Hub, resident_id: int, year: int) -> etax.Taxpayer:
    """The filer's 本人確認情報, asked through the hub (logged) for the return's first page."""
    outcome = network.request_self_information(
        session=session,
        hub=hub,
        resident_id=resident_id,
        items=["basic-info"],
        purpose=f"{procedure_name(year)}の申告書の作成",
    )
    for result in outcome.results:
        for record in result.records:
            payload = record.payload
            born = payload.get("birth_date")
            name, address = payload.get("name"), payload.get("address")
            if isinstance(born, str) and isinstance(name, str) and isinstance(address, str):
                kana = payload.get("name_kana")
                return etax.Taxpayer(
                    name=name,
                    name_kana=kana if isinstance(kana, str) else "",
                    address=address,
                    birth_date=date.fromisoformat(born),
                )
    raise IdentityUnavailableError


def _fingerprint(rows: list[TaxReturnFieldRow]) -> str:
    """SHA-256 of the fields as they stand: a correction after freezing changes it."""
    parts = [f"{r.id}:{r.section}:{r.group_key}:{r.item}:{r.value}" for r in rows]
    return hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()


def _sources(rows: list[TaxReturnFieldRow]) -> list[etax.FieldSource]:
    return [
        etax.FieldSource(
            field=f"{r.section}.{r.item}",
            value=r.value,
            kind=r.source_kind,
            name=r.source_name,
            document=r.source_document_id,
            received=r.source_date,
            corrected=r.value != r.gathered_value,
        )
        for r in rows
    ]


def _yen(amount: int) -> str:
    return f"{amount:,}円"


def answers(c: TaxComputation) -> list[dict[str, Any]]:
    """The return in words, part by part, as the card reader and the copy show it."""

    def group(title: str, pairs: list[tuple[str, int]]) -> dict[str, Any]:
        return {"title": title, "answers": [[label, _yen(value)] for label, value in pairs]}

    settled = ("還付される税金", c.refund) if c.refund else ("納める税金（第3期分の税額）", c.due)
    return [
        group(
            "収入金額等",
            [("給与", c.income.salary_revenue), ("公的年金等", c.income.pension_revenue)],
        ),
        group(
            "所得金額等",
            [
                ("給与所得", c.income.salary_income),
                ("公的年金等に係る雑所得", c.income.pension_income),
                ("合計所得金額", c.income.total_income),
            ],
        ),
        group(
            "所得から差し引かれる金額",
            [
                ("社会保険料控除", c.social_insurance),
                ("小規模企業共済等掛金控除", c.small_business_mutual_aid),
                ("生命保険料控除", c.life_insurance.total),
                ("地震保険料控除", c.earthquake_insurance),
                ("障害者控除", c.disability),
                ("配偶者（特別）控除", c.spouse_deduction + c.spouse_special_deduction),
                ("扶養控除", c.dependant_deduction + c.specified_relative_deduction),
                ("基礎控除", c.basic_deduction),
                ("医療費控除", c.medical),
                ("寄附金控除", c.donations),
                ("合計", c.total_deductions),
            ],
        ),
        group(
            "税金の計算",
            [
                ("課税される所得金額", c.taxable_income),
                ("所得税", c.income_tax),
                ("復興特別所得税", c.reconstruction_tax),
                ("所得税及び復興特別所得税の額", c.total_tax),
                ("源泉徴収税額", c.withheld),
                ("予定納税額", c.prepaid_tax),
                settled,
            ],
        ),
    ]


def xml_name(year: int) -> str:
    """The file name of the return's data: ``RKO0010_2025.xml``."""
    return f"{etax.PROCEDURE}_{year}.xml"


def prepare_filing(
    *,
    session: Session,
    hub: network.Hub,
    resident_id: int,
    year: int,
    submission_key: str,
    now: datetime | None = None,
) -> submission.SigningRequestView:
    """Freeze the draft return into the document to sign; the same key, the same request.

    Refused before anything is asked: a return that is not a draft, one that cannot be
    computed (:class:`~myna.tax.TaxInputError`), a signing certificate revoked or expired.
    """
    moment = now or utcnow()
    row = _draft(session, resident_id, year)
    rows = _field_rows(session, row.id)
    computation = _computation(row, rows)
    submission.check_signing_certificate(session=session, resident_id=resident_id, now=moment)

    def document() -> bytes:
        taxpayer = _taxpayer(session, hub, resident_id, year)
        office = office_for(taxpayer.address)
        xml = etax.return_xml(
            computation=computation,
            nenbun=nenbun(year),
            office=office,
            taxpayer=taxpayer,
            sources=_sources(rows),
        )
        return canonical_json(
            {
                "version": DOCUMENT_VERSION,
                "procedure": {"code": PROCEDURE_CODE, "name": procedure_name(year)},
                "municipality": {"code": "", "name": office},
                "applicant": {"name": taxpayer.name},
                "answers": answers(computation),
                "data": {
                    "year": year,
                    "fields_sha256": _fingerprint(rows),
                    "return_xml": xml.decode(),
                },
                "attachments": [
                    {
                        "name": xml_name(year),
                        "media_type": etax.MEDIA_TYPE,
                        "size": len(xml),
                        "sha256": hashlib.sha256(xml).hexdigest(),
                    }
                ],
                "submission_key": submission_key.strip(),
                "prepared_at": moment.isoformat(timespec="seconds"),
            }
        )

    return submission.open_signing_request(
        session=session,
        resident_id=resident_id,
        submission_key=submission_key,
        municipality_code="",
        procedure_code=PROCEDURE_CODE,
        content=document,
        purpose=PURPOSE,
        done_path=f"/tax/{year}?done=filed",
        now=moment,
    )


def _computation(row: TaxReturnRow, rows: list[TaxReturnFieldRow]) -> TaxComputation:
    return compute(load_rules(row.year), _input(row, rows))


# -- once the card has signed --------------------------------------------------------------


def _receipt_number(now: datetime) -> str:
    """A 受付番号 the way e-Tax writes one: the moment in Japan and six random digits."""
    return f"{now.astimezone(JST):%Y%m%d%H%M%S}{secrets.randbelow(10**6):06d}"


@dataclass
class ReturnFiling:
    """Files a signed return (a :class:`~myna.applications.submission.SignedDocumentHandler`)."""

    hub_for: Callable[[Session], network.Hub]

    def on_signed(
        self,
        *,
        session: Session,
        request: submission.SigningRequestView,
        signed: jpki.SignedContent,
        signature: bytes,
        now: datetime,
    ) -> submission.SignedReceipt:
        """Check the return did not change, file it through the hub, keep it, notify."""
        document = request.document
        year = int(document["data"]["year"])
        resident_id = signed.certificate.holder_id
        row = _draft(session, resident_id, year)
        rows = _field_rows(session, row.id)
        if document["data"]["fields_sha256"] != _fingerprint(rows):
            raise ReturnChangedError
        computation = _computation(row, rows)
        xml = str(document["data"]["return_xml"]).encode()
        office = str(document["municipality"]["name"])
        receipt = _receipt_number(now)
        filed_on = today_in_japan(now)
        try:
            network.update_records(
                session=session,
                hub=self.hub_for(session),
                publisher=network.PORTAL,
                owner=NTA,
                resident_id=resident_id,
                procedure=FILING_PROCEDURE,
                records=[
                    network.RecordUpdate(
                        item=RETURN_ITEM,
                        key=str(year),
                        source=SOURCE,
                        valid_from=filed_on,
                        payload={
                            "income_year": year,
                            "office_name": office,
                            "receipt_number": receipt,
                            "filed_on": filed_on.isoformat(),
                            "total_income": computation.total_income,
                            "taxable_income": computation.taxable_income,
                            "total_tax": computation.total_tax,
                            "withheld": computation.withheld,
                            "due": computation.due,
                            "refund": computation.refund,
                            "return_sha256": hashlib.sha256(xml).hexdigest(),
                        },
                    )
                ],
            )
        except network.ExchangeError as error:
            raise FilingFailedError from error
        session.add(
            TaxFilingRow(
                return_id=row.id,
                receipt_number=receipt,
                signing_request_id=request.id,
                office_name=office,
                content=request.content,
                return_xml=xml,
                signature=signature,
                certificate_serial=format(signed.certificate.serial, "x"),
                signer_name=signed.basic_info.name,
                signed_at=signed.signing_time or now,
                filed_at=now,
                declared_tax=computation.declared_tax,
                refund=computation.refund,
                due=computation.due,
            )
        )
        row.status = FILED
        row.signed_at = signed.signing_time or now
        row.filed_at = now
        row.updated_at = now
        _notify(session, resident_id, year, office, receipt, computation, now)
        session.flush()
        return submission.SignedReceipt(receipt, "received", procedure_name(year))


def _notify(
    session: Session,
    resident_id: int,
    year: int,
    office: str,
    receipt: str,
    computation: TaxComputation,
    now: datetime,
) -> None:
    """The 受信通知: from the National Tax Agency, by its link code for the resident."""
    moment = now.astimezone(JST)
    lines = [
        f"{procedure_name(year)}のデータを受け付けました。",
        "",
        f"受付番号: {receipt}",
        f"受付日時: {format_wareki(moment.date())} {moment:%H:%M}",
        f"提出先: {office}",
    ]
    deadline = None
    if computation.refund:
        lines += [
            f"還付される税金: {_yen(computation.refund)}",
            "還付金は、登録されている公金受取口座に振り込まれます"
            "（通常、1か月から1か月半程度かかります）。",
        ]
    elif computation.due:
        deadline = payment_deadline(year)
        lines += [
            f"納める税金: {_yen(computation.due)}",
            f"納期限: {format_wareki(deadline)}までに納付してください。",
        ]
    lines += ["", "申告書の控え（PDF）とデータは「確定申告」の画面から保存できます。"]
    notices.send_notice(
        session=session,
        sender=NTA,
        audience=notices.ToResident(
            link_code=network.link_code_for_resident(
                session=session, resident_id=resident_id, agency_code=NTA
            )
        ),
        content=notices.NoticeCreate(
            title=f"【受信通知】{procedure_name(year)}",
            body="\n".join(lines),
            category=notices.Category.TAX,
            action_url=f"/tax/{year}",
            deadline=deadline,
        ),
    )


# -- what the pages read once filed ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FilingRead:
    """A filed return's receipt, as the return page shows it."""

    receipt_number: str
    office_name: str
    signer_name: str
    certificate_serial: str
    signed_at: datetime
    filed_at: datetime
    declared_tax: int
    refund: int
    due: int
    deadline: date | None


def _filing_row(session: Session, resident_id: int, year: int) -> TaxFilingRow:
    row = _row(session, resident_id, year)
    found = session.scalar(select(TaxFilingRow).where(TaxFilingRow.return_id == row.id))
    if found is None:
        raise NotFiledError
    return found


def filing(*, session: Session, resident_id: int, year: int) -> FilingRead | None:
    """The receipt of the resident's filed return for ``year``; None while not filed."""
    try:
        row = _filing_row(session, resident_id, year)
    except NotFiledError:
        return None
    return FilingRead(
        receipt_number=row.receipt_number,
        office_name=row.office_name,
        signer_name=row.signer_name,
        certificate_serial=row.certificate_serial,
        signed_at=row.signed_at,
        filed_at=row.filed_at,
        declared_tax=row.declared_tax,
        refund=row.refund,
        due=row.due,
        deadline=payment_deadline(year) if row.due else None,
    )


def filed_xml(*, session: Session, resident_id: int, year: int) -> bytes:
    """The return's data exactly as signed and filed."""
    return _filing_row(session, resident_id, year).return_xml


def signed_parts(*, session: Session, resident_id: int, year: int) -> tuple[bytes, bytes]:
    """The signed document and its detached CMS signature (``openssl cms -verify``)."""
    row = _filing_row(session, resident_id, year)
    return row.content, row.signature


def copy_pdf(*, session: Session, resident_id: int, year: int, font_path: str = "") -> bytes:
    """The filed return's copy (控え) as PDF, with the receipt on its first lines."""
    row = _filing_row(session, resident_id, year)
    document = json.loads(row.content)
    filed = row.filed_at.astimezone(JST)
    header = [
        pdf.PdfLine("受付番号", row.receipt_number),
        pdf.PdfLine("受付日時", f"{format_wareki(filed.date())} {filed:%H:%M}"),
        pdf.PdfLine("提出先", row.office_name),
        pdf.PdfLine("氏名", str(document["applicant"]["name"])),
        pdf.PdfLine("電子署名", f"署名用電子証明書（シリアル番号 {row.certificate_serial}）"),
    ]
    parts = tuple(
        pdf.PdfPart(
            title=str(group["title"]),
            lines=tuple(pdf.PdfLine(str(a[0]), str(a[1])) for a in group["answers"]),
        )
        for group in document["answers"]
    )
    return pdf.render(
        pdf.ReturnCopy(
            title=f"{procedure_name(year)}書（控）",
            header=tuple(header),
            parts=parts,
            footer=(
                "この控えは、マイナポータルから電子申告したデータ（"
                f"{xml_name(year)}、SHA-256 {hashlib.sha256(row.return_xml).hexdigest()}）"
                "を印刷用に表示したものです。"
            ),
        ),
        font_path=font_path,
    )


__all__ = [
    "PURPOSE",
    "FilingFailedError",
    "FilingRead",
    "NotFiledError",
    "ReturnChangedError",
    "ReturnFiling",
    "ReturnNotDraftError",
    "ReturnNotFoundError",
    "copy_pdf",
    "filed_xml",
    "filing",
    "office_for",
    "payment_deadline",
    "prepare_filing",
    "signed_parts",
]
