"""JWT claims every JWT check of the platform reads the same way (RFC 7519 §4.1).

``exp``, ``nbf`` and ``iat`` are NumericDates (`Section 2`_): JSON numbers, integer or
not. A client chooses them, so each is held to the platform's calendar (1900 to 2100,
:func:`myna.platform.params.from_epoch`) before any arithmetic: a huge number, a
negative one, NaN or an infinity is refused as a bad claim, never left to overflow a
``datetime``. A boolean or a string is not a number, whatever Python thinks of ``True``.
``jti`` (`Section 4.1.7`_) is a non-empty string of bounded length, so a table of the
ones already seen can hold it.

.. _`Section 2`: https://www.rfc-editor.org/rfc/rfc7519#section-2
.. _`Section 4.1.7`: https://www.rfc-editor.org/rfc/rfc7519#section-4.1.7
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from myna.platform.errors import N_
from myna.platform.oauth.errors import OAuthError
from myna.platform.params import EARLIEST_DATE, LATEST_DATE, DateOutOfRangeError, from_epoch

MAX_JTI_LENGTH = 255

Remember = Callable[[str, str, datetime], bool]
"""Records a ``jti`` as used: ``(scope, jti, until) -> False`` if it was seen before.

``scope`` is whose ``jti`` it is (a client id, a key thumbprint): ``jti`` values are
chosen by clients and only need to be unique per issuer. ``until`` is when it may be
forgotten, since a JWT that old is refused anyway. Each context keeps its own table.
"""


def numeric_date(
    claims: Mapping[str, Any], name: str, *, error: type[OAuthError]
) -> datetime | None:
    """The claim ``name`` as an aware UTC time, or None if the JWT has no such claim."""
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise error(reason=N_("{name} must be a number of seconds since the epoch"), name=name)
    try:
        return from_epoch(value)
    except DateOutOfRangeError as exc:
        raise error(
            reason=N_("{name} must be a time from {earliest} to {latest}"),
            name=name,
            earliest=EARLIEST_DATE.isoformat(),
            latest=LATEST_DATE.isoformat(),
        ) from exc


def required_date(claims: Mapping[str, Any], name: str, *, error: type[OAuthError]) -> datetime:
    """The claim ``name`` as an aware UTC time; the JWT must have it."""
    value = numeric_date(claims, name, error=error)
    if value is None:
        raise error(reason=N_("{name} is required"), name=name)
    return value


def jwt_id(claims: Mapping[str, Any], *, error: type[OAuthError]) -> str:
    """The ``jti`` claim: required, a string of 1 to :data:`MAX_JTI_LENGTH` characters."""
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_LENGTH:
        raise error(
            reason=N_("jti (a unique id of up to {limit} characters) is required"),
            limit=MAX_JTI_LENGTH,
        )
    return jti
