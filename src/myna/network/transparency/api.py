"""The exchange log's public face: its key, its signed tree heads and consistency proofs.

No login, readable from any origin (CORS ``*``, no credentials): a resident, a
journalist or an independent witness (``myna log witness``) checks the log with
nothing but these documents and the key. Nothing here is personal — heads and
proofs are hashes; entries are only ever shown to their subject (やりとり履歴).
See docs/exchange-log.md.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from myna.network.transparency import service
from myna.network.transparency.domain import SignedTreeHead
from myna.platform.api_errors import error_responses
from myna.platform.params import TreeSize
from myna.platform.web import get_container, transaction

PREFIX = "/transparency"
WELL_KNOWN = "/.well-known/myna-transparency"
# What may be cached, and for how long: published documents never change.
IMMUTABLE = "public, max-age=86400, immutable"
LATEST = "public, no-cache"
KEY = "public, max-age=3600"
MAX_HEADS = 1000

router = APIRouter(tags=["transparency"], responses=error_responses(404))


class TreeHeadRead(BaseModel):
    """A signed tree head (RFC 9162 §4.10); ``signature`` is an ES256 JWS over the rest."""

    tree_size: int = Field(ge=0, description="How many entries the signed tree holds.")
    timestamp: int = Field(ge=0, description="Milliseconds since the Unix epoch.")
    root_hash: str = Field(description="SHA-256 Merkle tree hash, standard base64.")
    key_id: str = Field(description="RFC 7638 thumbprint of the log key that signed.")
    signature: str = Field(
        description="JWS compact serialization, ES256; its payload is the canonical JSON "
        "of root_hash, timestamp and tree_size."
    )
    pq_signature: str | None = Field(
        default=None,
        description="The same payload signed with ML-DSA-65 (FIPS 204), JWS compact "
        "serialization with alg ML-DSA-65 and the kid of the log's AKP key; absent on heads "
        "signed before the log had that key.",
    )


class TreeHeadList(BaseModel):
    """Published heads in order of tree size; ``next`` is the URL of the following page."""

    tree_heads: list[TreeHeadRead]
    next: str | None = Field(description="The next page, or null when this is the last.")


class ConsistencyRead(BaseModel):
    """PROOF(first, D[second]) (RFC 9162 §2.1.4.1): the later tree extends the earlier."""

    first: int
    second: int
    consistency_path: list[str] = Field(description="Hashes, standard base64.")


class LogKeySet(BaseModel):
    """The log's public keys as a JWK Set (RFC 7517 §5): EC P-256 (``alg`` ES256) and
    ML-DSA-65 (``kty`` AKP, ``alg`` ML-DSA-65, ``pub`` the raw public key)."""

    keys: list[dict[str, Any]]


class LogMetadata(BaseModel):
    """Where the log's documents are, for monitors that start from a portal's origin."""

    key_id: str
    keys: str
    tree_head: str
    tree_heads: str
    consistency: str
    hash_algorithm: str = "SHA-256"
    signature_algorithm: str = "ES256"
    specification: str = "RFC 9162 §2.1 (Merkle tree), §4.10 (tree head)"


def _json(content: Any, cache: str) -> JSONResponse:
    return JSONResponse(content, headers={"Cache-Control": cache})


@router.get(
    WELL_KNOWN,
    response_model=LogMetadata,
    summary="Where the exchange log's key, heads and proofs are published",
)
def metadata(request: Request) -> JSONResponse:
    signer = get_container(request).log_signer
    return _json(
        LogMetadata(
            key_id=signer.key_id,
            keys=f"{PREFIX}/keys",
            tree_head=f"{PREFIX}/tree-head",
            tree_heads=f"{PREFIX}/tree-heads",
            consistency=f"{PREFIX}/consistency",
        ).model_dump(),
        KEY,
    )


@router.get(
    f"{PREFIX}/keys",
    response_model=LogKeySet,
    summary="The exchange log's public key (JWK Set)",
)
def keys(request: Request) -> JSONResponse:
    return _json({"keys": get_container(request).log_signer.public_jwks}, KEY)


@router.get(
    f"{PREFIX}/tree-head",
    response_model=TreeHeadRead,
    summary="The latest signed tree head",
    responses={404: {"description": "No head has been published yet (no_tree_head)."}},
)
def latest(request: Request) -> JSONResponse:
    with transaction(request) as db:
        head = service.latest_tree_head(session=db)
    return _json(head.to_json(), LATEST)


@router.get(
    f"{PREFIX}/tree-heads",
    response_model=TreeHeadList,
    summary="Every published signed tree head, oldest first",
)
def history(
    request: Request,
    start: Annotated[TreeSize, Query(description="The smallest tree size to list.")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_HEADS)] = 100,
) -> JSONResponse:
    with transaction(request) as db:
        heads = service.tree_heads(session=db, start=start, limit=limit + 1)
    if len(heads) <= limit:  # the last page grows as heads are published
        return _json({"tree_heads": [h.to_json() for h in heads], "next": None}, LATEST)
    heads = heads[:limit]
    following = f"{PREFIX}/tree-heads?start={heads[-1].tree_size + 1}&limit={limit}"
    return _json({"tree_heads": [h.to_json() for h in heads], "next": following}, IMMUTABLE)


@router.get(
    f"{PREFIX}/tree-heads/{{tree_size}}",
    response_model=TreeHeadRead,
    summary="The signed tree head published for one tree size",
    responses={404: {"description": "No head was published for that size (no_tree_head)."}},
)
def head_of_size(tree_size: TreeSize, request: Request) -> JSONResponse:
    with transaction(request) as db:
        head = service.tree_head(session=db, tree_size=tree_size)
    return _json(head.to_json(), IMMUTABLE)


@router.get(
    f"{PREFIX}/consistency",
    response_model=ConsistencyRead,
    summary="A consistency proof between two tree sizes (RFC 9162 §2.1.4)",
    responses={
        404: {
            "description": "A size beyond the latest published head, or first > second "
            "(tree_size_unavailable), or no head yet (no_tree_head)."
        }
    },
)
def consistency(
    request: Request,
    first: Annotated[TreeSize, Query(description="The earlier tree size.")],
    second: Annotated[TreeSize, Query(description="The later tree size.")],
) -> JSONResponse:
    with transaction(request) as db:
        proof = service.published_consistency_proof(session=db, first=first, second=second)
    return _json(proof.to_json(), IMMUTABLE)


class CosignatureIn(BaseModel):
    """What ``myna log witness`` keeps in ``cosignatures/<size>.json`` — posted as is."""

    tree_head: TreeHeadRead
    witness_key_id: str = Field(max_length=64)
    cosignature: str = Field(max_length=4096, description="JWS compact, ES256, the witness's key.")


class CosignatureRead(BaseModel):
    """A witness's cosignature of one published tree head."""

    tree_size: int
    witness: str
    witness_key_id: str
    witnessed_at: int = Field(description="When the witness saw the head (ms since the epoch).")
    cosignature: str


class CosignatureList(BaseModel):
    """The cosignatures kept for one tree head."""

    cosignatures: list[CosignatureRead]


class WitnessList(BaseModel):
    """The witnesses whose cosignatures this portal accepts: names and public JWKs."""

    witnesses: list[dict[str, Any]]


@router.get(
    f"{PREFIX}/witnesses",
    response_model=WitnessList,
    summary="The independent witnesses whose cosignatures are published here",
)
def witnesses(request: Request) -> JSONResponse:
    listed = get_container(request).settings.log_witnesses
    return _json(
        {"witnesses": [{"name": name, "jwk": jwk} for name, jwk in sorted(listed.items())]}, KEY
    )


@router.post(
    f"{PREFIX}/cosignatures",
    response_model=CosignatureRead,
    summary="A witness hands in its cosignature of a published tree head",
    responses={
        403: {"description": "Not a listed witness's key (unknown_witness)."},
        404: {"description": "No head was published for that size (no_tree_head)."},
        409: {"description": "Another head than the published one (cosignature_mismatch)."},
        400: {"description": "The cosignature does not verify (proof_not_verified)."},
    },
)
def hand_in(document: CosignatureIn, request: Request) -> JSONResponse:
    head = SignedTreeHead.from_json(document.tree_head.model_dump())
    container = get_container(request)
    with transaction(request) as db:
        kept = service.add_cosignature(
            session=db,
            witnesses=container.settings.log_witnesses,
            head=head,
            cosignature=document.cosignature,
        )
    return _json(kept.to_json(), "no-store")


@router.get(
    f"{PREFIX}/tree-heads/{{tree_size}}/cosignatures",
    response_model=CosignatureList,
    summary="The witnesses' cosignatures of one published tree head",
)
def cosignatures_of(tree_size: TreeSize, request: Request) -> JSONResponse:
    with transaction(request) as db:
        service.tree_head(session=db, tree_size=tree_size)  # not found without a head
        kept = service.cosignatures(session=db, tree_size=tree_size)
    return _json({"cosignatures": [c.to_json() for c in kept]}, LATEST)
