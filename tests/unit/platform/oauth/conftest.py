"""Keys and a jti table for the OAuth/JOSE core's tests (made once: RSA keys are slow)."""

from __future__ import annotations

from datetime import datetime

import pytest
from joserfc.jwk import ECKey, RSAKey


class SeenJtis:
    """A fake of a context's table of used ``jti`` values (the ``Remember`` port)."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], datetime] = {}

    def __call__(self, scope: str, jti: str, until: datetime) -> bool:
        if (scope, jti) in self.kept:
            return False
        self.kept[scope, jti] = until
        return True


@pytest.fixture
def seen() -> SeenJtis:
    return SeenJtis()


@pytest.fixture(scope="session")
def ec_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig"}, private=True)


@pytest.fixture(scope="session")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"}, private=True)
