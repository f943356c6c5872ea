"""Segment rules, attachments and action links: the pure rules of notices."""

from __future__ import annotations

from datetime import date

import pytest

from myna.notices.domain import (
    MAX_ATTACHMENT_BYTES,
    AttachmentTooLargeError,
    AttachmentTypeError,
    AudienceNotAllowedError,
    EmptySegmentError,
    Facts,
    InvalidNoticeError,
    InvalidSegmentError,
    Reach,
    Segment,
    UnknownSegmentRuleError,
    check_action_url,
    check_attachment,
    paragraphs,
)

TODAY = date(2026, 11, 28)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def facts(
    born: date = date(1985, 4, 12),
    *,
    sex: int = 1,
    municipality: str = "131016",
    head: bool = True,
    household: tuple[date, ...] = (),
) -> Facts:
    return Facts(
        birth_date=born,
        sex=sex,
        municipality_code=municipality,
        is_head=head,
        household_birth_dates=(born, *household),
        on=TODAY,
    )


def test_a_municipality_rule_matches_only_those_municipalities() -> None:
    segment = Segment.from_dict({"municipality_codes": ["131016", "141003"]})
    assert segment.matches(facts(municipality="141003"))
    assert not segment.matches(facts(municipality="011002"))


@pytest.mark.parametrize(
    ("born", "expected"),
    [
        (date(1961, 11, 28), True),  # 65 today
        (date(1961, 11, 29), False),  # 65 tomorrow
        (date(1951, 11, 29), True),  # 74, the last day in the band
        (date(1951, 11, 28), False),  # 75 today
    ],
)
def test_an_age_band_includes_both_ends(born: date, *, expected: bool) -> None:
    segment = Segment.from_dict({"age_from": 65, "age_to": 74})
    assert segment.matches(facts(born)) is expected


def test_an_age_band_can_be_taken_on_a_reference_date() -> None:
    segment = Segment.from_dict({"age_from": 65, "reference_date": "2027-04-01"})
    assert segment.matches(facts(date(1962, 4, 1)))
    assert not segment.matches(facts(date(1962, 4, 2)))


def test_a_sex_rule_matches_one_sex() -> None:
    segment = Segment.from_dict({"sex": 2})
    assert segment.matches(facts(sex=2))
    assert not segment.matches(facts(sex=1))


def test_a_child_under_rule_looks_at_the_household() -> None:
    segment = Segment.from_dict({"child_under": 3})
    assert segment.matches(facts(household=(date(2023, 11, 29),)))  # 2 today
    assert not segment.matches(facts(household=(date(2023, 11, 28),)))  # 3 today
    assert not segment.matches(facts())


def test_a_member_aged_at_least_rule_counts_the_resident_too() -> None:
    segment = Segment.from_dict({"member_aged_at_least": 75})
    assert segment.matches(facts(household=(date(1951, 11, 28),)))
    assert segment.matches(facts(date(1940, 1, 1)))
    assert not segment.matches(facts(household=(date(1951, 11, 29),)))


def test_a_head_only_rule_keeps_heads_of_household() -> None:
    segment = Segment.from_dict({"head_only": True})
    assert segment.matches(facts(head=True))
    assert not segment.matches(facts(head=False))


def test_all_rules_must_hold() -> None:
    segment = Segment.from_dict({"municipality_codes": ["131016"], "child_under": 15})
    child = (date(2016, 6, 20),)
    assert segment.matches(facts(household=child))
    assert not segment.matches(facts(municipality="141003", household=child))


def test_a_segment_round_trips_through_its_stored_form() -> None:
    data = {"municipality_codes": ["131016"], "age_from": 20, "reference_date": "2027-04-01"}
    assert Segment.from_dict(data).to_dict() == data


def test_an_empty_segment_is_refused() -> None:
    with pytest.raises(EmptySegmentError):
        Segment.from_dict({})
    with pytest.raises(EmptySegmentError):
        Segment.from_dict({"head_only": False, "municipality_codes": []})


def test_an_unknown_rule_is_refused_and_named() -> None:
    with pytest.raises(UnknownSegmentRuleError) as caught:
        Segment.from_dict({"income_over": 1})
    assert "income_over" in str(caught.value)


@pytest.mark.parametrize(
    "data",
    [
        {"municipality_codes": ["13101"]},
        {"age_from": -1},
        {"age_to": 151},
        {"age_from": True},
        {"age_from": 30, "age_to": 20},
        {"sex": 3},
        {"reference_date": "tomorrow"},
        {"head_only": "yes"},
        ["age_from"],
    ],
)
def test_a_malformed_rule_is_refused(data: object) -> None:
    with pytest.raises(InvalidSegmentError):
        Segment.from_dict(data)


def test_an_attachment_is_described_by_size_and_digest() -> None:
    meta = check_attachment("案内.png", "image/png", PNG)
    assert meta.size == len(PNG)
    assert len(meta.sha256) == 64


def test_an_attachment_above_the_limit_is_refused() -> None:
    big = b"%PDF-" + b"0" * MAX_ATTACHMENT_BYTES
    with pytest.raises(AttachmentTooLargeError):
        check_attachment("big.pdf", "application/pdf", big)


@pytest.mark.parametrize(
    ("media_type", "data"),
    [("text/html", b"<html>"), ("application/pdf", PNG), ("image/jpeg", b"GIF89a")],
)
def test_an_attachment_of_another_type_is_refused(media_type: str, data: bytes) -> None:
    with pytest.raises(AttachmentTypeError):
        check_attachment("file", media_type, data)


def test_an_attachment_name_with_a_slash_is_refused() -> None:
    with pytest.raises(InvalidNoticeError):
        check_attachment("../x.png", "image/png", PNG)


@pytest.mark.parametrize(
    "url",
    [
        "/services/child-allowance",
        "/apply/131016/child-allowance?step=1",
        "https://www.digital.go.jp/policies/mynumber",
        "https://www.city.chiyoda.lg.jp/koho/index.html",
    ],
)
def test_an_action_link_may_be_local_or_a_government_site(url: str) -> None:
    assert check_action_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "//evil.example/",
        "/\\evil.example",
        "/\\/evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http://www.digital.go.jp/",
        "https://evil.example/",
        "https://go.jp.evil.example/",
        "https://evilgo.jp/",
        "https://www.digital.go.jp@evil.example/",
        "https://www.digital.go.jp:bad/",
        "/a b",
        "/a\tb",
    ],
)
def test_other_action_links_are_refused(url: str) -> None:
    with pytest.raises(InvalidNoticeError):
        check_action_url(url)


def test_a_body_splits_into_paragraphs_of_lines() -> None:
    assert paragraphs("一行目\n二行目\n\n\n次の段落\r\n") == [["一行目", "二行目"], ["次の段落"]]


# -- reach: who may address whom -------------------------------------------------------


def test_a_municipality_segment_is_narrowed_to_its_own_residents() -> None:
    reach = Reach(municipalities=frozenset({"131016"}))
    narrowed = reach.narrow(Segment.from_dict({"age_from": 65}))
    assert narrowed.municipality_codes == ("131016",)
    assert narrowed.age_from == 65


def test_a_municipality_cannot_name_another_municipality() -> None:
    reach = Reach(municipalities=frozenset({"131016"}))
    with pytest.raises(AudienceNotAllowedError) as caught:
        reach.narrow(Segment.from_dict({"municipality_codes": ["131016", "141003"]}))
    assert caught.value.params["code"] == "141003"


def test_a_prefecture_union_names_municipalities_of_its_prefecture_only() -> None:
    reach = Reach(prefecture="13")
    inside = Segment.from_dict({"municipality_codes": ["131016", "132012"], "age_from": 75})
    assert reach.narrow(inside) == inside
    with pytest.raises(AudienceNotAllowedError):
        reach.narrow(Segment.from_dict({"municipality_codes": ["141003"]}))
    with pytest.raises(AudienceNotAllowedError):
        reach.narrow(Segment.from_dict({"age_from": 75}))


def test_a_national_agency_reaches_everyone_and_others_no_segment() -> None:
    segment = Segment.from_dict({"age_from": 20})
    assert Reach(nationwide=True).narrow(segment) == segment
    assert not Reach().segments_allowed
    with pytest.raises(AudienceNotAllowedError):
        Reach().narrow(segment)
