"""The sample employer (examples/minato_denki) collects 年末調整 hand-overs and checks them.

Over the portal in-process: it lists and collects what 太郎 handed over, verifies each
document's XMLDSig against the government CA and its CRL, and refuses a document whose
signature no longer matches.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from examples.minato_denki import employer as sample_employer
from myna import runtime
from myna.delivery.identity import write_identity
from myna.delivery.models import Delivery, Handover
from tests.integration.delivery.conftest import Nencho


def test_the_sample_employer_collects_and_verifies_the_signatures(
    nencho: Nencho, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    identity = runtime.register_sender(
        nencho.world.session,
        nencho.world.settings,
        "minato-sample",
        "みなと電機株式会社",
        "employer",
        tmp_path / "senders",
    )
    recipient = nencho.world.link(nencho.world.taro, identity)
    nencho.hand_over(sender=identity)
    argv = ["--identity", str(tmp_path / "senders" / "minato-sample"), "--year", "2025"]
    capsys.readouterr()  # what setting up logged
    code = sample_employer.main([*argv, "--out", str(tmp_path / "out")], client=nencho.world.api)
    output = capsys.readouterr().out
    assert code == 0, output
    lines = [line for line in output.splitlines() if " verified: " in line]
    assert len(lines) == 2, output
    assert all(line.startswith(f"{recipient} ") for line in lines)
    assert any("TEG800 さくら生命保険株式会社 verified: 令和7年分の払込保険料" in x for x in lines)
    kept = sorted(p.name for p in (tmp_path / "out" / recipient).iterdir())
    assert kept == ["TEG800-LI-2025-0001.xml", "TEG810-EQ-2025-0001.xml"]
    # Collected once: a second run finds nothing left to collect.
    assert sample_employer.main(argv, client=nencho.world.api) == 0
    output = capsys.readouterr().out
    assert "nothing to collect" in output
    assert " verified: " not in output


def test_the_sample_employer_refuses_a_document_whose_signature_fails(
    nencho: Nencho, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    handover_id = nencho.hand_over(nencho.life)
    row = nencho.world.session.get(Delivery, nencho.life)
    assert row is not None
    row.xml = row.xml.replace(b"123456", b"923456")  # as if altered after it was signed
    row.sha256 = hashlib.sha256(row.xml).hexdigest()
    nencho.world.session.commit()
    write_identity(tmp_path, nencho.employer)
    code = sample_employer.main(
        ["--identity", str(tmp_path / "minato-denki")], client=nencho.world.api
    )
    assert code == 1
    assert "tampered_document" in capsys.readouterr().out
    nencho.world.session.expire_all()
    # Myna handed it over as stored; the employer's own check is what caught it.
    assert nencho.world.session.get(Handover, handover_id).collected_at is not None  # type: ignore[union-attr]
