"""docs/card-format.md documents the APDUs the code sends and answers, byte for byte."""

from __future__ import annotations

import re
from pathlib import Path

from myna.card import apdu

DOC = Path(__file__).resolve().parents[3] / "docs" / "card-format.md"


def _section() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text.split("## The card's APDU interface (JPKI AP)", 1)[1].split("\n## ", 1)[0]


def _hex(spaced: str) -> bytes:
    return bytes.fromhex(spaced.replace(" ", ""))


def test_the_documented_file_ids_aid_and_atr_are_the_codes() -> None:
    section = _section()
    files = re.findall(r"^\| [^|]+ \| `(00 [0-9A-F]{2})` \|", section, flags=re.MULTILINE)
    assert sorted(_hex(file_id) for file_id in files) == sorted(
        file_id.to_bytes(2, "big") for file_id in apdu.FileId
    )
    aid = re.search(r"AID `([0-9A-F ]+)`", section)
    assert aid is not None
    assert _hex(aid.group(1)) == apdu.JPKI_AID
    atr = re.search(r"answer-to-reset is a MyNumber card's: `([0-9A-F ]+)`", section)
    assert atr is not None
    assert _hex(atr.group(1)) == apdu.JPKI_ATR


def test_the_documented_command_bytes_are_what_the_code_builds() -> None:
    section = _section()
    built = {
        apdu.select_application(),
        apdu.select_file(apdu.FileId.AUTH_PIN),
        apdu.read_binary(0, 4),
        apdu.verify(b"1234"),
        apdu.verify_status(),
    }
    for command in built:
        spaced = " ".join(f"{byte:02X}" for byte in command.to_bytes())
        assert f"`{spaced}`" in section, spaced
    prefix = re.search(r"the DigestInfo is\s+`([0-9A-F ]+)`", section)
    assert prefix is not None
    assert _hex(prefix.group(1)) == apdu.DIGEST_INFO_PREFIXES["sha256"]


def test_every_status_word_the_chip_answers_is_documented_and_no_other() -> None:
    rows = re.findall(r"^\| `([0-9A-F]{2} [0-9A-Fx]{2})` \|", _section(), flags=re.MULTILINE)
    documented = {row.replace(" ", "") for row in rows}
    assert documented == {f"{sw:04X}" for sw in apdu.StatusWord} | {"63Cx"}
