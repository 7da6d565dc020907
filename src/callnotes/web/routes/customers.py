"""Customer pages: list (search, group, sort), detail, create and edit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from callnotes.config import Settings
from callnotes.msx.errors import InvalidInput
from callnotes.msx.links import account_url, normalize_guid, teams_chat_url
from callnotes.store import Conflict, ValidationError
from callnotes.store.limits import MAX_ID, MSX_ID_MAX
from callnotes.store.models import Customer
from callnotes.store.repo.customer_page import NOTES_PAGE, customer_notes, customer_page
from callnotes.store.repo.customers import (
    CustomerInput,
    CustomerSort,
    CustomerUpdate,
    create_customer,
    get_customer,
    group_customers,
    link_customer_to_msx,
    list_customers,
    update_customer,
)
from callnotes.store.repo.milestone_tasks import activity_of_milestones
from callnotes.store.repo.opportunity_writes import activity_of_opportunities
from callnotes.sync.connection import link_org
from callnotes.web.deps import SessionDep, SettingsDep, checked_id, render
from callnotes.web.links import customer_msx_url
from callnotes.web.writeback import mode

router = APIRouter(include_in_schema=False)
_Id = Annotated[int, Query(ge=1, le=MAX_ID)]


class CustomerForm(BaseModel):
    """The customer form's fields; ``msx_account_id`` comes from the TPID lookup's picker."""

    name: str = ""
    tpid: str = ""
    website: str = ""
    account_notes: str = ""
    msx_account_id: str = Field(default="", max_length=MSX_ID_MAX)


_FormDep = Annotated[CustomerForm, Form()]


@router.get("/customers", response_class=HTMLResponse)
def customer_list(
    request: Request,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    group: Literal["", "seller", "territory"] = "",
    sort: CustomerSort = CustomerSort.NAME,
    seller_id: _Id | None = None,
    territory_id: _Id | None = None,
) -> HTMLResponse:
    groups = None
    customers = []
    if group and not (q or seller_id or territory_id):
        groups = group_customers(session, group, sort=sort)
    else:
        customers = list_customers(
            session, q or None, sort=sort, seller_id=seller_id, territory_id=territory_id
        )
    return render(request, "customers/list.html", active="customers", customers=customers, groups=groups,
                  q=q, group=group, sort=sort.value, seller_id=seller_id, territory_id=territory_id)


@router.get("/customers/new", response_class=HTMLResponse)
def customer_new(request: Request) -> HTMLResponse:
    return render(request, "customers/form.html", active="customers", customer=None,
                  form=CustomerForm().model_dump(), errors=[])


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_detail(request: Request, session: SessionDep, customer_id: int) -> HTMLResponse:
    """First things first: the newest notes, open milestones and opportunities, then the team."""
    page = customer_page(session, checked_id(customer_id, "customer"), today=datetime.now(UTC).date())
    return render(
        request, "customers/detail.html", active="customers", customer=page.customer, page=page,
        activity=activity_of_milestones(session, [m.id for m in page.milestones]),
        opportunity_activity=activity_of_opportunities(session, [o.id for o in page.opportunities]),
        writeback_mode=mode(request).value, msx_url=customer_msx_url(page.customer), chat=teams_chat_url,
    )


@router.get("/customers/{customer_id}/notes", response_class=HTMLResponse)
def customer_more_notes(
    request: Request, session: SessionDep, customer_id: int,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = NOTES_PAGE,
) -> HTMLResponse:
    """The next page of the customer's notes (the "More notes" button's htmx swap)."""
    customer = get_customer(session, checked_id(customer_id, "customer"))
    return render(request, "customers/_notes.html", customer=customer,
                  notes=customer_notes(session, customer.id, offset=offset))


@router.post("/customers", response_class=HTMLResponse)
def customer_create(request: Request, session: SessionDep, settings: SettingsDep, form: _FormDep) -> Response:
    return _save(request, session, settings, None, form)


@router.get("/customers/{customer_id}/edit", response_class=HTMLResponse)
def customer_edit(request: Request, session: SessionDep, customer_id: int) -> HTMLResponse:
    customer = get_customer(session, checked_id(customer_id, "customer"))
    form = CustomerForm(name=customer.name, tpid=customer.tpid or "", website=customer.website or "",
                        account_notes=customer.account_notes or "").model_dump()
    return render(request, "customers/form.html", active="customers", customer=customer, form=form, errors=[])


@router.post("/customers/{customer_id}", response_class=HTMLResponse)
def customer_update(
    request: Request, session: SessionDep, settings: SettingsDep, customer_id: int, form: _FormDep
) -> Response:
    customer = get_customer(session, checked_id(customer_id, "customer"))
    return _save(request, session, settings, customer, form)


def _save(
    request: Request, session: Session, settings: Settings, customer: Customer | None, form: CustomerForm
) -> Response:
    """Create or update from the form; a validation error (or an MSX account already linked to another
    customer) re-renders the form with what was typed, and nothing is saved."""
    try:
        link = _msx_link(settings, form.msx_account_id)
        fields: dict[str, Any] = {"name": form.name, "tpid": form.tpid or None,
                                  "website": form.website or None, "account_notes": form.account_notes}
        if customer is None:
            saved = create_customer(session, CustomerInput(**fields))
        else:
            saved = update_customer(session, customer.id, CustomerUpdate(**fields))
        if link is not None:
            link_customer_to_msx(session, saved.id, *link)
    except (ValidationError, Conflict) as exc:
        session.rollback()
        return render(request, "customers/form.html", status_code=422, active="customers",
                      customer=customer, form=form.model_dump(), errors=[str(exc)])
    return RedirectResponse(f"/customers/{saved.id}", status_code=303)


def _msx_link(settings: Settings, choice: str) -> tuple[str | None, str | None] | None:
    """The (MSX account id, link) the form's TPID lookup picked; None = leave as is, "none" = unlink."""
    if not choice:
        return None
    if choice == "none":
        return (None, None)
    try:
        account_id = normalize_guid(choice)
    except InvalidInput as exc:
        raise ValidationError(f"the MSX account picked is not valid ({exc})") from exc
    return account_id, account_url(account_id, crm_url=link_org(settings))
