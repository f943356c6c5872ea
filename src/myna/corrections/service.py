"""訂正の申出 on the portal's side: a resident's request out, the holder's answer in.

The request leaves through the hub (``network.request_correction``) as a signed message
to the agency that holds the item; the portal keeps what was asked and the agency's
reference. The answer comes back through the hub, which hands it to :class:`Inbox` in
its own transaction: the request is marked answered and the resident gets a notice from
the agency. Nothing here reads another context's tables.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import agencies, network, notices
from myna.corrections.models import CorrectionRequestRow
from myna.platform.clock import JST
from myna.platform.db import utcnow
from myna.platform.errors import N_, MynaError, NotFoundError
from myna.platform.files import document_type
from myna.platform.wareki import format_wareki

SUBMITTED = "submitted"
CORRECTED = "corrected"
NOT_CORRECTED = "not_corrected"
MAX_VALUE = 200
MAX_REASON = 1000
MAX_FILENAME = 120

_MISSING_PROPOSED = N_("Enter what the correct information is.")
_LONG_PROPOSED = N_("Write the correct information in 200 characters or fewer.")
_MISSING_REASON = N_("Say why the information is wrong (for example, since when it changed).")
_LONG_REASON = N_("Write the reason in 1,000 characters or fewer.")
_UNKNOWN_FIELD = N_("Choose one of the listed items, or “the record as a whole”.")
_EVIDENCE_TYPE = N_("Attach a PDF, PNG or JPEG file (a scan or a photo).")
_EVIDENCE_SIZE = N_("The file is larger than 1 MB. Attach a smaller scan or photo.")


class CorrectionFormError(MynaError, code="correction_form_invalid", status_code=422):
    """A correction form with fields to fix; ``problems`` maps each field to its message."""

    message = N_("Check the highlighted fields and send the request again.")

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__()
        self.problems = problems


class CorrectionTargetError(MynaError, code="correction_target_unknown", status_code=422):
    """A request for an item or agency that is not part of the catalog."""

    message = N_(
        "This information cannot be corrected from here. Open わたしの情報, retrieve it, and "
        "use 「この情報は違います」 on the item."
    )


@dataclass(frozen=True, slots=True)
class EvidenceUpload:
    """The file a resident attached, as received."""

    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class CorrectionDraft:
    """What a resident filled in on the correction form."""

    owner: str
    item: str
    field: str
    current: str
    proposed: str
    reason: str
    evidence: EvidenceUpload | None = None


@dataclass(frozen=True, slots=True)
class FieldChoice:
    """A field of the item, as the resident saw it."""

    name: str
    label: str
    current: str


@dataclass(frozen=True, slots=True)
class CorrectionTarget:
    """The item and agency a correction is about, with names people read."""

    owner: str
    owner_name: str
    item: str
    item_name: str
    fields: list[FieldChoice] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CorrectionView:
    """One of the resident's requests, for 訂正の申出の状況."""

    id: int
    owner_name: str
    item_name: str
    field_label: str
    current: str
    proposed: str
    reason: str
    evidence_name: str | None
    reference: str
    status: str
    answer_reason: str | None
    created_at: datetime
    answered_at: datetime | None


def _agency_name(session: Session, code: str) -> str:
    try:
        return agencies.resolve_agency(session=session, code=code).name_ja
    except agencies.UnknownAgencyError:
        return code


def _schema(item: str) -> agencies.ItemSchema:
    try:
        return agencies.load_catalog().item(item)
    except agencies.UnknownItemError as error:
        raise CorrectionTargetError from error


def _label(spec: agencies.FieldSpec) -> str:
    return spec.label_ja


def target(
    *, session: Session, owner: str, item: str, shown: dict[str, str] | None = None
) -> CorrectionTarget:
    """The item of ``owner`` a resident points at, with its fields and what they were shown."""
    schema = _schema(item)
    try:
        agency = agencies.resolve_agency(session=session, code=owner)
    except agencies.UnknownAgencyError as error:
        raise CorrectionTargetError from error
    if not schema.provider.matches(agency):
        raise CorrectionTargetError
    shown = shown or {}
    return CorrectionTarget(
        owner=owner,
        owner_name=agency.name_ja,
        item=item,
        item_name=schema.name_ja,
        fields=[
            FieldChoice(spec.name, _label(spec), shown.get(spec.name, "")[:MAX_VALUE])
            for spec in schema.fields
        ],
    )


def _clean(text: str) -> str:
    """Text as typed, without control characters (line breaks kept) or edge spaces."""
    return "".join(
        c for c in text if c in "\n\t" or unicodedata.category(c) not in {"Cc", "Cf", "Cs"}
    ).strip()


def check_draft(draft: CorrectionDraft) -> tuple[CorrectionDraft, network.Evidence | None]:
    """The draft cleaned, and its evidence checked; CorrectionFormError listing each problem."""
    schema = _schema(draft.item)
    problems: dict[str, str] = {}
    proposed, reason = _clean(draft.proposed), _clean(draft.reason)
    if draft.field and schema.field(draft.field) is None:
        problems["field"] = _UNKNOWN_FIELD
    if not proposed:
        problems["proposed"] = _MISSING_PROPOSED
    elif len(proposed) > MAX_VALUE:
        problems["proposed"] = _LONG_PROPOSED
    if not reason:
        problems["reason"] = _MISSING_REASON
    elif len(reason) > MAX_REASON:
        problems["reason"] = _LONG_REASON
    evidence = None
    if draft.evidence is not None and draft.evidence.data:
        media_type = document_type(draft.evidence.data)
        if len(draft.evidence.data) > network.MAX_EVIDENCE_BYTES:
            problems["evidence"] = _EVIDENCE_SIZE
        elif media_type is None:
            problems["evidence"] = _EVIDENCE_TYPE
        else:
            name = _clean(draft.evidence.filename).replace("/", "_")[:MAX_FILENAME] or "evidence"
            evidence = network.Evidence(
                filename=name, media_type=media_type, content=draft.evidence.data
            )
    if problems:
        raise CorrectionFormError(problems)
    cleaned = CorrectionDraft(
        owner=draft.owner,
        item=draft.item,
        field=draft.field,
        current=_clean(draft.current)[:MAX_VALUE],
        proposed=proposed,
        reason=reason,
    )
    return cleaned, evidence


def file_correction(
    *, session: Session, hub: network.Hub, resident_id: int, draft: CorrectionDraft
) -> CorrectionView:
    """Check the draft, send it through the hub to the holder, and keep the record of it."""
    target(session=session, owner=draft.owner, item=draft.item)
    cleaned, evidence = check_draft(draft)
    request_id, receipt = network.request_correction(
        session=session,
        hub=hub,
        resident_id=resident_id,
        owner=cleaned.owner,
        item=cleaned.item,
        field=cleaned.field,
        current=cleaned.current,
        proposed=cleaned.proposed,
        reason=cleaned.reason,
        evidence=evidence,
    )
    row = CorrectionRequestRow(
        request_id=request_id,
        resident_id=resident_id,
        owner=cleaned.owner,
        item_code=cleaned.item,
        field_name=cleaned.field,
        current_value=cleaned.current,
        proposed_value=cleaned.proposed,
        reason=cleaned.reason,
        evidence_name=evidence.filename if evidence else None,
        evidence_type=evidence.media_type if evidence else None,
        evidence_size=len(evidence.content) if evidence else None,
        agency_reference=receipt.reference,
        status=SUBMITTED,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return _view(session, row)


def _view(
    session: Session, row: CorrectionRequestRow, names: dict[str, str] | None = None
) -> CorrectionView:
    """``row`` for people; ``names`` remembers agency names across the rows of one list."""
    schema = agencies.load_catalog().item(row.item_code)
    spec = schema.field(row.field_name) if row.field_name else None
    names = {} if names is None else names
    if row.owner not in names:
        names[row.owner] = _agency_name(session, row.owner)
    return CorrectionView(
        id=row.id,
        owner_name=names[row.owner],
        item_name=schema.name_ja,
        field_label=_label(spec) if spec else "",
        current=row.current_value,
        proposed=row.proposed_value,
        reason=row.reason,
        evidence_name=row.evidence_name,
        reference=row.agency_reference,
        status=row.status,
        answer_reason=row.answer_reason,
        created_at=row.created_at,
        answered_at=row.answered_at,
    )


def corrections_of(*, session: Session, resident_id: int) -> list[CorrectionView]:
    """The resident's own requests, newest first."""
    rows = session.scalars(
        select(CorrectionRequestRow)
        .where(CorrectionRequestRow.resident_id == resident_id)
        .order_by(CorrectionRequestRow.created_at.desc(), CorrectionRequestRow.id.desc())
        .limit(200)
    )
    names: dict[str, str] = {}
    return [_view(session, row, names) for row in rows]


def correction_of(*, session: Session, resident_id: int, correction_id: int) -> CorrectionView:
    """One of the resident's requests (another resident's is not found)."""
    row = session.get(CorrectionRequestRow, correction_id)
    if row is None or row.resident_id != resident_id:
        raise NotFoundError
    return _view(session, row)


class Inbox:
    """Where the hub hands a holder's answer (``network.CorrectionInbox``)."""

    def answered(self, session: Session, answer: network.CorrectionAnswer) -> None:
        """Mark the request answered and send the resident the agency's answer as a notice."""
        row = session.scalar(
            select(CorrectionRequestRow).where(CorrectionRequestRow.request_id == answer.request_id)
        )
        if row is None or row.owner != answer.owner or row.status != SUBMITTED:
            raise network.CorrectionUnknownError(request_id=answer.request_id, owner=answer.owner)
        row.status = CORRECTED if answer.corrected else NOT_CORRECTED
        row.answer_reason = answer.reason
        row.answered_at = utcnow()
        view = _view(session, row)
        notices.send_notice(
            session=session,
            sender=answer.owner,
            audience=notices.ToResident(
                link_code=network.link_code_for_resident(
                    session=session, resident_id=row.resident_id, agency_code=answer.owner
                )
            ),
            content=notices.NoticeCreate(
                title=_notice_title(view, corrected=answer.corrected),
                body=_notice_body(view, corrected=answer.corrected),
                category=notices.Category.PROCEDURE,
                action_url="/my-info/corrections",
            ),
        )


def _notice_title(view: CorrectionView, *, corrected: bool) -> str:
    outcome = "訂正しました" if corrected else "訂正しませんでした"
    return f"【訂正の申出への回答】{view.item_name}を{outcome}"


def _notice_body(view: CorrectionView, *, corrected: bool) -> str:
    about = f"{view.item_name}（{view.field_label}）" if view.field_label else view.item_name
    lines = [
        f"{format_wareki(view.created_at.astimezone(JST).date())}にお申し出いただいた"
        f"{about}の訂正について、{view.owner_name}から回答がありました。",
        "",
        f"■ 回答：{'訂正しました' if corrected else '訂正しませんでした'}",
        f"■ 理由：{view.answer_reason or ''}",
        f"■ お申し出の内容：{view.proposed}",
        f"■ 受付番号：{view.reference}",
        "",
    ]
    if corrected:
        lines.append("わたしの情報でもう一度取得すると、訂正後の内容と更新日が表示されます。")
    else:
        lines.append(
            "回答に疑問がある場合は、理由に書かれた窓口にお問い合わせください。"
            "新しい資料がある場合は、もう一度お申し出いただけます。"
        )
    return "\n".join(lines)
