"""Reading posted forms, and what a context's pages need of the resident's session.

Every context's pages read forms the same way (text only, bounded, no NUL, read before
the database is touched) and receive the portal's login session through the same small
Protocols, so none of them imports another context's views to get them.
"""

# No `from __future__ import annotations`: FastAPI reads these dependencies'
# annotations at definition time.

from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from myna.platform.errors import N_, MynaError
from myna.platform.settings import Settings
from myna.platform.web import get_container

MAX_FIELDS = 100


class InvalidFormInputError(MynaError):
    """A posted form that no page of ours produces (files, NUL, too many fields)."""

    code = "invalid_form"
    message = N_("The form could not be read. Please reload the page and fill it in again.")
    status_code = 400


class LoggedIn(Protocol):
    """What the pages need of the portal's session."""

    @property
    def resident_id(self) -> int | None: ...
    @property
    def csrf_token(self) -> str: ...


class ResidentSession(Protocol):
    """The portal's ``resident_session``: a logged-in session or NotLoggedInError."""

    def __call__(self, db: Session, settings: Settings, token: str | None, /) -> LoggedIn: ...


class CsrfCheck(Protocol):
    """The portal's ``check_csrf``: raises unless the token is the session's."""

    def __call__(self, active: Any, submitted: str | None, /) -> None: ...


def resident_of(active: LoggedIn) -> int:
    """The logged-in resident's id (``resident_session`` guarantees there is one)."""
    assert active.resident_id is not None  # noqa: S101 - guaranteed by resident_session
    return active.resident_id


async def _settings(request: Request) -> Settings:
    return get_container(request).settings


async def _posted(request: Request) -> dict[str, str]:
    """The posted fields as text; reading the body touches no database."""
    try:
        posted = await request.form(max_files=0, max_fields=MAX_FIELDS)
    except Exception as error:  # Starlette raises its own parser errors on garbage
        raise InvalidFormInputError from error
    values: dict[str, str] = {}
    for name, value in posted.multi_items():
        if isinstance(value, UploadFile) or "\x00" in value or "\x00" in name:
            raise InvalidFormInputError
        values.setdefault(name, value)
    return values


async def _upload(request: Request) -> tuple[dict[str, str], UploadFile | None]:
    """A multipart post with one file (``file``) and text fields; read before the database."""
    try:
        posted = await request.form(max_files=1, max_fields=5)
    except Exception as error:  # Starlette raises its own parser errors on garbage
        raise InvalidFormInputError from error
    values: dict[str, str] = {}
    upload: UploadFile | None = None
    for name, value in posted.multi_items():
        if isinstance(value, UploadFile):
            upload = value if name == "file" else upload
        elif "\x00" in value:
            raise InvalidFormInputError
        else:
            values.setdefault(name, value)
    return values, upload


async def _posted_many(request: Request) -> dict[str, list[str]]:
    """The posted fields, keeping every value of repeated names (checkbox groups)."""
    try:
        posted = await request.form(max_files=0, max_fields=MAX_FIELDS)
    except Exception as error:  # Starlette raises its own parser errors on garbage
        raise InvalidFormInputError from error
    values: dict[str, list[str]] = {}
    for name, value in posted.multi_items():
        if isinstance(value, UploadFile) or "\x00" in value or "\x00" in name:
            raise InvalidFormInputError
        values.setdefault(name, []).append(value)
    return values


SettingsDep = Annotated[Settings, Depends(_settings)]
Posted = Annotated[dict[str, str], Depends(_posted)]
Upload = Annotated[tuple[dict[str, str], UploadFile | None], Depends(_upload)]
PostedMany = Annotated[dict[str, list[str]], Depends(_posted_many)]
