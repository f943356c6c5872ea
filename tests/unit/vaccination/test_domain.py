"""The certificates' encodings: shc:/ digits, raw DEFLATE, RFC 8785, names, the seal."""

from __future__ import annotations

import io
import json
import zlib
from datetime import date

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st

from myna.vaccination import domain, qr
from myna.vaccination.domain import CertificateRejectedError

JWS_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
HOLDER = domain.Holder("山田", "陽翔", "ヤマダ", "ハルト", date(2016, 5, 1), "M")
MR = domain.VACCINES_BY_SLUG["mr"]


def _reason(call: object, *args: object) -> str:
    with pytest.raises(CertificateRejectedError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value.reason


@given(st.text(alphabet=JWS_ALPHABET, min_size=1, max_size=400))
def test_the_numeric_form_round_trips(jws: str) -> None:
    encoded = domain.shc_numeric(jws)
    assert encoded.startswith("shc:/")
    assert encoded[5:].isdigit()
    assert len(encoded) == 5 + 2 * len(jws)
    assert domain.shc_from_numeric(encoded) == jws


def test_the_numeric_form_is_the_specs() -> None:
    # '-' is 45, so it is 00; 'e' (101) is 56; '.' (46) is 01.
    assert domain.shc_numeric("-e.") == "shc:/005601"
    with pytest.raises(ValueError, match="base64url"):
        domain.shc_numeric("a b")


def test_bad_numeric_forms_are_refused() -> None:
    assert _reason(domain.shc_from_numeric, "shc:/1") == "malformed"
    assert _reason(domain.shc_from_numeric, "shc:/78") == "malformed"
    assert _reason(domain.shc_from_numeric, "shc:/1a") == "malformed"
    assert _reason(domain.shc_from_numeric, "shc:/") == "malformed"
    assert _reason(domain.shc_from_numeric, "https://x") == "unreadable"
    assert _reason(domain.shc_from_numeric, "shc:/" + "00" * 5000) == "too_large"


@given(st.binary(max_size=4000))
def test_raw_deflate_round_trips_without_a_zlib_header(data: bytes) -> None:
    packed = domain.deflate_raw(data)
    assert domain.inflate_raw(packed) == data
    # Raw DEFLATE: a zlib decoder expecting a header refuses it, a raw one reads it.
    assert zlib.decompress(packed, wbits=-15) == data


def test_inflating_refuses_bombs_and_garbage() -> None:
    bomb = domain.deflate_raw(b"\0" * (domain.MAX_INFLATED_BYTES + 1))
    assert len(bomb) < 1000
    assert _reason(domain.inflate_raw, bomb) == "too_large"
    assert _reason(domain.inflate_raw, b"\xff\xff\xff") == "malformed"
    assert _reason(domain.inflate_raw, zlib.compress(b"abc")) == "malformed"


def test_canonical_json_follows_rfc_8785() -> None:
    # Members sorted by UTF-16 code units: "\u20ac" (U+20AC) before U+1F600 (a surrogate
    # pair, D83D), though the code point is larger; no whitespace; UTF-8 as is.
    value = {"b": [1, "é", None, True], "a": {"\U0001f600": 2, "\u20ac": 1, "z": 0}}
    assert domain.canonical_json(value) == (
        '{"a":{"z":0,"\u20ac":1,"\U0001f600":2},"b":[1,"é",null,true]}'.encode()
    )
    assert domain.canonical_json({"t": 'a"\n'}) == b'{"t":"a\\"\\n"}'
    with pytest.raises(TypeError):
        domain.canonical_json({"x": 1.5})
    with pytest.raises(ValueError, match="precision"):
        domain.canonical_json({"x": 2**60})


@given(st.dictionaries(st.text(max_size=5), st.integers(-1000, 1000) | st.text(max_size=5)))
def test_canonical_json_is_independent_of_member_order(value: dict[str, object]) -> None:
    reordered = dict(reversed(list(value.items())))
    assert domain.canonical_json(value) == domain.canonical_json(reordered)
    assert json.loads(domain.canonical_json(value)) == value


def test_names_are_written_in_passport_hepburn() -> None:
    assert domain.passport_hepburn("ヤマダ") == "YAMADA"
    assert domain.passport_hepburn("タロウ") == "TARO"
    assert domain.passport_hepburn("ユウキ") == "YUKI"
    assert domain.passport_hepburn("ナンバ") == "NAMBA"
    assert domain.icao_name(HOLDER) == "YAMADA HARUTO"


def test_the_jwk_thumbprint_is_rfc_7638s() -> None:
    # RFC 7638 §3.1 uses an RSA key; this EC one is RFC 7638's members for EC: crv kty x y.
    jwk = {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AQ", "kid": "ignored"}
    import base64  # noqa: PLC0415
    import hashlib  # noqa: PLC0415

    expected = hashlib.sha256(b'{"crv":"P-256","kty":"EC","x":"AA","y":"AQ"}').digest()
    assert domain.jwk_thumbprint(jwk) == base64.urlsafe_b64encode(expected).rstrip(b"=").decode()


def test_the_bundle_and_the_seal_carry_the_doses() -> None:
    doses = [
        domain.Dose(MR, 1, date(2017, 5, 8), "東京都千代田区", "MR001A"),
        domain.Dose(MR, 2, date(2021, 10, 4), "東京都千代田区", "MR002B"),
    ]
    bundle = domain.fhir_bundle(HOLDER, doses)
    payload = domain.shc_payload(
        issuer="https://x/vaccination/issuers/131016", issued_at=1, bundle=bundle
    )
    names, birth, read = domain.read_shc_bundle(payload)
    assert names == ("山田 陽翔", "YAMADA HARUTO")
    assert birth == date(2016, 5, 1)
    assert [(d.dose, d.on, d.lot) for d in read] == [
        (1, date(2017, 5, 8), "MR001A"),
        (2, date(2021, 10, 4), "MR002B"),
    ]
    data = domain.vds_data(holder=HOLDER, doses=doses, certificate_id="J13101600001")
    assert data["msg"]["ve"][0]["des"] == "XM21H2"
    assert domain.read_vds_message(data)[2] == read
    with pytest.raises(domain.LotNumberMissingError):
        domain.vds_data(
            holder=HOLDER,
            doses=[domain.Dose(MR, 1, date(2017, 5, 8), "x", None)],
            certificate_id="J",
        )


def test_doses_come_from_the_registers_payloads() -> None:
    found = domain.doses_from_payloads(
        [
            {
                "vaccine": "日本脳炎",
                "dose": 2,
                "vaccinated_on": "2019-06-01",
                "municipality": "m",
                "lot": "JE1",
            },
            {"vaccine": "日本脳炎", "dose": 1, "vaccinated_on": "2019-05-01", "municipality": "m"},
            {"vaccine": "unknown", "dose": 1, "vaccinated_on": "2019-05-01"},
            {"vaccine": "BCG", "dose": "x", "vaccinated_on": "2019-05-01"},
        ]
    )
    assert [(d.vaccine.slug, d.dose, d.lot) for d in found] == [("je", 1, None), ("je", 2, "JE1")]


def test_an_shc_qr_code_is_two_segments_that_opencv_reads_back() -> None:
    text = domain.shc_numeric("eyJhbGciOiJFUzI1NiJ9." + "x" * 600 + ".sig")
    code = qr.shc_code(text)
    assert code.error == "L"
    assert qr.decode_image(qr.png(code)) == text


def test_pictures_that_are_not_codes_are_refused() -> None:
    assert _reason(qr.decode_image, b"GIF89a....") == "bad_image"
    assert _reason(qr.decode_image, b"\x89PNG\r\n\x1a\n" + b"\0" * 30) == "bad_image"
    blank = io.BytesIO()
    segno.make("x").save(blank, kind="png", scale=1, border=0)
    assert _reason(qr.decode_image, blank.getvalue()) == "no_image_code"
    huge = bytearray(blank.getvalue())
    huge[16:24] = (100_000).to_bytes(4, "big") * 2  # a header claiming 10^10 pixels
    assert _reason(qr.decode_image, bytes(huge)) == "too_large"
    assert _reason(qr.decode_image, b"\x89PNG" + b"\0" * qr.MAX_IMAGE_BYTES) == "too_large"
