"""Customer pages: list (search, group, sort), detail, create and edit."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callnotes.config import Settings
from callnotes.msx.errors import InvalidInput
from callnotes.msx.links import account_url, normalize_guid, teams_chat_url
from callnotes.store import ValidationError
from callnotes.store.models import Customer, Milestone, Note, Opportunity
from callnotes.store.repo.customers import (
    CustomerInput,
    CustomerSort,
    CustomerUpdate,
    create_customer,
    get_customer,
    group_customers,
    list_customers,
    update_customer,
)
from callnotes.sync.connection import link_org
from callnotes.web.deps import SessionDep, SettingsDep, checked_id, render
from callnotes.web.links import customer_msx_url
from callnotes.web.schemas import MAX_ID

router = APIRouter(include_in_schema=False)
_Id = Annotated[int, Query(ge=1, le=MAX_ID)]


class CustomerForm(BaseModel):
    """The customer form's fields; ``msx_account_id`` comes from the TPID lookup's picker."""

    name: str = ""
    tpid: str = ""
    website: str = ""
    account_notes: str = ""
    msx_account_id: str = Field(default="", max_length=64)


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


def _customer_notes(session: Session, customer_id: int) -> list[Note]:
    return list(session.scalars(
        select(Note).where(Note.customer_id == customer_id)
        .options(selectinload(Note.topics))
        .order_by(Note.call_date.desc(), Note.created_at.desc(), Note.id.desc())
    ))


@router.get("/customers/new", response_class=HTMLResponse)
def customer_new(request: Request) -> HTMLResponse:
    return render(request, "customers/form.html", active="customers", customer=None,
                  form=CustomerForm().model_dump(), errors=[])


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(request: Request, session: SessionDep, customer_id: int) -> HTMLResponse:
    customer = get_customer(session, checked_id(customer_id, "customer"))
    opportunities = session.scalars(
        select(Opportunity).where(Opportunity.customer_id == customer.id).order_by(Opportunity.name)
    ).all()
    milestones = session.scalars(
        select(Milestone).where(Milestone.customer_id == customer.id)
        .order_by(Milestone.milestone_date.is_(None), Milestone.milestone_date, Milestone.id)
    ).all()
    team = [("Seller", s.seller_type.value.title(), s, teams_chat_url(s.email)) for s in customer.sellers]
    team += [("SE", se.specialty.value.title(), se, teams_chat_url(se.email))
             for se in customer.solution_engineers]
    return render(
        request, "customers/detail.html", active="customers", customer=customer,
        notes=_customer_notes(session, customer.id), opportunities=opportunities, milestones=milestones,
        team=team, msx_url=customer_msx_url(customer),
    )


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
    """Create or update from the form; a validation error re-renders the form with what was typed."""
    try:
        link = _msx_link(session, settings, customer, form.msx_account_id)
        if customer is None:
            customer = create_customer(session, CustomerInput(
                name=form.name, tpid=form.tpid or None, website=form.website or None,
                account_notes=form.account_notes))
        else:
            update_customer(session, customer.id, CustomerUpdate(
                name=form.name, tpid=form.tpid or None, website=form.website or None,
                account_notes=form.account_notes))
    except ValidationError as exc:
        session.rollback()
        return render(request, "customers/form.html", status_code=422, active="customers",
                      customer=customer, form=form.model_dump(), errors=[str(exc)])
    if link is not None:
        customer.msx_id, customer.msx_url = link
    return RedirectResponse(f"/customers/{customer.id}", status_code=303)


def _msx_link(
    session: Session, settings: Settings, customer: Customer | None, choice: str
) -> tuple[str | None, str | None] | None:
    """The (MSX account id, link) the form's TPID lookup picked; None = leave as is, "none" = unlink."""
    if not choice:
        return None
    if choice == "none":
        return (None, None)
    try:
        account_id = normalize_guid(choice)
    except InvalidInput as exc:
        raise ValidationError(f"the MSX account picked is not valid ({exc})") from exc
    taken = customer_linked_to(session, account_id, other_than=customer.id if customer else None)
    if taken is not None:
        raise ValidationError(f"that MSX account is already linked to the customer {taken.name!r}")
    return account_id, account_url(account_id, crm_url=link_org(settings))


def customer_linked_to(session: Session, account_id: str, *, other_than: int | None) -> Customer | None:
    """The customer (other than ``other_than``) already linked to MSX account ``account_id``."""
    query = select(Customer).where(Customer.msx_id == account_id)
    if other_than is not None:
        query = query.where(Customer.id != other_than)
    return session.scalars(query).first()
