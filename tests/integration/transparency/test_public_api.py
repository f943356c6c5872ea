"""The exchange log's public documents: key, heads, history, consistency — no login, any origin."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from myna.app import create_app
from myna.bootstrap import Container
from myna.network import transparency
from myna.network.transparency import ConsistencyProof, ProofVerificationError, SignedTreeHead
from tests.integration.transparency.conftest import exchange

ORIGIN = "https://monitor.example"


@pytest.fixture
def public(container: Container, log_session: Session) -> Iterator[TestClient]:
    log_session.commit()  # the empty log, seen by the app's own sessions
    with TestClient(create_app(container), base_url="http://testserver") as client:
        yield client


def grow(session: Session, container: Container, n: int) -> SignedTreeHead:
    """Append ``n`` entries and publish a head over the whole log."""
    transparency.append(session=session, entries=exchange(n))
    head = container.publish_tree_head(session)
    session.commit()
    return head


def log_key(client: TestClient) -> ECKey:
    answer = client.get("/transparency/keys")
    assert answer.status_code == 200
    jwk, pq = answer.json()["keys"]  # ES256 first, then ML-DSA-65
    assert pq["kty"] == "AKP"
    assert set(jwk) >= {"kty", "crv", "x", "y", "kid", "alg", "use"}
    assert "d" not in jwk  # never the private part
    return transparency.public_key(jwk)


def test_before_any_head_the_answers_say_so(public: TestClient) -> None:
    answer = public.get("/transparency/tree-head", headers={"Origin": ORIGIN})
    assert answer.status_code == 404
    assert answer.json()["error"] == "no_tree_head"
    assert answer.headers["access-control-allow-origin"] == "*"
    assert public.get("/transparency/tree-heads").json() == {"tree_heads": [], "next": None}
    missing = public.get("/transparency/consistency", params={"first": 0, "second": 0})
    assert missing.status_code == 404
    assert missing.json()["error"] == "no_tree_head"


def test_heads_verify_with_the_published_key(
    public: TestClient, container: Container, log_session: Session
) -> None:
    grow(log_session, container, 3)
    grow(log_session, container, 4)
    key = log_key(public)
    latest = SignedTreeHead.from_json(public.get("/transparency/tree-head").json())
    assert latest.tree_size == 7
    transparency.verify_tree_head(latest, key)
    assert key.thumbprint() == container.log_signer.key_id == latest.key_id
    old = SignedTreeHead.from_json(public.get("/transparency/tree-heads/3").json())
    transparency.verify_tree_head(old, key)
    assert old.root_hash == transparency.root_hash(session=log_session, tree_size=3)
    # No head was published for size 5: the log says so rather than inventing one.
    absent = public.get("/transparency/tree-heads/5")
    assert absent.status_code == 404
    assert absent.json()["error"] == "no_tree_head"


def test_history_lists_every_head_in_pages(
    public: TestClient, container: Container, log_session: Session
) -> None:
    sizes = []
    for n in (1, 2, 3, 1, 5):
        sizes.append(grow(log_session, container, n).tree_size)
    first = public.get("/transparency/tree-heads", params={"limit": 2})
    body = first.json()
    assert [h["tree_size"] for h in body["tree_heads"]] == sizes[:2]
    assert body["next"] == f"/transparency/tree-heads?start={sizes[1] + 1}&limit=2"
    assert "immutable" in first.headers["cache-control"]
    seen = [h["tree_size"] for h in body["tree_heads"]]
    following = body["next"]
    while following:
        page = public.get(following).json()
        seen += [h["tree_size"] for h in page["tree_heads"]]
        following = page["next"]
    assert seen == sizes
    tail = public.get("/transparency/tree-heads", params={"start": sizes[3]})
    assert [h["tree_size"] for h in tail.json()["tree_heads"]] == sizes[3:]
    assert tail.headers["cache-control"] == "public, no-cache"  # the last page still grows


def test_consistency_between_published_heads_verifies(
    public: TestClient, container: Container, log_session: Session
) -> None:
    heads = [grow(log_session, container, n) for n in (3, 5, 9)]
    for earlier in heads:
        for later in heads:
            if earlier.tree_size > later.tree_size:
                continue
            answer = public.get(
                "/transparency/consistency",
                params={"first": earlier.tree_size, "second": later.tree_size},
            )
            assert answer.status_code == 200
            proof = ConsistencyProof.from_json(answer.json())
            transparency.verify_heads_consistent(first=earlier, second=later, proof=proof)
    # A proof for another pair of heads does not pass for these.
    wrong = ConsistencyProof.from_json(
        public.get("/transparency/consistency", params={"first": 3, "second": 8}).json()
    )
    with pytest.raises(transparency.ProofVerificationError):
        transparency.verify_heads_consistent(first=heads[0], second=heads[2], proof=wrong)


def test_sizes_not_yet_published_are_not_revealed(
    public: TestClient, container: Container, log_session: Session
) -> None:
    grow(log_session, container, 4)
    transparency.append(session=log_session, entries=exchange(3))
    transparency.sequence(session=log_session)  # in the tree, not yet signed
    log_session.commit()
    beyond = public.get("/transparency/consistency", params={"first": 4, "second": 7})
    assert beyond.status_code == 404
    assert beyond.json()["error"] == "tree_size_unavailable"
    backwards = public.get("/transparency/consistency", params={"first": 4, "second": 2})
    assert backwards.status_code == 404
    assert public.get("/transparency/tree-head").json()["tree_size"] == 4


@pytest.mark.parametrize(
    "path",
    [
        "/transparency/tree-heads/9223372036854775808",
        "/transparency/tree-heads/-1",
        "/transparency/tree-heads?start=99999999999999999999",
        "/transparency/tree-heads?limit=0",
        "/transparency/tree-heads?limit=1001",
        "/transparency/consistency?first=1&second=99999999999999999999",
        "/transparency/consistency?first=a&second=2",
        "/transparency/consistency",
    ],
)
def test_out_of_range_numbers_are_refused_clearly(public: TestClient, path: str) -> None:
    answer = public.get(path)
    assert answer.status_code == 422
    assert "error" in answer.json()


def test_any_origin_may_read_without_credentials(public: TestClient) -> None:
    for path in ("/transparency/keys", "/.well-known/myna-transparency"):
        answer = public.get(path, headers={"Origin": ORIGIN})
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in answer.headers
        assert "set-cookie" not in answer.headers
    preflight = public.options(
        "/transparency/tree-head",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    # Only the public documents: a resident's own pages stay same-origin.
    private = public.get("/exchanges", headers={"Origin": ORIGIN}, follow_redirects=False)
    assert "access-control-allow-origin" not in private.headers


def test_discovery_names_the_documents_and_openapi_describes_them(
    public: TestClient, container: Container
) -> None:
    meta = public.get("/.well-known/myna-transparency").json()
    assert meta["key_id"] == container.log_signer.key_id
    # Each named document answers as itself (before any head: the log says so).
    assert public.get(meta["keys"]).json()["keys"][0]["kid"] == meta["key_id"]
    assert public.get(meta["tree_head"]).json()["error"] == "no_tree_head"
    assert public.get(meta["tree_heads"]).json() == {"tree_heads": [], "next": None}
    assert public.get(meta["consistency"]).json()["error"] == "invalid_request"
    paths = public.get("/api/openapi.json").json()["paths"]
    for path in (
        "/transparency/keys",
        "/transparency/tree-head",
        "/transparency/tree-heads",
        "/transparency/tree-heads/{tree_size}",
        "/transparency/consistency",
        "/.well-known/myna-transparency",
    ):
        assert "get" in paths[path]


def test_heads_carry_an_ml_dsa_65_signature_that_the_published_keys_verify(
    public: TestClient, container: Container, log_session: Session
) -> None:
    grow(log_session, container, 3)
    keys = public.get("/transparency/keys").json()
    _es256, pq = keys["keys"]
    assert (pq["kty"], pq["alg"], pq["use"]) == ("AKP", "ML-DSA-65", "sig")
    assert len(base64.urlsafe_b64decode(pq["pub"] + "==")) == 1952  # FIPS 204, ML-DSA-65
    assert "priv" not in pq and "d" not in pq
    document = public.get("/transparency/tree-head").json()
    head = SignedTreeHead.from_json(document)
    assert head.pq_signature is not None
    published = transparency.LogPublicKeys.from_document(keys)
    for policy in ("classic", "hybrid", "post-quantum"):
        published.verify(head, policy)
    # A head whose ML-DSA-65 signature was stripped or altered fails the stricter policies.
    stripped = replace(head, pq_signature=None)
    published.verify(stripped, "classic")
    with pytest.raises(ProofVerificationError, match="no ML-DSA-65 signature"):
        published.verify(stripped, "hybrid")
    header, payload, signature = head.pq_signature.split(".")
    flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    altered = replace(head, pq_signature=f"{header}.{payload}.{flipped}")
    with pytest.raises(ProofVerificationError):
        published.verify(altered, "post-quantum")
    # The same payload signed by another ML-DSA-65 key is not the log's.
    other = transparency.PqSigner.generate().sign(head.payload())
    with pytest.raises(ProofVerificationError, match="another key"):
        published.verify(replace(head, pq_signature=other), "hybrid")
