"""E-application use cases shared by the portal, the back office and the municipality API.

Reading applications (by municipality, by resident, by receipt number), their history,
and the status flow of :mod:`myna.applications.domain`. Each status change is
one event row written here and one notice to the resident, in the caller's transaction.
Signing and submission live in :mod:`myna.applications.submission`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import agencies, network, notices
from myna.applications.domain import (
    STATUS_LABELS,
    ApplicationNotFoundError,
    ApplicationStatus,
    check_comment,
    check_transition,
    parse_receipt_number,
)
from myna.applications.models import Application, ApplicationAttachment, ApplicationEvent
from myna.catalog.loader import shipped_catalog
from myna.platform.attributes import from_attributes
from myna.platform.clock import JST
from myna.platform.db import utcnow
from myna.platform.i18n import gettext as _
from myna.platform.wareki import format_wareki

RESIDENT = "resident"
SYSTEM = "system"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class ApplicationRead:
    """An application without its signed bytes or files."""

    id: int
    receipt_number: str
    resident_id: int
    municipality_code: str
    procedure_code: str
    procedure_name: str
    status: ApplicationStatus
    data: dict[str, object]
    certificate_serial: str
    signer_name: str
    signed_at: datetime
    submitted_at: datetime
    updated_at: datetime

    @property
    def status_label(self) -> str:
        return _(STATUS_LABELS[self.status])


@dataclass(frozen=True, slots=True)
class EventRead:
    """One step of an application's history."""

    kind: str
    status: ApplicationStatus | None
    comment: str
    actor: str
    visible_to_resident: bool
    created_at: datetime

    @property
    def status_label(self) -> str:
        return "" if self.status is None else _(STATUS_LABELS[self.status])


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """An attached file's description (the bytes are read separately)."""

    id: int
    name: str
    media_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ApplicationPage:
    """One page of a list of applications."""

    items: list[ApplicationRead]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def procedure_name(code: str) -> str:
    """The catalog's Japanese name of a procedure, or its code when unknown."""
    procedure = shipped_catalog().get(code)
    return code if procedure is None else procedure.name_ja


def counts_by_procedure_and_status(*, session: Session) -> dict[tuple[str, ApplicationStatus], int]:
    """Submitted applications per procedure and processing status (counts only)."""
    rows = session.execute(
        select(Application.procedure_code, Application.status, func.count()).group_by(
            Application.procedure_code, Application.status
        )
    )
    return {(code, ApplicationStatus(status)): count for code, status, count in rows}


def read(row: Application) -> ApplicationRead:
    """The public view of an application row."""
    return from_attributes(
        ApplicationRead,
        row,
        procedure_name=procedure_name(row.procedure_code),
        status=ApplicationStatus(row.status),
        data=dict(row.data),
    )


def _row(
    session: Session,
    receipt_number: str,
    *,
    municipality_code: str | None = None,
    resident_id: int | None = None,
) -> Application:
    """The application, but only inside the caller's scope (a municipality or a resident)."""
    number = parse_receipt_number(receipt_number)
    statement = select(Application).where(Application.receipt_number == number)
    if municipality_code is not None:
        statement = statement.where(Application.municipality_code == municipality_code)
    if resident_id is not None:
        statement = statement.where(Application.resident_id == resident_id)
    row = session.scalars(statement).one_or_none()
    if row is None:
        raise ApplicationNotFoundError
    return row


def get_application(
    *,
    session: Session,
    receipt_number: str,
    municipality_code: str | None = None,
    resident_id: int | None = None,
) -> ApplicationRead:
    """One application by receipt number, seen from a municipality or from its resident."""
    return read(
        _row(
            session,
            receipt_number,
            municipality_code=municipality_code,
            resident_id=resident_id,
        )
    )


def list_applications(
    *,
    session: Session,
    municipality_code: str | None = None,
    resident_id: int | None = None,
    status: ApplicationStatus | None = None,
    since: datetime | None = None,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> ApplicationPage:
    """Applications of a municipality or of a resident, newest first."""
    page = max(1, page)
    page_size = min(max(1, page_size), MAX_PAGE_SIZE)
    conditions = []
    if municipality_code is not None:
        conditions.append(Application.municipality_code == municipality_code)
    if resident_id is not None:
        conditions.append(Application.resident_id == resident_id)
    if status is not None:
        conditions.append(Application.status == status.value)
    if since is not None:
        conditions.append(Application.updated_at >= since)
    total = session.scalar(select(func.count()).select_from(Application).where(*conditions)) or 0
    rows = session.scalars(
        select(Application)
        .where(*conditions)
        .order_by(Application.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return ApplicationPage(
        items=[read(row) for row in rows], total=total, page=page, page_size=page_size
    )


def history(
    *, session: Session, application_id: int, for_resident: bool = False
) -> list[EventRead]:
    """The application's events, oldest first; residents do not see internal comments."""
    statement = select(ApplicationEvent).where(ApplicationEvent.application_id == application_id)
    if for_resident:
        statement = statement.where(ApplicationEvent.visible_to_resident.is_(True))
    rows = session.scalars(statement.order_by(ApplicationEvent.id)).all()
    return [
        EventRead(
            kind=row.kind,
            status=None if row.status is None else ApplicationStatus(row.status),
            comment=row.comment,
            actor=row.actor,
            visible_to_resident=row.visible_to_resident,
            created_at=row.created_at,
        )
        for row in rows
    ]


def attachments(*, session: Session, application_id: int) -> list[AttachmentInfo]:
    """The files of an application, in the order they were attached."""
    rows = session.scalars(
        select(ApplicationAttachment)
        .where(ApplicationAttachment.application_id == application_id)
        .order_by(ApplicationAttachment.id)
    ).all()
    return [
        AttachmentInfo(id=r.id, name=r.name, media_type=r.media_type, size=r.size, sha256=r.sha256)
        for r in rows
    ]


def attachment_data(*, session: Session, application_id: int, attachment_id: int) -> bytes:
    """The bytes of one file of an application (scope checked by the caller's lookup)."""
    row = session.get(ApplicationAttachment, attachment_id)
    if row is None or row.application_id != application_id:
        raise ApplicationNotFoundError
    return row.data


def signed_parts(*, session: Session, application_id: int) -> tuple[bytes, bytes]:
    """The signed canonical content and the detached CMS signature over it."""
    row = session.get(Application, application_id)
    if row is None:
        raise ApplicationNotFoundError
    return row.content, row.signature


def record_event(
    session: Session,
    application: Application,
    *,
    kind: str,
    actor: str,
    status: ApplicationStatus | None = None,
    comment: str = "",
    visible_to_resident: bool = True,
    now: datetime | None = None,
) -> None:
    """Write one history row where the change happens."""
    session.add(
        ApplicationEvent(
            application_id=application.id,
            kind=kind,
            status=None if status is None else status.value,
            comment=comment,
            actor=actor,
            visible_to_resident=visible_to_resident,
            created_at=now or utcnow(),
        )
    )


def change_status(
    *,
    session: Session,
    receipt_number: str,
    municipality_code: str,
    target: ApplicationStatus,
    actor: str,
    comment: str = "",
) -> ApplicationRead:
    """Move an application along the flow, record it and tell the resident by a notice."""
    row = _row(session, receipt_number, municipality_code=municipality_code)
    current = ApplicationStatus(row.status)
    check_transition(current, target, comment)
    now = utcnow()
    row.status = target.value
    row.updated_at = now
    record_event(session, row, kind="status", actor=actor, status=target, comment=comment, now=now)
    notify_resident(session, row, status=target, comment=comment)
    session.flush()
    return read(row)


def add_comment(
    *,
    session: Session,
    receipt_number: str,
    municipality_code: str,
    actor: str,
    comment: str,
    visible_to_resident: bool,
) -> None:
    """A staff comment on an application; shared with the resident only when asked."""
    row = _row(session, receipt_number, municipality_code=municipality_code)
    if not check_comment(comment).strip():
        return
    record_event(
        session,
        row,
        kind="comment",
        actor=actor,
        comment=comment,
        visible_to_resident=visible_to_resident,
    )
    session.flush()


def record_export(
    *, session: Session, receipt_number: str, municipality_code: str, actor: str
) -> None:
    """Note in the history that someone took the application out as a package (internal)."""
    row = _row(session, receipt_number, municipality_code=municipality_code)
    record_event(session, row, kind="export", actor=actor, visible_to_resident=False)
    session.flush()


_STATUS_TEXT: dict[ApplicationStatus, str] = {
    ApplicationStatus.RECEIVED: "申請を受け付けました",
    ApplicationStatus.UNDER_REVIEW: "申請の審査を開始しました",
    ApplicationStatus.CORRECTION_REQUESTED: "申請の補正をお願いします",
    ApplicationStatus.COMPLETED: "申請の処理が完了しました",
    ApplicationStatus.REJECTED: "申請は却下されました",
}


def _wareki_time(moment: datetime) -> str:
    """A moment as the notice's reader expects it: 和暦 and the time in Japan."""
    local = moment.astimezone(JST)
    return f"{format_wareki(local.date())} {local:%H:%M}"


def notify_resident(
    session: Session, row: Application, *, status: ApplicationStatus, comment: str = ""
) -> None:
    """A notice from the municipality to the applicant about their application.

    Addressed like every direct notice: by the municipality's link code for the
    resident, resolved by the hub's table, never by MyNumber.
    """
    sender = agencies.municipality_agency_code(row.municipality_code)
    link_code = network.link_code_for_resident(
        session=session, resident_id=row.resident_id, agency_code=sender
    )
    name = procedure_name(row.procedure_code)
    lines = [
        f"{name}の{_STATUS_TEXT[status]}。",
        "",
        f"受付番号: {row.receipt_number}",
        f"受付日時: {_wareki_time(row.submitted_at)}",
    ]
    if comment.strip():
        lines += ["", "担当者からのメッセージ:", comment.strip()]
    lines += ["", "申請の状況は「申請履歴」で確認できます。"]
    notices.send_notice(
        session=session,
        sender=sender,
        audience=notices.ToResident(link_code=link_code),
        content=notices.NoticeCreate(
            title=f"【{_STATUS_TEXT[status]}】{name}",
            body="\n".join(lines),
            category=notices.Category.PROCEDURE,
            action_url=f"/applications/{row.receipt_number}",
        ),
    )
