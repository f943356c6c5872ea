"""RFC 9162 Merkle tree hashing, proofs and the exchange-log entry format (pure).

The exchange log (やりとり履歴) is an append-only Merkle tree as defined by RFC 9162
(Certificate Transparency Version 2.0), §2.1, with SHA-256:

* leaf hash ``SHA-256(0x00 || entry)`` and node hash ``SHA-256(0x01 || left || right)``
  (§2.1.1, the domain separation that rules out second-preimage tricks);
* the Merkle Tree Hash MTH of a list, ``MTH({}) = SHA-256()`` (§2.1.1);
* inclusion proofs PATH(m, D[n]) and their verification (§2.1.3.1, §2.1.3.2);
* consistency proofs PROOF(m, D[n]) and their verification (§2.1.4.1, §2.1.4.2).

Proof generation is written over *ranges* of leaves, ``[lo, hi)``, so the same code
serves an in-memory list and the database (which keeps the hash of every complete
perfect subtree and answers a range from at most log2(n) of them).

Nothing here touches a database, a file or the network.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from myna.platform import i18n
from myna.platform.attributes import from_attributes
from myna.platform.encoding import b64
from myna.platform.errors import N_, MynaError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
#: MTH({}) — RFC 9162 §2.1.1: the hash of an empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()

Range = tuple[int, int]
#: A perfect subtree: (level, index) covers leaves [index * 2**level, (index + 1) * 2**level).
Node = tuple[int, int]


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


class TransparencyError(MynaError, code="exchange_log_error"):
    """Base of the exchange log's errors."""


class InvalidEntryError(TransparencyError, code="invalid_log_entry"):
    """An exchange-log entry that does not follow the entry format."""

    message = N_("The exchange log entry is not valid: {reason}")


class LeafIndexOutOfRangeError(TransparencyError, code="leaf_index_out_of_range", status_code=404):
    """An inclusion proof asked for a leaf outside the tree."""

    message = N_("Entry {index} is not in a tree of {tree_size} entries.")


class TreeSizeError(TransparencyError, code="tree_size_unavailable", status_code=404):
    """A tree size the log has not reached (or a first size beyond the second)."""

    message = N_("The exchange log has {log_size} entries; a tree of {tree_size} is not available.")


class NoTreeHeadError(TransparencyError, code="no_tree_head", status_code=404):
    """Nobody has published a signed tree head yet."""

    message = N_("No signed tree head of the exchange log has been published yet.")


class ProofVerificationError(TransparencyError, code="proof_not_verified"):
    """A proof, an entry or a tree head that does not verify."""

    message = N_("Verification failed: {reason}")

    def localized(self) -> str:
        """The message and its reason (an English message id too) in the locale in force."""
        reason = i18n.gettext(str(self.params.get("reason", "")))
        return i18n.gettext(self.message).format(reason=reason)


class UnknownWitnessError(TransparencyError, code="unknown_witness", status_code=403):
    """A cosignature from a key the portal does not list as a witness's."""

    message = N_(
        "The key {key_id} is not one of this portal's witnesses. An operator lists "
        "witnesses in MYNA_LOG_WITNESSES."
    )


class CosignatureMismatchError(TransparencyError, code="cosignature_mismatch", status_code=409):
    """A cosignature of a head the log did not publish (another root or time for the size)."""

    message = N_(
        "The cosigned tree head is not the one this log published for size {tree_size}. "
        "Keep both heads: they are evidence of a split view."
    )


class InvalidProofError(TransparencyError, code="invalid_proof_document"):
    """A proof document that cannot even be read."""

    message = N_("The document is not a valid {kind}: {reason}")


# ---------------------------------------------------------------------------------------
# Hashing — RFC 9162 §2.1.1
# ---------------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """The hash of a leaf: SHA-256(0x00 || data) (RFC 9162 §2.1.1)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right) (RFC 9162 §2.1.1)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """k, the largest power of two smaller than n (n > 1), as in RFC 9162 §2.1.1."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH of a list given its leaf hashes (RFC 9162 §2.1.1), in O(n) via a frontier."""
    frontier = Frontier()
    for value in hashes:
        frontier.append(value)
    return frontier.root()


def merkle_tree_hash(entries: Iterable[bytes]) -> bytes:
    """MTH(D[n]) of a list of entries (RFC 9162 §2.1.1)."""
    return root_from_leaf_hashes([leaf_hash(entry) for entry in entries])


# ---------------------------------------------------------------------------------------
# Perfect subtrees and the frontier
# ---------------------------------------------------------------------------------------


def perfect_subtrees(lo: int, hi: int) -> list[Node]:
    """The perfect subtrees that make up ``[lo, hi)``, left to right.

    Valid for the ranges RFC 9162's recursion produces: ``lo`` is a multiple of a power
    of two at least ``hi - lo``, so each greedy piece is aligned to its own size.
    """
    nodes: list[Node] = []
    while lo < hi:
        size = 1 << ((hi - lo).bit_length() - 1)
        level = size.bit_length() - 1
        if lo % size:
            msg = f"range [{lo}, {hi}) is not a subtree of an RFC 9162 tree"
            raise ValueError(msg)
        nodes.append((level, lo >> level))
        lo += size
    return nodes


def fold_subtrees(hashes: Sequence[bytes]) -> bytes:
    """Combine perfect-subtree hashes (left to right, decreasing size) into their MTH."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for value in reversed(hashes[:-1]):
        result = node_hash(value, result)
    return result


def range_hash(lo: int, hi: int, nodes: Mapping[Node, bytes]) -> bytes:
    """MTH(D[lo:hi]) from the stored hashes of its perfect subtrees."""
    return fold_subtrees([nodes[node] for node in perfect_subtrees(lo, hi)])


@dataclass
class Frontier:
    """The roots of the perfect subtrees of a tree of ``size`` leaves, left to right.

    There is one per set bit of ``size`` (largest first), so the root of the whole tree
    is ``fold_subtrees(hashes)`` and appending a leaf touches O(log n) hashes. Appending
    returns the interior nodes it completed, which the log stores so that any proof is
    answered from O(log n) stored hashes.
    """

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    def levels(self) -> list[int]:
        """The level (log2 of the leaf count) of each subtree, left to right."""
        return [bit for bit in range(self.size.bit_length() - 1, -1, -1) if self.size >> bit & 1]

    def append(self, value: bytes) -> list[tuple[Node, bytes]]:
        """Add a leaf hash; return the interior nodes ((level, index), hash) it completed."""
        completed: list[tuple[Node, bytes]] = []
        index = self.size
        self.hashes.append(value)
        level = 0
        # Each trailing 1 bit of the old size is a subtree the new leaf completes a pair for.
        while index & 1:
            right = self.hashes.pop()
            left = self.hashes.pop()
            merged = node_hash(left, right)
            self.hashes.append(merged)
            level += 1
            index >>= 1
            completed.append(((level, index), merged))
        self.size += 1
        return completed

    def root(self) -> bytes:
        """MTH of the tree (RFC 9162 §2.1.1)."""
        return fold_subtrees(self.hashes)

    def to_bytes(self) -> bytes:
        """The concatenated hashes (the size is kept beside them)."""
        return b"".join(self.hashes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Frontier:
        """Rebuild from :meth:`to_bytes` and the tree size."""
        if len(data) != HASH_SIZE * size.bit_count():
            msg = "frontier does not match the tree size"
            raise ValueError(msg)
        hashes = [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
        return cls(size=size, hashes=hashes)

    @classmethod
    def subtrees_of(cls, size: int) -> list[Node]:
        """The perfect subtrees of a tree of ``size`` leaves (the frontier's nodes)."""
        return perfect_subtrees(0, size)


# ---------------------------------------------------------------------------------------
# Inclusion proofs — RFC 9162 §2.1.3
# ---------------------------------------------------------------------------------------


def inclusion_ranges(m: int, n: int) -> list[Range]:
    """The leaf ranges whose MTH make up PATH(m, D[n]), leaf upwards (RFC 9162 §2.1.3.1)."""
    if not 0 <= m < n:
        raise LeafIndexOutOfRangeError(index=m, tree_size=n)
    outer_first: list[Range] = []
    lo, hi = 0, n
    while hi - lo > 1:
        k = largest_power_of_two_below(hi - lo)
        if m - lo < k:
            outer_first.append((lo + k, hi))
            hi = lo + k
        else:
            outer_first.append((lo, lo + k))
            lo += k
    return outer_first[::-1]


def inclusion_path(m: int, n: int, subtree_hash: Callable[[int, int], bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 §2.1.3.1), asking ``subtree_hash(lo, hi)`` for each MTH."""
    return [subtree_hash(lo, hi) for lo, hi in inclusion_ranges(m, n)]


def root_from_inclusion_proof(
    leaf_index: int, tree_size: int, leaf: bytes, path: Sequence[bytes]
) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or ProofVerificationError."""
    if leaf_index >= tree_size or leaf_index < 0:
        raise ProofVerificationError(reason=N_("the leaf index is not inside the tree"))
    fn, sn = leaf_index, tree_size - 1
    r = leaf
    for p in path:
        if sn == 0:
            raise ProofVerificationError(reason=N_("the inclusion proof is too long"))
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofVerificationError(reason=N_("the inclusion proof is too short"))
    return r


def verify_inclusion(
    *, leaf_index: int, tree_size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> None:
    """Check an inclusion proof against a root (RFC 9162 §2.1.3.2); raise if it fails."""
    if root_from_inclusion_proof(leaf_index, tree_size, leaf, path) != root:
        raise ProofVerificationError(
            reason=N_("the inclusion proof does not lead to the root hash")
        )


# ---------------------------------------------------------------------------------------
# Consistency proofs — RFC 9162 §2.1.4
# ---------------------------------------------------------------------------------------


def consistency_ranges(m: int, n: int) -> list[Range]:
    """The leaf ranges whose MTH make up PROOF(m, D[n]), innermost first (§2.1.4.1)."""
    if not 0 <= m <= n:
        raise TreeSizeError(log_size=n, tree_size=m)
    if m in {0, n}:
        return []
    outer_first: list[Range] = []
    lo, hi, whole = 0, n, True
    while True:
        if hi - lo == m - lo:
            # SUBPROOF(m, D[m], b): nothing if b, else MTH(D[m]) itself.
            if not whole:
                outer_first.append((lo, hi))
            break
        k = largest_power_of_two_below(hi - lo)
        if m - lo <= k:
            outer_first.append((lo + k, hi))
            hi = lo + k
        else:
            outer_first.append((lo, lo + k))
            lo += k
            whole = False
    return outer_first[::-1]


def consistency_path(m: int, n: int, subtree_hash: Callable[[int, int], bytes]) -> list[bytes]:
    """PROOF(m, D[n]) (RFC 9162 §2.1.4.1), asking ``subtree_hash(lo, hi)`` for each MTH."""
    return [subtree_hash(lo, hi) for lo, hi in consistency_ranges(m, n)]


def _trivially_consistent(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """The cases RFC 9162 §2.1.4.2 leaves to the caller: equal sizes, the empty tree."""
    if not 0 <= first <= second:
        raise ProofVerificationError(reason=N_("the first tree is larger than the second"))
    if first == second:
        if path or first_root != second_root:
            raise ProofVerificationError(reason=N_("two heads of one size must have one root"))
        return True
    if first == 0:
        # Every tree extends the empty tree; RFC 9162 defines no proof for it.
        if path:
            raise ProofVerificationError(reason=N_("a proof from the empty tree must be empty"))
        return True
    return False


def verify_consistency(  # noqa: PLR0912 - the steps of RFC 9162 §2.1.4.2, in order
    *, first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> None:
    """Check a consistency proof between two tree heads (RFC 9162 §2.1.4.2); raise if not."""
    if _trivially_consistent(first, second, first_root, second_root, path):
        return
    if not path:
        raise ProofVerificationError(reason=N_("the consistency proof is empty"))
    values = list(path)
    if first & (first - 1) == 0:
        values.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = values[0]
    for c in values[1:]:
        if sn == 0:
            raise ProofVerificationError(reason=N_("the consistency proof is too long"))
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofVerificationError(reason=N_("the consistency proof is too short"))
    if fr != first_root:
        raise ProofVerificationError(reason=N_("the proof does not lead to the first root hash"))
    if sr != second_root:
        raise ProofVerificationError(reason=N_("the proof does not lead to the second root hash"))


# ---------------------------------------------------------------------------------------
# The entry format
# ---------------------------------------------------------------------------------------


class Outcome(StrEnum):
    """How an exchange of one item with one agency ended."""

    SUCCESS = "success"  # the agency sent the records it holds
    NO_RECORD = "no_record"  # the agency answered that it holds nothing (該当なし)
    DENIED = "denied"
    FAILED = "failed"
    TIMEOUT = "timeout"

    @property
    def answered(self) -> bool:
        """The agency answered: with records or with none held."""
        return self in (Outcome.SUCCESS, Outcome.NO_RECORD)


_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_TEXT_LIMIT = 200
_FIELDS = {"index", "time", "requester", "provider", "procedure", "item", "subject", "outcome"}
_OPTIONAL = {"purpose", "detail", "actor"}


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds, e.g. ``2026-11-28T00:15:02.123456Z``."""
    if moment.tzinfo is None:
        raise InvalidEntryError(reason="the time has no time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Read the entry time format back (exactly that format, nothing looser)."""
    if not _TIME.fullmatch(text):
        raise InvalidEntryError(reason="time must look like 2026-11-28T00:15:02.123456Z")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError as error:
        raise InvalidEntryError(reason="time is not a real date and time") from error


def _check_code(name: str, value: object) -> str:
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise InvalidEntryError(reason=f"{name} must be a code of 1-64 letters, digits or ._:-")
    return value


def _check_text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > _TEXT_LIMIT:
        raise InvalidEntryError(reason=f"{name} must be text of 1-{_TEXT_LIMIT} characters")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise InvalidEntryError(reason=f"{name} must not contain control characters")
    return value


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8 (RFC 8785 JCS for strings and integers)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class NewEntry:
    """One exchange to record: who asked whom for which item about whom, and how it ended.

    ``subject`` is opaque: the registry's resident id as a string, never a MyNumber.
    ``actor``, when present, is who acted for the subject (a proxy, 代理人), opaque the
    same way; an entry without it was the subject's own (or an agency's) doing.
    ``time`` defaults to the moment of appending.
    """

    requester: str
    provider: str
    procedure: str
    item: str
    subject: str
    outcome: Outcome
    time: datetime | None = None
    purpose: str | None = None
    detail: str | None = None
    actor: str | None = None

    def __post_init__(self) -> None:
        for name in ("requester", "provider", "procedure", "item", "subject"):
            _check_code(name, getattr(self, name))
        if not isinstance(self.outcome, Outcome):
            try:
                object.__setattr__(self, "outcome", Outcome(self.outcome))
            except ValueError as error:
                raise InvalidEntryError(reason="unknown outcome") from error
        _check_text("purpose", self.purpose)
        _check_text("detail", self.detail)
        if self.actor is not None:
            _check_code("actor", self.actor)
        if self.time is not None:
            format_time(self.time)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A recorded entry (やりとり履歴の1件); the leaf data is :meth:`canonical_bytes`.

    ``index`` is None while the entry is pending: appended, not yet sequenced into the
    tree (it has no leaf data until it has a place).
    """

    index: int | None
    time: datetime
    requester: str
    provider: str
    procedure: str
    item: str
    subject: str
    outcome: Outcome
    purpose: str | None = None
    detail: str | None = None
    actor: str | None = None

    @classmethod
    def record(cls, index: int, entry: NewEntry, time: datetime) -> LogEntry:
        """The entry ``entry`` becomes at position ``index``."""
        return from_attributes(cls, entry, index=index, time=time)

    def to_json(self) -> dict[str, Any]:
        """The entry as a JSON object (optional fields left out when absent)."""
        value: dict[str, Any] = {
            "index": self.index,
            "time": format_time(self.time),
            "requester": self.requester,
            "provider": self.provider,
            "procedure": self.procedure,
            "item": self.item,
            "subject": self.subject,
            "outcome": self.outcome.value,
        }
        if self.purpose is not None:
            value["purpose"] = self.purpose
        if self.detail is not None:
            value["detail"] = self.detail
        if self.actor is not None:
            value["actor"] = self.actor
        return value

    @property
    def pending(self) -> bool:
        """Appended but not yet sequenced: no leaf index, no proof yet."""
        return self.index is None

    def canonical_bytes(self) -> bytes:
        """The leaf data: canonical JSON of :meth:`to_json` (a sequenced entry's only)."""
        if self.index is None:
            raise InvalidEntryError(reason="a pending entry has no leaf data yet")
        return canonical_json(self.to_json())

    def leaf_hash(self) -> bytes:
        """SHA-256(0x00 || canonical bytes) (RFC 9162 §2.1.1)."""
        return leaf_hash(self.canonical_bytes())

    @classmethod
    def from_json(cls, value: object) -> LogEntry:
        """Read and validate an entry object (as shown to a resident)."""
        if not isinstance(value, dict):
            raise InvalidEntryError(reason="an entry is a JSON object")
        keys = set(value)
        if not keys >= _FIELDS or not keys <= _FIELDS | _OPTIONAL:
            raise InvalidEntryError(reason="unexpected or missing fields")
        index = value["index"]
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise InvalidEntryError(reason="index must be a non-negative integer")
        time = value["time"]
        if not isinstance(time, str):
            raise InvalidEntryError(reason="time must be a string")
        try:
            outcome = Outcome(value["outcome"])
        except ValueError as error:
            raise InvalidEntryError(reason="unknown outcome") from error
        return cls(
            index=index,
            time=parse_time(time),
            requester=_check_code("requester", value["requester"]),
            provider=_check_code("provider", value["provider"]),
            procedure=_check_code("procedure", value["procedure"]),
            item=_check_code("item", value["item"]),
            subject=_check_code("subject", value["subject"]),
            outcome=outcome,
            purpose=_check_text("purpose", value.get("purpose")),
            detail=_check_text("detail", value.get("detail")),
            actor=None if value.get("actor") is None else _check_code("actor", value["actor"]),
        )


# ---------------------------------------------------------------------------------------
# Tree heads and proofs as documents
# ---------------------------------------------------------------------------------------


def tree_head_payload(*, tree_size: int, timestamp: int, root_hash: bytes) -> bytes:
    """The signed bytes of a tree head: canonical JSON of its three fields (RFC 9162 §4.10).

    ``timestamp`` is milliseconds since the Unix epoch, as in RFC 9162; ``root_hash`` is
    standard base64.
    """
    return canonical_json(
        {"root_hash": b64(root_hash), "timestamp": timestamp, "tree_size": tree_size}
    )


def unb64(text: object, *, kind: str) -> bytes:
    """Decode a 32-byte hash from standard base64, or InvalidProofError."""
    if not isinstance(text, str):
        raise InvalidProofError(kind=kind, reason="a hash must be a base64 string")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidProofError(kind=kind, reason="a hash is not valid base64") from error
    if len(data) != HASH_SIZE:
        raise InvalidProofError(kind=kind, reason="a hash must be 32 bytes")
    return data


def _count(value: Mapping[str, Any], name: str, kind: str) -> int:
    number = value.get(name)
    if not isinstance(number, int) or isinstance(number, bool) or number < 0:
        raise InvalidProofError(kind=kind, reason=f"{name} must be a non-negative integer")
    return number


def _hashes(value: Mapping[str, Any], name: str, kind: str) -> list[bytes]:
    items = value.get(name)
    if not isinstance(items, list):
        raise InvalidProofError(kind=kind, reason=f"{name} must be a list")
    return [unb64(item, kind=kind) for item in items]


def _read_proof(
    value: object, kind: str, names: tuple[str, str, str]
) -> tuple[int, int, tuple[bytes, ...]]:
    """A proof document's two tree positions and its path; ``kind`` names it in errors."""
    if not isinstance(value, dict):
        raise InvalidProofError(kind=kind, reason="expected a JSON object")
    first, second, path = names
    return (
        _count(value, first, kind),
        _count(value, second, kind),
        tuple(_hashes(value, path, kind)),
    )


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """An inclusion proof (RFC 9162 §4.12 InclusionProofDataV2, as JSON)."""

    leaf_index: int
    tree_size: int
    path: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        """``{"leaf_index", "tree_size", "inclusion_path": [base64...]}``."""
        return {
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "inclusion_path": [b64(value) for value in self.path],
        }

    @classmethod
    def from_json(cls, value: object) -> InclusionProof:
        """Read an inclusion proof document."""
        names = ("leaf_index", "tree_size", "inclusion_path")
        return cls(*_read_proof(value, "inclusion proof", names))


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """A consistency proof (RFC 9162 §4.13 ConsistencyProofDataV2, as JSON)."""

    first: int
    second: int
    path: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        """``{"first", "second", "consistency_path": [base64...]}``."""
        return {
            "first": self.first,
            "second": self.second,
            "consistency_path": [b64(value) for value in self.path],
        }

    @classmethod
    def from_json(cls, value: object) -> ConsistencyProof:
        """Read a consistency proof document."""
        names = ("first", "second", "consistency_path")
        return cls(*_read_proof(value, "consistency proof", names))


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """A signed tree head (RFC 9162 §4.10 TreeHeadDataV2 + §4.9 signature), as JSON.

    ``signature`` is a JWS compact serialization (RFC 7515 §7.1, ES256) whose payload is
    exactly :func:`tree_head_payload` of the other fields.
    """

    tree_size: int
    timestamp: int
    root_hash: bytes
    key_id: str
    signature: str
    # The second, post-quantum signature (ML-DSA-65) over the same payload, when made.
    pq_signature: str | None = None

    @property
    def time(self) -> datetime:
        """The timestamp as an aware UTC datetime."""
        return datetime.fromtimestamp(self.timestamp / 1000, tz=UTC)

    def payload(self) -> bytes:
        """The bytes the signature covers."""
        return tree_head_payload(
            tree_size=self.tree_size, timestamp=self.timestamp, root_hash=self.root_hash
        )

    def to_json(self) -> dict[str, Any]:
        """``{"tree_size", "timestamp", "root_hash", "key_id", "signature"}`` and, when
        made, ``"pq_signature"``."""
        document: dict[str, Any] = {
            "tree_size": self.tree_size,
            "timestamp": self.timestamp,
            "root_hash": b64(self.root_hash),
            "key_id": self.key_id,
            "signature": self.signature,
        }
        if self.pq_signature is not None:
            document["pq_signature"] = self.pq_signature
        return document

    @classmethod
    def from_json(cls, value: object) -> SignedTreeHead:
        """Read a signed tree head document (the signature is checked separately)."""
        kind = "signed tree head"
        if not isinstance(value, dict):
            raise InvalidProofError(kind=kind, reason="expected a JSON object")
        key_id, signature = value.get("key_id"), value.get("signature")
        if not isinstance(key_id, str) or not isinstance(signature, str):
            raise InvalidProofError(kind=kind, reason="key_id and signature must be strings")
        pq_signature = value.get("pq_signature")
        if pq_signature is not None and not isinstance(pq_signature, str):
            raise InvalidProofError(kind=kind, reason="pq_signature must be a string")
        return cls(
            tree_size=_count(value, "tree_size", kind),
            timestamp=_count(value, "timestamp", kind),
            root_hash=unb64(value.get("root_hash"), kind=kind),
            key_id=key_id,
            signature=signature,
            pq_signature=pq_signature,
        )


def timestamp_ms(moment: datetime) -> int:
    """Milliseconds since the Unix epoch (RFC 9162 §4.10 ``timestamp``)."""
    return int(moment.timestamp() * 1000)


def verify_entry_inclusion(*, entry: LogEntry, proof: InclusionProof, head: SignedTreeHead) -> None:
    """Check that ``entry`` is leaf ``proof.leaf_index`` of the tree ``head`` signs.

    The caller checks the head's signature (:func:`signing.verify_tree_head`).
    """
    if entry.index != proof.leaf_index:
        raise ProofVerificationError(reason=N_("the entry's index is not the proof's leaf index"))
    if proof.tree_size != head.tree_size:
        raise ProofVerificationError(reason=N_("the proof is for another tree size than the head"))
    verify_inclusion(
        leaf_index=proof.leaf_index,
        tree_size=proof.tree_size,
        leaf=entry.leaf_hash(),
        path=proof.path,
        root=head.root_hash,
    )


def verify_heads_consistent(
    *, first: SignedTreeHead, second: SignedTreeHead, proof: ConsistencyProof
) -> None:
    """Check that ``second``'s tree extends ``first``'s (RFC 9162 §2.1.4.2)."""
    if (proof.first, proof.second) != (first.tree_size, second.tree_size):
        raise ProofVerificationError(reason=N_("the proof is for other tree sizes than the heads"))
    verify_consistency(
        first=first.tree_size,
        second=second.tree_size,
        first_root=first.root_hash,
        second_root=second.root_hash,
        path=proof.path,
    )


@dataclass(frozen=True, slots=True)
class InclusionBundle:
    """What a resident downloads for one entry: the entry, its proof and the signed head."""

    entry: LogEntry
    proof: InclusionProof
    head: SignedTreeHead

    def to_json(self) -> dict[str, Any]:
        """``{"entry", "inclusion_proof", "tree_head"}``."""
        return {
            "entry": self.entry.to_json(),
            "inclusion_proof": self.proof.to_json(),
            "tree_head": self.head.to_json(),
        }

    @classmethod
    def from_json(cls, value: object) -> InclusionBundle:
        """Read a bundle document."""
        if not isinstance(value, dict):
            raise InvalidProofError(kind="proof bundle", reason="expected a JSON object")
        return cls(
            entry=LogEntry.from_json(value.get("entry")),
            proof=InclusionProof.from_json(value.get("inclusion_proof")),
            head=SignedTreeHead.from_json(value.get("tree_head")),
        )


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SubjectFilter:
    """Which of one subject's entries to list: a period [since, until), a provider, an item,
    only those a proxy (代理人) asked for."""

    subject: str
    since: datetime | None = None
    until: datetime | None = None
    provider: str | None = None
    item: str | None = None
    by_proxy: bool = False


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request through the hub: who asked, under which procedure, when — and its items.

    The hub logs every item of one request in one append with one time, so entries of
    one subject with the same time, requester, procedure and purpose are one exchange.
    """

    time: datetime
    requester: str
    procedure: str
    purpose: str | None
    entries: tuple[LogEntry, ...]

    @property
    def actor(self) -> str | None:
        """Who acted for the subject (a proxy), as the entries record it; None if themselves."""
        return self.entries[0].actor if self.entries else None

    @staticmethod
    def key_of(entry: LogEntry) -> tuple[datetime, str, str, str | None]:
        """What the entries of one exchange share."""
        return (entry.time, entry.requester, entry.procedure, entry.purpose)


@dataclass(frozen=True, slots=True)
class Cosignature:
    """A witness's cosignature of the head of ``tree_size`` (see signing.cosignature_payload)."""

    tree_size: int
    witness: str
    witness_key_id: str
    witnessed_at: int
    cosignature: str

    def to_json(self) -> dict[str, Any]:
        """``{"tree_size", "witness", "witness_key_id", "witnessed_at", "cosignature"}``."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a resident's やりとり履歴 (entries or exchanges), newest first."""

    items: list[T]
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing :func:`verify_log` found wrong; ``message`` is an English message id."""

    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def localized(self) -> str:
        """The message in the locale in force."""
        return i18n.gettext(self.message).format(**self.params)

    def __str__(self) -> str:
        return self.message.format(**self.params)


@dataclass(frozen=True, slots=True)
class LogStatus:
    """How far the log's signed heads keep up with it (for operators: no entry's content)."""

    tree_size: int
    signed_size: int
    # When the newest head was signed; None before the first head.
    signed_at: datetime | None
    # When the oldest entry no head covers yet happened; None when every entry is signed.
    oldest_unsigned_at: datetime | None
    # Entries appended but not yet sequenced (they count as unsigned too).
    pending: int = 0

    @property
    def entries(self) -> int:
        """Every entry the log holds: in the tree or pending."""
        return self.tree_size + self.pending

    @property
    def unsigned(self) -> int:
        """Entries no signed head covers yet, pending ones included."""
        return self.entries - self.signed_size

    def unsigned_for(self, now: datetime) -> float:
        """Seconds the log has held entries no signed head covers (0 when none).

        An idle log keeps its last head however old (a head is signed when the tree
        grew), so age alone says nothing: what matters is how long the newest entries
        have waited — counted from the later of the newest head and the oldest entry
        still unsigned, as an entry may carry an earlier time than it was logged at.
        """
        if self.oldest_unsigned_at is None:
            return 0.0
        since = max(filter(None, (self.signed_at, self.oldest_unsigned_at)))
        return max(0.0, (now - since).total_seconds())


@dataclass
class VerificationReport:
    """What a full recomputation of the log found."""

    tree_size: int = 0
    entries_checked: int = 0
    nodes_checked: int = 0
    heads_checked: int = 0
    consistency_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return self.problem_count == 0

    def add(self, problem: Problem, *, keep: int = 50) -> None:
        """Count a problem; keep the first ``keep`` for the report."""
        self.problem_count += 1
        if len(self.problems) < keep:
            self.problems.append(problem)
