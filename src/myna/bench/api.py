"""`myna bench api`: token issuance and resource calls of the partner API over HTTP.

A registered, approved organisation (ES256 key) and ``residents`` people with their
agencies' data. For each timed token request a single-use code is prepared beforehand the
way the consent page makes one (pushed request, opened, consented item by item with a
signed receipt, approved), because codes live 60 seconds and only the token endpoint is
measured:

1. the trivial endpoint (``GET /healthz``) back to back;
2. ``POST /oauth/token`` back to back: ``private_key_jwt`` client assertion (ES256, new
   ``jti``), PKCE S256 verifier, DPoP proof; the server checks all three, redeems the code
   once, and signs an ID token;
3. ``GET /api/partners/v1/myinfo`` back to back with random tokens of phase 2, each with
   a fresh DPoP proof: the token and proof checks, the consent, a signed exchange through
   the hub with its log entries, per-item signed JWTs and the signed answer — after one
   unmeasured call per token, since the first call for a resident of a municipality not
   asked before makes that municipality's credential;
4. the same paced at half the rate phase 3 reached.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey
from rich.console import Console

from myna import registry
from myna.bench import harness, people
from myna.bench.harness import LoadStats, Result
from myna.bootstrap import Container
from myna.partners import authorization, consents, organizations
from myna.partners.domain import RequestedScope
from myna.platform.db import unit_of_work
from myna.platform.encoding import b64url_sha256
from myna.platform.logging import configure_logging

SCOPES = ("openid", "name", "myinfo.local-tax")
REDIRECT_URI = "https://bank.example/callback"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_CONSENTING = 5000  # residents the prepared consents are spread over


@dataclass(frozen=True, slots=True)
class PreparedCode:
    """A code waiting at the token endpoint, with what the client must show for it."""

    code: str
    verifier: str
    dpop_key: ECKey


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """An access token and the key it is bound to."""

    token: str
    dpop_key: ECKey


def _proof(key: ECKey, method: str, url: str, access_token: str | None = None) -> str:
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    claims: dict[str, object] = {
        "jti": secrets.token_urlsafe(12),
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
    }
    if access_token is not None:
        claims["ath"] = b64url_sha256(access_token)
    return jwt.encode(header, claims, key, algorithms=["ES256"])


def _assertion(client_id: str, key: ECKey, issuer: str) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": issuer,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])


def _organization(container: Container) -> tuple[str, ECKey]:
    key = ECKey.generate_key("P-256")
    key = ECKey.import_key(key.as_dict(private=True, kid="bench-1", use="sig", alg="ES256"))
    with unit_of_work(container.session_factory) as session:
        created = organizations.register_organization(
            session=session,
            name="ベンチマーク銀行",
            purpose="性能測定",
            contact="bench@bank.example",
            retention="測定の終了まで",
            redirect_uris=[REDIRECT_URI],
            jwks={"keys": [key.as_dict(private=False)]},
            requested_scopes=[RequestedScope(scope, "性能測定") for scope in SCOPES],
        )
        organizations.review(
            session=session,
            client_id=created.client_id,
            approve=True,
            scopes=list(SCOPES),
            note="ベンチマーク",
        )
    return created.client_id, key


def _prepare_codes(
    container: Container, client_id: str, resident_ids: list[int], count: int
) -> list[PreparedCode]:
    """Codes made as the consent page makes them (push, open, consent, approve)."""
    settings = container.settings
    rng = random.Random(people.SEED)  # noqa: S311 - choosing residents, not secrets
    if count > len(resident_ids):
        msg = (
            f"{count} codes need {count} residents (one consent each), and the database "
            f"has {len(resident_ids)}: ask for fewer, or seed more residents."
        )
        raise harness.BenchmarkError(msg)
    # One resident per code: a resident's new consent to the organisation replaces the
    # previous one, whose code would then be refused.
    chosen = rng.sample(resident_ids, count)
    prepared: list[PreparedCode] = []
    with unit_of_work(container.session_factory) as session:
        client = organizations.get_client(session=session, client_id=client_id)
        for resident_id in chosen:
            verifier = secrets.token_urlsafe(48)
            key = ECKey.generate_key("P-256")
            pushed = authorization.push_request(
                session=session,
                client=client,
                params={
                    "response_type": "code",
                    "client_id": client_id,
                    "redirect_uri": REDIRECT_URI,
                    "scope": " ".join(SCOPES),
                    "state": secrets.token_urlsafe(8),
                    "nonce": secrets.token_urlsafe(8),
                    "code_challenge": b64url_sha256(verifier),
                    "code_challenge_method": "S256",
                },
                dpop_jkt=key.thumbprint(),
            )
            pending_id = authorization.open_request(
                session=session, client_id=client_id, request_uri=pushed.request_uri
            )
            consent = consents.create_consent(
                session=session,
                settings=settings,
                resident_id=resident_id,
                client=client,
                scopes=SCOPES,
                chosen=[i.key for s in SCOPES for i in consents.items_of_scope(s)],
            )
            url = authorization.approve(
                session=session,
                settings=settings,
                pending_id=pending_id,
                resident_id=resident_id,
                consent_id=consent.id,
                scopes=list(consent.scopes),
            )
            code = parse_qs(urlsplit(url).query)["code"][0]
            prepared.append(PreparedCode(code=code, verifier=verifier, dpop_key=key))
    return prepared


@dataclass
class _TokenRequests:
    url: str
    issuer: str
    client_id: str
    client_key: ECKey
    codes: list[PreparedCode]
    issued: list[IssuedToken]

    async def __call__(self, client: httpx.AsyncClient) -> None:
        if not self.codes:
            msg = "no prepared codes left"
            raise RuntimeError(msg)
        prepared = self.codes.pop()
        token_url = f"{self.issuer}/oauth/token"
        answer = await client.post(
            f"{self.url}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": prepared.code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": prepared.verifier,
                "client_id": self.client_id,
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": _assertion(self.client_id, self.client_key, self.issuer),
            },
            headers={"DPoP": _proof(prepared.dpop_key, "POST", token_url)},
        )
        answer.raise_for_status()
        self.issued.append(IssuedToken(answer.json()["access_token"], prepared.dpop_key))


@dataclass
class _ResourceCalls:
    url: str
    issuer: str
    tokens: list[IssuedToken]
    rng: random.Random

    async def __call__(self, client: httpx.AsyncClient) -> None:
        await self.with_token(client, self.rng.choice(self.tokens))

    async def with_token(self, client: httpx.AsyncClient, chosen: IssuedToken) -> None:
        """One resource call with ``chosen``."""
        path = "/api/partners/v1/myinfo"
        answer = await client.get(
            f"{self.url}{path}",
            headers={
                "Authorization": f"DPoP {chosen.token}",
                "DPoP": _proof(chosen.dpop_key, "GET", f"{self.issuer}{path}", chosen.token),
            },
        )
        answer.raise_for_status()

    def share(self, index: int, count: int) -> None:
        """A client process of ``count``: its own sequence of tokens."""
        self.rng = random.Random(people.SEED + index)  # noqa: S311

    def tally(self) -> object:
        """Nothing to gather: the calls keep no counts."""
        return None

    def absorb(self, tally: object) -> None:
        """Nothing to gather (see :meth:`tally`)."""


@dataclass(frozen=True, slots=True)
class _Phases:
    baseline: LoadStats
    tokens: LoadStats
    full: LoadStats
    half: LoadStats
    trivial_cpu_s: float
    token_cpu_s: float
    call_cpu_s: float


def _measure(
    container: Container,
    server: harness.Server,
    client_id: str,
    key: ECKey,
    resident_ids: list[int],
    *,
    codes: int,
    load: harness.Load,
) -> _Phases:
    concurrency, duration, console, _ = load
    issuer = container.settings.portal_url
    url = server.url

    before = server.cpu_seconds()
    baseline = harness.baseline_phase(url, load)
    trivial_cpu = server.cpu_seconds() - before
    console.print(f"Preparing {codes} single-use codes (push, consent, approve)…")
    prepared = _prepare_codes(container, client_id, resident_ids, codes)
    issued: list[IssuedToken] = []
    token_requests = _TokenRequests(url, issuer, client_id, key, prepared, issued)
    # One client process: each code is redeemed once, and the tokens are kept here.
    console.print(f"Token requests, {concurrency} clients, up to {duration:.0f} s…")
    before = server.cpu_seconds()
    tokens = asyncio.run(
        harness.closed_loop(
            token_requests,
            concurrency=concurrency,
            duration=duration,
            exhausted=lambda: not token_requests.codes,
        )
    )
    token_cpu = server.cpu_seconds() - before
    calls = _ResourceCalls(url, issuer, issued, random.Random(people.SEED))  # noqa: S311
    # Not counted: a call for a resident of a municipality not asked before makes that
    # municipality's credential. One call per token, as selfinfo's one per resident.
    console.print(f"Warm-up: one resource call per token ({len(issued)})…")
    asyncio.run(harness.in_turn(calls.with_token, issued))
    before = server.cpu_seconds()
    full, half = harness.full_and_half_load(calls, "Resource calls", load)
    call_cpu = server.cpu_seconds() - before
    return _Phases(baseline, tokens, full, half, trivial_cpu, token_cpu, call_cpu)


def run(
    *,
    residents: int,
    duration: float,
    concurrency: int,
    workers: int,
    codes: int,
    database_url: str,
    console: Console,
    clients: int = 1,
) -> Result:
    """Run the partner-API scenario and return its result."""
    configure_logging(level="WARNING", json=False)
    # The issuer the tokens name is the portal's URL: its port is chosen before the setup.
    sock = harness.bound_socket()
    portal_url = f"http://127.0.0.1:{harness.port_of(sock)}"
    with harness.workspace("myna-bench-api-", database_url, portal_url=portal_url) as space:
        container = space.container
        started = time.perf_counter()
        population = people.seed_population(
            container, console, residents=residents, reuse=False, agency_data=True
        )
        resident_ids: list[int] = []
        with unit_of_work(container.session_factory) as session:
            for batch in registry.iter_households(session=session):
                resident_ids += [
                    m.id
                    for members in batch
                    for m in members
                    if m.status == registry.ResidentStatus.ACTIVE
                ]
                if len(resident_ids) >= MAX_CONSENTING:
                    break
        client_id, key = _organization(container)
        setup_s = time.perf_counter() - started
        env = space.server_env(MYNA_PARTNER_RATE_LIMIT=harness.UNLIMITED)
        with harness.portal_server(env, workers=workers, sock=sock) as server:
            consenting = resident_ids[:MAX_CONSENTING]
            load = harness.Load(concurrency, duration, console, clients)
            phases = _measure(container, server, client_id, key, consenting, codes=codes, load=load)
        container.engine.dispose()
    baseline, tokens, full, half = phases.baseline, phases.tokens, phases.full, phases.half
    result = Result.of_load(
        "api",
        full=full,
        half=half,
        baseline=baseline,
        details={
            "population": population.size,
            "database": harness.database_kind(space.database_url),
            "setup_s": round(setup_s, 1),
            **harness.load_settings(duration, concurrency, workers, clients),
            "tokens_per_s": round(tokens.rate, 1),
            "tokens_issued": tokens.done,
            "token_p50_ms": round(tokens.percentile(50), 1),
            "token_p99_ms": round(tokens.percentile(99), 1),
            "resource_full_load_p50_ms": round(full.percentile(50), 1),
            "resource_full_load_p99_ms": round(full.percentile(99), 1),
            "errors": baseline.errors + tokens.errors + full.errors + half.errors,
            "error_samples": tokens.error_samples + full.error_samples + half.error_samples,
            "server_cpu_ms_per_resource_call": harness.cpu_ms_per(phases.call_cpu_s, full, half),
            "server_cpu_ms_per_token": harness.cpu_ms_per(phases.token_cpu_s, tokens),
            "server_cpu_ms_per_trivial_request": harness.cpu_ms_per(phases.trivial_cpu_s, baseline),
        },
    )
    _print(console, result)
    return result


def _print(console: Console, result: Result) -> None:
    details = result.details
    harness.print_measures(
        console,
        "Partner API (over HTTP)",
        [
            ("trivial endpoint req/s", f"{result.baseline_rate_per_s:,.1f}"),
            ("tokens/s (full load)", str(details["tokens_per_s"])),
            ("token p50 / p99 (ms)", f"{details['token_p50_ms']} / {details['token_p99_ms']}"),
            ("resource calls/s (full load)", f"{result.rate_per_s:,.1f}"),
            ("resource call p50 / p99 at half load (ms)", f"{result.p50_ms} / {result.p99_ms}"),
            ("server CPU per token (ms)", str(details["server_cpu_ms_per_token"])),
            ("server CPU per resource call (ms)", str(details["server_cpu_ms_per_resource_call"])),
            (
                "server CPU per trivial request (ms)",
                str(details["server_cpu_ms_per_trivial_request"]),
            ),
            ("errors", str(details["errors"])),
        ],
    )
