"""E-application pages: the form of one procedure, its draft, check, files and pre-fill.

``GET /apply/{municipality}/{code}`` shows the form (resuming the resident's draft),
``POST .../draft`` keeps whatever is filled in, ``POST .../check`` validates against the
JSON Schema and shows each error beside its field or, when nothing is wrong, the review
of the document to sign (確認画面), ``POST .../prefill`` fills the groups
the resident agreed to from わたしの情報 (through the hub), ``POST .../lookup`` looks up a
postal code or lists a prefecture's municipalities and shows the form again with
everything typed kept (no script needed), ``POST .../attachments`` adds
a file and ``POST .../sign`` freezes the checked draft into a signing request (see
:mod:`myna.applications.submission`; the signing pages are in resident_views).
Every page needs the resident's login, or a proxy's acting for them with the apply
scope (``proxy.ActingForApply``): the draft is the resident's, the signature the proxy's.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at
# definition time.

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from myna import proxy
from myna.applications import forms, submission
from myna.applications.domain import MAX_APPLICATION_ATTACHMENT_BYTES, MAX_APPLICATION_ATTACHMENTS
from myna.catalog.api import CODE_PATTERN, MUNICIPALITY_PATTERN
from myna.platform.forms import Posted
from myna.platform.sessions import check_csrf
from myna.platform.web import get_container, templates_beside, transaction

templates = templates_beside(__file__)
NO_STORE = {"Cache-Control": "no-store"}
# POST paths that carry a file: the app allows them a larger body (see create_app).
ATTACHMENT_UPLOAD_PATH = r"/apply/[0-9]{6}/[a-z0-9-]{1,64}/attachments"
Municipality = Annotated[str, Path(pattern=MUNICIPALITY_PATTERN)]
Code = Annotated[str, Path(pattern=CODE_PATTERN)]
router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class DraftPost:
    """A form the resident posted about their draft of one procedure, its CSRF token checked."""

    resident_id: int
    municipality: str
    code: str
    values: dict[str, str]
    csrf_token: str  # the session's, for a page shown again
    proxy_id: int | None = None  # a proxy (代理人) applying for the resident


def _draft_post(
    current: proxy.ActingForApply, municipality: Municipality, code: Code, posted: Posted
) -> DraftPost:
    check_csrf(current, posted.get("csrf_token"))
    return DraftPost(
        resident_id=current.resident_id,
        municipality=municipality,
        code=code,
        values=posted,
        csrf_token=current.csrf_token,
        proxy_id=current.proxy_id,
    )


PostedDraft = Annotated[DraftPost, Depends(_draft_post)]


def _page(
    request: Request,
    *,
    municipality: str,
    code: str,
    data: dict[str, Any],
    csrf_token: str,
    procedure_name: str,
    municipality_name: str,
    attachments: list[submission.DraftAttachmentView],
    choices: dict[str, forms.MunicipalityChoices],
    errors: list[forms.FieldError] | None = None,
    status: str = "",
    status_code: int = 200,
    problem: str = "",
    message: str = "",
) -> Response:
    form = forms.checked_forms()[code]
    return templates.page(
        request,
        "applications/apply.html",
        apply_procedure_name=procedure_name,
        apply_municipality_name=municipality_name,
        apply_action=f"/apply/{municipality}/{code}",
        apply_groups=forms.view(form, data, errors),
        apply_errors=errors or [],
        apply_status=status,
        apply_problem=problem,
        apply_message=message,
        apply_choices=choices,
        apply_prefecture_suffix=forms.PREFECTURE_SUFFIX,
        apply_prefill=[g for g in form.groups if g.prefill is not None],
        apply_attachments=attachments,
        apply_max_attachments=MAX_APPLICATION_ATTACHMENTS,
        apply_max_attachment_mb=MAX_APPLICATION_ATTACHMENT_BYTES >> 20,
        csrf_token=csrf_token,
        status_code=status_code,
        headers=NO_STORE,
    )


# Posted by the form itself (not by a lone button): the typed fields came with the post.
WITH_FIELDS = "with_fields"


def keep_typed(
    db: Session, *, resident_id: int, municipality: str, code: str, values: dict[str, str]
) -> None:
    """Save what the form carried into the draft, when the post is the form's own.

    Attaching or removing a file submits the whole form (the buttons belong to it), so
    whatever was typed is kept even without scripts; a post without the form's fields
    (an older page, another client) leaves the draft as it was.
    """
    if values.get(WITH_FIELDS) != "1":
        return
    forms.form_for(session=db, municipality_code=municipality, code=code)
    forms.save_draft(
        session=db,
        resident_id=resident_id,
        municipality_code=municipality,
        code=code,
        data=forms.coerce(forms.checked_forms()[code], values),
    )


def form_page(
    request: Request,
    db: Session,
    *,
    resident_id: int,
    municipality: str,
    code: str,
    csrf_token: str,
    problem: str = "",
    status_code: int = 200,
) -> Response:
    """The form again from the saved draft, with a problem about the files, if any."""
    procedure, municipality_name = forms.form_for(
        session=db, municipality_code=municipality, code=code
    )
    data = forms.load_draft(
        session=db, resident_id=resident_id, municipality_code=municipality, code=code
    )
    choices = forms.municipality_choices(
        session=db, form=forms.checked_forms()[code], data=data or {}, prefectures={}
    )
    return _page(
        request,
        municipality=municipality,
        code=code,
        data=data or {},
        csrf_token=csrf_token,
        procedure_name=procedure.name_ja,
        municipality_name=municipality_name,
        attachments=_files(db, resident_id, municipality, code),
        choices=choices,
        problem=problem,
        status_code=status_code,
    )


def _files(db: Session, resident_id: int, municipality: str, code: str) -> Any:
    return submission.draft_attachments(
        session=db, resident_id=resident_id, municipality_code=municipality, code=code
    )


@router.get("/apply/{municipality}/{code}", response_class=HTMLResponse)
def apply_page(
    request: Request,
    current: proxy.ActingForApply,
    municipality: Municipality,
    code: Code,
    saved: Annotated[bool, Query()] = False,
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    resident_id = current.resident_id
    with transaction(request) as db:
        procedure, municipality_name = forms.form_for(
            session=db, municipality_code=municipality, code=code
        )
        draft = forms.load_draft(
            session=db, resident_id=resident_id, municipality_code=municipality, code=code
        )
        attachments = _files(db, resident_id, municipality, code)
        choices = forms.municipality_choices(
            session=db, form=forms.checked_forms()[code], data=draft or {}, prefectures={}
        )
    status = "saved" if saved else "resumed" if draft is not None else ""
    if done in {"prefilled", "attached", "removed"}:
        status = done
    return _page(
        request,
        municipality=municipality,
        code=code,
        data=draft or {},
        csrf_token=current.csrf_token,
        procedure_name=procedure.name_ja,
        municipality_name=municipality_name,
        attachments=attachments,
        choices=choices,
        status=status,
    )


@router.post("/apply/{municipality}/{code}/draft")
def save_draft(request: Request, draft: PostedDraft) -> Response:
    with transaction(request) as db:
        forms.form_for(session=db, municipality_code=draft.municipality, code=draft.code)
        data = forms.coerce(forms.checked_forms()[draft.code], draft.values)
        forms.save_draft(
            session=db,
            resident_id=draft.resident_id,
            municipality_code=draft.municipality,
            code=draft.code,
            data=data,
        )
    return RedirectResponse(f"/apply/{draft.municipality}/{draft.code}?saved=1", status_code=303)


def review_page(
    request: Request,
    db: Session,
    *,
    resident_id: int,
    municipality: str,
    code: str,
    csrf_token: str,
    problem: str = "",
    status_code: int = 200,
    proxy_id: int | None = None,
) -> Response:
    """The review (確認画面): the document the card will sign, read as the reader shows it."""
    document = submission.preview(
        session=db,
        procedures=get_container(request).procedures,
        resident_id=resident_id,
        municipality_code=municipality,
        code=code,
        proxy_id=proxy_id,
    )
    return templates.page(
        request,
        "applications/review.html",
        review_action=f"/apply/{municipality}/{code}",
        review_document=document,
        review_answers=forms.document_answers(document),
        review_attachments=document["attachments"],
        review_problem=problem,
        submission_key="" if problem else submission.new_submission_key(),
        csrf_token=csrf_token,
        status_code=status_code,
        headers=NO_STORE,
    )


@router.post("/apply/{municipality}/{code}/check", response_class=HTMLResponse)
def check(request: Request, draft: PostedDraft) -> Response:
    """Validate and keep the draft; when nothing is wrong, show the review to sign."""
    resident_id, municipality, code = draft.resident_id, draft.municipality, draft.code
    with transaction(request) as db:
        procedure, municipality_name = forms.form_for(
            session=db, municipality_code=municipality, code=code
        )
        form = forms.checked_forms()[code]
        data = forms.coerce(form, draft.values)
        errors = forms.validate(form, data)
        if not errors:
            errors = _first_per_field(
                forms.check_references(session=db, form=form, data=data)
                + get_container(request)
                .procedures.of(code)
                .check_draft(session=db, resident_id=resident_id, data=data, today=None),
                form,
            )
        forms.save_draft(
            session=db,
            resident_id=resident_id,
            municipality_code=municipality,
            code=code,
            data=data,
        )
        if not errors:
            return review_page(
                request,
                db,
                resident_id=resident_id,
                municipality=municipality,
                code=code,
                csrf_token=draft.csrf_token,
                proxy_id=draft.proxy_id,
            )
        attachments = _files(db, resident_id, municipality, code)
        choices = forms.municipality_choices(
            session=db,
            form=form,
            data=data,
            prefectures=forms.chosen_prefectures(form, draft.values),
        )
    return _page(
        request,
        municipality=municipality,
        code=code,
        data=data,
        csrf_token=draft.csrf_token,
        procedure_name=procedure.name_ja,
        municipality_name=municipality_name,
        attachments=attachments,
        choices=choices,
        errors=errors,
        status_code=422,
    )


def _first_per_field(
    errors: list[forms.FieldError], form: forms.FormDefinition
) -> list[forms.FieldError]:
    """One error per field (the first found), in the form's order."""
    first: dict[str, forms.FieldError] = {}
    for error in errors:
        first.setdefault(error.field, error)
    return [first[name] for name in form.fields if name in first]


@router.post("/apply/{municipality}/{code}/lookup", response_class=HTMLResponse)
def lookup(request: Request, draft: PostedDraft) -> Response:
    """A lookup button (postal code, prefecture): the form again, filled in, nothing lost."""
    resident_id, municipality, code = draft.resident_id, draft.municipality, draft.code
    with transaction(request) as db:
        procedure, municipality_name = forms.form_for(
            session=db, municipality_code=municipality, code=code
        )
        form = forms.checked_forms()[code]
        found = forms.lookup(
            session=db,
            form=form,
            data=forms.coerce(form, draft.values),
            action=draft.values.get("lookup", "")[:80],
            prefectures=forms.chosen_prefectures(form, draft.values),
        )
        forms.save_draft(
            session=db,
            resident_id=resident_id,
            municipality_code=municipality,
            code=code,
            data=found.data,
        )
        attachments = _files(db, resident_id, municipality, code)
        choices = forms.municipality_choices(
            session=db, form=form, data=found.data, prefectures=found.prefectures
        )
    return _page(
        request,
        municipality=municipality,
        code=code,
        data=found.data,
        csrf_token=draft.csrf_token,
        procedure_name=procedure.name_ja,
        municipality_name=municipality_name,
        attachments=attachments,
        choices=choices,
        errors=found.errors,
        status_code=422 if found.errors else 200,
        message=found.message,
    )
