"""Acting for another resident in FastAPI: the dependency of the pages a proxy may use.

A page of the resident's own declares ``CurrentResident`` (the platform's), which
refuses a session acting for someone else. A page a proxy may use for the person they
act for declares the scope it needs instead — ``ActingForNotices``, ``ActingForMyInfo``,
``ActingForApply`` — or ``ActingOrSelf`` for the home page. For the resident's own
session these are ``CurrentResident``; for an acting session the grant it rests on is
checked against its live record at this request (a revoked or expired appointment, a
child who turned 15: the acting ends there and then) and the page gets the principal as
``resident_id`` and the card holder as ``proxy_id``.
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies' annotations
# at definition time.

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import anyio.to_thread
from fastapi import Depends, Request

from myna.platform.db import unit_of_work
from myna.platform.errors import MynaError
from myna.platform.sessions import RESIDENT, OptionalResident, ResidentSession
from myna.platform.web import get_container, remember_resident
from myna.proxy import service
from myna.proxy.domain import Authority, AuthorityEndedError, Scope, ScopeNotGrantedError

if TYPE_CHECKING:
    from myna.bootstrap import Container


def _authority(container: "Container", resident: ResidentSession) -> Authority | MynaError:
    """The live authority of an acting session; an ended one stops the acting (committed)."""
    assert resident.acting_grant is not None  # noqa: S101 - only acting sessions come here
    with unit_of_work(container.session_factory) as db:
        try:
            authority = service.authority_of(
                session=db,
                proxy_id=resident.resident_id,
                grant=resident.acting_grant,
                now=container.proxy_clock(),
            )
        except AuthorityEndedError as ended:
            container.sessions.stop_acting(db, RESIDENT, resident.token)
            return ended
    if authority.principal_id != resident.acting_for:
        with unit_of_work(container.session_factory) as db:
            container.sessions.stop_acting(db, RESIDENT, resident.token)
        return AuthorityEndedError()
    return authority


def acting_resident(scope: Scope | None) -> Callable[..., Awaitable[ResidentSession]]:
    """The dependency of a page a proxy may use for ``scope`` (None: any authority)."""

    async def dependency(request: Request, resident: OptionalResident) -> ResidentSession:
        if resident is None:
            raise RESIDENT.login_error
        if resident.acting_for is None:
            return resident
        container = get_container(request)
        found = await anyio.to_thread.run_sync(_authority, container, resident)
        if isinstance(found, MynaError):
            # Back in their own portal: the refusal's page shows no banner.
            remember_resident(
                request, resident_id=resident.resident_id, csrf_token=resident.csrf_token
            )
            raise found
        if scope is not None and not found.allows(scope):
            raise ScopeNotGrantedError
        return replace(
            resident,
            resident_id=found.principal_id,
            proxy_id=resident.resident_id,
            certificate_serial=None,
        )

    return dependency


ActingOrSelf = Annotated[ResidentSession, Depends(acting_resident(None))]
ActingForNotices = Annotated[ResidentSession, Depends(acting_resident(Scope.NOTICES))]
ActingForMyInfo = Annotated[ResidentSession, Depends(acting_resident(Scope.MY_INFO))]
ActingForApply = Annotated[ResidentSession, Depends(acting_resident(Scope.APPLY))]
