"""The OAuth 2.0 and JOSE core both authorization servers of the platform build on.

Laid out by specification, as Authlib is: :mod:`~myna.platform.oauth.errors` (RFC 6749
§5.2, RFC 6750 §3.1, RFC 9449 §7), :mod:`~myna.platform.oauth.rfc7515` (compact JWS
within bounds), :mod:`~myna.platform.oauth.rfc7518` (the keys the algorithms accept),
:mod:`~myna.platform.oauth.rfc7519` (NumericDate and ``jti`` claims),
:mod:`~myna.platform.oauth.rfc7523` (``private_key_jwt`` client assertions),
:mod:`~myna.platform.oauth.rfc7638` (JWK thumbprints), :mod:`~myna.platform.oauth.rfc9126`
(pushed request URIs) and :mod:`~myna.platform.oauth.rfc9449` (DPoP proofs).

Nothing here reads a database or speaks HTTP: what is stored (a client's keys, the
``jti`` values already seen) comes in as callables from the context that owns it, the
partners' authorization server or the municipality filing API.
"""
