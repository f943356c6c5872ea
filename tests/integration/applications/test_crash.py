"""A server process killed in the middle of filing leaves the whole application or nothing.

The child process verifies the signature and writes every row of the filing (application,
files, history, receipt notice, draft removal), then is killed with SIGKILL before the
transaction commits — as if the machine lost power. The database must hold no trace of
the application, the draft must still be there, and the same answer must file it after.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import func, select

from myna import card, jpki, registry
from myna.applications import forms, submission
from myna.applications.models import Application, ApplicationDraft, ApplicationEvent
from myna.bootstrap import build_container
from myna.platform.db import unit_of_work
from myna.platform.settings import Settings
from tests.conftest import TEST_SETTINGS
from tests.integration.applications.filing import (
    DISASTER,
    PASSWORD,
    PIN,
    PROCEDURES,
    VALID_DISASTER,
)

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from myna.bootstrap import build_container
    from myna.platform.settings import Settings
    from myna.applications import submission

    data_dir, request_id, signature_file = sys.argv[1:4]
    settings = Settings(
        environment="test", data_dir=Path(data_dir), log_json=False,
        secret_key=os.environ["T_SECRET"], card_secret=os.environ["T_CARD"],
        ca_secret=os.environ["T_CA"],
    )
    container = build_container(settings)
    session = container.session_factory()
    session.begin()
    filed = submission.complete(
        session=session, procedures=container.procedures, settings=settings,
        request_id=request_id,
        signature=Path(signature_file).read_bytes(),
    )
    session.flush()
    print(filed.receipt_number, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # dies with the transaction open
    """
)


def test_a_filing_killed_before_its_commit_leaves_nothing_and_can_be_answered_again(
    tmp_path: Path,
) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, log_json=False, **TEST_SETTINGS)  # type: ignore[arg-type]
    container = build_container(settings)
    from myna.runtime import prepare_database  # noqa: PLC0415 - the runtime sits above services

    prepare_database(container)
    with unit_of_work(container.session_factory) as session:
        taro = registry.ensure_personas(session=session)["taro"]
        jpki.ensure_authorities(session=session, settings=settings)
        issued = card.issue_card(
            session=session, settings=settings, resident_id=taro.id, pin=PIN, password=PASSWORD
        )
        forms.save_draft(
            session=session,
            resident_id=taro.id,
            municipality_code=taro.municipality_code,
            code=DISASTER,
            data=dict(VALID_DISASTER),
        )
        request = submission.prepare(
            session=session,
            procedures=PROCEDURES,
            resident_id=taro.id,
            municipality_code=taro.municipality_code,
            code=DISASTER,
            submission_key="crash-test",
        )
    reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
    signature = reader.open_session(issued.card_id, "sign", PASSWORD).sign_cms(request.content)
    (tmp_path / "signature.der").write_bytes(signature)
    container.engine.dispose()

    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path), request.id, str(tmp_path / "signature.der")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            **os.environ,
            "T_SECRET": TEST_SETTINGS["secret_key"],
            "T_CARD": TEST_SETTINGS["card_secret"],
            "T_CA": TEST_SETTINGS["ca_secret"],
        },
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert child.stdout.strip(), "the child filed the application before it was killed"

    container = build_container(settings)
    with unit_of_work(container.session_factory) as session:
        assert session.scalar(select(func.count()).select_from(Application)) == 0
        assert session.scalar(select(func.count()).select_from(ApplicationEvent)) == 0
        assert session.scalar(select(func.count()).select_from(ApplicationDraft)) == 1
        filed = submission.complete(
            session=session,
            procedures=PROCEDURES,
            settings=settings,
            request_id=request.id,
            signature=signature,
        )
    with unit_of_work(container.session_factory) as session:
        assert session.scalar(select(func.count()).select_from(Application)) == 1
        assert session.scalar(select(func.count()).select_from(ApplicationDraft)) == 0
    assert filed.receipt_number != child.stdout.strip()  # the dead one never existed
    container.engine.dispose()
