"""`myna log ...`: keys, heads, proofs from a database; offline verification of files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from myna.bootstrap import build_container
from myna.cli.transparency import app
from myna.network import transparency as tlog
from myna.network.transparency.models import LogEntryRow
from myna.platform.db import unit_of_work
from myna.platform.migrate import upgrade_to_head
from myna.platform.settings import get_settings
from tests.integration.transparency.conftest import exchange

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh SQLite database holding 12 entries, and a log key made by the CLI."""
    monkeypatch.setenv("MYNA_ENVIRONMENT", "development")
    monkeypatch.setenv("MYNA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MYNA_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    get_settings.cache_clear()
    container = build_container(get_settings())
    upgrade_to_head(container.engine)
    with unit_of_work(container.session_factory) as session:
        tlog.append(session=session, entries=exchange(12))
    container.engine.dispose()
    result = runner.invoke(
        app, ["keygen", "--out", str(tmp_path / "log.pem"), "--jwk", str(tmp_path / "log.jwk")]
    )
    assert result.exit_code == 0, result.output
    yield tmp_path
    get_settings.cache_clear()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _fails(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 1, result.output
    return result.output


def test_heads_proofs_and_consistency_verify_offline(workdir: Path) -> None:
    key, jwk = str(workdir / "log.pem"), str(workdir / "log.jwk")
    _run("head", "--key", key, "--out", str(workdir / "head1.json"))
    bundle = json.loads(_run("proof", "5"))
    (workdir / "entry.json").write_text(json.dumps(bundle["entry"], indent=2))
    (workdir / "proof.json").write_text(json.dumps(bundle["inclusion_proof"]))
    (workdir / "bundle.json").write_text(json.dumps(bundle))
    output = _run(
        "verify",
        "--public-key", jwk,
        "--head", str(workdir / "head1.json"),
        "--entry", str(workdir / "entry.json"),
        "--proof", str(workdir / "proof.json"),
    )  # fmt: skip
    assert "OK: entry 5 is in the signed tree." in output
    assert "OK: entry 5" in _run(
        "verify", "--public-key", jwk, "--bundle", str(workdir / "bundle.json")
    )

    container = build_container(get_settings())
    with unit_of_work(container.session_factory) as session:
        tlog.append(session=session, entries=exchange(9))
    container.engine.dispose()
    _run("head", "--key", key, "--out", str(workdir / "head2.json"))
    _run("consistency", "--first", "12", "--second", "21", "--out", str(workdir / "c.json"))
    output = _run(
        "verify",
        "--public-key", jwk,
        "--head", str(workdir / "head1.json"),
        "--second-head", str(workdir / "head2.json"),
        "--consistency", str(workdir / "c.json"),
    )  # fmt: skip
    assert "OK: the tree of 21 extends the tree of 12." in output
    assert "OK: the log of 21 entries verifies." in _run("verify", "--database", "--key", key)


def test_a_tampered_file_or_database_fails_verification(workdir: Path) -> None:
    key, jwk = str(workdir / "log.pem"), str(workdir / "log.jwk")
    _run("head", "--key", key)
    bundle = json.loads(_run("proof", "3"))
    bundle["entry"]["outcome"] = "denied"
    (workdir / "bundle.json").write_text(json.dumps(bundle))
    output = _fails("verify", "--public-key", jwk, "--bundle", str(workdir / "bundle.json"))
    assert "proof_not_verified" in output

    other = workdir / "other.pem"
    _run("keygen", "--out", str(other))
    bundle["entry"]["outcome"] = "success"
    (workdir / "bundle.json").write_text(json.dumps(bundle))
    output = _fails("verify", "--key", str(other), "--bundle", str(workdir / "bundle.json"))
    assert "proof_not_verified" in output

    container = build_container(get_settings())
    with unit_of_work(container.session_factory) as session:
        session.execute(
            update(LogEntryRow).where(LogEntryRow.leaf_index == 3).values(subject="1002")
        )
    container.engine.dispose()
    output = _fails("verify", "--database", "--public-key", jwk)
    assert "entry_altered" in output


def test_the_verifier_explains_what_it_was_not_given(workdir: Path) -> None:
    jwk = str(workdir / "log.jwk")
    assert "nothing_to_verify" in _fails("verify", "--public-key", jwk)
    (workdir / "bad.json").write_text("{not json")
    assert "unreadable_document" in _fails(
        "verify", "--public-key", jwk, "--bundle", str(workdir / "bad.json")
    )
    assert "no_tree_head" in _fails("head")


def test_the_policy_says_which_signatures_a_head_must_carry(workdir: Path) -> None:
    """A head signed with ES256 alone passes `classic` and fails `hybrid`, saying why."""
    key, jwk = str(workdir / "log.pem"), str(workdir / "log.jwk")
    _run("head", "--key", key)
    bundle = workdir / "bundle.json"
    bundle.write_text(_run("proof", "3"))
    assert "OK: entry 3" in _run(
        "verify", "--public-key", jwk, "--bundle", str(bundle), "--policy", "classic"
    )
    output = _fails("verify", "--public-key", jwk, "--bundle", str(bundle), "--policy", "hybrid")
    assert "ML-DSA-65" in output
    unknown = runner.invoke(
        app, ["verify", "--public-key", jwk, "--bundle", str(bundle), "--policy", "x"]
    )
    assert unknown.exit_code != 0
    assert "unknown policy" in unknown.output
