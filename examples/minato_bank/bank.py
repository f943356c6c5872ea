"""みなと銀行 — a sample mortgage pre-screening site that integrates with Myna.

It is an ordinary relying party: it imports nothing from Myna. Authlib's OAuth client
does the authorization-code exchange with PKCE (S256) and ``private_key_jwt`` client
authentication; joserfc makes the DPoP proofs and verifies what comes back against the
platform's published JWKS; httpx carries the pushed authorization request and the API
call. Run it against ``myna demo`` (see README.md next to this file):

    .venv/bin/python examples/minato_bank/bank.py register
    .venv/bin/myna partners review <client_id> --approve
    .venv/bin/python examples/minato_bank/bank.py run

State is kept in memory per browser, as a real site would keep it in its session store.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from joserfc import jwe, jwt
from joserfc.jwk import ECKey, KeySet

COOKIE = "bank_session"
SCOPES = "openid name myinfo.local-tax"


@dataclass
class Pending:
    """One browser's authorization in progress."""

    state: str
    nonce: str
    verifier: str
    dpop_key: ECKey


@dataclass
class Bank:
    """The bank's configuration and its sessions."""

    issuer: str
    base_url: str
    client_id: str
    client_key: ECKey
    encryption_key: ECKey | None = None
    pending: dict[str, Pending] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/callback"


def _b64url_sha256(value: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(value.encode()).digest()).rstrip(b"=").decode()


def dpop_proof(key: ECKey, method: str, url: str, access_token: str | None = None) -> str:
    """A DPoP proof JWT (RFC 9449 §4.2) for one request."""
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    claims: dict[str, Any] = {
        "jti": secrets.token_urlsafe(16),
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
    }
    if access_token is not None:
        claims["ath"] = _b64url_sha256(access_token)
    return jwt.encode(header, claims, key, algorithms=["ES256"])


def client_assertion(bank: Bank) -> str:
    """private_key_jwt for the PAR endpoint (RFC 7523 §2.2); aud is the issuer."""
    now = int(time.time())
    claims = {
        "iss": bank.client_id,
        "sub": bank.client_id,
        "aud": bank.issuer,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(16),
    }
    header = {"alg": "ES256", "kid": bank.client_key.kid}
    return jwt.encode(header, claims, bank.client_key, algorithms=["ES256"])


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"""<!doctype html><html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} | みなと銀行</title>
<style>body{{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;
line-height:1.6}}
a.button,button{{display:inline-block;background:#0b5;color:#fff;padding:.6rem 1rem;border:0;
border-radius:.3rem;text-decoration:none;font-size:1rem}}dt{{font-weight:bold}}</style></head>
<body><header><p>みなと銀行 住宅ローン事前審査</p></header><main><h1>{html.escape(title)}</h1>
{body}</main></body></html>"""
    )


# What the bank shows for the resident-tax record's fields (docs/api/resources.md; the
# item's fields as the platform's item catalog names them): a label and how to write it.
TAX_FIELDS: dict[str, tuple[str, str]] = {
    "assessment_year": ("課税年度", "fiscal-year"),
    "income_year": ("所得の年分", "calendar-year"),
    "total_income": ("合計所得金額", "yen"),
    "taxable_income": ("課税標準額", "yen"),
    "income_levy": ("所得割額", "yen"),
    "per_capita_levy": ("均等割額", "yen"),
    "tax_amount": ("年税額", "yen"),
    "non_taxable": ("課税・非課税の別", "non-taxable"),
}
# 和暦: the first Gregorian year of each era, newest first.
ERAS = ((2019, "令和"), (1989, "平成"), (1926, "昭和"))


def wareki_year(year: int) -> str:
    """A Gregorian year as residents read it on tax papers: 令和8年 (元年 for the first)."""
    for first, era in ERAS:
        if year >= first:
            number = year - first + 1
            return f"{era}{'元' if number == 1 else number}年"
    return f"{year}年"


def wareki_date(iso: str) -> str:
    """An ISO 8601 date or time as a 和暦 date (the day in Japan): 令和8年6月1日."""
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone(timedelta(hours=9)))
    return f"{wareki_year(moment.year)}{moment.month}月{moment.day}日"


def shown(kind: str, value: Any) -> str:
    """A field's value for people: yen with separators, 和暦 years, words for booleans."""
    if kind == "yen" and isinstance(value, int):
        return f"{value:,}円"
    if kind == "fiscal-year" and isinstance(value, int):
        return f"{wareki_year(value)}度"
    if kind == "calendar-year" and isinstance(value, int):
        return f"{wareki_year(value)}分"
    if kind == "non-taxable" and isinstance(value, bool):
        return "非課税" if value else "課税"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    return str(value)


def _tax_record(entry: dict[str, Any]) -> str:
    """One resident-tax record as a definition list under its year and source."""
    data = entry.get("data", {})
    rows = "".join(
        f"<dt>{html.escape(TAX_FIELDS.get(key, (key, ''))[0])}</dt>"
        f"<dd>{html.escape(shown(TAX_FIELDS.get(key, (key, ''))[1], value))}</dd>"
        for key, value in data.items()
    )
    year = data.get("assessment_year")
    heading = f"住民税の課税情報（{shown('fiscal-year', year)}）" if year else "住民税の課税情報"
    source = entry.get("source", {}).get("name", "")
    updated = entry.get("updated_at")
    where = html.escape(source) + (f"、{wareki_date(updated)}更新" if updated else "")
    return f"<h2>{html.escape(heading)}</h2><p>提供元: {where}</p><dl>{rows}</dl>"


def create_bank_app(bank: Bank) -> FastAPI:
    """The sample site: start, callback, result."""
    app = FastAPI(title="みなと銀行 (sample integrator)", docs_url=None, redoc_url=None)

    @app.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        return _page(
            "住宅ローン事前審査",
            "<p>マイナポータルから、お名前と住民税の課税情報（収入）を取得して、"
            "事前審査の入力を省けます。取得する情報は、マイナポータルで確認・同意してから"
            "送られます。</p>"
            '<p><a class="button" href="/start" id="start">'
            "マイナポータルで収入情報を取得する</a></p>",
        )

    @app.get("/start")
    async def start() -> Response:
        session_id = secrets.token_urlsafe(16)
        pending = Pending(
            state=secrets.token_urlsafe(16),
            nonce=secrets.token_urlsafe(16),
            verifier=secrets.token_urlsafe(48),
            dpop_key=ECKey.generate_key("P-256"),
        )
        bank.pending[session_id] = pending
        async with httpx.AsyncClient(timeout=10.0) as http:
            pushed = await http.post(
                f"{bank.issuer}/oauth/par",
                data={
                    "response_type": "code",
                    "client_id": bank.client_id,
                    "redirect_uri": bank.redirect_uri,
                    "scope": SCOPES,
                    "state": pending.state,
                    "nonce": pending.nonce,
                    "code_challenge": create_s256_code_challenge(pending.verifier),
                    "code_challenge_method": "S256",
                    "dpop_jkt": pending.dpop_key.thumbprint(),
                    "client_assertion_type": (
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                    ),
                    "client_assertion": client_assertion(bank),
                },
            )
        if pushed.status_code != 201:
            return _page(
                "エラー",
                f"<p>認可リクエストが受け付けられませんでした: {html.escape(pushed.text)}</p>",
            )
        query = urlencode(
            {"client_id": bank.client_id, "request_uri": pushed.json()["request_uri"]}
        )
        response = RedirectResponse(f"{bank.issuer}/oauth/authorize?{query}", status_code=303)
        response.set_cookie(COOKIE, session_id, httponly=True, samesite="lax")
        return response

    @app.get("/callback")
    async def callback(request: Request) -> Response:
        pending = bank.pending.pop(request.cookies.get(COOKIE, ""), None)
        params = request.query_params
        if pending is None or params.get("state") != pending.state:
            return _page("エラー", "<p>最初からやり直してください（state が一致しません）。</p>")
        if params.get("iss") != bank.issuer:  # RFC 9207: the answer comes from our issuer
            return _page("エラー", "<p>想定外の発行者からの応答です。</p>")
        if "error" in params:
            return _page(
                "取得をやめました",
                "<p>マイナポータルで同意されなかったため、情報は取得していません。</p>",
            )
        async with httpx.AsyncClient(timeout=10.0) as http:
            published = await http.get(f"{bank.issuer}/oauth/jwks")
        keys = KeySet.import_key_set(published.json())
        token_url = f"{bank.issuer}/oauth/token"
        client = AsyncOAuth2Client(
            client_id=bank.client_id,
            # The bank's private key; aud of the assertion is the issuer (FAPI 2.0 §5.3.2.1).
            client_secret=bank.client_key,
            token_endpoint_auth_method=PrivateKeyJWT(
                token_endpoint=bank.issuer,
                alg="ES256",
                headers={"kid": bank.client_key.kid},
                claims={"exp": int(time.time()) + 60},  # short-lived, as FAPI asks
            ),
        )
        async with client:
            token = await client.fetch_token(
                token_url,
                grant_type="authorization_code",
                code=params.get("code", ""),
                redirect_uri=bank.redirect_uri,
                code_verifier=pending.verifier,
                headers={"DPoP": dpop_proof(pending.dpop_key, "POST", token_url)},
            )
        identity = jwt.decode(token["id_token"], keys, algorithms=["ES256"]).claims
        if identity.get("nonce") != pending.nonce or identity.get("aud") != bank.client_id:
            return _page("エラー", "<p>ID トークンを確認できませんでした。</p>")
        api = f"{bank.issuer}/api/partners/v1/myinfo"
        async with httpx.AsyncClient(timeout=10.0) as http:
            answer = await http.get(
                api,
                headers={
                    "Authorization": f"DPoP {token['access_token']}",
                    "DPoP": dpop_proof(pending.dpop_key, "GET", api, token["access_token"]),
                },
            )
        body = answer.text
        if answer.headers.get("content-type", "").startswith("application/jose"):
            assert bank.encryption_key is not None  # noqa: S101 - only then does it encrypt
            body = (jwe.decrypt_compact(body, bank.encryption_key).plaintext or b"").decode()
        result = jwt.decode(body, keys, algorithms=["ES256"]).claims
        session_id = secrets.token_urlsafe(16)
        bank.results[session_id] = {"sub": identity["sub"], "items": result["items"]}
        response = RedirectResponse("/result", status_code=303)
        response.set_cookie(COOKIE, session_id, httponly=True, samesite="lax")
        return response

    @app.get("/result", response_class=HTMLResponse)
    async def result(request: Request) -> HTMLResponse:
        found = bank.results.get(request.cookies.get(COOKIE, ""))
        if found is None:
            return _page("エラー", "<p>結果がありません。最初からやり直してください。</p>")
        name = next((e["data"].get("name", "") for e in found["items"] if e["item"] == "name"), "")
        records = "".join(
            _tax_record(entry) for entry in found["items"] if entry["item"] == "resident-tax"
        )
        return _page(
            "取得した情報",
            f'<p>お名前: <strong id="name">{html.escape(name)}</strong></p>'
            f"{records or '<p>住民税の課税情報はありませんでした。</p>'}"
            "<p>署名はマイナポータルの公開鍵（JWKS）で確認済みです。</p>",
        )

    return app


def register(issuer: str, port: int, state_dir: Path) -> None:
    """Make the bank's key pair and register it through the registration API."""
    state_dir.mkdir(parents=True, exist_ok=True)
    key = ECKey.generate_key("P-256")
    key = ECKey.import_key(key.as_dict(private=True, kid="minato-bank-1", use="sig", alg="ES256"))
    answer = httpx.post(
        f"{issuer}/api/partners/organizations",
        json={
            "name": "みなと銀行",
            "purpose": "住宅ローンの事前審査で、収入の確認と入力の手間を省くため",
            "contact": "api@minato-bank.example",
            "retention": "審査の終了から1年",
            "redirect_uris": [f"http://127.0.0.1:{port}/callback"],
            "jwks": {"keys": [key.as_dict(private=False)]},
            "requested_scopes": [
                {"scope": "openid", "reason": "ログインのため"},
                {"scope": "name", "reason": "申込者の確認のため"},
                {"scope": "myinfo.local-tax", "reason": "収入（住民税の課税情報）の確認のため"},
            ],
        },
        timeout=10.0,
    )
    answer.raise_for_status()
    client_id = answer.json()["client_id"]
    key_file = state_dir / "bank-key.json"
    key_file.write_text(json.dumps(key.as_dict(private=True)), encoding="utf-8")
    key_file.chmod(0o600)
    (state_dir / "client-id").write_text(client_id, encoding="utf-8")
    print(f"Registered as {client_id}; it waits for review. Approve it with:")  # noqa: T201
    print(f"  .venv/bin/myna partners review {client_id} --approve")  # noqa: T201


def main() -> None:
    """Register the sample bank, or run it against a Myna portal."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["register", "run"])
    parser.add_argument("--issuer", default="http://127.0.0.1:8000")
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--state", type=Path, default=Path("var/minato-bank"))
    args = parser.parse_args()
    issuer = args.issuer.rstrip("/")
    if args.command == "register":
        register(issuer, args.port, args.state)
        return
    key = ECKey.import_key(json.loads((args.state / "bank-key.json").read_text(encoding="utf-8")))
    bank = Bank(
        issuer=issuer,
        base_url=f"http://127.0.0.1:{args.port}",
        client_id=(args.state / "client-id").read_text(encoding="utf-8").strip(),
        client_key=key,
    )
    print(f"みなと銀行: http://127.0.0.1:{args.port}")  # noqa: T201
    uvicorn.run(create_bank_app(bank), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
