"""Many workers under concurrent load lose nothing and grant nothing twice.

The portal runs as two worker processes (``serve_on_socket(fd, workers=2)``) on a fresh
PostgreSQL database, with two agency nodes as processes of their own, the rate limits in
Redis and the metrics in a multiprocess directory. Threads log in with cards, fetch
わたしの情報 through the hub from both nodes, submit signed e-applications, and answer
one login challenge and one signing request twice at once, for a few seconds. Then:
every retrieval a client saw succeed has its entries in the exchange log, the log (heads
signed by both workers) verifies, every challenge was issued once and spent once, every
signed application was filed once under one receipt number of its own, the login limit
was counted once across both workers, and the metrics add both workers' requests up.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest
import redis
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from myna import card, network, registry
from myna.applications.models import Application
from myna.bench.apply import FORM, PROCEDURE
from myna.bench.harness import bound_socket, free_port, port_of, portal_process
from myna.bootstrap import Container, build_container
from myna.network import transparency
from myna.platform.db import unit_of_work
from myna.platform.encoding import b64url, b64url_decode
from myna.platform.settings import Settings
from myna.reader.client import login
from myna.runtime import prepare_database
from tests.conftest import TEST_SETTINGS
from tests.e2e.conftest import PASSWORD, PIN
from tests.integration.network.nodekit import NodeProcess, run_myna, start_node
from tests.integration.platform.test_operations import sample

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CHIYODA = "muni-131016"
MINATO = "kenpo-minato-denki"
NODES = {CHIYODA: "東京都千代田区", MINATO: "みなと電機健康保険組合"}
PERSONAS = ("taro", "hanako", "haruto", "misaki")
LOAD_SECONDS = 4.0
THREADS = 4
# Login attempts the shared limit allows in its window (each login is two attempts).
LOGIN_LIMIT = 400
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_CATEGORY = re.compile(r'name="category" value="([^"]+)"')
_SUBMISSION_KEY = re.compile(r'name="submission_key" value="([^"]+)"')


def _admin() -> psycopg.Connection:
    try:
        return psycopg.connect(ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    name = f"myna_workers_{secrets.token_hex(6)}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def limit_window() -> Iterator[str]:
    """The login limit, with a window of its own: its Redis keys are this run's alone."""
    store = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2)
    try:
        store.ping()
    except redis.RedisError:
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    seconds = 3600 + secrets.randbelow(80000)
    yield f"{LOGIN_LIMIT}/{seconds} seconds"
    for key in store.scan_iter(f"*/{LOGIN_LIMIT}/{seconds}/second*"):
        store.delete(key)
    store.close()


@dataclass
class Platform:
    url: str
    container: Container
    signers: dict[str, card.CardSession]
    signing: dict[str, card.CardSession]
    resident_ids: dict[str, int]
    municipalities: dict[str, str]
    nodes: list[NodeProcess] = field(default_factory=list)


@pytest.fixture(scope="module")
def platform(
    tmp_path_factory: pytest.TempPathFactory, database: str, limit_window: str
) -> Iterator[Platform]:
    tmp = tmp_path_factory.mktemp("workers")
    sock = bound_socket()
    url = f"http://127.0.0.1:{port_of(sock)}"
    settings = Settings(
        environment="test",
        data_dir=tmp / "hub",
        database_url=database,
        portal_url=url,
        log_json=False,
        **TEST_SETTINGS,  # type: ignore[arg-type]
    )
    container = build_container(settings)
    prepare_database(container)
    with unit_of_work(container.session_factory) as session:
        personas = registry.ensure_personas(session=session)
        network.seed_agency_data(session=session, seed=1)
        cards = {
            key: card.issue_card(
                session=session,
                settings=settings,
                resident_id=personas[key].id,
                pin=PIN,
                password=PASSWORD,
            ).card_id
            for key in PERSONAS
        }
    common = {
        "MYNA_ENVIRONMENT": "test",
        "MYNA_LOG_JSON": "false",
        "MYNA_LOG_LEVEL": "WARNING",
        **{f"MYNA_{name.upper()}": value for name, value in TEST_SETTINGS.items()},
    }
    hub_env = {
        **common,
        "MYNA_DATABASE_URL": database,
        "MYNA_PORTAL_URL": url,
        "MYNA_DATA_DIR": str(tmp / "hub"),
    }
    keys = tmp / "keys"
    ports = {code: free_port() for code in NODES}
    node_databases = {code: f"sqlite:///{tmp / f'{code}.db'}" for code in NODES}
    for code, name in NODES.items():
        run_myna(hub_env, "jpki", "org-issue", "--code", code, "--name", name,
                 "--key-out", str(keys / code))  # fmt: skip
        run_myna(common, "agency", "load", "--agency", code, "--from-database", database,
                 "--database-url", node_databases[code])  # fmt: skip
    metrics_dir = tmp / "metrics"
    portal_env = {
        **hub_env,
        "MYNA_AGENCY_NODES": json.dumps(
            {code: f"http://127.0.0.1:{port}" for code, port in ports.items()}
        ),
        "MYNA_RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:6379/0",
        "MYNA_LOGIN_RATE_LIMIT": limit_window,
        "MYNA_TREE_HEAD_INTERVAL_SECONDS": "0.5",
        "MYNA_METRICS_LOOPBACK": "true",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
    signers = {key: reader.open_session(card_id, "auth", PIN) for key, card_id in cards.items()}
    signing = {
        key: reader.open_session(card_id, "sign", PASSWORD) for key, card_id in cards.items()
    }
    with portal_process(portal_env, workers=2, sock=sock) as served:
        deployed = Platform(
            served,
            container,
            signers,
            signing,
            {k: personas[k].id for k in PERSONAS},
            {k: personas[k].municipality_code for k in PERSONAS},
        )
        try:
            for code in NODES:
                arguments = [
                    "--agency", code,
                    "--key", str(keys / code / f"{code}.key.pem"),
                    "--cert", str(keys / code / f"{code}.crt.pem"),
                    "--ca-chain", str(keys / code / "gov-chain.pem"),
                    "--database-url", node_databases[code],
                ]  # fmt: skip
                log = tmp / f"{code}.log"
                node_env = {**common, "MYNA_DATA_DIR": str(tmp / code)}
                deployed.nodes.append(start_node(node_env, ports[code], *arguments, log=log))
            yield deployed
        finally:
            for node in deployed.nodes:
                node.stop()
            container.engine.dispose()


@dataclass
class Tally:
    """What the clients saw succeed, counted under a lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    logins: int = 0
    retrievals: Counter[str] = field(default_factory=Counter)
    challenges: list[str] = field(default_factory=list)
    double_answers: list[int] = field(default_factory=list)
    receipts: Counter[str] = field(default_factory=Counter)
    doubly_signed: list[list[str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _log_in(client: httpx.Client, platform: Platform, key: str) -> tuple[str, list[str]]:
    client.cookies.clear()
    login(client, platform.url, platform.signers[key])
    page = client.get(f"{platform.url}/my-info")
    page.raise_for_status()
    token = _CSRF.search(page.text)
    assert token is not None
    return token.group(1), _CATEGORY.findall(page.text)


def _retrieve(client: httpx.Client, url: str, csrf: str, categories: list[str]) -> bool:
    response = client.post(
        f"{url}/my-info", data={"csrf_token": csrf, "category": categories, "format": "json"}
    )
    response.raise_for_status()
    return response.json()["unavailable"] == []


def _spend_twice(platform: Platform, key: str, tally: Tally) -> None:
    """One challenge, answered by two clients at the same moment."""
    signer = platform.signers[key]
    with httpx.Client(timeout=20.0) as opener:
        challenge = opener.post(f"{platform.url}/api/login/challenges").json()
        # Both answers come from the browser that asked (the challenge is bound to it).
        cookies = dict(opener.cookies)
    body = {
        "certificate": b64url(signer.certificate.public_bytes(Encoding.DER)),
        "signature": b64url(signer.sign(b64url_decode(challenge["to_be_signed"]))),
    }
    start = threading.Barrier(2)
    answer_url = f"{platform.url}/api/login/challenges/{challenge['challenge_id']}/response"

    def answer(_: int) -> bool:
        with httpx.Client(timeout=20.0, cookies=cookies) as client:
            start.wait()
            response = client.post(answer_url, json=body)
            return response.status_code == 200 and response.json()["status"] == "logged_in"

    with ThreadPoolExecutor(max_workers=2) as pool:
        won = sum(pool.map(answer, range(2)))
    with tally.lock:
        tally.challenges.append(challenge["challenge_id"])
        tally.double_answers.append(won)


def _submit(
    client: httpx.Client, platform: Platform, key: str, csrf: str, *, answers: int = 1
) -> list[str]:
    """A signed 罹災証明書 application; the receipt numbers of its ``answers`` answers,
    sent at the same moment when more than one."""
    form = f"{platform.url}/apply/{platform.municipalities[key]}/{PROCEDURE}"
    checked = client.post(f"{form}/check", data={**FORM, "csrf_token": csrf})
    submission_key = _SUBMISSION_KEY.search(checked.text)
    assert checked.status_code == 200, checked.text[:300]
    assert submission_key is not None
    signed = client.post(
        f"{form}/sign",
        data={"csrf_token": csrf, "submission_key": submission_key.group(1)},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text[:300]
    api = f"{platform.url}/api/signing-requests/{signed.headers['location'].rsplit('/', 1)[1]}"
    content = b64url_decode(client.get(api).json()["to_be_signed"])
    body = {"signature": b64url(platform.signing[key].sign_cms(content))}
    start = threading.Barrier(answers)

    def answer(_: int) -> str:
        with httpx.Client(timeout=30.0) as answering:
            start.wait()
            response = answering.post(f"{api}/response", json=body)
        assert response.status_code == 200, response.text[:300]
        assert response.json()["status"] == "received"
        return str(response.json()["receipt_number"])

    with ThreadPoolExecutor(max_workers=answers) as pool:
        return list(pool.map(answer, range(answers)))


def _load(platform: Platform, key: str, deadline: float, tally: Tally) -> None:
    with httpx.Client(timeout=30.0) as client:
        round_ = 0
        while time.monotonic() < deadline:
            csrf, categories = _log_in(client, platform, key)
            with tally.lock:
                tally.logins += 1
            for _ in range(2):
                ok = _retrieve(client, platform.url, csrf, categories)
                with tally.lock:
                    if ok:
                        tally.retrievals[key] += 1
                    else:
                        tally.failures.append(key)
            receipts = _submit(client, platform, key, csrf, answers=2 if round_ == 0 else 1)
            with tally.lock:
                tally.receipts[key] += 1
                if len(receipts) > 1:
                    tally.doubly_signed.append(receipts)
            if round_ % 2 == 0:
                _spend_twice(platform, key, tally)
            round_ += 1


def _receipts_by_resident(
    container: Container, resident_ids: dict[str, int]
) -> dict[str, list[str]]:
    names = {resident_id: key for key, resident_id in resident_ids.items()}
    filed: dict[str, list[str]] = {key: [] for key in resident_ids}
    with unit_of_work(container.session_factory) as session:
        for resident_id, receipt in session.execute(
            select(Application.resident_id, Application.receipt_number)
        ):
            filed[names[resident_id]].append(receipt)
    return filed


def _entries_by_subject(container: Container, resident_ids: dict[str, int]) -> Counter[str]:
    with unit_of_work(container.session_factory) as session:
        return Counter(
            {
                key: transparency.entries_for_subject(
                    session=session, subject=str(resident_id), page_size=1
                ).total
                for key, resident_id in resident_ids.items()
            }
        )


def test_two_workers_and_two_nodes_lose_no_entry_and_spend_no_challenge_twice(
    platform: Platform,
) -> None:
    # One retrieval each first: how many entries one retrieval writes for its resident.
    before = _entries_by_subject(platform.container, platform.resident_ids)
    with httpx.Client(timeout=30.0) as client:
        for key in PERSONAS:
            csrf, categories = _log_in(client, platform, key)
            assert _retrieve(client, platform.url, csrf, categories)
    per_retrieval = _entries_by_subject(platform.container, platform.resident_ids) - before
    assert all(per_retrieval[key] > 0 for key in PERSONAS)
    logged = _entries_by_subject(platform.container, platform.resident_ids)
    with unit_of_work(platform.container.session_factory) as session:
        providers = {
            e.provider
            for e in transparency.entries_for_subject(
                session=session, subject=str(platform.resident_ids["taro"]), page_size=500
            ).items
        }
    assert {CHIYODA, MINATO} <= providers  # both nodes answered over HTTP

    tally = Tally()
    deadline = time.monotonic() + LOAD_SECONDS
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for done in [pool.submit(_load, platform, key, deadline, tally) for key in PERSONAS]:
            done.result()

    assert tally.failures == []
    assert tally.logins >= THREADS
    # Every retrieval the clients saw succeed has exactly its entries, none lost, none extra.
    after = _entries_by_subject(platform.container, platform.resident_ids)
    for key in PERSONAS:
        assert after[key] - logged[key] == tally.retrievals[key] * per_retrieval[key], key
    # Each challenge was issued once and, answered twice at once, let in exactly one.
    assert len(set(tally.challenges)) == len(tally.challenges) > 0
    assert tally.double_answers == [1] * len(tally.challenges)
    # Every application a client saw received is filed once, under a receipt of its own;
    # a signing request answered on both workers at once was filed once, and both
    # answers gave its one receipt number.
    filed = _receipts_by_resident(platform.container, platform.resident_ids)
    assert {key: len(receipts) for key, receipts in filed.items()} == {
        key: tally.receipts[key] for key in PERSONAS
    }
    every = [receipt for receipts in filed.values() for receipt in receipts]
    assert len(set(every)) == len(every) == sum(tally.receipts.values()) > 0
    assert tally.doubly_signed, "no signing request was answered twice"
    for first, second in tally.doubly_signed:
        assert first == second
        assert first in every

    # The login limit is one count across both workers: what is left of it is exact.
    attempts = 2 * (tally.logins + len(PERSONAS)) + 3 * len(tally.challenges)
    left = 0
    with httpx.Client(timeout=20.0) as client:
        while client.post(f"{platform.url}/api/login/challenges").status_code == 201:
            left += 1
            assert left <= LOGIN_LIMIT
    assert attempts + left == LOGIN_LIMIT

    # The heads both workers signed cover every entry and the whole log verifies.
    with unit_of_work(platform.container.session_factory) as session:
        platform.container.publish_tree_head(session)
    with unit_of_work(platform.container.session_factory) as session:
        report = transparency.verify_log(
            session=session, public_key=platform.container.log_signer.public_jwk
        )
        status = transparency.log_status(session=session)
    assert report.ok, report.problems[:5]
    assert report.heads_checked > 1
    assert status.signed_size == status.tree_size

    # The metrics add both workers' requests up.
    text = httpx.get(f"{platform.url}/metrics", timeout=10).text
    retrieved = sum(tally.retrievals.values()) + len(PERSONAS)
    assert sample(text, "myna_http_requests_total", route="/my-info", method="POST",
                  status="200") == retrieved  # fmt: skip
    assert Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR", "/")).exists()
