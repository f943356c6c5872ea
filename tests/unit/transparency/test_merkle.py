"""RFC 9162 §2.1 hashing and proofs against a literal transcription of the RFC."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from myna.network.transparency import domain
from myna.network.transparency.domain import (
    EMPTY_ROOT,
    Frontier,
    ProofVerificationError,
    consistency_path,
    consistency_ranges,
    inclusion_path,
    inclusion_ranges,
    leaf_hash,
    merkle_tree_hash,
    perfect_subtrees,
    range_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from tests.unit.transparency import naive

# The RFC 6962 reference vectors (certificate-transparency test data), still valid for
# RFC 9162's SHA-256 tree: MTH of the first n of these eight leaves.
VECTOR_LEAVES = [
    bytes.fromhex(x)
    for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f"]
]  # fmt: skip
VECTOR_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

no_files = settings(database=None, deadline=None, max_examples=60)


def _entries(n: int) -> list[bytes]:
    return [f"entry-{i}".encode() for i in range(n)]


def _subtree(entries: list[bytes]):  # type: ignore[no-untyped-def]
    return lambda lo, hi: merkle_tree_hash(entries[lo:hi])


def test_the_empty_tree_hash_is_sha256_of_nothing() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT == merkle_tree_hash([])
    assert EMPTY_ROOT.hex() == VECTOR_ROOTS[0]


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert domain.node_hash(b"l", b"r") == hashlib.sha256(b"\x01lr").digest()


@pytest.mark.parametrize("n", range(len(VECTOR_ROOTS)))
def test_tree_hashes_match_the_reference_vectors(n: int) -> None:
    assert merkle_tree_hash(VECTOR_LEAVES[:n]).hex() == VECTOR_ROOTS[n]


@no_files
@given(st.lists(st.binary(max_size=8), max_size=70))
def test_the_frontier_root_equals_the_naive_tree_hash(entries: list[bytes]) -> None:
    frontier = Frontier()
    for i, entry in enumerate(entries):
        frontier.append(leaf_hash(entry))
        assert frontier.root() == naive.mth(entries[: i + 1])
    assert frontier.root() == naive.mth(entries)
    restored = Frontier.from_bytes(frontier.size, frontier.to_bytes())
    assert restored.root() == frontier.root()


def test_appending_reports_every_completed_subtree_once() -> None:
    entries = _entries(37)
    frontier = Frontier()
    completed: dict[tuple[int, int], bytes] = {}
    for entry in entries:
        for node, value in frontier.append(leaf_hash(entry)):
            assert node not in completed
            completed[node] = value
    # A tree of n leaves has one complete subtree per (level >= 1, index) that fits.
    expected = {(lvl, i) for lvl in range(1, 6) for i in range(37 >> lvl)}
    assert set(completed) == expected
    for (level, index), value in completed.items():
        lo = index << level
        assert value == naive.mth(entries[lo : lo + (1 << level)])


@no_files
@given(st.integers(min_value=1, max_value=300), st.data())
def test_every_range_a_proof_needs_hashes_from_its_perfect_subtrees(
    n: int, data: st.DataObject
) -> None:
    entries = _entries(n)
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    ranges = [*inclusion_ranges(m, n), *consistency_ranges(m, n), (0, n)]
    for lo, hi in ranges:
        nodes = {}
        for level, index in perfect_subtrees(lo, hi):
            start = index << level
            nodes[(level, index)] = naive.mth(entries[start : start + (1 << level)])
        assert range_hash(lo, hi, nodes) == naive.mth(entries[lo:hi])


@pytest.mark.parametrize("n", range(1, 65))
def test_inclusion_proofs_match_the_rfc_for_every_leaf(n: int) -> None:
    entries = _entries(n)
    root = naive.mth(entries)
    for m in range(n):
        proof = inclusion_path(m, n, _subtree(entries))
        assert proof == naive.path(m, entries)
        verify_inclusion(
            leaf_index=m, tree_size=n, leaf=leaf_hash(entries[m]), path=proof, root=root
        )


@pytest.mark.parametrize("second", range(1, 41))
def test_consistency_proofs_match_the_rfc_for_every_pair(second: int) -> None:
    entries = _entries(second)
    second_root = naive.mth(entries)
    for first in range(second + 1):
        proof = consistency_path(first, second, _subtree(entries))
        if 0 < first < second:
            assert proof == naive.proof(first, entries)
        else:
            assert proof == []
        verify_consistency(
            first=first,
            second=second,
            first_root=naive.mth(entries[:first]),
            second_root=second_root,
            path=proof,
        )


def _flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


@pytest.mark.parametrize("n", [2, 3, 7, 8, 13, 33])
def test_inclusion_verification_rejects_wrong_proofs(n: int) -> None:
    entries = _entries(n)
    root = naive.mth(entries)
    for m in range(n):
        proof = naive.path(m, entries)
        leaf = leaf_hash(entries[m])
        wrong_cases = [
            {"leaf_index": m, "tree_size": n, "leaf": _flip(leaf), "path": proof},
            {"leaf_index": (m + 1) % n, "tree_size": n, "leaf": leaf, "path": proof},
            {"leaf_index": m, "tree_size": n, "leaf": leaf, "path": [*proof, root]},
            {"leaf_index": m, "tree_size": n, "leaf": leaf, "path": proof[:-1]},
            {"leaf_index": n, "tree_size": n, "leaf": leaf, "path": proof},
        ]
        for i in range(len(proof)):
            altered = list(proof)
            altered[i] = _flip(altered[i])
            wrong_cases.append({"leaf_index": m, "tree_size": n, "leaf": leaf, "path": altered})
        for case in wrong_cases:
            with pytest.raises(ProofVerificationError):
                verify_inclusion(root=root, **case)  # type: ignore[arg-type]


@pytest.mark.parametrize("second", [2, 3, 5, 8, 9, 17, 31])
def test_consistency_verification_rejects_wrong_proofs(second: int) -> None:
    entries = _entries(second)
    second_root = naive.mth(entries)
    for first in range(1, second):
        first_root = naive.mth(entries[:first])
        proof = naive.proof(first, entries)
        cases: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
            (first, second, _flip(first_root), second_root, proof),
            (first, second, first_root, _flip(second_root), proof),
            (first, second, first_root, second_root, []),
            (first, second, first_root, second_root, proof[:-1]),
            (first, second, first_root, second_root, [*proof, second_root]),
            (second, first, first_root, second_root, proof),
        ]
        for i in range(len(proof)):
            altered = list(proof)
            altered[i] = _flip(altered[i])
            cases.append((first, second, first_root, second_root, altered))
        for a, b, ra, rb, path in cases:
            with pytest.raises(ProofVerificationError):
                verify_consistency(first=a, second=b, first_root=ra, second_root=rb, path=path)


def test_heads_of_one_size_must_agree() -> None:
    root = naive.mth(_entries(4))
    verify_consistency(first=4, second=4, first_root=root, second_root=root, path=[])
    with pytest.raises(ProofVerificationError):
        verify_consistency(first=4, second=4, first_root=root, second_root=_flip(root), path=[])


@no_files
@given(st.integers(min_value=1, max_value=200), st.data())
def test_random_inclusion_proofs_verify_and_lead_to_the_root(n: int, data: st.DataObject) -> None:
    entries = _entries(n)
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    proof = inclusion_path(m, n, _subtree(entries))
    assert root_from_inclusion_proof(m, n, leaf_hash(entries[m]), proof) == naive.mth(entries)


@no_files
@given(st.integers(min_value=1, max_value=200), st.data())
def test_random_consistency_proofs_verify(second: int, data: st.DataObject) -> None:
    entries = _entries(second)
    first = data.draw(st.integers(min_value=0, max_value=second))
    proof = consistency_path(first, second, _subtree(entries))
    verify_consistency(
        first=first,
        second=second,
        first_root=naive.mth(entries[:first]),
        second_root=naive.mth(entries),
        path=proof,
    )
