"""Back-office secrets at rest: scrypt password records and sealed TOTP secrets."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from pydantic import SecretStr

from myna.office import service as office
from myna.platform.settings import Settings
from tests.conftest import TEST_SETTINGS

SETTINGS = Settings(environment="test", **TEST_SETTINGS)  # type: ignore[arg-type]
OTHER = SETTINGS.model_copy(update={"secret_key": SecretStr("another-secret-key")})


def test_a_password_record_names_its_scrypt_parameters_and_verifies() -> None:
    record = office.hash_password("correct horse battery")
    scheme, n, r, p, _salt, _key = record.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**14, 8, 1)
    assert office.check_password("correct horse battery", record)
    assert not office.check_password("correct horse batterY", record)


def test_each_password_gets_its_own_salt() -> None:
    assert office.hash_password("same password!") != office.hash_password("same password!")


def test_a_sealed_totp_secret_opens_only_for_its_account_and_key() -> None:
    sealed = office.seal_secret("JBSWY3DPEHPK3PXP", settings=SETTINGS, login_id="yamamoto")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert office.open_secret(sealed, settings=SETTINGS, login_id="yamamoto") == "JBSWY3DPEHPK3PXP"
    with pytest.raises(InvalidTag):
        office.open_secret(sealed, settings=SETTINGS, login_id="suzuki")
    with pytest.raises(InvalidTag):
        office.open_secret(sealed, settings=OTHER, login_id="yamamoto")


def test_every_role_has_a_label() -> None:
    assert set(office.ROLE_LABELS) == set(office.StaffRole)


def test_a_password_record_made_at_another_work_factor_records_it_and_verifies() -> None:
    record = office.hash_password("correct horse battery", 11)
    assert record.split("$")[1] == str(2**11)
    assert office.check_password("correct horse battery", record)
    assert not office.check_password("correct horse battery!", record)
