"""Every operation of the published OpenAPI schema, fuzzed in-process: never a 5xx, and
every answer one the schema declares (status code, media type, body).

Schemathesis generates valid and invalid requests from ``/api/openapi.json`` and sends
them to the app over the test database, a fixed number per operation and the same ones
every run (derandomized). The platform is set up (municipalities, CAs), the municipality
filing API gets a real bearer token and its receipt numbers name a real filing with an
attached file, so those handlers see the generated input past the token and the lookup.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from joserfc import jwt
from joserfc.jwk import ECKey
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from myna import jpki, registry
from myna.app import create_app
from myna.applications import submission
from myna.applications.service import ApplicationRead
from myna.bootstrap import Container, build_container
from myna.office import filings
from myna.platform.settings import Settings
from tests.conftest import TEST_SETTINGS
from tests.integration.applications.filing import file_application, signer_for

CHIYODA = "131016"
MUNICIPALITY_API = "/api/municipality/"
# Enough to reach every handler with odd input, small enough for a two-core CI run.
EXAMPLES_PER_OPERATION = 25

# Once per run, on PostgreSQL: where out-of-range integers and dates reach a stricter
# database (SQLite stores what PostgreSQL refuses).
pytestmark = [pytest.mark.slow, pytest.mark.postgres]
# No 5xx, and every answer is one the schema declares: its status code, its media type
# and its body (the common error body included).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _published_schema() -> dict[str, Any]:
    """The OpenAPI document the app serves (it does not depend on the database)."""
    settings = Settings(environment="test", **TEST_SETTINGS)  # type: ignore[arg-type]
    container = build_container(settings, engine=create_engine("sqlite://"))
    return create_app(container).openapi()


schema = schemathesis.openapi.from_dict(_published_schema())
# Agencies post notices as a compact JWS: text on the wire.
schemathesis.serializer.alias("application/jose", "text/plain")


@pytest.fixture
def app(container: Container) -> FastAPI:
    """The app over the test's transaction; generated requests reach their handlers."""
    container.settings = container.settings.model_copy(
        update={"login_rate_limit": "100000/minute", "partner_rate_limit": "100000/minute"}
    )
    return create_app(container)


@pytest.fixture
def municipality_token(session: Session, container: Container) -> str:
    """A set-up platform (municipalities, CAs) and a filing API token for 千代田区."""
    registry.ensure_municipalities(session=session)
    jpki.ensure_authorities(session=session, settings=container.settings)
    client, private = filings.generate_client(
        session=session, municipality_code=CHIYODA, name="千代田区 基幹系"
    )
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": client.client_id,
        "sub": client.client_id,
        "aud": filings.token_endpoint(container.settings),
        "exp": now + 120,
        "jti": str(uuid.uuid4()),
    }
    assertion = jwt.encode(
        {"alg": filings.ALGORITHM, "kid": client.client_id}, claims, ECKey.import_key(private)
    )
    issued = filings.issue_token(
        session=session,
        settings=container.settings,
        grant_type=filings.GRANT_TYPE,
        client_assertion_type=filings.ASSERTION_TYPE,
        client_assertion=assertion,
    )
    session.commit()
    return issued.access_token


@pytest.fixture
def filed(session: Session, container: Container) -> ApplicationRead:
    """An application filed with 千代田区 by the persona taro, with one attached file."""
    taro = signer_for(session, container.settings, "taro")
    submission.add_attachment(
        session=session,
        resident_id=taro.resident_id,
        municipality_code=taro.municipality_code,
        code="disaster-certificate",
        name="写真.pdf",
        media_type="application/pdf",
        data=b"%PDF-1.7\n" + b"0" * 64,
    )
    application = file_application(session, container.settings, taro)
    session.commit()
    return application


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    # One app and one database transaction serve every example of an operation.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_generated_request_gets_a_declared_answer(
    case: schemathesis.Case[Any],
    app: FastAPI,
    municipality_token: str,
    request: pytest.FixtureRequest,
) -> None:
    headers = {}
    if case.path.startswith(MUNICIPALITY_API) and not case.path.endswith("/token"):
        headers["Authorization"] = f"Bearer {municipality_token}"
    if case.path_parameters and "receipt_number" in case.path_parameters:
        # A real filing, so attachment ids and status changes reach the application.
        filed: ApplicationRead = request.getfixturevalue("filed")
        case.path_parameters["receipt_number"] = filed.receipt_number
    # Redirects are answers of their own (declared as such), not followed.
    case.call_and_validate(app=app, headers=headers, checks=CHECKS, allow_redirects=False)
