"""Wrong PINs entered at once, from threads and from processes, are all counted."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from myna.card import cardfile
from myna.card.domain import CardLockedError, CardSurface, KeyKind, WrongPinError
from myna.card.virtual import VirtualCard, VirtualCardReader

CARD_SECRET = "concurrency-test-card-secret"
PASSWORD = "RIGHT2026"
WRONG = "WRONG2026"
CONTENDERS = 4  # fewer than the signing password's 5 tries, so every answer is "wrong"


def _card(card_dir: Path) -> str:
    now = datetime.now(UTC)
    keys = {
        kind: rsa.generate_private_key(public_exponent=65537, key_size=2048) for kind in KeyKind
    }
    certificates = {}
    for kind, key in keys.items():
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"concurrency {kind}")])
        certificates[kind] = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256())
        )
    card = VirtualCard.create(
        card_id=cardfile.new_card_id(),
        issued_at=now,
        surface=CardSurface(
            holder_name="並行 試験",
            holder_name_kana="ヘイコウ シケン",
            address="東京都千代田区",
            birth_date=date(1990, 1, 1),
            sex=2,
            expires_on=date(2036, 1, 1),
            municipality_code="131016",
            municipality_name="千代田区",
        ),
        keys=keys,
        certificates=certificates,
        secrets={KeyKind.AUTH: "1234", KeyKind.SIGN: PASSWORD},
        card_secret=CARD_SECRET,
    )
    VirtualCardReader(card_dir, CARD_SECRET).insert(card)
    return card.card_id


def _one_wrong_try(card_dir: Path, card_id: str, barrier: threading.Barrier | None) -> int:
    """One wrong password through a reader of its own; the tries left it was told."""
    reader = VirtualCardReader(card_dir, CARD_SECRET)
    if barrier is not None:
        barrier.wait()
    try:
        reader.open_session(card_id, KeyKind.SIGN, WRONG)
    except WrongPinError as error:
        return error.remaining
    except CardLockedError:
        return 0
    return -1


def _process_contender(
    card_dir: str, card_id: str, barrier: threading.Barrier, results: object
) -> None:
    # Runs in a spawned process: its reader shares nothing with the parent but the file.
    results.put(_one_wrong_try(Path(card_dir), card_id, barrier))  # type: ignore[attr-defined]


@pytest.fixture
def card(tmp_path: Path) -> tuple[Path, str]:
    card_dir = tmp_path / "cards"
    return card_dir, _card(card_dir)


def test_simultaneous_wrong_tries_from_threads_are_all_counted(card: tuple[Path, str]) -> None:
    card_dir, card_id = card
    barrier = threading.Barrier(CONTENDERS)
    with ThreadPoolExecutor(max_workers=CONTENDERS) as pool:
        answers = list(
            pool.map(lambda _: _one_wrong_try(card_dir, card_id, barrier), range(CONTENDERS))
        )
    # Serialized, each contender saw the counter its predecessor left: 4, 3, 2, 1.
    assert sorted(answers) == [1, 2, 3, 4]
    assert VirtualCardReader(card_dir, CARD_SECRET).summary(card_id).sign_tries_left == 1


def test_simultaneous_wrong_tries_from_processes_are_all_counted(card: tuple[Path, str]) -> None:
    card_dir, card_id = card
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(CONTENDERS)
    results = context.Queue()
    processes = [
        context.Process(target=_process_contender, args=(str(card_dir), card_id, barrier, results))
        for _ in range(CONTENDERS)
    ]
    for process in processes:
        process.start()
    answers = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert sorted(answers) == [1, 2, 3, 4]
    reader = VirtualCardReader(card_dir, CARD_SECRET)
    assert reader.summary(card_id).sign_tries_left == 1
    with pytest.raises(CardLockedError):
        reader.open_session(card_id, KeyKind.SIGN, WRONG)
