"""The JPKI card's APDU interface: ISO/IEC 7816-4 short APDUs and the JPKI AP's files.

A MyNumber card's chip holds the JPKI application (公的個人認証AP) under the AID
``D3 92 F0 00 26 01 00 00 00 01``. Its files, commands and their bytes are the ones
OpenSC's JPKI driver sends (``card-jpki.c``, ``pkcs15-jpki.c``); both sides of Myna
build and read them here, so the virtual chip (:mod:`myna.card.chip`) and the reader
adapter (:mod:`myna.card.apdu_reader`) cannot disagree. ``docs/card-format.md`` lists
every command with its bytes and status words.

Pure: no I/O. Only short APDUs (ISO/IEC 7816-3 §12.1.3 cases 1–4, Lc and Le on one
byte each) exist here; the JPKI card needs nothing longer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from myna.card.domain import KeyKind

#: The JPKI application's AID (DF name), selected with SELECT FILE P1=04.
JPKI_AID = bytes.fromhex("D3 92 F0 00 26 01 00 00 00 01")

#: The answer-to-reset of a MyNumber card (T=1), as OpenSC recognises it.
JPKI_ATR = bytes.fromhex("3B E0 00 FF 81 31 FE 45 14")

#: The largest Ne of a short APDU: Le = 00 means 256 bytes.
MAX_SHORT_NE = 256


class FileId(IntEnum):
    """The JPKI AP's elementary files (EF), selected with SELECT FILE P1=02."""

    SIGN_CERT = 0x0001  # 署名用電子証明書: readable after the signing password
    SIGN_CA_CERT = 0x0002  # the signing certificate's CA
    AUTH_CERT = 0x000A  # 利用者証明用電子証明書: readable without a PIN
    AUTH_CA_CERT = 0x000B  # the user-authentication certificate's CA
    AUTH_KEY = 0x0017  # the user-authentication private key (never readable)
    AUTH_PIN = 0x0018  # the 4-digit PIN (利用者証明用パスワード)
    SIGN_KEY = 0x001A  # the signing private key (never readable)
    SIGN_PIN = 0x001B  # the signing password (署名用パスワード)


CERTIFICATE_FILES: dict[KeyKind, FileId] = {
    KeyKind.AUTH: FileId.AUTH_CERT,
    KeyKind.SIGN: FileId.SIGN_CERT,
}
PIN_FILES: dict[KeyKind, FileId] = {KeyKind.AUTH: FileId.AUTH_PIN, KeyKind.SIGN: FileId.SIGN_PIN}
KEY_FILES: dict[KeyKind, FileId] = {KeyKind.AUTH: FileId.AUTH_KEY, KeyKind.SIGN: FileId.SIGN_KEY}


class Ins(IntEnum):
    """The instruction bytes the JPKI AP answers."""

    VERIFY = 0x20  # ISO/IEC 7816-4 §11.5.6, CLA 00
    COMPUTE_DIGITAL_SIGNATURE = 0x2A  # JPKI-specific, CLA 80
    SELECT_FILE = 0xA4  # ISO/IEC 7816-4 §11.2.2, CLA 00
    READ_BINARY = 0xB0  # ISO/IEC 7816-4 §11.3.3, CLA 00


#: CLA of the interindustry commands (no secure messaging, basic channel).
CLA_ISO = 0x00
#: CLA of the JPKI AP's proprietary COMPUTE DIGITAL SIGNATURE.
CLA_PROPRIETARY = 0x80

SELECT_BY_FILE_ID = 0x02  # P1: an EF under the current DF
SELECT_BY_DF_NAME = 0x04  # P1: a DF (application) by its AID
SELECT_NO_RESPONSE = 0x0C  # P2: first or only occurrence, no FCI returned
VERIFY_P2_LOCAL = 0x80  # P2: reference data specific to the current DF (the selected PIN EF)
SIGN_P1 = 0x00
SIGN_P2 = 0x80


class StatusWord(IntEnum):
    """The status words (SW1-SW2) the JPKI AP answers (ISO/IEC 7816-4 §5.6).

    ``63Cx`` (wrong PIN, ``x`` tries left) is built by :func:`tries_left`.
    """

    OK = 0x9000
    END_OF_FILE = 0x6282  # fewer than Ne bytes before the end of the EF
    MEMORY_FAILURE = 0x6581  # the card's storage failed its integrity check
    WRONG_LENGTH = 0x6700  # Lc or Le wrong, or the APDU is not a short APDU
    INCOMPATIBLE_FILE = 0x6981  # the current EF is of the wrong kind for the command
    SECURITY_NOT_SATISFIED = 0x6982  # the PIN or password is not verified
    BLOCKED = 0x6983  # the PIN or password is locked
    NO_CURRENT_EF = 0x6986  # the command needs a current EF
    WRONG_DATA = 0x6A80  # incorrect data field (malformed PIN, unknown DigestInfo)
    FUNCTION_NOT_SUPPORTED = 0x6A81  # e.g. READ BINARY with a short EF identifier
    FILE_NOT_FOUND = 0x6A82  # no such application or EF
    WRONG_P1_P2 = 0x6A86
    WRONG_OFFSET = 0x6B00  # READ BINARY offset at or beyond the end of the EF
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00


WRONG_PIN_SW1 = 0x63
WRONG_PIN_COUNTER = 0xC0


def tries_left(count: int) -> int:
    """``63Cx``: verification failed (or not done), ``x`` tries left (ISO/IEC 7816-4 §5.6)."""
    if not 0 <= count <= 0x0F:
        msg = f"a tries-left count is 0-15, not {count}"
        raise ValueError(msg)
    return (WRONG_PIN_SW1 << 8) | WRONG_PIN_COUNTER | count


def tries_left_in(sw: int) -> int | None:
    """The ``x`` of a ``63Cx`` status word, or None for any other."""
    if sw & 0xFFF0 == (WRONG_PIN_SW1 << 8) | WRONG_PIN_COUNTER:
        return sw & 0x0F
    return None


class MalformedApduError(ValueError):
    """Bytes that are no short command APDU (the card answers ``6700``)."""


@dataclass(frozen=True, slots=True)
class Command:
    """A command APDU: header, data field and Ne (``None``: no Le field).

    ISO/IEC 7816-3 §12.1.3: case 1 (header only), case 2 (Le), case 3 (Lc and data),
    case 4 (Lc, data and Le). Short APDUs: 1–255 data bytes, Ne 1–256 (Le 00 = 256).
    """

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            if not 0 <= getattr(self, name) <= 0xFF:
                msg = f"{name} is one byte"
                raise ValueError(msg)
        if len(self.data) > 0xFF:
            msg = "a short APDU carries at most 255 data bytes"
            raise ValueError(msg)
        if self.ne is not None and not 1 <= self.ne <= MAX_SHORT_NE:
            msg = "a short APDU expects 1 to 256 bytes"
            raise ValueError(msg)

    def to_bytes(self) -> bytes:
        """The APDU as sent: ``CLA INS P1 P2 [Lc data] [Le]``."""
        header = bytes((self.cla, self.ins, self.p1, self.p2))
        body = bytes((len(self.data),)) + self.data if self.data else b""
        trailer = b"" if self.ne is None else bytes((self.ne % MAX_SHORT_NE,))
        return header + body + trailer

    @classmethod
    def from_bytes(cls, raw: bytes) -> Command:
        """Parse a short command APDU (``MalformedApduError`` if it is none)."""
        if len(raw) < 4:
            msg = "an APDU has a 4-byte header"
            raise MalformedApduError(msg)
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:  # case 1
            return cls(cla, ins, p1, p2)
        if len(body) == 1:  # case 2
            return cls(cla, ins, p1, p2, ne=body[0] or MAX_SHORT_NE)
        lc = body[0]
        if lc == 0:
            msg = "extended-length APDUs are not supported"
            raise MalformedApduError(msg)
        if len(body) == 1 + lc:  # case 3
            return cls(cla, ins, p1, p2, data=bytes(body[1:]))
        if len(body) == 2 + lc:  # case 4
            return cls(cla, ins, p1, p2, data=bytes(body[1:-1]), ne=body[-1] or MAX_SHORT_NE)
        msg = "Lc does not match the data field"
        raise MalformedApduError(msg)


@dataclass(frozen=True, slots=True)
class Response:
    """A response APDU: data field and status word."""

    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        """True for ``9000``."""
        return self.sw == StatusWord.OK

    def to_bytes(self) -> bytes:
        """``data SW1 SW2``."""
        return self.data + self.sw.to_bytes(2, "big")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Response:
        """Split a response APDU into data and status word."""
        if len(raw) < 2:
            msg = "a response APDU ends with two status bytes"
            raise MalformedApduError(msg)
        return cls(data=bytes(raw[:-2]), sw=int.from_bytes(raw[-2:], "big"))

    @classmethod
    def status(cls, sw: int) -> Response:
        """A response without data."""
        return cls(data=b"", sw=sw)


# -- the commands OpenSC's JPKI driver sends ---------------------------------------------


def select_application(aid: bytes = JPKI_AID) -> Command:
    """SELECT FILE by DF name, no FCI: ``00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01``."""
    return Command(CLA_ISO, Ins.SELECT_FILE, SELECT_BY_DF_NAME, SELECT_NO_RESPONSE, data=aid)


def select_file(file_id: int) -> Command:
    """SELECT FILE of an EF by its file id, no FCI: ``00 A4 02 0C 02 <fid>``."""
    return Command(
        CLA_ISO,
        Ins.SELECT_FILE,
        SELECT_BY_FILE_ID,
        SELECT_NO_RESPONSE,
        data=file_id.to_bytes(2, "big"),
    )


def read_binary(offset: int, length: int) -> Command:
    """READ BINARY of the current EF: ``00 B0 <offset, 15 bits> <Le>``."""
    if not 0 <= offset <= 0x7FFF:
        msg = "a READ BINARY offset is 15 bits"
        raise ValueError(msg)
    return Command(CLA_ISO, Ins.READ_BINARY, offset >> 8, offset & 0xFF, ne=length)


def verify(secret: bytes) -> Command:
    """VERIFY the current PIN EF's secret: ``00 20 00 80 <Lc> <ASCII PIN>``."""
    return Command(CLA_ISO, Ins.VERIFY, 0x00, VERIFY_P2_LOCAL, data=secret)


def verify_status() -> Command:
    """VERIFY without data: the tries left, ``63Cx`` (``00 20 00 80``)."""
    return Command(CLA_ISO, Ins.VERIFY, 0x00, VERIFY_P2_LOCAL)


def compute_digital_signature(digest_info: bytes) -> Command:
    """COMPUTE DIGITAL SIGNATURE with the current key EF: ``80 2A 00 80 <Lc> <DigestInfo> 00``.

    The card pads the DigestInfo (EMSA-PKCS1-v1_5, RFC 8017 §9.2) and applies its RSA
    private key: the answer is the RSASSA-PKCS1-v1_5 signature (256 bytes for RSA-2048).
    """
    return Command(
        CLA_PROPRIETARY,
        Ins.COMPUTE_DIGITAL_SIGNATURE,
        SIGN_P1,
        SIGN_P2,
        data=digest_info,
        ne=MAX_SHORT_NE,
    )


# -- DigestInfo (RFC 8017 §9.2, note 1) ---------------------------------------------------

#: The DER prefix of ``DigestInfo ::= SEQUENCE { digestAlgorithm, digest OCTET STRING }``
#: for each hash the card signs, by ``hashlib`` name; the digest follows.
DIGEST_INFO_PREFIXES: dict[str, bytes] = {
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}
_DIGEST_SIZES = {"sha256": 32, "sha384": 48, "sha512": 64}


def digest_info(algorithm: str, digest: bytes) -> bytes:
    """The DER DigestInfo of ``digest`` made with ``algorithm`` ("sha256", ...)."""
    if len(digest) != _DIGEST_SIZES[algorithm]:
        msg = f"a {algorithm} digest is {_DIGEST_SIZES[algorithm]} bytes"
        raise ValueError(msg)
    return DIGEST_INFO_PREFIXES[algorithm] + digest


def parse_digest_info(data: bytes) -> tuple[str, bytes] | None:
    """``(algorithm, digest)`` if ``data`` is exactly a DigestInfo of a known hash."""
    for algorithm, prefix in DIGEST_INFO_PREFIXES.items():
        if data.startswith(prefix) and len(data) == len(prefix) + _DIGEST_SIZES[algorithm]:
            return algorithm, data[len(prefix) :]
    return None


def der_length(header: bytes) -> int:
    """The total length of a DER SEQUENCE from its first bytes (the certificate EF's size).

    OpenSC sizes a certificate EF this way: it reads 4 bytes (``30 82 HH LL``) and adds
    the header to the length. Short (``30 LL``) and one-byte long forms are read too.
    """
    if len(header) < 2 or header[0] != 0x30:
        msg = "not a DER SEQUENCE"
        raise ValueError(msg)
    first = header[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count not in (1, 2) or len(header) < 2 + count:
        msg = "unsupported DER length"
        raise ValueError(msg)
    return 2 + count + int.from_bytes(header[2 : 2 + count], "big")
