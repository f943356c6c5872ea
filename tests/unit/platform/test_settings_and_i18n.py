import pytest
from pydantic import ValidationError

from myna.platform import i18n
from myna.platform.errors import N_, MynaError
from myna.platform.settings import Settings


def test_it_refuses_the_development_secrets_in_production() -> None:
    with pytest.raises(ValidationError, match="MYNA_SECRET_KEY must be set"):
        Settings(environment="production")


def test_it_accepts_real_secrets_in_production() -> None:
    settings = Settings(
        environment="production",
        secret_key="a" * 32,  # type: ignore[arg-type]
        card_secret="b" * 32,  # type: ignore[arg-type]
        ca_secret="c" * 32,  # type: ignore[arg-type]
    )
    assert settings.effective_database_url.startswith("sqlite:///")


@pytest.mark.parametrize(
    ("requested", "accept", "expected"),
    [
        (None, None, "ja"),
        ("en", "ja", "en"),
        (None, "en-US,en;q=0.9", "en"),
        (None, "fr-FR, ja;q=0.5", "ja"),
        ("xx", "de", "ja"),
    ],
)
def test_japanese_is_the_default_and_english_is_a_choice(
    requested: str | None, accept: str | None, expected: str
) -> None:
    assert i18n.negotiate(requested, accept) == expected


def test_errors_are_shown_in_the_locale_in_force() -> None:
    class LockedError(MynaError):
        message = N_("Too many attempts. Please wait a minute and try again.")

    i18n.set_locale("en")
    assert LockedError().localized() == "Too many attempts. Please wait a minute and try again."
    i18n.set_locale("ja")
    japanese = LockedError().localized()
    assert japanese != LockedError.message
    assert "しばらく" in japanese or "1分" in japanese
