"""The virtual card file: key derivations, PIN verifiers, the MAC, atomic locked writes.

One JSON file per card (``<card_id>.json``) plays the chip. What a real chip enforces
in silicon is emulated with keys derived from the deployment's ``card_secret``:

- each private key is a standard encrypted PKCS#8 PEM (RFC 5958 §3, PBES2 of RFC 8018
  §6.2) whose passphrase is HKDF-SHA256 (RFC 5869) of the card secret, card id and kind;
- each PIN verifier is salted scrypt (RFC 7914) peppered with an HMAC key derived the
  same way, so the file alone allows no offline guessing;
- an HMAC-SHA256 (RFC 2104) over the canonical JSON of the rest of the file detects an
  edited try counter or a swapped key.

``docs/card-format.md`` documents the format field by field.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from myna.platform.encoding import b64, unb64

FORMAT_NAME = "myna-virtual-card"
FORMAT_VERSION = 1

# scrypt cost for the PIN verifier (RFC 7914 §2): 16 MiB, ~50 ms per check. The pepper,
# not the cost, is what stops offline guessing of a 4-digit PIN from a stolen file. A
# deployment may choose another N for new verifiers (``MYNA_CARD_PIN_WORK_FACTOR``, its
# base-2 logarithm); each verifier records its own, so cards made under another keep
# working. Readers accept what ``check_verifier`` bounds.
SCRYPT_LOG2_N = 14
SCRYPT_N = 2**SCRYPT_LOG2_N
MIN_LOG2_N = 10
MAX_LOG2_N = 20
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
VERIFIER_ALGORITHM = "scrypt+hmac-sha256"
MAC_ALGORITHM = "hmac-sha256"

_CARD_ID = re.compile(r"[0-9a-f]{16,64}")


def new_card_id() -> str:
    """A random, opaque card identifier (80 bits, lower-case hex)."""
    return secrets.token_hex(10)


def is_card_id(value: str) -> bool:
    """True if ``value`` has the shape of a card id (and so is safe as a file name)."""
    return _CARD_ID.fullmatch(value) is not None


def _hkdf(card_secret: str, info: str) -> bytes:
    """HKDF-SHA256 (RFC 5869 §2) with no salt (HashLen zero bytes) and 32 bytes out."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode()).derive(
        card_secret.encode()
    )


def key_passphrase(card_secret: str, card_id: str, kind: str) -> bytes:
    """The passphrase of ``kind``'s encrypted PKCS#8 key: hex of the HKDF output."""
    return _hkdf(card_secret, f"myna/card/v1/key-passphrase/{card_id}/{kind}").hex().encode()


def mac_key(card_secret: str, card_id: str) -> bytes:
    """The HMAC key of the card file's MAC."""
    return _hkdf(card_secret, f"myna/card/v1/mac/{card_id}")


def pin_pepper(card_secret: str, card_id: str, kind: str) -> bytes:
    """The HMAC key that peppers ``kind``'s PIN verifier."""
    return _hkdf(card_secret, f"myna/card/v1/pin-pepper/{card_id}/{kind}")


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=32)


def make_verifier(secret: str, pepper: bytes, log2_n: int = SCRYPT_LOG2_N) -> dict[str, Any]:
    """A fresh verifier for ``secret`` (the secret itself is never stored).

    ``log2_n``: scrypt's cost parameter N as a power of two, within what readers accept.
    """
    if not MIN_LOG2_N <= log2_n <= MAX_LOG2_N:
        msg = f"scrypt work factor 2^{log2_n} out of range"
        raise ValueError(msg)
    n = 2**log2_n
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hmac.digest(pepper, _scrypt(secret, salt, n, SCRYPT_R, SCRYPT_P), "sha256")
    return {
        "algorithm": VERIFIER_ALGORITHM,
        "n": n,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": b64(salt),
        "hash": b64(digest),
    }


def check_verifier(verifier: dict[str, Any], secret: str, pepper: bytes) -> bool:
    """True if ``secret`` matches ``verifier`` (constant-time comparison)."""
    if verifier.get("algorithm") != VERIFIER_ALGORITHM:
        msg = "unknown verifier algorithm"
        raise ValueError(msg)
    n, r, p = int(verifier["n"]), int(verifier["r"]), int(verifier["p"])
    # Bounds keep a hostile file from asking for gigabytes (the MAC is checked first,
    # but the bounds cost nothing).
    if not (2**MIN_LOG2_N <= n <= 2**MAX_LOG2_N and 1 <= r <= 32 and 1 <= p <= 16):
        msg = "verifier parameters out of range"
        raise ValueError(msg)
    salt = unb64(verifier["salt"])
    expected = unb64(verifier["hash"])
    digest = hmac.digest(pepper, _scrypt(secret, salt, n, r, p), "sha256")
    return hmac.compare_digest(digest, expected)


def encrypt_private_key(key: rsa.RSAPrivateKey, passphrase: bytes) -> str:
    """``key`` as an encrypted PKCS#8 PEM (PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    ).decode("ascii")


def decrypt_private_key(pem: str, passphrase: bytes) -> rsa.RSAPrivateKey:
    """The RSA key inside an encrypted PKCS#8 PEM (``ValueError`` if it will not open)."""
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=passphrase)
    if not isinstance(key, rsa.RSAPrivateKey):
        msg = "the card holds a key that is not RSA"
        raise TypeError(msg)
    return key


def canonical_json(document: dict[str, Any]) -> bytes:
    """Sorted keys, no insignificant whitespace, UTF-8: the bytes the MAC covers."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def compute_mac(document: dict[str, Any], key: bytes) -> str:
    """HMAC-SHA256 over the canonical JSON of ``document`` without its ``mac`` member."""
    body = {name: value for name, value in document.items() if name != "mac"}
    return b64(hmac.digest(key, canonical_json(body), "sha256"))


def seal(document: dict[str, Any], key: bytes) -> dict[str, Any]:
    """``document`` with its ``mac`` member set."""
    sealed = {name: value for name, value in document.items() if name != "mac"}
    sealed["mac"] = {"algorithm": MAC_ALGORITHM, "value": compute_mac(sealed, key)}
    return sealed


def mac_is_valid(document: dict[str, Any], key: bytes) -> bool:
    """True if ``document``'s ``mac`` member matches the rest of it."""
    mac = document.get("mac")
    if not isinstance(mac, dict) or mac.get("algorithm") != MAC_ALGORITHM:
        return False
    value = mac.get("value")
    if not isinstance(value, str):
        return False
    return hmac.compare_digest(value.encode(), compute_mac(document, key).encode())


def card_path(card_dir: Path, card_id: str) -> Path:
    """Where the card ``card_id`` lives."""
    return card_dir / f"{card_id}.json"


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old file or the new one, never half.

    The data is flushed to disk before the rename, and the rename before returning.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(temporary).unlink()
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


@contextlib.contextmanager
def locked(card_dir: Path, card_id: str) -> Iterator[None]:
    """Hold the card's exclusive lock (``flock``) for a read-modify-write.

    The lock lives on a side file because the card file itself is replaced on each
    write; ``flock`` locks are per open file, so threads and processes both queue here.
    """
    if not is_card_id(card_id):
        msg = "not a card id"
        raise ValueError(msg)
    card_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(card_dir / f".{card_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing the descriptor releases the lock
