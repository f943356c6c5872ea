"""Which addresses a jwks_uri may be fetched from, and how the pinned URL is written."""

from __future__ import annotations

from ipaddress import ip_address
from urllib.parse import urlsplit

import pytest
from pydantic import ValidationError

from myna.partners import organizations
from myna.platform.settings import Settings

SECRETS = {
    "secret_key": "unit-secret-key-not-for-production",
    "card_secret": "unit-card-secret-not-for-production",
    "ca_secret": "unit-ca-secret-not-for-production",
}


@pytest.mark.parametrize(
    "address",
    ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "2002:808:808::1"],
)
def test_public_addresses_may_be_fetched_from(address: str) -> None:
    assert organizations._may_fetch_from(ip_address(address), allow_loopback=False)


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - a refused address, not a binding
        "224.0.0.251",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "::",
        "fc00::1",
        "fe80::1",
        "ff02::1",
        "::ffff:10.1.2.3",
        "64:ff9b::a01:203",
        "2002:a01:203::1",
    ],
)
def test_non_public_addresses_never_are_even_in_the_sandbox(address: str) -> None:
    for allow_loopback in (False, True):
        assert not organizations._may_fetch_from(ip_address(address), allow_loopback=allow_loopback)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"])
def test_the_loopback_only_when_allowed(address: str) -> None:
    assert not organizations._may_fetch_from(ip_address(address), allow_loopback=False)
    assert organizations._may_fetch_from(ip_address(address), allow_loopback=True)


@pytest.mark.parametrize(
    ("uri", "address", "pinned"),
    [
        (
            "https://keys.example/jwks.json?v=1",
            "93.184.215.14",
            "https://93.184.215.14/jwks.json?v=1",
        ),
        ("https://keys.example:8443/j", "2606:4700::1", "https://[2606:4700::1]:8443/j"),
        ("http://localhost:9000/j", "::1", "http://[::1]:9000/j"),
    ],
)
def test_the_url_is_rewritten_to_the_checked_address(uri: str, address: str, pinned: str) -> None:
    assert organizations._pinned(urlsplit(uri), ip_address(address)) == pinned


def test_the_loopback_is_allowed_in_development_or_when_set_and_never_in_production() -> None:
    development = Settings(environment="development")
    test = Settings(environment="test", **SECRETS)  # type: ignore[arg-type]
    assert organizations.loopback_allowed(development)
    assert not organizations.loopback_allowed(test)
    assert organizations.loopback_allowed(
        Settings(environment="test", partner_jwks_allow_loopback=True, **SECRETS)  # type: ignore[arg-type]
    )
    Settings(environment="production", **SECRETS)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="PARTNER_JWKS_ALLOW_LOOPBACK"):
        Settings(environment="production", partner_jwks_allow_loopback=True, **SECRETS)  # type: ignore[arg-type]
