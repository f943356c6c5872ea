"""Settings from the environment (``MYNA_`` prefix), via pydantic-settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development-only secrets. They exist so `make demo` works with no configuration;
# the validator below refuses them anywhere else.
_DEV_SECRET = "development-only-secret-change-me"  # noqa: S105

# A bearer token for the metrics scrape: long enough not to be guessed.
MIN_METRICS_TOKEN_LENGTH = 24

Environment = Literal["development", "test", "production"]


class Settings(BaseSettings):
    """Every knob of a Myna deployment. Read once, at the composition root."""

    model_config = SettingsConfigDict(env_prefix="MYNA_", env_file=".env", extra="ignore")

    environment: Environment = "development"
    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: SecretStr = SecretStr(_DEV_SECRET)
    # Protects the virtual cards' private keys at rest (the "silicon" of the chip).
    card_secret: SecretStr = SecretStr(_DEV_SECRET)
    # scrypt's cost N, as a power of two, for new card PIN verifiers (docs/card-format.md);
    # each verifier records its own, so changing it leaves issued cards working.
    card_pin_work_factor: int = Field(default=14, ge=10, le=20)
    # scrypt's cost N, as a power of two, for new back-office password records.
    staff_password_work_factor: int = Field(default=14, ge=10, le=20)
    # Protects the CA private keys at rest in the database.
    ca_secret: SecretStr = SecretStr(_DEV_SECRET)

    portal_url: str = "http://127.0.0.1:8000"
    reader_url: str = "http://127.0.0.1:8001"
    counter_url: str = "http://127.0.0.1:8002"
    kiosk_url: str = "http://127.0.0.1:8003"
    # Origins the virtual card reader will answer challenges for (anti-phishing).
    reader_trusted_portals: list[str] = Field(default_factory=list)

    # Threads per portal process for request handlers (AnyIO's pool; its default is 40).
    worker_threads: int = Field(default=8, ge=1, le=200)
    challenge_ttl_seconds: int = 120
    # How often the exchange log signs a new tree head (RFC 9162 §4.10) when it grew.
    tree_head_interval_seconds: float = Field(default=1.0, gt=0)
    session_idle_minutes: int = 30
    session_absolute_hours: int = 8
    cookie_secure: bool = False
    login_rate_limit: str = "30/minute"
    # PAR and token requests per organisation (the partner API's authorization server).
    partner_rate_limit: str = "600/minute"
    # Consent answers per resident, organisation registrations per address, and the
    # municipality filing API's token requests per address.
    consent_rate_limit: str = "10/minute"
    partner_registration_rate_limit: str = "10/hour"
    filing_token_rate_limit: str = "60/minute"  # noqa: S105 - a rate, not a secret
    # Attempts at a code a resident types (a proxy appointment code), per resident.
    one_time_code_rate_limit: str = "10/minute"
    # 民間送達 sender API requests per client address (a sender delivers in bulk).
    delivery_rate_limit: str = "6000/minute"
    # JPKI verifiers (署名検証者): requests to the verifier API per client address, and the
    # most serial numbers one revocation-status request may ask about.
    jpki_verifier_rate_limit: str = "6000/minute"
    jpki_status_max_serials: int = Field(default=1000, ge=1, le=10_000)
    # What J-LIS bills a verifier per item, in yen: each status of a signing certificate
    # (署名検証, 20円/件), each status of a user-authentication certificate, and each CRL
    # fetched through the verifier API (0: the CRLs are free).
    jpki_fee_sign_status_yen: int = Field(default=20, ge=0, le=100_000)
    jpki_fee_auth_status_yen: int = Field(default=2, ge=0, le=100_000)
    jpki_fee_crl_yen: int = Field(default=0, ge=0, le=100_000)
    # And each provision of a holder's latest basic 4 info (最新4情報の提供) to a verifier
    # the holder consented to, on top of the status of the serial asked about.
    jpki_fee_latest_info_yen: int = Field(default=10, ge=0, le=100_000)
    # The public usage statistics (/stats, docs/stats.md): counts from 1 to this minus one
    # are withheld, and the figures are recomputed when older than the cache's seconds.
    stats_threshold: int = Field(default=10, ge=2, le=1000)
    stats_cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    # A TrueType font with Japanese glyphs, embedded in PDFs (the tax return's copy).
    # Empty: IPAex Gothic where Debian installs it (fonts-ipaexfont-gothic).
    pdf_font: str = ""
    rate_limit_storage_url: str = "memory://"
    # What the rate-limit counters' keys start with in a shared storage (Redis).
    rate_limit_key_prefix: str = "myna"
    # Municipalities (6-digit codes) whose libraries also register residents of other
    # municipalities (市外利用者); every other library registers its own residents only.
    library_outside_users: list[str] = Field(default_factory=list)
    # Reverse proxies (IP addresses or CIDR ranges) whose X-Forwarded-For and
    # X-Forwarded-Proto the portal believes. Empty: the peer address is the client's,
    # whatever headers it sends (rate limits cannot be dodged by forging them).
    trusted_proxies: list[str] = Field(default_factory=list)
    # Whether the platform may fetch an organisation's jwks_uri from the loopback
    # interface (127.0.0.1, ::1, a name resolving there). Always allowed in development
    # (the sandbox, where an integrator's key server runs on the same machine); elsewhere
    # only when set, as tests do for a local key server. Private, link-local and other
    # non-public addresses are refused whatever this says; production refuses it.
    partner_jwks_allow_loopback: bool = False
    # Prometheus metrics at /metrics (docs/operations.md): read with this bearer token,
    # or without one from the loopback interface when that is allowed; with neither the
    # endpoint does not exist (404).
    metrics_token: SecretStr | None = None
    metrics_loopback: bool = False
    # Readiness (/readyz): how long each check may take, and how long the exchange log
    # may hold entries no signed tree head covers before the portal is not ready.
    ready_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    ready_tree_head_max_age_seconds: float = Field(default=300.0, gt=0, le=86_400)
    default_locale: str = "ja"
    log_level: str = "INFO"
    log_json: bool = True

    # Distributed mode (docs/network.md): agencies whose intermediate server runs as a
    # node of its own, as a JSON object of agency code -> node base URL, e.g.
    # {"muni-131016": "http://127.0.0.1:9101"}. The hub reaches those over HTTP and every
    # other agency in-process.
    agency_nodes: dict[str, str] = Field(default_factory=dict)
    # Independent witnesses (`myna log witness`) whose cosignatures of the exchange log's
    # tree heads the portal accepts and publishes: {"name": public JWK (EC P-256)}.
    log_witnesses: dict[str, dict[str, str]] = Field(default_factory=dict)
    # Which of a tree head's signatures `myna log verify` requires: "classic" is ES256,
    # "hybrid" both ES256 and ML-DSA-65, "post-quantum" ML-DSA-65 (see ADR 10).
    log_signature_policy: Literal["classic", "hybrid", "post-quantum"] = "classic"
    # Hub messages and receipts (ADR 10, docs/network.md): which signatures this process
    # makes with the keys it keeps ("classic" ES256; "hybrid" ES256 and ML-DSA-65 — an
    # agency node signs with the ML-DSA-65 key given to `myna agency serve --pq-key`) ...
    message_signatures: Literal["classic", "hybrid"] = "classic"
    # ... and which it requires of the messages it receives, at the hub and at agency
    # nodes: "classic" checks ES256 and ignores the second signature, "hybrid" needs both,
    # "post-quantum" needs ML-DSA-65. Switch the signers to hybrid first.
    message_signature_policy: Literal["classic", "hybrid", "post-quantum"] = "classic"
    # How long the hub waits on an agency node (to connect, to send, between bytes of
    # the answer) before that provider's items are reported unavailable.
    agency_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    # How often an agency node fetches the government CA's CRL again (it keeps the last
    # one until its nextUpdate if a fetch fails): a revoked hub certificate is refused
    # by every node within this time.
    node_crl_max_age_seconds: int = Field(default=300, ge=1, le=86_400)

    @field_validator("agency_nodes")
    @classmethod
    def _node_urls(cls, nodes: dict[str, str]) -> dict[str, str]:
        for code, url in nodes.items():
            if not code or not url.startswith(("http://", "https://")):
                msg = f"MYNA_AGENCY_NODES: {code!r} needs an http:// or https:// base URL"
                raise ValueError(msg)
        return {code: url.rstrip("/") for code, url in nodes.items()}

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, token: object) -> object:
        return None if token == "" else token

    @field_validator("metrics_token")
    @classmethod
    def _long_enough(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and len(token.get_secret_value()) < MIN_METRICS_TOKEN_LENGTH:
            msg = f"MYNA_METRICS_TOKEN needs at least {MIN_METRICS_TOKEN_LENGTH} characters"
            raise ValueError(msg)
        return token

    @model_validator(mode="after")
    def _sign_what_is_required(self) -> Settings:
        # A process that requires ML-DSA-65 signatures receives its own messages too (the
        # hub answers itself in embedded mode): it must make them.
        if self.message_signature_policy != "classic" and self.message_signatures != "hybrid":
            msg = (
                "MYNA_MESSAGE_SIGNATURE_POLICY=hybrid or post-quantum needs "
                "MYNA_MESSAGE_SIGNATURES=hybrid"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _refuse_development_secrets(self) -> Settings:
        if self.environment != "development":
            for name in ("secret_key", "card_secret", "ca_secret"):
                if getattr(self, name).get_secret_value() == _DEV_SECRET:
                    msg = f"MYNA_{name.upper()} must be set outside development"
                    raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _refuse_loopback_jwks_in_production(self) -> Settings:
        if self.environment == "production" and self.partner_jwks_allow_loopback:
            msg = "MYNA_PARTNER_JWKS_ALLOW_LOOPBACK must not be set in production"
            raise ValueError(msg)
        return self

    @property
    def effective_database_url(self) -> str:
        """The configured database, or a SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'myna.db').as_posix()}"

    @property
    def card_dir(self) -> Path:
        """Where the virtual MyNumber cards live (one file each)."""
        return self.data_dir / "cards"

    @property
    def institution_dir(self) -> Path:
        """Where the clinic counter finds its institutions' keys and certificates."""
        return self.data_dir / "institutions"

    @property
    def sender_dir(self) -> Path:
        """Where the 民間送達 senders' keys and certificates are written (the demo's too)."""
        return self.data_dir / "senders"

    @property
    def verifier_dir(self) -> Path:
        """Where registered verifiers' keys and certificates are written (the demo's too)."""
        return self.data_dir / "verifiers"

    @property
    def trusted_portals(self) -> list[str]:
        """Portal origins the reader answers for; the configured portal by default."""
        return self.reader_trusted_portals or [self.portal_url.rstrip("/")]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read from the environment once)."""
    return Settings()
