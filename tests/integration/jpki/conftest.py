"""Fixtures for the JPKI integration tests: CAs per test, RSA keys generated once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import jpki
from myna.bootstrap import Container
from myna.jpki import service
from myna.jpki.api import router
from myna.jpki.domain import AuthorityKind
from myna.jpki.profile import CaPrivateKey
from myna.platform.settings import Settings
from tests.conftest import new_ca_key
from tests.integration.jpki.latest import Latest, build_latest

BIRTH_DATE = date(1985, 7, 14)
BASIC_INFO = jpki.BasicInfo(
    name="渡邊 花子",
    name_substitute="渡辺 花子",
    sex=2,
    birth_date=BIRTH_DATE,
    address="東京都千代田区霞が関二丁目1番2号",
)


def _rsa(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@pytest.fixture(scope="session")
def ca_keys() -> dict[AuthorityKind, CaPrivateKey]:
    """One key per CA kind for the whole run; RSA key generation is the slow part."""
    return {kind: new_ca_key(kind) for kind in AuthorityKind}


@pytest.fixture(scope="session")
def card_keys() -> dict[str, rsa.RSAPrivateKey]:
    """Keys standing in for the card chip's two key pairs."""
    return {"sign": _rsa(), "auth": _rsa(), "other": _rsa()}


@pytest.fixture(autouse=True)
def _pooled_ca_keys(
    monkeypatch: pytest.MonkeyPatch, ca_keys: dict[AuthorityKind, CaPrivateKey]
) -> None:
    monkeypatch.setattr(service, "_new_key", lambda kind: ca_keys[kind])


@pytest.fixture
def authorities(session: Session, settings: Settings) -> None:
    jpki.ensure_authorities(session=session, settings=settings)


IssueFn = Callable[..., x509.Certificate]


@pytest.fixture
def issue(
    authorities: None,
    session: Session,
    settings: Settings,
    card_keys: dict[str, rsa.RSAPrivateKey],
) -> IssueFn:
    """Issue a certificate of ``kind`` with the matching card key (and 4 info if signing)."""

    def _issue(
        kind: jpki.CertificateKind,
        *,
        holder_id: int = 7,
        card_id: str = "card-0001",
        now: datetime | None = None,
        not_after: datetime | None = None,
    ) -> x509.Certificate:
        return jpki.issue_certificate(
            session=session,
            settings=settings,
            kind=kind,
            public_key=card_keys[kind.value].public_key(),
            holder_id=holder_id,
            card_id=card_id,
            birth_date=BIRTH_DATE,
            basic_info=BASIC_INFO if kind is jpki.CertificateKind.SIGN else None,
            now=now,
            not_after=not_after,
        )

    return _issue


@pytest.fixture(scope="session")
def org_keys() -> dict[str, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey]:
    """Agencies' keys: P-256 (what `myna jpki org-issue` makes) and RSA-2048."""
    return {"p256": ec.generate_private_key(ec.SECP256R1()), "rsa": _rsa()}


@pytest.fixture
def issue_org(
    authorities: None,
    session: Session,
    settings: Settings,
    org_keys: dict[str, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey],
) -> IssueFn:
    """Issue an organisation certificate for ``code`` with the P-256 (or ``key``) key."""

    def _issue(
        code: str = "nta",
        *,
        name: str = "国税庁",
        key: str = "p256",
        now: datetime | None = None,
        not_after: datetime | None = None,
    ) -> x509.Certificate:
        return jpki.issue_organization_certificate(
            session=session,
            settings=settings,
            organization_code=code,
            organization_name=name,
            public_key=org_keys[key].public_key(),
            now=now,
            not_after=not_after,
        )

    return _issue


@pytest.fixture
def client(container: Container) -> TestClient:
    app = FastAPI()
    app.state.container = container
    app.include_router(router)
    return TestClient(app)


@pytest.fixture
def latest(
    session: Session, settings: Settings, container: Container, authorities: None
) -> Iterator[Latest]:
    """最新4情報提供's world: taro's and hanako's cards, three verifiers, the API."""
    yield from build_latest(session, settings, container)
