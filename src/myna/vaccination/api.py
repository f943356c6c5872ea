"""The municipalities' published keys for SMART Health Cards (JWKS at the issuer URL).

``GET /vaccination/issuers/{code}/.well-known/jwks.json``: public, readable from any
origin (CORS), as the SMART Health Cards spec asks of an issuer.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at
# definition time.

from typing import Annotated

from fastapi import APIRouter, Path, Request

from myna.platform.api_errors import error_responses
from myna.platform.web import get_container, transaction
from myna.vaccination import service
from myna.vaccination.schemas import JwkSet

router = APIRouter(tags=["vaccination"], responses=error_responses(404))
MunicipalityCode = Annotated[str, Path(pattern=r"^\d{6}$", description="全国地方公共団体コード")]


@router.get(
    service.ISSUERS_PATH + "/{municipality_code}" + service.JWKS_SUFFIX,
    response_model=JwkSet,
    summary="A municipality's keys for the SMART Health Cards it issues",
)
def issuer_keys(request: Request, municipality_code: MunicipalityCode) -> JwkSet:
    """Every key whose certificate from the government CA is good now, with its x5c chain."""
    with transaction(request) as db:
        found = service.jwks(
            session=db,
            settings=get_container(request).settings,
            municipality_code=municipality_code,
        )
    return JwkSet.model_validate(found)
