"""`myna log witness`: follows an honest log, cosigns it, and catches one that forks.

Two portals with their own databases serve the exchange log under the *same* log key:
``honest`` and ``other``. Showing a witness first one, then the other, is exactly what a
log operator who forks the log does (a split view); a restored backup is a rollback.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from myna.app import create_app
from myna.bench.harness import free_port
from myna.bootstrap import Container, build_container
from myna.cli.transparency import app as log_cli
from myna.network import transparency
from myna.network.transparency import LogSigner, NewEntry, SignedTreeHead
from myna.network.transparency import witness as witnessing
from myna.network.transparency.signing import verify_cosignature
from myna.platform.db import make_engine, unit_of_work
from myna.platform.migrate import upgrade_to_head
from myna.platform.settings import Settings
from tests.conftest import TEST_SETTINGS
from tests.integration.network.deployment import fresh_database
from tests.integration.network.nodekit import ServerThread
from tests.integration.transparency.conftest import START, exchange

runner = CliRunner()
WITNESS = "独立監視団体A"


@dataclass
class Portal:
    """A portal over its own database, served on 127.0.0.1."""

    container: Container
    server: ServerThread

    @property
    def url(self) -> str:
        return self.server.url

    def grow(self, entries: list[NewEntry]) -> SignedTreeHead:
        with unit_of_work(self.container.session_factory) as session:
            transparency.append(session=session, entries=entries)
            return self.container.publish_tree_head(session)


def _portal(
    tmp: Path, name: str, log_key: Path, witnesses: dict[str, dict[str, str]] | None = None
) -> Portal:
    data = tmp / name
    (data / "keys").mkdir(parents=True)
    shutil.copy(log_key, data / "keys" / "exchange-log.pem")
    settings = Settings(
        environment="test",
        data_dir=data,
        database_url=fresh_database(tmp, name),
        portal_url="http://127.0.0.1",
        log_json=False,
        tree_head_interval_seconds=3600,
        log_witnesses=witnesses or {},
        **TEST_SETTINGS,  # type: ignore[arg-type]
    )
    container = build_container(settings, engine=make_engine(settings.database_url))
    upgrade_to_head(container.engine)
    server = ServerThread(create_app(container), free_port()).start()
    return Portal(container, server)


@pytest.fixture
def log_key(tmp_path: Path) -> Path:
    path = tmp_path / "log.pem"
    path.write_bytes(LogSigner.generate().private_pem())
    return path


@pytest.fixture
def portals(
    tmp_path: Path, log_key: Path, witness_key: LogSigner
) -> Iterator[tuple[Portal, Portal]]:
    """``honest`` and ``other``: same key, same first three entries; ``honest`` lists the
    test's witness (as 独立監視団体A)."""
    listed = {WITNESS: witness_key.public_jwk}
    pair = (
        _portal(tmp_path, "honest", log_key, listed),
        _portal(tmp_path, "other", log_key),
    )
    for portal in pair:
        portal.grow(exchange(3))
    yield pair
    for portal in pair:
        portal.server.stop()
        portal.container.close()
        portal.container.engine.dispose()


@pytest.fixture
def witness_key() -> LogSigner:
    return LogSigner.generate()


def poll_once(portal: Portal, state: Path, key: LogSigner) -> witnessing.PollResult:
    """One poll by a witness process that starts, polls and ends."""
    log = witnessing.LogClient(portal.url)
    try:
        return witnessing.Witness(directory=state, key=key, log=log).poll()
    finally:
        log.close()


def other_entries(n: int, subject: str) -> list[NewEntry]:
    return exchange(n, subject=subject, start=START + timedelta(hours=1))


def test_an_honest_log_is_followed_and_cosigned(
    portals: tuple[Portal, Portal], tmp_path: Path, witness_key: LogSigner
) -> None:
    honest, _ = portals
    state = tmp_path / "witness"
    first = poll_once(honest, state, witness_key)
    assert first.observation is witnessing.Observation.FIRST
    assert first.head.tree_size == 3
    honest.grow(other_entries(4, "2002"))
    # A new process over the same directory remembers what the last one saw.
    later = poll_once(honest, state, witness_key)
    assert later.observation is witnessing.Observation.EXTENDED
    assert (later.previous_size, later.head.tree_size) == (3, 7)
    assert poll_once(honest, state, witness_key).observation is (witnessing.Observation.UNCHANGED)
    public = transparency.public_key(witness_key.public_jwk)
    for size in (3, 7):
        kept = json.loads((state / "cosignatures" / f"{size}.json").read_text())
        head = SignedTreeHead.from_json(kept["tree_head"])
        assert head.tree_size == size
        verify_cosignature(cosignature=kept["cosignature"], head=head, witness_key=public)
        assert json.loads((state / "heads" / f"{size}.json").read_text()) == head.to_json()
    # A cosignature vouches for its head only.
    with pytest.raises(transparency.ProofVerificationError):
        verify_cosignature(cosignature=later.cosignature or "", head=first.head, witness_key=public)
    assert not (state / "evidence").exists()


def test_a_split_view_is_caught_with_evidence(
    portals: tuple[Portal, Portal], tmp_path: Path, witness_key: LogSigner
) -> None:
    honest, other = portals
    honest.grow(other_entries(2, "2002"))
    forked = other.grow(other_entries(2, "3003"))  # same size, other entries
    state = tmp_path / "witness"
    assert poll_once(honest, state, witness_key).head.tree_size == 5
    with pytest.raises(witnessing.LogMisbehavedError) as caught:
        poll_once(other, state, witness_key)
    assert caught.value.params["kind"] == "split_view"
    (evidence,) = (state / "evidence").iterdir()
    document = json.loads(evidence.read_text())
    assert document["head"] == forked.to_json()
    assert document["previous_head"]["tree_size"] == 5
    assert document["previous_head"]["root_hash"] != forked.to_json()["root_hash"]
    # Both heads verify with the log key: the log signed two different trees of 5.
    key = transparency.public_key(json.loads(json.dumps(document["log_key"])))
    transparency.verify_tree_head(SignedTreeHead.from_json(document["head"]), key)
    transparency.verify_tree_head(SignedTreeHead.from_json(document["previous_head"]), key)
    # The witness did not move on to the forked head.
    assert json.loads((state / "witness.json").read_text())["head"]["tree_size"] == 5
    assert not (state / "cosignatures" / "5.json").read_text().count(forked.signature)


def test_a_larger_tree_that_does_not_extend_the_last_is_a_fork(
    portals: tuple[Portal, Portal], tmp_path: Path, witness_key: LogSigner
) -> None:
    honest, other = portals
    honest.grow(other_entries(2, "2002"))
    other.grow(other_entries(5, "3003"))
    state = tmp_path / "witness"
    poll_once(honest, state, witness_key)
    with pytest.raises(witnessing.LogMisbehavedError) as caught:
        poll_once(other, state, witness_key)
    assert caught.value.params["kind"] == "fork"
    (evidence,) = (state / "evidence").iterdir()
    document = json.loads(evidence.read_text())
    assert document["consistency_proof"]["first"] == 5
    assert document["consistency_proof"]["second"] == 8


def test_a_rollback_is_caught(
    portals: tuple[Portal, Portal], tmp_path: Path, witness_key: LogSigner
) -> None:
    honest, other = portals
    honest.grow(other_entries(2, "2002"))
    state = tmp_path / "witness"
    poll_once(honest, state, witness_key)
    with pytest.raises(witnessing.LogMisbehavedError) as caught:
        poll_once(other, state, witness_key)  # still at 3: as if restored from a backup
    assert caught.value.params["kind"] == "rollback"


def test_a_head_signed_by_another_key_is_refused(
    portals: tuple[Portal, Portal], tmp_path: Path, witness_key: LogSigner
) -> None:
    honest, _ = portals
    state = tmp_path / "witness"
    impostor = LogSigner.generate()
    poll_once(honest, state, witness_key)
    with witnessing.LogClient(honest.url) as log:
        with pytest.raises(witnessing.WitnessStateError):
            # Pinned to another key than the directory already holds.
            witnessing.Witness(
                directory=state, key=witness_key, log=log, log_key=impostor.public_jwk
            )
        watcher = witnessing.Witness(
            directory=tmp_path / "pinned", key=witness_key, log=log, log_key=impostor.public_jwk
        )
        with pytest.raises(witnessing.LogMisbehavedError) as caught:
            watcher.poll()
    assert caught.value.params["kind"] == "key_changed"


def test_a_tampered_signature_is_refused(tmp_path: Path, witness_key: LogSigner) -> None:
    signer = LogSigner.generate()
    head = signer.sign_tree_head(tree_size=4, timestamp=1_795_000_000_000, root_hash=b"\x01" * 32)
    document = head.to_json() | {"root_hash": transparency.domain.b64(b"\x02" * 32)}

    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/transparency/keys":
            return httpx.Response(200, json={"keys": [signer.public_jwk]})
        return httpx.Response(200, json=document)

    client = httpx.Client(transport=httpx.MockTransport(serve))
    with witnessing.LogClient("http://127.0.0.1:9", client=client) as log:
        watcher = witnessing.Witness(directory=tmp_path / "w", key=witness_key, log=log)
        with pytest.raises(witnessing.LogMisbehavedError) as caught:
            watcher.poll()
    assert caught.value.params["kind"] == "bad_signature"
    assert "署名" in caught.value.localized()  # said in the operator's language


def test_the_command_watches_and_alerts_with_status_2(
    portals: tuple[Portal, Portal], tmp_path: Path
) -> None:
    honest, other = portals
    honest.grow(other_entries(2, "2002"))
    other.grow(other_entries(2, "3003"))
    key = tmp_path / "witness.pem"
    assert runner.invoke(log_cli, ["keygen", "--out", str(key)]).exit_code == 0
    state = str(tmp_path / "state")
    common = ["witness", "--key", str(key), "--state", state, "--rounds", "2", "--interval", "0.1"]
    watched = runner.invoke(log_cli, [*common, "--portal", honest.url])
    assert watched.exit_code == 0, watched.output
    assert "first head: tree of 5, cosigned" in watched.output
    assert "unchanged: tree of 5" in watched.output
    alerted = runner.invoke(log_cli, [*common, "--portal", other.url])
    assert alerted.exit_code == 2, alerted.output
    assert "ALERT" in alerted.output
    assert "split_view" in alerted.output


def test_the_command_says_when_the_portal_cannot_be_reached(tmp_path: Path) -> None:
    key = tmp_path / "witness.pem"
    assert runner.invoke(log_cli, ["keygen", "--out", str(key)]).exit_code == 0
    args = ["witness", "--key", str(key), "--state", str(tmp_path / "s"), "--rounds", "1"]
    answer = runner.invoke(log_cli, [*args, "--portal", f"http://127.0.0.1:{free_port()}"])
    assert answer.exit_code == 1
    assert "ConnectError" in answer.output
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "witness.json").write_text("{not json")
    broken = runner.invoke(
        log_cli, ["witness", "--key", str(key), "--state", str(damaged), "--portal", "x"]
    )
    assert broken.exit_code == 1
    assert "witness_state_unreadable" in broken.output


def _poll_and_hand_in(portal: Portal, state: Path, key: LogSigner) -> witnessing.PollResult:
    with witnessing.LogClient(portal.url) as log:
        return witnessing.Witness(directory=state, key=key, log=log, submit=True).poll()


def test_a_listed_witness_hands_in_cosignatures_the_portal_publishes(
    portals: tuple[Portal, Portal], tmp_path: Path, witness_key: LogSigner
) -> None:
    honest, _ = portals
    first = _poll_and_hand_in(honest, tmp_path / "w", witness_key)
    assert first.handed_in == "accepted"
    honest.grow(other_entries(2, "2002"))
    assert _poll_and_hand_in(honest, tmp_path / "w", witness_key).handed_in == "accepted"
    with httpx.Client(base_url=honest.url) as client:
        listed = client.get("/transparency/witnesses").json()["witnesses"]
        assert listed == [{"name": WITNESS, "jwk": witness_key.public_jwk}]
        head = SignedTreeHead.from_json(client.get("/transparency/tree-heads/5").json())
        (kept,) = client.get("/transparency/tree-heads/5/cosignatures").json()["cosignatures"]
        assert kept["witness"] == WITNESS
        verify_cosignature(
            cosignature=kept["cosignature"],
            head=head,
            witness_key=transparency.public_key(witness_key.public_jwk),
        )
        # Handing the same cosignature in again changes nothing.
        document = json.loads((tmp_path / "w" / "cosignatures" / "5.json").read_text())
        assert client.post("/transparency/cosignatures", json=document).status_code == 200
        assert (
            len(client.get("/transparency/tree-heads/5/cosignatures").json()["cosignatures"]) == 1
        )
        assert client.get("/transparency/tree-heads/4/cosignatures").status_code == 404


def test_the_portal_refuses_what_it_cannot_publish(
    portals: tuple[Portal, Portal], tmp_path: Path, witness_key: LogSigner
) -> None:
    honest, other = portals
    honest.grow(other_entries(2, "2002"))
    other.grow(other_entries(2, "3003"))
    # A witness the portal does not list.
    stranger = _poll_and_hand_in(honest, tmp_path / "stranger", LogSigner.generate())
    assert stranger.handed_in == "unknown_witness"
    # The listed witness, shown the other tree of 5: its cosignature is evidence, not a
    # cosignature of what this portal published.
    _poll_and_hand_in(other, tmp_path / "shown-other", witness_key)
    forked = json.loads((tmp_path / "shown-other" / "cosignatures" / "5.json").read_text())
    with httpx.Client(base_url=honest.url) as client:
        mismatch = client.post("/transparency/cosignatures", json=forked)
        assert mismatch.status_code == 409
        assert mismatch.json()["error"] == "cosignature_mismatch"
        ours = client.get("/transparency/tree-heads/5").json()
        tampered = {**forked, "tree_head": ours}  # the right head, a signature over another
        refused = client.post("/transparency/cosignatures", json=tampered)
        assert refused.status_code == 400
        assert refused.json()["error"] == "proof_not_verified"
        garbage = client.post("/transparency/cosignatures", json={**forked, "cosignature": "x"})
        assert garbage.status_code == 400
        assert client.get("/transparency/tree-heads/5/cosignatures").json() == {"cosignatures": []}


def _hybrid_log(signer: LogSigner, *, strip: bool) -> httpx.Client:
    """A log serving one hybrid head (its ML-DSA-65 signature stripped when ``strip``)."""
    head = signer.sign_tree_head(
        tree_size=0, timestamp=1_795_000_000_000, root_hash=hashlib.sha256(b"").digest()
    )
    document = head.to_json()
    if strip:
        document.pop("pq_signature")

    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/transparency/keys":
            return httpx.Response(200, json={"keys": signer.public_jwks})
        return httpx.Response(200, json=document)

    return httpx.Client(transport=httpx.MockTransport(serve))


def test_a_hybrid_witness_requires_the_ml_dsa_65_signature(
    tmp_path: Path, witness_key: LogSigner
) -> None:
    signer = LogSigner.generate()
    assert signer.pq is not None
    for strip, policy, refused in (
        (False, "hybrid", False),
        (False, "post-quantum", False),
        (True, "classic", False),
        (True, "hybrid", True),
    ):
        client = _hybrid_log(signer, strip=strip)
        directory = tmp_path / f"{policy}-{strip}"
        with witnessing.LogClient("http://127.0.0.1:9", client=client) as log:
            watcher = witnessing.Witness(
                directory=directory, key=witness_key, log=log, policy=policy
            )
            if refused:
                with pytest.raises(witnessing.LogMisbehavedError) as caught:
                    watcher.poll()
                assert caught.value.params["kind"] == "bad_signature"
            else:
                assert watcher.poll().head.tree_size == 0
        if policy != "classic" and not refused:
            pinned = json.loads((directory / witnessing.STATE_FILE).read_text())
            assert pinned["log_pq_key"]["kid"] == signer.pq.public.key_id
