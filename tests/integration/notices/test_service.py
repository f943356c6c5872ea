"""Sending notices and the resident's inbox: read, unread, archive, isolation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import agencies, network, notices, registry
from myna.notices.models import Notice, NoticeState
from myna.platform.db import utcnow
from tests.integration.notices.conftest import CHIYODA, YOKOHAMA, content, link_code

Personas = dict[str, registry.ResidentRead]


def _to(segment: dict[str, object]) -> notices.ToSegment:
    return notices.ToSegment(notices.Segment.from_dict(segment))


def _ids(session: Session, resident: registry.ResidentRead) -> list[int]:
    return [i.id for i in notices.inbox(session=session, resident_id=resident.id).items]


def test_a_direct_notice_reaches_only_its_resident(session: Session, personas: Personas) -> None:
    sent = notices.send_notice(
        session=session,
        sender=CHIYODA,
        audience=notices.ToResident(link_code(session, personas["taro"])),
        content=content("太郎さんへ"),
    )
    assert sent.audience == "resident"
    assert _ids(session, personas["taro"]) == [sent.id]
    assert _ids(session, personas["hanako"]) == []


def test_a_resident_never_opens_another_residents_direct_notice(
    session: Session, personas: Personas
) -> None:
    sent = notices.send_notice(
        session=session,
        sender=CHIYODA,
        audience=notices.ToResident(link_code(session, personas["taro"])),
        content=content(),
    )
    for action in (notices.get_notice, notices.mark_read, notices.archive):
        with pytest.raises(notices.NoticeNotFoundError):
            action(session=session, resident_id=personas["misaki"].id, notice_id=sent.id)
    assert session.scalar(select(func.count()).select_from(NoticeState)) == 0


def test_a_link_code_of_another_agency_is_refused(session: Session, personas: Personas) -> None:
    yokohama_code = link_code(session, personas["taro"], YOKOHAMA)
    with pytest.raises(network.UnknownLinkCodeError):
        notices.send_notice(
            session=session,
            sender=CHIYODA,
            audience=notices.ToResident(yokohama_code),
            content=content(),
        )


def test_an_unknown_sender_is_refused(session: Session, personas: Personas) -> None:
    with pytest.raises(agencies.UnknownAgencyError):
        notices.send_notice(
            session=session, sender="nobody", audience=_to({"age_from": 1}), content=content()
        )


def test_a_segment_notice_is_one_row_seen_by_every_matching_resident(
    session: Session, personas: Personas
) -> None:
    before = notices.count_notices(session=session)
    sent = notices.send_notice(
        session=session,
        sender=CHIYODA,
        audience=_to({"municipality_codes": ["131016"], "child_under": 15}),
        content=content("児童手当の現況確認"),
    )
    assert notices.count_notices(session=session) == before + 1
    assert session.scalar(select(func.count()).select_from(NoticeState)) == 0
    for key in ("taro", "hanako", "haruto"):
        assert sent.id in _ids(session, personas[key])
    for key in ("misaki", "ichiro"):
        assert sent.id not in _ids(session, personas[key])
    assert (
        notices.preview_audience(
            session=session,
            sender=CHIYODA,
            segment=notices.Segment.from_dict(sent.segment or {}),
        )
        >= 3
    )


def test_the_preview_counts_the_matching_residents(session: Session, personas: Personas) -> None:
    only_ichiro = notices.Segment.from_dict({"municipality_codes": ["011002"], "age_from": 75})
    assert notices.preview_audience(session=session, sender="jps", segment=only_ichiro) == 1


def test_reading_and_archiving_change_the_inbox(session: Session, personas: Personas) -> None:
    taro = personas["taro"]
    first = notices.send_notice(
        session=session, sender=CHIYODA, audience=_to({"head_only": True}), content=content("一")
    )
    second = notices.send_notice(
        session=session,
        sender=CHIYODA,
        audience=notices.ToResident(link_code(session, taro)),
        content=content("二"),
    )
    page = notices.inbox(session=session, resident_id=taro.id)
    assert [i.id for i in page.items] == [second.id, first.id]  # newest first
    assert page.unread == 2
    notices.mark_read(session=session, resident_id=taro.id, notice_id=first.id)
    assert notices.unread_count(session=session, resident_id=taro.id) == 1
    assert notices.get_notice(session=session, resident_id=taro.id, notice_id=first.id).read_at
    notices.archive(session=session, resident_id=taro.id, notice_id=second.id)
    assert _ids(session, taro) == [first.id]
    assert notices.unread_count(session=session, resident_id=taro.id) == 0
    archived = notices.inbox(session=session, resident_id=taro.id, include_archived=True)
    assert {i.id: i.archived for i in archived.items} == {second.id: True, first.id: False}


def test_the_inbox_is_paginated(session: Session, personas: Personas) -> None:
    for n in range(5):
        notices.send_notice(
            session=session, sender=CHIYODA, audience=_to({"sex": 1}), content=content(f"{n}")
        )
    taro = personas["taro"].id
    first = notices.inbox(session=session, resident_id=taro, page_size=2)
    last = notices.inbox(session=session, resident_id=taro, page=3, page_size=2)
    assert (first.pages, first.total, len(first.items), len(last.items)) == (3, 5, 2, 1)
    assert [i.title for i in first.items] == ["4", "3"]


def test_a_scheduled_or_expired_notice_is_not_shown(session: Session, personas: Personas) -> None:
    now = utcnow()
    later = notices.send_notice(
        session=session,
        sender=CHIYODA,
        audience=_to({"age_from": 18}),
        content=content(publish_at=now + timedelta(days=1)),
    )
    assert later.id not in _ids(session, personas["taro"])
    with pytest.raises(notices.NoticeNotFoundError):
        notices.get_notice(session=session, resident_id=personas["taro"].id, notice_id=later.id)
    session.get_one(Notice, later.id).published_at = now - timedelta(days=2)
    session.get_one(Notice, later.id).expires_at = now - timedelta(days=1)
    session.flush()
    assert later.id not in _ids(session, personas["taro"])


def test_attachments_are_stored_with_their_digest(session: Session, personas: Personas) -> None:
    pdf = b"%PDF-1.7\n" + b"x" * 100
    sent = notices.send_notice(
        session=session,
        sender=CHIYODA,
        audience=notices.ToResident(link_code(session, personas["taro"])),
        content=content(
            attachments=[{"name": "案内.pdf", "media_type": "application/pdf", "data": pdf}]
        ),
    )
    meta = sent.attachments[0]
    found, data = notices.get_attachment(
        session=session, resident_id=personas["taro"].id, notice_id=sent.id, attachment_id=meta.id
    )
    assert (found.size, data) == (len(pdf), pdf)
    with pytest.raises(notices.NoticeNotFoundError):
        notices.get_attachment(
            session=session,
            resident_id=personas["misaki"].id,
            notice_id=sent.id,
            attachment_id=meta.id,
        )


def test_an_attachment_of_a_wrong_type_sends_nothing(session: Session, personas: Personas) -> None:
    before = notices.count_notices(session=session)
    with pytest.raises(notices.AttachmentTypeError):
        notices.send_notice(
            session=session,
            sender=CHIYODA,
            audience=_to({"age_from": 1}),
            content=content(
                attachments=[{"name": "a.exe", "media_type": "image/png", "data": b"MZ\x90"}]
            ),
        )
    assert notices.count_notices(session=session) == before


def test_the_demo_notices_reach_the_personas(session: Session, personas: Personas) -> None:
    allowance, pension, direct = notices.seed_demo_notices(session=session)
    assert set(_ids(session, personas["taro"])) >= {allowance.id, direct.id}
    assert pension.id in _ids(session, personas["ichiro"])
    assert _ids(session, personas["misaki"]) == []
    # The child-allowance notice opens the application form itself (turnaround, deck p30).
    assert allowance.action_url == "/apply/131016/child-allowance-change-notice"
