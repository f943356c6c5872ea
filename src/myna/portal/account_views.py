"""The resident's public-fund receiving account (公金受取口座): show, register, change, delete.

The bank and the branch are chosen by name from the Zengin list: a search button
(``action=find_bank`` / ``find_branch``) shows the form again with the matches to choose
from and everything typed kept, so the page needs no script.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from myna import reference, registry
from myna.platform.errors import N_
from myna.platform.i18n import gettext as _
from myna.platform.sessions import CsrfField, CurrentResident, check_csrf
from myna.platform.web import get_container, transaction
from myna.portal import accounts_service
from myna.portal.views import templates

router = APIRouter(include_in_schema=False)

Field = Annotated[str, Form(max_length=64)]
NO_STORE = {"Cache-Control": "no-store"}
FIND_BANK, FIND_BRANCH = "find_bank", "find_branch"
_NO_BANK_FOUND = N_(
    "No financial institution matches 「{query}」. Try part of its name (e.g. みずほ, "
    "ゆうちょ, 横浜信金) or its 4-digit code."
)
_NO_BRANCH_FOUND = N_(
    "{bank} has no branch matching 「{query}」. Try part of the branch name or its 3-digit code."
)
_ENTER_BANK_QUERY = N_("Enter part of the name of your bank to search for it.")
_ENTER_BRANCH_QUERY = N_("Enter part of the name of your branch to search for it.")
_CHOOSE_BANK_FIRST = N_("Choose the bank first, then search for its branch.")
_BANKS_FOUND = N_("Choose your bank from the list.")
_BRANCHES_FOUND = N_("Choose your branch from the list.")


@dataclass(frozen=True, slots=True)
class Choices:
    """What the bank and branch lists offer, and a message about the last search."""

    banks: list[reference.BankRead] = field(default_factory=list)
    branches: list[reference.BranchRead] = field(default_factory=list)
    message: str = ""


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
    bank_query: Field = "",
    branch_query: Field = "",
    action: Field = "",
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
    queries = {"bank_query": bank_query, "branch_query": branch_query}
    if action in {FIND_BANK, FIND_BRANCH}:
        with transaction(request) as db:
            account = registry.get_account(session=db, resident_id=current.resident_id)
        form, choices, errors = (
            _search_bank(form, bank_query)
            if action == FIND_BANK
            else _search_branch(form, branch_query)
        )
        return _form_page(
            request,
            form,
            errors,
            current.csrf_token,
            changing=account is not None,
            choices=choices,
            queries=queries,
            status_code=422 if errors else 200,
        )
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
        request,
        form,
        {name: error.localized() for name, error in invalid.errors.items()},
        current.csrf_token,
        changing=changing,
        queries=queries,
        status_code=422,
    )


Searched = tuple[registry.AccountForm, Choices, dict[str, str]]


def _search_bank(form: registry.AccountForm, query: str) -> Searched:
    """Banks by name or code; a single match is chosen at once (its branch to choose again)."""
    if not query.strip():
        return form, Choices(), {"bank_query": _(_ENTER_BANK_QUERY)}
    banks = reference.search_banks(query)
    if not banks:
        return form, Choices(), {"bank_query": _(_NO_BANK_FOUND).format(query=query)}
    if len(banks) == 1 and banks[0].code != form.bank_code:
        form = replace(form, bank_code=banks[0].code, branch_code="")
    return form, Choices(banks=banks, message=_(_BANKS_FOUND)), {}


def _search_branch(form: registry.AccountForm, branch_query: str) -> Searched:
    """Branches of the chosen bank by name or code; a single match is chosen at once."""
    bank = reference.get_bank(reference.normalise_digits(form.bank_code))
    if bank is None:
        return form, Choices(), {"branch_query": _(_CHOOSE_BANK_FIRST)}
    if not branch_query.strip():
        return form, Choices(), {"branch_query": _(_ENTER_BRANCH_QUERY)}
    branches = reference.search_branches(bank.code, branch_query)
    if not branches:
        message = _(_NO_BRANCH_FOUND).format(bank=bank.name, query=branch_query)
        return form, Choices(), {"branch_query": message}
    if len(branches) == 1:
        form = replace(form, branch_code=branches[0].code)
    return form, Choices(branches=branches, message=_(_BRANCHES_FOUND)), {}


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
    errors: dict[str, str],
    csrf_token: str,
    *,
    changing: bool,
    choices: Choices | None = None,
    queries: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    choices = choices or Choices()
    bank_code = reference.normalise_digits(form.bank_code)
    bank = reference.get_bank(bank_code)
    banks = list(choices.banks)
    if bank is not None and bank not in banks:
        banks.insert(0, bank)  # the bank chosen stays on the list
    branches = list(choices.branches)
    branch = None if bank is None else reference.get_branch(bank.code, form.branch_code.strip())
    if branch is not None and branch not in branches:
        branches.insert(0, branch)
    return templates.page(
        request,
        "portal/account_form.html",
        form=form,
        errors=errors,
        bank_choices=banks,
        branch_choices=branches,
        chosen_bank=bank,
        search_message=choices.message,
        queries=queries or {},
        account_types=[t.value for t in registry.AccountType],
        changing=changing,
        csrf_token=csrf_token,
        status_code=status_code,
        headers=NO_STORE,
    )
