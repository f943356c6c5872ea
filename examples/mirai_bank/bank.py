"""みらい銀行 — a sample business that opens accounts with the MyNumber card.

It does what a bank does with JPKI and the authentication app (デジタル認証アプリ):

1. **Logs the customer in** through the authentication app's OpenID Connect flow
   (authorization code, PKCE S256, ``private_key_jwt``), asking for the basic 4 info,
   and verifies the ID token against the published JWKS.
2. **Has the application signed** with the card's signing certificate through a signing
   transaction: the application and, if the customer agrees, the consent to the latest
   basic 4 info service (最新4情報提供) are hashed; the customer signs in the card
   reader; the bank decrypts the result (JWE to its encryption key), checks its digests
   are what was signed, verifies the CMS signature and the certificate's chain with
   ``openssl cms -verify`` against the JPKI CAs, and asks J-LIS's status API whether the
   certificate is revoked — as a registered verifier (署名検証者), with signed requests.
3. **Registers the consent** with J-LIS and keeps the certificate's serial.
4. **Later learns of a move**: ``check`` (a staff page and a command) asks the latest
   basic 4 info service about every customer's serial; where the certificate was revoked
   because the 4 info changed and the customer consented, the new address and the new
   certificate come back, and the customer's record is updated.

Run it against ``make demo``, which registers the bank both as a verifier and as a
client of the authentication app (see README.md next to this file):

    .venv/bin/python examples/mirai_bank/bank.py run
    .venv/bin/python examples/mirai_bank/bank.py check

The customers are kept in a SQLite file (``var/mirai-bank/customers.db``); the browser
state in memory, as a real site keeps it in its session store. Only the consent
statement's canonical form and the verifier's signed-request helper come from Myna —
the modules a verifier's own system would use; the rest is plain HTTP, JOSE and openssl.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import secrets
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from asn1crypto import core as asn1_core
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from joserfc import jwe, jwt
from joserfc.jwk import ECKey, KeySet

from myna.jpki.consent_statement import consent_statement
from myna.jpki.verifier_identity import VerifierIdentity, load_identity

NAME = "みらい銀行"
COOKIE = "mirai_session"
SCOPES = "openid name address birthdate gender"
PURPOSE = "口座開設後の住所・氏名の変更を確認し、お届け内容を最新に保つため"
JST = timezone(timedelta(hours=9), "JST")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# The J-LIS arc of the basic 4 info in the signing certificate's subjectAltName.
BASIC_INFO_ARC = "1.2.392.200149.8.5.5"
BASIC_INFO_FIELDS = {"1": "name", "3": "sex", "4": "birth_date", "5": "address"}
GENDERS = {"male": "男性", "female": "女性", "unknown": "不明"}
SEXES = {1: "男性", 2: "女性", 3: "不明"}
SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    account TEXT PRIMARY KEY,
    sub TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    birthdate TEXT NOT NULL,
    gender TEXT NOT NULL,
    serial TEXT NOT NULL,
    consent_id TEXT,
    opened_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'valid',
    checked_at TEXT,
    note TEXT
)
"""


class BankError(Exception):
    """Something the bank could not verify; the message says what, in Japanese."""


@dataclass
class Login:
    """One browser's login in progress."""

    state: str
    nonce: str
    verifier: str


@dataclass
class Applicant:
    """A customer logged in through the authentication app, before the account exists."""

    sub: str
    name: str
    address: str
    birthdate: str
    gender: str
    csrf: str
    application: bytes = b""
    consent: bytes | None = None
    consent_id: str | None = None
    transaction: str | None = None


@dataclass
class Bank:
    """The bank's configuration and its browser sessions."""

    portal: str
    base_url: str
    client_id: str
    client_keys: KeySet
    verifier: VerifierIdentity
    database: Path
    logins: dict[str, Login] = field(default_factory=dict)
    applicants: dict[str, Applicant] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return f"{self.portal}/authapp"

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/callback"

    def key(self, use: str) -> ECKey:
        for key in self.client_keys.keys:
            if key.get("use") == use and isinstance(key, ECKey):
                return key
        msg = f"the bank's JWK Set has no {use} key"
        raise BankError(msg)


# --- the database ------------------------------------------------------------------------


@contextmanager
def customers(bank: Bank) -> Iterator[sqlite3.Connection]:
    """The customers' table, in one transaction."""
    bank.database.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(bank.database)
    connection.row_factory = sqlite3.Row
    try:
        with connection:
            connection.execute(SCHEMA)
            yield connection
    finally:
        connection.close()


# --- talking to the authentication app ---------------------------------------------------


def client_assertion(bank: Bank) -> str:
    """A ``private_key_jwt`` client assertion (RFC 7523 §2.2), good for one minute."""
    now = int(time.time())
    claims = {
        "iss": bank.client_id,
        "sub": bank.client_id,
        "aud": bank.issuer,
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(16),
    }
    key = bank.key("sig")
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)


def _json(answer: httpx.Response, what: str) -> dict[str, Any]:
    if answer.status_code >= 400:
        try:
            body = answer.json()
            detail = body.get("error_description") or body.get("message") or answer.text
        except ValueError:
            detail = answer.text
        msg = f"{what}に失敗しました（{answer.status_code}）: {detail}"
        raise BankError(msg)
    result: dict[str, Any] = answer.json()
    return result


def token(bank: Bank, http: httpx.Client, **form: str) -> dict[str, Any]:
    """The token endpoint, authenticated with the bank's key."""
    form |= {"client_assertion_type": ASSERTION_TYPE, "client_assertion": client_assertion(bank)}
    return _json(http.post(f"{bank.issuer}/token", data=form), "トークンの取得")


def verified_id_token(bank: Bank, http: httpx.Client, id_token: str, nonce: str) -> dict[str, Any]:
    """The ID token's claims, after the signature, issuer, audience, nonce and expiry."""
    keys = KeySet.import_key_set(_json(http.get(f"{bank.issuer}/jwks"), "公開鍵の取得"))
    claims = dict(jwt.decode(id_token, keys, algorithms=["ES256"]).claims)
    now = time.time()
    if (
        claims.get("iss") != bank.issuer
        or claims.get("aud") != bank.client_id
        or claims.get("nonce") != nonce
        or not isinstance(claims.get("exp"), int)
        or claims["exp"] < now
    ):
        msg = "ID トークンを確認できませんでした。"
        raise BankError(msg)
    return claims


# --- verifying what the customer signed --------------------------------------------------


def jpki_ca_file(bank: Bank, http: httpx.Client, folder: Path) -> Path:
    """The JPKI root and signing CA certificates, PEM, fetched from the portal."""
    pem = b""
    for kind in ("root", "sign"):
        answer = http.get(f"{bank.portal}/jpki/ca/{kind}.crt")
        if answer.status_code != 200:
            msg = "JPKI の認証局証明書を取得できませんでした。"
            raise BankError(msg)
        der = x509.load_der_x509_certificate(answer.content)
        pem += der.public_bytes(serialization.Encoding.PEM)
    path = folder / "jpki-ca.pem"
    path.write_bytes(pem)
    return path


def verify_cms(bank: Bank, http: httpx.Client, signature: bytes, document: bytes) -> None:
    """``openssl cms -verify``: the signature over ``document`` and its chain to JPKI."""
    with tempfile.TemporaryDirectory() as folder:
        where = Path(folder)
        (where / "signature.der").write_bytes(signature)
        (where / "document.json").write_bytes(document)
        ca_file = jpki_ca_file(bank, http, where)
        command = [
            *("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any"),
            *("-in", str(where / "signature.der"), "-content", str(where / "document.json")),
            *("-CAfile", str(ca_file), "-out", "/dev/null"),
        ]
        result = subprocess.run(command, capture_output=True, check=False)  # noqa: S603
    if result.returncode != 0:
        msg = "署名を検証できませんでした（署名または証明書の連鎖が正しくありません）。"
        raise BankError(msg)


def basic_info(certificate: x509.Certificate) -> dict[str, str]:
    """The basic 4 info the signing certificate carries (otherName under J-LIS's arc)."""
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    found: dict[str, str] = {}
    for other in names.get_values_for_type(x509.OtherName):
        arc, _, leaf = other.type_id.dotted_string.rpartition(".")
        if arc == BASIC_INFO_ARC and leaf in BASIC_INFO_FIELDS:
            found[BASIC_INFO_FIELDS[leaf]] = str(asn1_core.load(other.value).native)
    # The date of birth is written EYYYYMMDD: an era code, then the Gregorian date.
    written = found.get("birth_date", "")
    if len(written) == 9 and written.isdigit():
        found["birth_date"] = f"{written[1:5]}-{written[5:7]}-{written[7:9]}"
    return found


def certificate_status(bank: Bank, http: httpx.Client, serial: str) -> dict[str, Any]:
    """J-LIS's status of one signing certificate, asked as a registered verifier."""
    answer = http.post(
        f"{bank.portal}/api/jpki/v1/status",
        content=bank.verifier.status_request("sign", [serial]),
        headers={"Content-Type": "application/jose"},
    )
    item: dict[str, Any] = _json(answer, "失効情報の確認")["items"][0]
    return item


@dataclass
class Signed:
    """A signing transaction's result, verified."""

    signature: bytes
    document: bytes
    certificate: x509.Certificate
    serial: str
    info: dict[str, str]


def open_result(bank: Bank, http: httpx.Client, applicant: Applicant, result: str) -> Signed:
    """Decrypt the JWE and check everything the bank relies on, in order."""
    plain = json.loads(jwe.decrypt_compact(result, bank.key("enc")).plaintext or b"{}")

    def b64(name: str) -> bytes:
        value = str(plain.get(name, ""))
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))

    document, signature = b64("document"), b64("signature")
    certificate = x509.load_der_x509_certificate(b64("certificate"))
    data = json.loads(document).get("data", {})
    wanted = [hashlib.sha256(applicant.application).hexdigest()]
    if applicant.consent is not None:
        wanted.append(hashlib.sha256(applicant.consent).hexdigest())
    if data.get("client_id") != bank.client_id or data.get("digests") != wanted:
        msg = "署名された文書が、当行がお願いした文書と一致しません。"
        raise BankError(msg)
    verify_cms(bank, http, signature, document)
    serial = format(certificate.serial_number, "x")
    status = certificate_status(bank, http, serial)
    if status.get("status") != "good":
        msg = "署名用電子証明書が有効ではありません（失効しています）。"
        raise BankError(msg)
    info = basic_info(certificate)
    if info.get("name") != applicant.name or info.get("birth_date") != applicant.birthdate:
        msg = "署名した方が、ログインした方と一致しません。"
        raise BankError(msg)
    return Signed(signature, document, certificate, serial, info)


def register_consent(bank: Bank, http: httpx.Client, applicant: Applicant, signed: Signed) -> None:
    """Hand the customer's signed consent to J-LIS (最新4情報提供の同意)."""
    assert applicant.consent is not None  # noqa: S101 - only called with a consent
    request = bank.verifier.consent_request(applicant.consent, signed.signature, signed.document)
    answer = http.post(
        f"{bank.portal}/api/jpki/v1/latest-info/consents",
        content=request,
        headers={"Content-Type": "application/jose"},
    )
    _json(answer, "同意の登録")


# --- the periodic check ------------------------------------------------------------------


@dataclass
class Change:
    """What the latest basic 4 info service said about one customer."""

    account: str
    name: str
    status: str
    note: str


def check_customers(bank: Bank, http: httpx.Client) -> list[Change]:
    """Ask the latest basic 4 info service about every customer's certificate."""
    with customers(bank) as db:
        rows = db.execute("SELECT * FROM customers ORDER BY account").fetchall()
    if not rows:
        return []
    answer = http.post(
        f"{bank.portal}/api/jpki/v1/latest-info",
        content=bank.verifier.latest_info_request([row["serial"] for row in rows]),
        headers={"Content-Type": "application/jose"},
    )
    items = _json(answer, "最新4情報の確認")["items"]
    changes = []
    now = datetime.now(UTC).isoformat()
    with customers(bank) as db:
        for row, item in zip(rows, items, strict=True):
            change = _change(row, item)
            news = item.get("latest") or {}
            info = news.get("basic_info")
            if news.get("outcome") == "provided" and info and news.get("certificate_serial"):
                db.execute(
                    "UPDATE customers SET name = ?, address = ?, serial = ?, status = 'valid',"
                    " checked_at = ?, note = ? WHERE account = ?",
                    (
                        info["name"],
                        info["address"],
                        news["certificate_serial"],
                        now,
                        change.note,
                        row["account"],
                    ),
                )
            else:
                db.execute(
                    "UPDATE customers SET status = ?, checked_at = ?, note = ? WHERE account = ?",
                    (change.status, now, change.note, row["account"]),
                )
            changes.append(change)
    return changes


def _change(row: sqlite3.Row, item: dict[str, Any]) -> Change:
    status = str(item.get("status"))
    news = item.get("latest") or {}
    info = news.get("basic_info")
    if status == "valid":
        note = "変更なし"
    elif news.get("outcome") == "provided" and info:
        note = f"住所・氏名の変更を確認しました: {info['name']}、{info['address']}"
    elif news.get("outcome") == "not_reissued":
        note = "基本4情報が変わりました。新しい電子証明書はまだ発行されていません。"
    elif status == "revoked":
        note = f"電子証明書が失効しています（理由: {item.get('reason')}）。ご本人に確認が必要です。"
    else:
        note = f"確認できませんでした（{status}）"
    return Change(row["account"], row["name"], status, note)


# --- the pages -----------------------------------------------------------------------------

STYLE = (
    "body{font-family:sans-serif;margin:0 auto;max-width:40rem;padding:1rem;line-height:1.6}"
    "header{border-bottom:2px solid #064;margin-bottom:1rem}"
    "a,button{color:#064;font-size:1rem}button{color:#fff;background:#064;border:0;"
    "padding:.6rem 1rem;border-radius:4px;cursor:pointer}"
    "table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:.3rem;"
    "text-align:left;vertical-align:top}"
    ".error{color:#a00;font-weight:bold}"
)


def wareki(iso: str) -> str:
    """A date in 和暦 (令和/平成/昭和), as Japanese customers read it."""
    day = date.fromisoformat(iso[:10])
    eras = (("令和", date(2019, 5, 1)), ("平成", date(1989, 1, 8)), ("昭和", date(1926, 12, 25)))
    era, start = next(((name, begun) for name, begun in eras if day >= begun), eras[-1])
    year = day.year - start.year + 1
    return f"{era}{'元' if year == 1 else year}年{day.month}月{day.day}日"


def page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    """A complete page: Japanese, one h1, a strict content security policy."""
    content = f"""<!doctype html><html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} | {NAME}</title><style>{STYLE}</style></head>
<body><header><p>{NAME} インターネット支店</p></header><main><h1>{html.escape(title)}</h1>
{body}</main></body></html>"""
    style_hash = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    return HTMLResponse(
        content,
        status_code=status_code,
        headers={
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'sha256-{style_hash}'; form-action 'self' "
                "http://127.0.0.1:* ; base-uri 'none'; frame-ancestors 'none'"
            ),
            "Cache-Control": "no-store",
        },
    )


def error_page(message: str) -> HTMLResponse:
    return page(
        "手続きを続けられませんでした",
        f'<p class="error" role="alert">{html.escape(message)}</p>'
        '<p><a href="/">最初からやり直す</a></p>',
        status_code=400,
    )


def _customer_table(rows: list[sqlite3.Row]) -> str:
    if not rows:
        return "<p>お客さまはまだいません。</p>"
    body = "".join(
        "<tr>"
        f"<td>{html.escape(r['account'])}</td><td>{html.escape(r['name'])}</td>"
        f'<td class="address">{html.escape(r["address"])}</td>'
        f"<td>{wareki(r['opened_at'])}</td>"
        f"<td>{'あり' if r['consent_id'] else 'なし'}</td>"
        f'<td class="note">{html.escape(r["note"] or "")}</td>'
        "</tr>"
        for r in rows
    )
    return (
        "<table><caption>お客さま</caption><thead><tr><th scope='col'>口座番号</th>"
        "<th scope='col'>お名前</th><th scope='col'>ご住所</th><th scope='col'>開設日</th>"
        "<th scope='col'>最新4情報の同意</th><th scope='col'>確認結果</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def log_in(bank: Bank, login: Login, code: str) -> Applicant:
    """The code exchanged, the ID token verified, the basic 4 info from UserInfo."""
    with httpx.Client(timeout=10.0) as http:
        tokens = token(
            bank,
            http,
            grant_type="authorization_code",
            code=code,
            redirect_uri=bank.redirect_uri,
            code_verifier=login.verifier,
        )
        claims = verified_id_token(bank, http, tokens["id_token"], login.nonce)
        info = _json(
            http.get(
                f"{bank.issuer}/userinfo",
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
            ),
            "基本4情報の取得",
        )
    if info.get("sub") != claims["sub"]:
        msg = "ID トークンと利用者情報が一致しません。"
        raise BankError(msg)
    return Applicant(
        sub=claims["sub"],
        name=info["name"],
        address=info["address"]["formatted"],
        birthdate=info["birthdate"],
        gender=info["gender"],
        csrf=secrets.token_urlsafe(16),
    )


def ask_signature(bank: Bank, applicant: Applicant, *, consented: bool) -> str:
    """The application (and the consent) hashed into a signing transaction; its URL."""
    now = datetime.now(UTC).replace(microsecond=0)
    applicant.application = json.dumps(
        {
            "bank": NAME,
            "product": "普通預金",
            "customer": applicant.sub,
            "name": applicant.name,
            "address": applicant.address,
            "applied_at": now.isoformat(),
        },
        ensure_ascii=False,
        sort_keys=True,
    ).encode()
    applicant.consent = applicant.consent_id = None
    if consented:
        applicant.consent_id = f"mirai-{secrets.token_hex(8)}"
        applicant.consent = consent_statement(
            verifier=bank.verifier.code,
            purpose=PURPOSE,
            consent_id=applicant.consent_id,
            issued_at=now,
        )
    digests = [hashlib.sha256(applicant.application).hexdigest()]
    if applicant.consent is not None:
        digests.append(hashlib.sha256(applicant.consent).hexdigest())
    with httpx.Client(timeout=10.0) as http:
        access = token(bank, http, grant_type="client_credentials", scope="sign")
        created = _json(
            http.post(
                f"{bank.issuer}/api/v1/sign-requests",
                headers={"Authorization": f"Bearer {access['access_token']}"},
                json={
                    "title": "普通預金口座開設申込書",
                    "digests": digests,
                    "return_url": f"{bank.base_url}/signed",
                },
            ),
            "署名の依頼",
        )
    applicant.transaction = created["id"]
    return str(created["url"])


def collect_signature(bank: Bank, applicant: Applicant) -> Signed | None:
    """The transaction's result verified and the consent registered; None while pending."""
    with httpx.Client(timeout=10.0) as http:
        access = token(bank, http, grant_type="client_credentials", scope="sign")
        state = _json(
            http.get(
                f"{bank.issuer}/api/v1/sign-requests/{applicant.transaction}",
                headers={"Authorization": f"Bearer {access['access_token']}"},
            ),
            "署名結果の取得",
        )
        if state["status"] != "signed":
            return None
        result = open_result(bank, http, applicant, state["result"])
        if applicant.consent is not None:
            register_consent(bank, http, applicant, result)
    return result


def open_account(bank: Bank, applicant: Applicant, result: Signed) -> str:
    """The customer's record, with the verified certificate's serial; the account number."""
    account = f"{secrets.randbelow(10**7):07d}"
    with customers(bank) as db:
        db.execute("DELETE FROM customers WHERE sub = ?", (applicant.sub,))
        db.execute(
            "INSERT INTO customers (account, sub, name, address, birthdate, gender, serial,"
            " consent_id, opened_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                account,
                applicant.sub,
                applicant.name,
                applicant.address,
                applicant.birthdate,
                applicant.gender,
                result.serial,
                applicant.consent_id,
                datetime.now(JST).date().isoformat(),
            ),
        )
    return account


def create_bank_app(bank: Bank) -> FastAPI:
    """The bank's site: account opening for customers, the check for its staff."""
    app = FastAPI(title=NAME, docs_url=None, redoc_url=None, openapi_url=None)

    def applicant_of(request: Request) -> Applicant | None:
        return bank.applicants.get(request.cookies.get(COOKIE, ""))

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return page(
            "マイナンバーカードで口座を開設する",
            "<p>来店も書類の郵送も要りません。マイナンバーカードでログインし、"
            "申込書にカードで署名すると、その場で普通預金口座を開設します。</p>"
            '<p><a href="/open">デジタル認証アプリでログインして申し込む</a></p>',
        )

    @app.get("/open")
    def start() -> Response:
        session_id = secrets.token_urlsafe(16)
        login = Login(
            state=secrets.token_urlsafe(16),
            nonce=secrets.token_urlsafe(16),
            verifier=secrets.token_urlsafe(48),
        )
        bank.logins[session_id] = login
        challenge = hashlib.sha256(login.verifier.encode()).digest()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": bank.client_id,
                "redirect_uri": bank.redirect_uri,
                "scope": SCOPES,
                "state": login.state,
                "nonce": login.nonce,
                "code_challenge": base64.urlsafe_b64encode(challenge).rstrip(b"=").decode(),
                "code_challenge_method": "S256",
            }
        )
        response = RedirectResponse(f"{bank.issuer}/authorize?{query}", status_code=303)
        response.set_cookie(COOKIE, session_id, httponly=True, samesite="lax")
        return response

    @app.get("/callback")
    def callback(request: Request) -> Response:
        login = bank.logins.pop(request.cookies.get(COOKIE, ""), None)
        params = request.query_params
        if login is None or params.get("state") != login.state:
            return error_page("ログインの状態が一致しません。")
        if params.get("iss") != bank.issuer:  # RFC 9207: the answer comes from our issuer
            return error_page("想定外の発行者からの応答です。")
        if "error" in params:
            return error_page("デジタル認証アプリで同意されなかったため、申込みを中止しました。")
        try:
            applicant = log_in(bank, login, params.get("code", ""))
        except BankError as error:
            return error_page(str(error))
        session_id = secrets.token_urlsafe(16)
        bank.applicants[session_id] = applicant
        response = RedirectResponse("/apply", status_code=303)
        response.set_cookie(COOKIE, session_id, httponly=True, samesite="lax")
        return response

    @app.get("/apply", response_class=HTMLResponse)
    def application_form(request: Request) -> HTMLResponse:
        applicant = applicant_of(request)
        if applicant is None:
            return error_page("ログインしてから申し込んでください。")
        return page(
            "口座開設の申込み",
            "<p>デジタル認証アプリから受け取ったお客さまの情報です。</p><dl>"
            f'<dt>お名前</dt><dd id="name">{html.escape(applicant.name)}</dd>'
            f'<dt>ご住所</dt><dd id="address">{html.escape(applicant.address)}</dd>'
            f"<dt>生年月日</dt><dd>{wareki(applicant.birthdate)}</dd>"
            f"<dt>性別</dt><dd>{GENDERS.get(applicant.gender, '不明')}</dd></dl>"
            '<form method="post" action="/apply">'
            f'<input type="hidden" name="csrf" value="{applicant.csrf}">'
            '<p><input type="checkbox" id="consent" name="consent" value="yes">'
            '<label for="consent">J-LIS から当行が最新の基本4情報（氏名・住所・生年月日・性別）の'
            "提供を受けることに同意します（転居の際、住所変更の届出が要らなくなります）。"
            "</label></p>"
            "<p><button>申込書にマイナンバーカードで署名する</button></p></form>",
        )

    @app.post("/apply")
    def apply(request: Request, csrf: str = Form(""), consent: str = Form("")) -> Response:
        applicant = applicant_of(request)
        if applicant is None or not secrets.compare_digest(csrf, applicant.csrf):
            return error_page("ログインしてから申し込んでください。")
        try:
            url = ask_signature(bank, applicant, consented=consent == "yes")
        except BankError as error:
            return error_page(str(error))
        return RedirectResponse(url, status_code=303)

    @app.get("/signed", response_class=HTMLResponse)
    def signed(request: Request) -> HTMLResponse:
        applicant = applicant_of(request)
        if applicant is None or applicant.transaction is None:
            return error_page("申込みが見つかりません。")
        try:
            result = collect_signature(bank, applicant)
        except BankError as error:
            return error_page(str(error))
        if result is None:
            return page(
                "署名をお待ちしています",
                "<p>カードリーダーで署名が終わったら、"
                '<a href="/signed">このページを開き直してください</a>。</p>',
            )
        account = open_account(bank, applicant, result)
        bank.applicants.pop(request.cookies.get(COOKIE, ""), None)
        consent_note = (
            "<p>最新の基本4情報の提供への同意を J-LIS に登録しました。"
            "転居されたときは、届出なしでご住所を更新します。</p>"
            if applicant.consent is not None
            else ""
        )
        return page(
            "口座を開設しました",
            f'<p>口座番号: <strong id="account">{account}</strong>（普通預金）</p>'
            "<p>申込書の署名と署名用電子証明書を確認しました（失効していません）。</p>"
            f"{consent_note}",
        )

    _staff_pages(app, bank)
    return app


def _staff_pages(app: FastAPI, bank: Bank) -> None:
    """The bank staff's pages: the customers, and the check against J-LIS."""

    @app.get("/staff", response_class=HTMLResponse)
    def staff() -> HTMLResponse:
        with customers(bank) as db:
            rows = db.execute("SELECT * FROM customers ORDER BY account").fetchall()
        return page(
            "お客さま情報の確認（行員用）",
            _customer_table(rows) + '<form method="post" action="/staff/check">'
            "<p><button>最新4情報提供サービスで確認する</button></p></form>",
        )

    @app.post("/staff/check")
    def staff_check() -> Response:
        try:
            with httpx.Client(timeout=10.0) as http:
                check_customers(bank, http)
        except BankError as error:
            return error_page(str(error))
        return RedirectResponse("/staff", status_code=303)


def load_bank(portal: str, port: int, verifier_dir: Path, state_dir: Path) -> Bank:
    """The bank's identity as the demo left it: the verifier's files and the client's."""
    client = json.loads((state_dir / "authapp-client.json").read_text(encoding="utf-8"))
    return Bank(
        portal=portal,
        base_url=f"http://127.0.0.1:{port}",
        client_id=client["client_id"],
        client_keys=KeySet.import_key_set(client["jwks"]),
        verifier=load_identity(verifier_dir),
        database=state_dir / "customers.db",
    )


def main() -> None:
    """Run the sample bank, or check its customers against the latest 4 info service."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("command", choices=["run", "check"])
    parser.add_argument("--portal", default="http://127.0.0.1:8000")
    parser.add_argument("--port", type=int, default=8710)
    parser.add_argument("--verifier", type=Path, default=Path("var/verifiers/mirai-bank"))
    parser.add_argument("--state", type=Path, default=Path("var/mirai-bank"))
    args = parser.parse_args()
    bank = load_bank(args.portal.rstrip("/"), args.port, args.verifier, args.state)
    if args.command == "check":
        with httpx.Client(timeout=30.0) as http:
            for change in check_customers(bank, http):
                print(f"{change.account} {change.name}: {change.note}")  # noqa: T201
        return
    print(f"{NAME}: {bank.base_url}  (行員用: {bank.base_url}/staff)")  # noqa: T201
    uvicorn.run(create_bank_app(bank), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
