"""Notices (お知らせ): to one resident or to a segment, inboxes, read and archived states.

Other contexts import only from here.
"""

from myna.notices.demo import seed_demo_notices
from myna.notices.domain import (
    MAX_ATTACHMENT_BYTES,
    AttachmentTooLargeError,
    AttachmentTypeError,
    Audience,
    Category,
    EmptySegmentError,
    Facts,
    InvalidNoticeError,
    InvalidSegmentError,
    Segment,
    ToResident,
    ToSegment,
    UnknownSegmentRuleError,
)
from myna.notices.schemas import (
    AttachmentCreate,
    AttachmentRead,
    InboxItem,
    InboxPage,
    NoticeCreate,
    NoticeRead,
    NoticeView,
)
from myna.notices.service import (
    NoticeNotFoundError,
    archive,
    count_notices,
    get_attachment,
    get_notice,
    inbox,
    mark_read,
    parse_content,
    preview_audience,
    send_notice,
    unread_count,
)

__all__ = [
    "MAX_ATTACHMENT_BYTES",
    "AttachmentCreate",
    "AttachmentRead",
    "AttachmentTooLargeError",
    "AttachmentTypeError",
    "Audience",
    "Category",
    "EmptySegmentError",
    "Facts",
    "InboxItem",
    "InboxPage",
    "InvalidNoticeError",
    "InvalidSegmentError",
    "NoticeCreate",
    "NoticeNotFoundError",
    "NoticeRead",
    "NoticeView",
    "Segment",
    "ToResident",
    "ToSegment",
    "UnknownSegmentRuleError",
    "archive",
    "count_notices",
    "get_attachment",
    "get_notice",
    "inbox",
    "mark_read",
    "parse_content",
    "preview_audience",
    "seed_demo_notices",
    "send_notice",
    "unread_count",
]
