"""Where the site may send a reader: its own paths, and a few external sites by name.

One rule for every stored or requested link (``next`` after login, the language
switch, a notice's link), so a browser never reads one of them as another site's
address. Browsers treat ``//host`` and ``/\\host`` as protocol-relative (the WHATWG URL
standard turns a backslash into a slash in special schemes), so a site path starts
with one slash, never a second slash or a backslash, and has no spaces or controls.
"""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_LINK_LENGTH = 500
# Government domains (政府・地方公共団体): the only external sites a notice may link to.
GOVERNMENT_DOMAINS = ("go.jp", "lg.jp")


def _clean(value: str) -> bool:
    return (
        0 < len(value) <= MAX_LINK_LENGTH
        and "\\" not in value
        and not any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in value)
    )


def is_site_path(value: str) -> bool:
    """Whether ``value`` is a path of this site (``/services?q=1``), nothing else."""
    return _clean(value) and value.startswith("/") and not value.startswith("//")


def is_allowed_external(value: str, domains: tuple[str, ...] = GOVERNMENT_DOMAINS) -> bool:
    """Whether ``value`` is an https URL on one of ``domains`` (or a subdomain of one)."""
    if not _clean(value) or not value.startswith("https://"):
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port  # parsed lazily: a malformed port is refused here
    except ValueError:
        return False
    host = (parts.hostname or "").rstrip(".")
    if "@" in parts.netloc or not host:
        return False
    return any(host == d or host.endswith("." + d) for d in domains)
