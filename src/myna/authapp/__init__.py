"""The authentication app (デジタル認証アプリ): an OpenID Provider and signing transactions.

Businesses log residents in with the MyNumber card (OpenID Connect, code flow with PKCE,
``private_key_jwt``), receive the basic 4 info read from the signing certificate with
the resident's consent, and ask residents to sign documents, receiving the signature
encrypted to their key. Other contexts import only from here.
"""

from myna.authapp.clients import ClientRead, get_client, list_clients, register_client
from myna.authapp.oidc import forget_expired
from myna.authapp.signing import (
    IDENTITY_PURPOSE,
    SIGN_PURPOSE,
    IdentitySigning,
    TransactionSigning,
)
from myna.authapp.usage import count_signed_transactions

__all__ = [
    "IDENTITY_PURPOSE",
    "SIGN_PURPOSE",
    "ClientRead",
    "IdentitySigning",
    "TransactionSigning",
    "count_signed_transactions",
    "forget_expired",
    "get_client",
    "list_clients",
    "register_client",
]
