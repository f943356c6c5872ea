"""What the notices context takes in and hands out (Pydantic)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from myna.notices.domain import Category


class AttachmentCreate(BaseModel):
    """A file to send with a notice."""

    name: str = Field(min_length=1, max_length=120)
    media_type: str = Field(max_length=64)
    data: bytes = Field(repr=False)


class NoticeCreate(BaseModel):
    """A notice's content, whoever it is addressed to."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=10_000)
    category: Category
    deadline: date | None = None
    action_url: str | None = Field(default=None, max_length=500)
    publish_at: datetime | None = Field(
        default=None, description="When the notice becomes visible (now when absent)"
    )
    expires_at: datetime | None = None
    attachments: list[AttachmentCreate] = Field(default_factory=list)


class AttachmentRead(BaseModel):
    """An attachment's description (its bytes are downloaded separately)."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: int
    name: str
    media_type: str
    size: int
    sha256: str


class NoticeRead(BaseModel):
    """A notice as sent: content and audience kind, never the addressed resident."""

    model_config = ConfigDict(frozen=True)

    id: int
    sender: str
    title: str
    body: str
    category: Category
    deadline: date | None
    action_url: str | None
    published_at: datetime
    expires_at: datetime | None
    audience: str = Field(description="'resident' or 'segment'")
    segment: dict[str, Any] | None
    attachments: list[AttachmentRead]


class InboxItem(BaseModel):
    """One line of a resident's inbox."""

    model_config = ConfigDict(frozen=True)

    id: int
    sender: str
    title: str
    category: Category
    deadline: date | None
    published_at: datetime
    read: bool
    archived: bool


class InboxPage(BaseModel):
    """A page of the inbox, newest first, with the unread count."""

    model_config = ConfigDict(frozen=True)

    items: list[InboxItem]
    page: int
    pages: int
    total: int
    unread: int


class NoticeView(BaseModel):
    """A notice opened by the resident it is addressed to."""

    model_config = ConfigDict(frozen=True)

    notice: NoticeRead
    read_at: datetime | None
    archived_at: datetime | None


class SentNoticeRead(BaseModel):
    """A notice as its sender's back office lists it (who it went to, not who read it)."""

    model_config = ConfigDict(frozen=True)

    id: int
    title: str
    category: Category
    segment: dict[str, Any] | None
    direct: bool
    published_at: datetime
    expires_at: datetime | None
