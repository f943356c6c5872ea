"""The disk fills while a resident attaches a file to an application.

Attachments are stored in the database; the portal runs as its own process over a
SQLite file, and once it serves, the test lowers the process's file-size limit
(``RLIMIT_FSIZE`` through ``prlimit``, SIGXFSZ ignored in the process) so the database's
write-ahead log cannot grow by the next file: to SQLite, exactly a full disk. The upload must get a
clear 503 and leave nothing half-written; a smaller file still fits, and once the
limit is lifted the same process stores the large one.
"""

from __future__ import annotations

import re
import resource
import sqlite3
from pathlib import Path

import httpx
import pytest

from myna import registry
from myna.bench.harness import portal_server
from myna.bootstrap import build_container
from myna.platform.db import unit_of_work
from myna.platform.sessions import RESIDENT
from tests.faults.conftest import portal_environment, prepared

pytestmark = pytest.mark.slow

FORM = "/apply/131016/disaster-certificate"
SMALL = b"%PDF-1.4\n" + b"1" * 2000
LARGE = b"%PDF-1.4\n" + b"2" * 900_000  # below the 1 MiB an upload is spooled in memory
LATER = "しばらくしてから"
IGNORE_SIGXFSZ = "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN)"


def _stored(database: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute(
            "SELECT name, length(data) FROM application_draft_attachments ORDER BY id"
        ).fetchall()
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    return [(name, size) for name, size in rows]


def test_a_full_disk_refuses_the_upload_cleanly_and_loses_nothing(tmp_path: Path) -> None:
    database = tmp_path / "portal.db"
    database_url = f"sqlite:///{database}"
    settings = prepared(tmp_path, database_url)
    container = build_container(settings)
    with unit_of_work(container.session_factory) as session:
        registry.ensure_municipalities(session=session)
        taro = registry.ensure_personas(session=session)["taro"]
        browser = container.sessions.rotate(session, RESIDENT, old_token=None, subject_id=taro.id)
    container.engine.dispose()
    env = portal_environment(tmp_path, database_url)

    with (
        portal_server(env, workers=1, prelude=IGNORE_SIGXFSZ) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        client.cookies.set(RESIDENT.cookie, browser.token)
        csrf = re.findall(r'name="csrf_token" value="([^"]+)"', client.get(FORM).text)[0]

        def attach(name: str, content: bytes) -> httpx.Response:
            return client.post(
                f"{FORM}/attachments",
                data={"csrf_token": csrf},
                files={"file": (name, content, "application/pdf")},
            )

        # Room in the write-ahead log for a few small pages more, not for the large file.
        room = Path(f"{database}-wal").stat().st_size + 300_000
        resource.prlimit(server.pid, resource.RLIMIT_FSIZE, (room, resource.RLIM_INFINITY))
        refused = attach("被害写真.pdf", LARGE)
        assert refused.status_code == 503
        assert LATER in refused.text
        assert "Traceback" not in refused.text
        assert attach("小さな写真.pdf", SMALL).status_code == 303

        resource.prlimit(
            server.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        )
        assert attach("被害写真.pdf", LARGE).status_code == 303

    assert _stored(database) == [("小さな写真.pdf", len(SMALL)), ("被害写真.pdf", len(LARGE))]
