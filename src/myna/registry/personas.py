"""Named residents shared by the demo data and the tests.

* ``taro`` — 山田 太郎, head of a household in 東京都千代田区;
* ``hanako`` — 山田 花子, his wife, who later acts for their child (代理人);
* ``haruto`` — 山田 陽翔, their son, a minor;
* ``misaki`` — 佐藤 美咲 in 横浜市, unrelated to the others;
* ``ichiro`` — 鈴木 一郎 in 札幌市, elderly, living alone.

Their MyNumbers are fixed and valid (check digit per 総務省令第85号 第5条), made from
the digits of well-known constants so they read as obviously synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from myna.reference import Relation, Sex
from myna.registry import repository
from myna.registry.models import Resident
from myna.registry.schemas import ResidentCreate, ResidentRead
from myna.registry.service import ensure_municipalities, get_resident, register_resident


@dataclass(frozen=True, slots=True)
class Persona:
    """A named demo resident. ``household`` groups personas living together."""

    key: str
    my_number: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: Sex
    municipality_code: str
    address: str
    household: str
    relation: Relation
    registered_on: date

    def __repr__(self) -> str:
        return f"Persona({self.key!r})"


PERSONAS: tuple[Persona, ...] = (
    Persona(
        key="taro",
        my_number="314159265352",
        family_name="山田",
        given_name="太郎",
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        birth_date=date(1985, 4, 12),
        sex=Sex.MALE,
        municipality_code="131016",
        address="神田神保町二丁目3番4号",
        household="yamada",
        relation=Relation.HEAD,
        registered_on=date(2014, 4, 1),
    ),
    Persona(
        key="hanako",
        my_number="271828182840",
        family_name="山田",
        given_name="花子",
        family_name_kana="ヤマダ",
        given_name_kana="ハナコ",
        birth_date=date(1987, 9, 3),
        sex=Sex.FEMALE,
        municipality_code="131016",
        address="神田神保町二丁目3番4号",
        household="yamada",
        relation=Relation.WIFE,
        registered_on=date(2015, 6, 20),
    ),
    Persona(
        key="haruto",
        my_number="161803398872",
        family_name="山田",
        given_name="陽翔",
        family_name_kana="ヤマダ",
        given_name_kana="ハルト",
        birth_date=date(2016, 6, 20),
        sex=Sex.MALE,
        municipality_code="131016",
        address="神田神保町二丁目3番4号",
        household="yamada",
        relation=Relation.CHILD,
        registered_on=date(2016, 6, 20),
    ),
    Persona(
        key="misaki",
        my_number="141421356230",
        family_name="佐藤",
        given_name="美咲",
        family_name_kana="サトウ",
        given_name_kana="ミサキ",
        birth_date=date(1992, 1, 30),
        sex=Sex.FEMALE,
        municipality_code="141003",
        address="西区みなとみらい三丁目5番2号",
        household="sato",
        relation=Relation.HEAD,
        registered_on=date(2018, 4, 1),
    ),
    Persona(
        key="ichiro",
        my_number="173205080750",
        family_name="鈴木",
        given_name="一郎",
        family_name_kana="スズキ",
        given_name_kana="イチロウ",
        birth_date=date(1948, 11, 3),
        sex=Sex.MALE,
        municipality_code="011002",
        address="中央区宮の森二丁目4番8号",
        household="suzuki",
        relation=Relation.HEAD,
        registered_on=date(1975, 4, 1),
    ),
)

PERSONAS_BY_KEY: dict[str, Persona] = {persona.key: persona for persona in PERSONAS}

# 本籍 and 筆頭者 of the personas (synthetic): the 山田 family's is 太郎's; 美咲 and 一郎
# keep those of their parents' 戸籍.
PERSONA_DOMICILES: dict[str, tuple[str, str]] = {
    "taro": ("東京都千代田区神田神保町二丁目3番地", "山田 太郎"),
    "hanako": ("東京都千代田区神田神保町二丁目3番地", "山田 太郎"),
    "haruto": ("東京都千代田区神田神保町二丁目3番地", "山田 太郎"),
    "misaki": ("神奈川県横浜市中区山下町12番地", "佐藤 健一"),
    "ichiro": ("北海道札幌市中央区北一条西二丁目1番地", "鈴木 一郎"),
}


def ensure_personas(*, session: Session) -> dict[str, ResidentRead]:
    """Register the personas that are missing (idempotent) and return all, by key."""
    ensure_municipalities(session=session)
    households: dict[str, int] = {}
    result: dict[str, ResidentRead] = {}
    for persona in PERSONAS:
        resident_id = repository.resident_id_by_my_number(session, persona.my_number)
        if resident_id is not None:
            resident = get_resident(session=session, resident_id=resident_id)
            _record_domicile(session, resident_id, persona.key)
        else:
            # A persona's fields are the registration's, by name (household_id aside).
            data = ResidentCreate.model_validate(persona, from_attributes=True)
            household_id = households.get(persona.household)
            resident = register_resident(
                session=session, data=data.model_copy(update={"household_id": household_id})
            )
            _record_domicile(session, resident.id, persona.key)
        households.setdefault(persona.household, resident.household_id)
        result[persona.key] = resident
    return result


def _record_domicile(session: Session, resident_id: int, key: str) -> None:
    row = session.get(Resident, resident_id)
    if row is not None and row.domicile is None and key in PERSONA_DOMICILES:
        row.domicile, row.domicile_head = PERSONA_DOMICILES[key]
        session.flush()
