"""The resident's web pages: landing, card login, home, logout, language."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from myna import network, proxy, registry
from myna.cardlogin import ChallengeBindingError, reader_link
from myna.cardlogin.web import ChallengeIdForm, ChallengeIdPath, qr_svg
from myna.network import transparency
from myna.platform.errors import NotFoundError
from myna.platform.forms import SettingsDep
from myna.platform.params import LogIndex
from myna.platform.ratelimit import Limit
from myna.platform.sessions import (
    RESIDENT,
    CsrfField,
    CurrentResident,
    OptionalResident,
    ResidentBrowser,
    check_csrf,
    clear_session_cookie,
    current_resident,
    set_session_cookie,
)
from myna.platform.urls import is_site_path
from myna.platform.web import client_address, get_container, templates_beside, transaction
from myna.portal import presenters, service
from myna.portal.dependencies import LoginLimiterDep, log_out
from myna.portal.domain import NoCategoryChosenError, NoTreeHeadYetError
from myna.portal.schemas import ExchangeFilters

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)
# The purpose やりとり履歴 shows for わたしの情報 retrieved by a proxy (代理人).
PROXY_PURPOSE = "代理人による自己情報の確認"


def local_path(value: str, default: str = "/home") -> str:
    """Where to go after logging in: a path of this site only (no open redirect)."""
    return value if is_site_path(value) else default


@router.get("/", response_class=HTMLResponse)
def index(request: Request, current: OptionalResident) -> Response:
    if current is not None:
        return RedirectResponse("/home", status_code=303)
    return templates.page(
        request, "portal/index.html", logged_out=request.query_params.get("logged_out") == "1"
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    settings: SettingsDep,
    limiter: LoginLimiterDep,
    browser: ResidentBrowser,
    next: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    after = local_path(next)
    if browser is not None and browser.logged_in:
        return RedirectResponse(after, status_code=303)
    limiter.hit(Limit.LOGIN, client_address(request))
    with transaction(request) as db:
        if browser is None:
            browser = get_container(request).sessions.open(db, RESIDENT)
        view = service.start_login(session=db, settings=settings, session_token=browser.token)
    response = templates.page(
        request,
        "portal/login.html",
        challenge=view,
        reader_link=reader_link(settings.reader_url, settings.portal_url, view.challenge_id),
        csrf_token=browser.csrf_token,
        ttl_minutes=max(1, settings.challenge_ttl_seconds // 60),
        next_path=after,
        headers={"Cache-Control": "no-store"},
    )
    if browser.is_new:
        set_session_cookie(request, response, RESIDENT, browser)
    return response


@router.get("/login/qr/{challenge_id}.svg")
def login_qr(
    challenge_id: ChallengeIdPath,
    request: Request,
    settings: SettingsDep,
    browser: ResidentBrowser,
) -> Response:
    if browser is None:
        return Response(status_code=404)
    with transaction(request) as db:
        bound = service.is_bound(session=db, challenge_id=challenge_id, session_token=browser.token)
    if not bound:
        return Response(status_code=404)
    svg = qr_svg(reader_link(settings.reader_url, settings.portal_url, challenge_id))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/login/status/{challenge_id}")
def login_status(
    challenge_id: ChallengeIdPath, request: Request, browser: ResidentBrowser
) -> Response:
    if browser is None:
        # No session cannot be the browser that started it: the documented error shape.
        raise ChallengeBindingError
    with transaction(request) as db:
        status = service.challenge_status(
            session=db, challenge_id=challenge_id, session_token=browser.token
        )
    return JSONResponse({"status": status}, headers={"Cache-Control": "no-store"})


@router.post("/login/complete")
def login_complete(
    request: Request,
    browser: ResidentBrowser,
    challenge_id: ChallengeIdForm,
    csrf_token: CsrfField,
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    current = check_csrf(browser, csrf_token)
    with transaction(request) as db:
        active = service.complete_login(
            session=db,
            sessions=get_container(request).sessions,
            challenge_id=challenge_id,
            session_token=current.token,
            client_ip=client_address(request),
        )
    response = RedirectResponse(local_path(next), status_code=303)
    set_session_cookie(request, response, RESIDENT, active)
    return response


@router.get("/home", response_class=HTMLResponse)
def home(request: Request, current: proxy.ActingOrSelf) -> Response:
    """My page; for a proxy acting for someone, theirs, with only the pages allowed."""
    acting = current.proxy_id is not None
    with transaction(request) as db:
        resident = registry.get_resident(session=db, resident_id=current.resident_id)
        events = (
            []
            if acting
            else service.recent_auth_events(session=db, resident_id=current.resident_id, limit=5)
        )
    return templates.page(
        request,
        "portal/home.html",
        resident=resident,
        certificate_not_after=None if acting else current.certificate_not_after,
        events=events,
        home_acting_scopes=(current.acting_scopes or "").split() if acting else None,
        headers={"Cache-Control": "no-store"},
    )


@router.post("/logout")
def logout(request: Request, browser: ResidentBrowser, csrf_token: CsrfField) -> Response:
    current = check_csrf(browser, csrf_token)
    log_out(request, token=current.token, resident_id=current.subject_id)
    response = RedirectResponse("/?logged_out=1", status_code=303)
    clear_session_cookie(request, response, RESIDENT)
    return response


def _my_info_page(
    request: Request,
    csrf_token: str,
    options: list[presenters.CategoryOption],
    selected: set[str],
    result: presenters.SelfInfoView | None,
) -> Response:
    """わたしの情報: the categories to choose from, those chosen, what was retrieved."""
    return templates.page(
        request,
        "portal/my_info.html",
        categories=options,
        selected=selected,
        result=result,
        csrf_token=csrf_token,
        headers={"Cache-Control": "no-store"},
    )


@router.get("/my-info", response_class=HTMLResponse)
def my_info(request: Request, current: proxy.ActingForMyInfo) -> Response:
    options = presenters.categories()
    return _my_info_page(request, current.csrf_token, options, {c.code for c in options}, None)


@router.post("/my-info")
def my_info_retrieve(
    request: Request,
    current: proxy.ActingForMyInfo,
    csrf_token: CsrfField,
    category: Annotated[list[str], Form(max_length=64)] = [],  # noqa: B006 - FastAPI form default
    format: Annotated[str, Form(pattern="^(html|json|csv)$")] = "html",
) -> Response:
    check_csrf(current, csrf_token)
    selected = list(dict.fromkeys(category))[:20]
    items = presenters.items_of(selected)
    if not items:
        raise NoCategoryChosenError
    with transaction(request) as db:
        outcome = network.request_self_information(
            session=db,
            hub=get_container(request).hub_for(db),
            resident_id=current.resident_id,
            items=items,
            # A proxy's retrieval is logged as theirs, for the resident (やりとり履歴).
            purpose=None if current.proxy_id is None else PROXY_PURPOSE,
            actor_id=current.proxy_id,
        )
        view = presenters.self_info_view(db, outcome, selected)
    if format == "json":
        return JSONResponse(
            presenters.self_info_json(view),
            headers=_download("my-information.json"),
        )
    if format == "csv":
        return _csv(presenters.self_info_csv(view), "my-information.csv")
    return _my_info_page(request, current.csrf_token, presenters.categories(), set(selected), view)


@router.get("/exchanges", response_class=HTMLResponse)
def exchanges(
    request: Request,
    current: CurrentResident,
    filters: Annotated[ExchangeFilters, Query()],
) -> Response:
    with transaction(request) as db:
        page = transparency.exchanges_for_subject(
            session=db, **_which(current.resident_id, filters), page=filters.page, page_size=20
        )
        head = _latest_head(db)
        exchanges = presenters.exchange_views(db, page.items, head.tree_size if head else 0)
        agencies_seen = sorted(
            {
                (e.provider, presenters.agency_label(db, e.provider))
                for exchange in page.items
                for e in exchange.entries
            },
            key=lambda pair: pair[1],
        )
    return templates.page(
        request,
        "portal/exchanges.html",
        exchanges=exchanges,
        head=head,
        filters=filters,
        agencies=agencies_seen,
        items=[
            (c, presenters.item_label(c))
            for c in presenters.items_of(c.code for c in presenters.categories())
        ],
        page=page.page,
        has_next=page.page < page.pages,
        query=filters.query_string(),
        headers={"Cache-Control": "no-store"},
    )


@router.get("/exchanges.csv")
def exchanges_csv(
    request: Request,
    current: CurrentResident,
    filters: Annotated[ExchangeFilters, Query()],
) -> Response:
    with transaction(request) as db:
        entries = []
        number = 1
        while True:
            page = _exchange_page(db, current.resident_id, filters, page_size=500, number=number)
            entries.extend(page.items)
            if page.page >= page.pages or number >= MAX_EXPORT_PAGES:
                break
            number += 1
        head = _latest_head(db)
        rows = presenters.exchange_rows(db, entries, head.tree_size if head else 0)
    return _csv(presenters.exchanges_csv(rows), "exchange-history.csv")


@router.get("/exchanges/tree-head.json", dependencies=[Depends(current_resident)])
def exchange_tree_head(request: Request) -> Response:
    with transaction(request) as db:
        head = _latest_head(db)
    if head is None:
        raise NoTreeHeadYetError
    return JSONResponse(head.to_json(), headers=_download("tree-head.json"))


@router.get("/exchanges/{index}/proof.json")
def exchange_proof(index: LogIndex, request: Request, current: CurrentResident) -> Response:
    with transaction(request) as db:
        try:
            entry = transparency.get_entry(session=db, index=index)
        except transparency.TransparencyError as exc:
            raise NotFoundError from exc
        # One resident never sees another's entry, not even that it exists.
        if entry.subject != str(current.resident_id):
            raise NotFoundError
        bundle = transparency.inclusion_bundle(session=db, index=index)
    if bundle is None:
        raise NoTreeHeadYetError
    return JSONResponse(bundle.to_json(), headers=_download(f"inclusion-proof-{index}.json"))


MAX_EXPORT_PAGES = 40


def _csv(text: str, filename: str) -> Response:
    """A CSV download spreadsheet programs open as UTF-8 (Excel needs the byte order mark)."""
    return Response(
        "\ufeff" + text, media_type="text/csv; charset=utf-8", headers=_download(filename)
    )


def _download(filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    }


def _latest_head(db: Session) -> transparency.SignedTreeHead | None:
    try:
        return transparency.latest_tree_head(session=db)
    except transparency.NoTreeHeadError:
        return None


def _which(resident_id: int, filters: ExchangeFilters) -> dict[str, Any]:
    """The resident's own entries, as the filters narrow them (transparency.SubjectFilter)."""
    return {
        "subject": str(resident_id),
        "since": filters.since_at(),
        "until": filters.until_at(),
        "provider": filters.agency or None,
        "item": filters.item or None,
    }


def _exchange_page(
    db: Session,
    resident_id: int,
    filters: ExchangeFilters,
    *,
    page_size: int,
    number: int | None = None,
) -> transparency.Page[transparency.LogEntry]:
    return transparency.entries_for_subject(
        session=db,
        **_which(resident_id, filters),
        page=number or filters.page,
        page_size=page_size,
    )
