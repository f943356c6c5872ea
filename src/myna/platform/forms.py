"""Reading posted forms, and the settings as a dependency.

Every context's pages read forms the same way (text only, bounded, no NUL, read before
the database is touched). The login session and its CSRF check are
``myna.platform.sessions``.
"""

# No `from __future__ import annotations`: FastAPI reads these dependencies'
# annotations at definition time.

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import UploadFile

from myna.platform.errors import N_, MynaError
from myna.platform.settings import Settings
from myna.platform.web import get_container

MAX_FIELDS = 100


class InvalidFormInputError(MynaError, code="invalid_form", status_code=400):
    """A posted form that no page of ours produces (files, NUL, too many fields)."""

    message = N_("The form could not be read. Please reload the page and fill it in again.")


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
        posted = await request.form(max_files=1, max_fields=40)
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
