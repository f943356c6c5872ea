"""Demo notices for the personas: a segment notice, a pension notice, a direct notice."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from myna import network, registry
from myna.notices.domain import Category, Segment, ToResident, ToSegment
from myna.notices.schemas import NoticeCreate, NoticeRead
from myna.notices.service import send_notice

CHIYODA = "muni-131016"
PENSION_SERVICE = "jps"


def seed_demo_notices(*, session: Session) -> list[NoticeRead]:
    """Send the demo's notices (call once, after the personas exist)."""
    taro = registry.ensure_personas(session=session)["taro"]
    allowance = send_notice(
        session=session,
        sender=CHIYODA,
        # 児童手当 runs to 高校生年代 (the 31 March after the 18th birthday) since 2024-10:
        # under 19 reaches every such household, and a few just past it.
        audience=ToSegment(
            Segment.from_dict({"municipality_codes": ["131016"], "child_under": 19})
        ),
        content=NoticeCreate(
            title="児童手当の届出内容の確認のお願い",
            body=(
                "高校生年代まで（18歳到達後最初の3月31日まで）のお子さんを"
                "養育している世帯の方へ。\n"
                "児童手当を引き続き受給するため、住所や加入している年金に変更があった方は"
                "届出をお願いします。\n\n"
                "下のリンクから申請書を開くと、あなたが同意した項目は、わたしの情報から"
                "入力されます。マイナンバーカードで署名して提出できます。"
            ),
            category=Category.CHILD_REARING,
            deadline=date(2027, 6, 30),
            # Turnaround (deck p30): the notice opens the application, ready to pre-fill.
            action_url="/apply/131016/child-allowance-change-notice",
        ),
    )
    pension = send_notice(
        session=session,
        sender=PENSION_SERVICE,
        audience=ToSegment(Segment.from_dict({"age_from": 65})),
        content=NoticeCreate(
            title="年金生活者支援給付金のご案内",
            body=(
                "65歳以上の方で、一定の所得以下の方は年金生活者支援給付金を受け取れる"
                "場合があります。\n\n詳しくは、お近くの年金事務所にお問い合わせください。"
            ),
            category=Category.PENSION,
        ),
    )
    link_code = network.link_code_for_resident(
        session=session, resident_id=taro.id, agency_code=CHIYODA
    )
    direct = send_notice(
        session=session,
        sender=CHIYODA,
        audience=ToResident(link_code),
        content=NoticeCreate(
            title="住民税の納税通知書を発送しました",
            body="令和8年度の住民税の納税通知書を郵送しました。\n\n第1期の納期限をご確認ください。",
            category=Category.TAX,
            deadline=date(2027, 6, 30),
        ),
    )
    return [allowance, pension, direct]
