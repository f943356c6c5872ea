"""Where the site may send a reader: one rule for next, the language switch and links."""

from __future__ import annotations

import pytest

from myna.platform.urls import is_allowed_external, is_site_path


@pytest.mark.parametrize("path", ["/", "/home", "/consent/abc?x=1", "/exchanges?page=2#top"])
def test_a_path_of_this_site_is_accepted(path: str) -> None:
    assert is_site_path(path)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "home",
        "//evil.example",
        "/\\evil.example",
        "/\\/evil.example",
        "\\\\evil.example",
        "/%0d%0aSet-Cookie:x" + "\r\n",
        "/a\tb",
        "/a b",
        "https://www.digital.go.jp/",
        "/" + "a" * 600,
    ],
)
def test_anything_a_browser_could_read_as_another_site_is_refused(value: str) -> None:
    assert not is_site_path(value)


def test_external_links_are_https_on_the_listed_domains_only() -> None:
    assert is_allowed_external("https://www.city.yokohama.lg.jp/")
    assert is_allowed_external("https://go.jp/")
    assert not is_allowed_external("https://go.jp.evil.example/")
    assert not is_allowed_external("https://www.digital.go.jp@evil.example/")
    assert not is_allowed_external("http://www.digital.go.jp/")
    assert is_allowed_external("https://bank.example/", domains=("bank.example",))
