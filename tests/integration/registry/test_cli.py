"""`myna registry municipalities load` and `myna seed` on a fresh SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from myna.cli.registry import app as registry_app
from myna.cli.registry import seed
from myna.platform import i18n
from myna.platform.settings import get_settings

HEADER = "団体コード,都道府県名（漢字）,市区町村名（漢字）,都道府県名（カナ）,市区町村名（カナ）\n"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MYNA_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("MYNA_DATABASE_URL", "")
    monkeypatch.setenv("MYNA_ENVIRONMENT", "development")
    get_settings.cache_clear()
    previous = i18n.get_locale()
    i18n.set_locale("ja")
    yield tmp_path / "var"
    i18n.set_locale(previous)
    get_settings.cache_clear()


def _query(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(data_dir / "myna.db") as db:
        return db.execute(sql).fetchall()


def test_seed_command_adds_the_people_and_prints_a_summary(data_dir: Path) -> None:
    app = typer.Typer()
    app.command()(seed)
    result = CliRunner().invoke(app, ["--residents", "300", "--seed", "9"])
    assert result.exit_code == 0, result.output
    assert "seeded 300 residents" in result.output
    assert _query(data_dir, "SELECT count(*), count(DISTINCT my_number) FROM residents") == [
        (300, 300)
    ]


def test_load_command_reports_the_bad_line_and_saves_nothing(
    data_dir: Path, tmp_path: Path
) -> None:
    good = tmp_path / "good.csv"
    good.write_bytes((HEADER + "012025,北海道,函館市,ﾎｯｶｲﾄﾞｳ,ﾊｺﾀﾞﾃｼ\n").encode("cp932"))
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "012033,北海道,小樽市,ホッカイドウ,オタルシ\n012030,x,y,z,w\n")
    runner = CliRunner()
    failed = runner.invoke(registry_app, ["municipalities", "load", str(bad)])
    assert failed.exit_code == 1
    assert "3行目" in failed.output  # in Japanese, with the line number
    assert _query(data_dir, "SELECT count(*) FROM municipalities") == [(0,)]
    loaded = runner.invoke(registry_app, ["municipalities", "load", str(good)])
    assert loaded.exit_code == 0, loaded.output
    assert "1 added" in loaded.output
    assert _query(data_dir, "SELECT name, name_kana FROM municipalities") == [
        ("函館市", "ハコダテシ")
    ]
