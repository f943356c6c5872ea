"""An independent witness of the exchange log: it watches, remembers and cosigns.

A log that signs its heads can still lie by showing different people different trees
(a *split view*), or by going back to an earlier state after a restore (a *rollback*).
Proofs alone cannot catch that; someone outside the operator who keeps every head it
has seen can. A witness polls a portal's public documents (``/transparency/...``):

- checks each new head's ES256 signature with the log key it pinned the first time;
- for a larger tree, fetches a consistency proof from the last head it saw and checks
  it (RFC 9162 §2.1.4.2): the new tree only *adds* to the old one;
- refuses a smaller tree (rollback), the same size with another root (split view), a
  head whose time goes backwards, a proof that does not verify (fork);
- keeps its own copy of every head it accepted, and **cosigns** it with its own key: an
  ES256 JWS over the head and the log key's id, so a resident holding cosignatures from
  several witnesses knows they all saw the same tree.

State is a directory of JSON files (written atomically): ``witness.json`` (pinned log
key, last accepted head), ``heads/<size>.json``, ``cosignatures/<size>.json`` and, when
something is wrong, ``evidence/<time>.json`` with both heads and the failed proof — what
one shows others. Format in docs/exchange-log.md.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn

import httpx
from joserfc import jws
from joserfc.jwk import ECKey

from myna.network.transparency.domain import (
    ConsistencyProof,
    InvalidProofError,
    ProofVerificationError,
    SignedTreeHead,
    TransparencyError,
    timestamp_ms,
    verify_heads_consistent,
)
from myna.network.transparency.signing import (
    ALGORITHM,
    COSIGNATURE_TYPE,
    POLICIES,
    PQ_KEY_TYPE,
    LogPublicKeys,
    LogSigner,
    PqPublicKey,
    cosignature_payload,
    public_key,
)
from myna.platform import i18n
from myna.platform.errors import N_

STATE_FILE = "witness.json"
TIMEOUT_SECONDS = 10.0


class WitnessError(TransparencyError, code="witness_error"):
    """Base of what a witness refuses; the log is not to be trusted past it."""


class LogMisbehavedError(WitnessError, code="log_misbehaved"):
    """The log showed something it cannot show honestly (evidence was kept)."""

    message = N_("The exchange log misbehaved ({kind}): {detail} Evidence: {evidence}")

    def localized(self) -> str:
        """The message with its detail (an English message id too) in the locale in force."""
        params = {**self.params, "detail": i18n.gettext(str(self.params.get("detail", "")))}
        return i18n.gettext(self.message).format(**params)


class LogUnreachableError(WitnessError, code="log_unreachable", status_code=503):
    """The portal did not answer with a readable document."""

    message = N_("The log at {url} could not be read ({reason}); the witness will try again.")


class WitnessStateError(WitnessError, code="witness_state_unreadable"):
    """The witness's own directory is damaged; it will not guess."""

    message = N_("The witness state in {path} cannot be read: {reason}")


class Misbehaviour(StrEnum):
    """How a log can show itself dishonest to one witness."""

    ROLLBACK = "rollback"
    SPLIT_VIEW = "split_view"
    FORK = "fork"
    TIME_REVERSED = "time_reversed"
    BAD_SIGNATURE = "bad_signature"
    KEY_CHANGED = "key_changed"


class Observation(StrEnum):
    """What one poll found, when all was well."""

    FIRST = "first"
    UNCHANGED = "unchanged"
    EXTENDED = "extended"


@dataclass(frozen=True, slots=True)
class PollResult:
    """One poll: what was seen, the head now accepted, and its cosignature."""

    observation: Observation
    head: SignedTreeHead
    previous_size: int | None
    cosignature: str | None
    handed_in: str | None = None  # the portal's answer when the cosignature was posted


class LogClient:
    """Reads a portal's public exchange-log documents (docs/exchange-log.md)."""

    def __init__(self, base_url: str, *, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client or httpx.Client(timeout=TIMEOUT_SECONDS)

    def _get(self, path: str, **params: int) -> Any:
        url = f"{self.base_url}{path}"
        try:
            answer = self.client.get(url, params=params, headers={"Accept": "application/json"})
            answer.raise_for_status()
            return answer.json()
        except httpx.HTTPStatusError as error:
            reason = f"HTTP {error.response.status_code}"
            raise LogUnreachableError(url=url, reason=reason) from error
        except (httpx.HTTPError, ValueError) as error:
            raise LogUnreachableError(url=url, reason=type(error).__name__) from error

    def keys(self) -> list[dict[str, Any]]:
        """The log's published JWK Set."""
        keys = self._get("/transparency/keys").get("keys")
        if not isinstance(keys, list) or not keys:
            raise LogUnreachableError(url=self.base_url, reason="no keys published")
        return [k for k in keys if isinstance(k, dict)]

    def latest_head(self) -> SignedTreeHead:
        """The latest signed tree head."""
        return SignedTreeHead.from_json(self._get("/transparency/tree-head"))

    def consistency(self, first: int, second: int) -> ConsistencyProof:
        """PROOF(first, D[second])."""
        return ConsistencyProof.from_json(
            self._get("/transparency/consistency", first=first, second=second)
        )

    def hand_in(self, document: dict[str, Any]) -> str:
        """Post a cosignature to the portal (``POST /transparency/cosignatures``).

        Returns ``"accepted"``, or the portal's error code: a refusal is the portal's
        business (it may not list this witness), not a fault of the log.
        """
        url = f"{self.base_url}/transparency/cosignatures"
        try:
            answer = self.client.post(url, json=document, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            return type(error).__name__
        if answer.status_code == 200:
            return "accepted"
        try:
            return str(answer.json().get("error", answer.status_code))
        except ValueError:
            return f"HTTP {answer.status_code}"

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def __enter__(self) -> LogClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class Witness:
    """One witness's memory of one log, in ``directory``."""

    def __init__(
        self,
        *,
        directory: Path,
        key: LogSigner,
        log: LogClient,
        log_key: dict[str, Any] | None = None,
        submit: bool = False,
        policy: str = "classic",
    ) -> None:
        if policy not in POLICIES:
            msg = f"unknown signature policy {policy!r}"
            raise ValueError(msg)
        self.directory = directory
        self.key = key
        self.log = log
        self.submit = submit
        self.policy = policy
        directory.mkdir(parents=True, exist_ok=True)
        self.state = self._load()
        if log_key is not None:
            pinned = self.state.get("log_key")
            if pinned is not None and pinned.get("kid") != public_key(log_key).thumbprint():
                raise WitnessStateError(
                    path=str(directory), reason="it already watches a log with another key"
                )
            self.state["log_key"] = dict(log_key)

    # -- state ------------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        path = self.directory / STATE_FILE
        if not path.exists():
            return {}
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(state, dict):
                raise ValueError("not an object")
            if state.get("head") is not None:
                SignedTreeHead.from_json(state["head"])
        except (ValueError, InvalidProofError) as error:
            raise WitnessStateError(path=str(path), reason=str(error)) from error
        return state

    def _write(self, relative: str, document: object) -> Path:
        target = self.directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(document, out, ensure_ascii=False, indent=1, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).replace(target)
        return target

    @property
    def last_head(self) -> SignedTreeHead | None:
        """The last head this witness accepted."""
        head = self.state.get("head")
        return None if head is None else SignedTreeHead.from_json(head)

    def _log_keys(self) -> LogPublicKeys:
        """The pinned keys: ES256, and ML-DSA-65 once the log published one."""
        jwk = self.state.get("log_key")
        published: list[dict[str, Any]] | None = None
        if jwk is None:
            # Trust on first use, and only then: from now on the key is pinned.
            published = self.log.keys()
            (jwk, *_) = published
            self.state["log_key"] = jwk
        pq_jwk = self.state.get("log_pq_key")
        if pq_jwk is None and self.policy != "classic":
            # The post-quantum key is pinned the first time a policy needs it.
            published = published if published is not None else self.log.keys()
            found = [k for k in published if k.get("kty") == PQ_KEY_TYPE]
            if found:
                pq_jwk = self.state["log_pq_key"] = found[0]
        pq = None if pq_jwk is None else PqPublicKey.from_jwk(pq_jwk)
        return LogPublicKeys(public_key(jwk), pq)

    # -- the poll ---------------------------------------------------------------------

    def poll(self, *, now: datetime | None = None) -> PollResult:
        """Fetch the latest head, check it against what was seen, keep and cosign it."""
        keys = self._log_keys()
        key = keys.classic
        head = self.log.latest_head()
        if head.key_id != key.thumbprint():
            self._misbehaved(
                Misbehaviour.KEY_CHANGED,
                N_("the head is signed with another key than the pinned one."),
                head=head,
            )
        try:
            keys.verify(head, self.policy)
        except ProofVerificationError:
            self._misbehaved(
                Misbehaviour.BAD_SIGNATURE, N_("the head's signature does not verify."), head=head
            )
        previous = self.last_head
        observation = self._compare(previous, head)
        cosignature = handed_in = None
        if observation is not Observation.UNCHANGED:
            document = self._accept(head, key, now or datetime.now(UTC))
            cosignature = document["cosignature"]
            if self.submit:
                handed_in = self.log.hand_in(document)
        return PollResult(
            observation=observation,
            head=head if observation is not Observation.UNCHANGED else previous or head,
            previous_size=previous.tree_size if previous else None,
            cosignature=cosignature,
            handed_in=handed_in,
        )

    def _compare(self, previous: SignedTreeHead | None, head: SignedTreeHead) -> Observation:
        if previous is None:
            return Observation.FIRST
        if head.tree_size < previous.tree_size:
            self._misbehaved(
                Misbehaviour.ROLLBACK,
                N_("the log shows a smaller tree than one it signed before."),
                head=head,
                previous=previous,
            )
        if head.tree_size == previous.tree_size:
            if head.root_hash != previous.root_hash:
                self._misbehaved(
                    Misbehaviour.SPLIT_VIEW,
                    N_("two signed heads of the same size have different roots."),
                    head=head,
                    previous=previous,
                )
            return Observation.UNCHANGED
        if head.timestamp < previous.timestamp:
            self._misbehaved(
                Misbehaviour.TIME_REVERSED,
                N_("a larger tree carries an earlier time than a smaller one."),
                head=head,
                previous=previous,
            )
        proof = self.log.consistency(previous.tree_size, head.tree_size)
        try:
            verify_heads_consistent(first=previous, second=head, proof=proof)
        except ProofVerificationError:
            self._misbehaved(
                Misbehaviour.FORK,
                N_("the new tree does not extend the one signed before."),
                head=head,
                previous=previous,
                proof=proof,
            )
        return Observation.EXTENDED

    def _accept(self, head: SignedTreeHead, key: ECKey, now: datetime) -> dict[str, Any]:
        witnessed_at = timestamp_ms(now)
        payload = cosignature_payload(
            head=head, log_key_id=key.thumbprint(), witnessed_at=witnessed_at
        )
        cosignature = jws.serialize_compact(
            {"alg": ALGORITHM, "kid": self.key.key_id, "typ": COSIGNATURE_TYPE},
            payload,
            self.key.key,
        )
        document = {
            "tree_head": head.to_json(),
            "witness_key_id": self.key.key_id,
            "cosignature": cosignature,
        }
        self._write(f"heads/{head.tree_size}.json", head.to_json())
        self._write(f"cosignatures/{head.tree_size}.json", document)
        self.state["head"] = head.to_json()
        self._write(STATE_FILE, self.state)
        return document

    def _misbehaved(
        self,
        kind: Misbehaviour,
        detail: str,
        *,
        head: SignedTreeHead,
        previous: SignedTreeHead | None = None,
        proof: ConsistencyProof | None = None,
    ) -> NoReturn:
        moment = datetime.now(UTC)
        evidence = {
            "kind": kind.value,
            "detail": detail,
            "observed_at": moment.isoformat(),
            "log": self.log.base_url,
            "log_key": self.state.get("log_key"),
            "previous_head": previous.to_json() if previous else None,
            "head": head.to_json(),
            "consistency_proof": proof.to_json() if proof else None,
        }
        stamp = moment.strftime("%Y%m%dT%H%M%S%fZ")
        path = self._write(f"evidence/{stamp}-{kind.value}.json", evidence)
        raise LogMisbehavedError(kind=kind.value, detail=detail, evidence=str(path))
