"""The resident's public-fund receiving account (公金受取口座): show, register, change, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from myna import registry
from myna.platform.sessions import CsrfField, CurrentResident, check_csrf
from myna.platform.web import get_container, transaction
from myna.portal import accounts_service
from myna.portal.views import templates

router = APIRouter(include_in_schema=False)

Field = Annotated[str, Form(max_length=64)]
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, current: CurrentResident) -> Response:
    with transaction(request) as db:
        account = registry.get_account(session=db, resident_id=current.resident_id)
        history = registry.account_history(session=db, resident_id=current.resident_id)
    return templates.page(
        request,
        "portal/account.html",
        account=account,
        history=history,
        notice=request.query_params.get("done", ""),
        headers=NO_STORE,
    )


@router.get("/account/edit", response_class=HTMLResponse)
def account_edit(request: Request, current: CurrentResident) -> Response:
    with transaction(request) as db:
        account = registry.get_account(session=db, resident_id=current.resident_id)
    form = registry.AccountForm()
    if account is not None:
        form = registry.AccountForm(
            bank_code=account.bank_code,
            branch_code=account.branch_code,
            account_type=account.account_type.value,
            number=account.number,
            holder_kana=account.holder_kana,
        )
    return _form_page(request, form, {}, current.csrf_token, changing=account is not None)


@router.post("/account")
def account_save(
    request: Request,
    current: CurrentResident,
    csrf_token: CsrfField,
    bank_code: Field = "",
    branch_code: Field = "",
    account_type: Field = "",
    number: Field = "",
    holder_kana: Field = "",
    symbol: Field = "",
    symbol_number: Field = "",
) -> Response:
    form = registry.AccountForm(
        bank_code=bank_code,
        branch_code=branch_code,
        account_type=account_type,
        number=number,
        holder_kana=holder_kana,
        symbol=symbol,
        symbol_number=symbol_number,
    )
    check_csrf(current, csrf_token)
    with transaction(request) as db:
        changing = registry.get_account(session=db, resident_id=current.resident_id) is not None
        try:
            accounts_service.save_account(
                session=db,
                hub=get_container(request).hub_for(db),
                resident_id=current.resident_id,
                form=form,
            )
        except registry.InvalidAccountError as error:
            invalid = error
        else:
            return RedirectResponse("/account?done=saved", status_code=303)
    return _form_page(
        request, form, invalid.errors, current.csrf_token, changing=changing, status_code=422
    )


@router.get("/account/delete", response_class=HTMLResponse)
def account_delete_confirm(request: Request, current: CurrentResident) -> Response:
    with transaction(request) as db:
        account = registry.get_account(session=db, resident_id=current.resident_id)
    if account is None:
        return RedirectResponse("/account", status_code=303)
    return templates.page(
        request,
        "portal/account_delete.html",
        account=account,
        csrf_token=current.csrf_token,
        headers=NO_STORE,
    )


@router.post("/account/delete")
def account_delete(request: Request, current: CurrentResident, csrf_token: CsrfField) -> Response:
    check_csrf(current, csrf_token)
    with transaction(request) as db:
        accounts_service.remove_account(
            session=db, hub=get_container(request).hub_for(db), resident_id=current.resident_id
        )
    return RedirectResponse("/account?done=deleted", status_code=303)


def _form_page(
    request: Request,
    form: registry.AccountForm,
    errors: dict[str, registry.AccountFieldError],
    csrf_token: str,
    *,
    changing: bool,
    status_code: int = 200,
) -> Response:
    return templates.page(
        request,
        "portal/account_form.html",
        form=form,
        errors={field: error.localized() for field, error in errors.items()},
        account_types=[t.value for t in registry.AccountType],
        changing=changing,
        csrf_token=csrf_token,
        status_code=status_code,
        headers=NO_STORE,
    )
