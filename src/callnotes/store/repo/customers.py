"""Customers: CRUD, lists with last contact, grouping by seller / territory, autocomplete.

Local edits go through :func:`create_customer` / :func:`update_customer`; MSX data arrives through
``repo.msx_records.upsert_customer`` (which never touches ``account_notes`` nor notes).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from callnotes.store.errors import Conflict, ValidationError
from callnotes.store.limits import (
    CUSTOMER_ACCOUNT_NOTES_MAX,
    CUSTOMER_MSX_URL_MAX,
    CUSTOMER_NAME_MAX,
    CUSTOMER_TPID_MAX,
    CUSTOMER_WEBSITE_MAX,
    MSX_ID_MAX,
)
from callnotes.store.models import (
    Customer,
    Milestone,
    Note,
    Seller,
    SolutionEngineer,
    Territory,
    customer_sellers,
)
from callnotes.store.repo._common import (
    UNSET,
    apply_changes,
    get_or_raise,
    given_fields,
    like_contains,
    like_prefix,
    link_url,
    optional_text,
    required_text,
)


@dataclass
class CustomerInput:
    """A customer as typed by the user (or read from a file)."""

    name: str
    tpid: str | None = None
    territory_id: int | None = None
    account_notes: str = ""
    website: str | None = None
    msx_url: str | None = None
    msx_id: str | None = None
    seller_ids: list[int] | None = None
    solution_engineer_ids: list[int] | None = None


@dataclass
class CustomerUpdate:
    """A partial change: fields left at their default are not touched."""

    name: str = UNSET
    tpid: str | None = UNSET
    territory_id: int | None = UNSET
    account_notes: str = UNSET
    website: str | None = UNSET
    seller_ids: list[int] = UNSET
    solution_engineer_ids: list[int] = UNSET

    def given(self) -> dict[str, Any]:
        return given_fields(self)


class CustomerSort(StrEnum):
    NAME = "name"
    LAST_CONTACT = "last_contact"


@dataclass(frozen=True)
class CustomerSummary:
    """A customer with the date of the latest note (``None`` = never contacted) and the note count."""

    customer: Customer
    last_contact: date | None
    note_count: int


@dataclass(frozen=True)
class CustomerGroup:
    """Customers under one seller or territory; ``key`` is None for the "none assigned" group."""

    key: int | None
    label: str
    customers: list[CustomerSummary]


def clean_customer_fields(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` (any of ``name``, ``tpid``, ``website``, ``msx_url``, ``msx_id``, ``account_notes``)
    checked and normalised; :class:`ValidationError` names the field. Every way a customer comes in
    goes through here (the form, the JSON API, the CSV and JSON imports): the limits of
    ``store.limits``, and ``website`` / ``msx_url`` must be addresses a page may link to
    (:func:`~callnotes.store.repo._common.link_url`)."""
    cleaned = dict(values)
    if "name" in cleaned:
        cleaned["name"] = required_text(cleaned["name"], "name", CUSTOMER_NAME_MAX)
    for name, limit in (("tpid", CUSTOMER_TPID_MAX), ("msx_id", MSX_ID_MAX)):
        if name in cleaned:
            cleaned[name] = optional_text(cleaned[name], name, limit)
    for name, limit in (("website", CUSTOMER_WEBSITE_MAX), ("msx_url", CUSTOMER_MSX_URL_MAX)):
        if name in cleaned:
            cleaned[name] = link_url(cleaned[name], name, limit)
    if "account_notes" in cleaned:
        cleaned["account_notes"] = cleaned["account_notes"] or ""
        if not isinstance(cleaned["account_notes"], str):
            raise ValidationError("account notes must be text", field="account_notes")
        if len(cleaned["account_notes"]) > CUSTOMER_ACCOUNT_NOTES_MAX:
            raise ValidationError(f"account notes are longer than {CUSTOMER_ACCOUNT_NOTES_MAX} characters",
                                  field="account_notes")
    return cleaned


def _set_team(session: Session, customer: Customer, seller_ids: Any, se_ids: Any) -> None:
    if seller_ids is not None and seller_ids is not UNSET:
        customer.sellers = [get_or_raise(session, Seller, i, "seller") for i in dict.fromkeys(seller_ids)]
    if se_ids is not None and se_ids is not UNSET:
        customer.solution_engineers = [
            get_or_raise(session, SolutionEngineer, i, "solution engineer") for i in dict.fromkeys(se_ids)
        ]


def _check_territory(session: Session, territory_id: int | None) -> None:
    if territory_id is not None:
        get_or_raise(session, Territory, territory_id, "territory")


def create_customer(session: Session, data: CustomerInput) -> Customer:
    """Add a customer. :class:`ValidationError` on an empty name, :class:`NotFound` on unknown ids,
    :class:`Conflict` when the MSX account id is already used."""
    values = clean_customer_fields({f.name: getattr(data, f.name) for f in fields(data)})
    if values["msx_id"] and get_customer_by_msx_id(session, values["msx_id"]) is not None:
        raise Conflict(f"a customer with MSX id {values['msx_id']} already exists")
    seller_ids, se_ids = values.pop("seller_ids"), values.pop("solution_engineer_ids")
    _check_territory(session, values["territory_id"])
    customer = Customer(**values)
    session.add(customer)
    _set_team(session, customer, seller_ids, se_ids)
    session.flush()
    return customer


def get_customer(session: Session, customer_id: int) -> Customer:
    """The customer, or :class:`NotFound`."""
    return get_or_raise(session, Customer, customer_id, "customer")


def get_customer_by_msx_id(
    session: Session, msx_id: str, *, other_than: int | None = None
) -> Customer | None:
    """The customer linked to the MSX account ``msx_id`` (other than the customer ``other_than``)."""
    stmt = select(Customer).where(Customer.msx_id == msx_id)
    if other_than is not None:
        stmt = stmt.where(Customer.id != other_than)
    return session.scalar(stmt)


def link_customer_to_msx(
    session: Session, customer_id: int, msx_id: str | None, msx_url: str | None
) -> Customer:
    """Tie a local customer to its MSX account (so an import updates it instead of adding a second
    one), or untie it (``None``, ``None``). One customer per MSX account: :class:`Conflict` names
    the customer that already holds ``msx_id``."""
    customer = get_customer(session, customer_id)
    values = clean_customer_fields({"msx_id": msx_id, "msx_url": msx_url})
    if values["msx_id"] is not None:
        taken = get_customer_by_msx_id(session, values["msx_id"], other_than=customer.id)
        if taken is not None:
            raise Conflict(f"that MSX account is already linked to the customer {taken.name!r}")
    apply_changes(customer, values)
    session.flush()
    return customer


def update_customer(session: Session, customer_id: int, change: CustomerUpdate) -> Customer:
    """Apply the fields given in ``change``."""
    customer = get_customer(session, customer_id)
    values = clean_customer_fields(change.given())
    seller_ids, se_ids = values.pop("seller_ids", None), values.pop("solution_engineer_ids", None)
    if "territory_id" in values:
        _check_territory(session, values["territory_id"])
    apply_changes(customer, values)
    _set_team(session, customer, seller_ids, se_ids)
    session.flush()
    return customer


def delete_customer(session: Session, customer_id: int) -> None:
    """Delete a customer; its notes stay (without a customer)."""
    session.delete(get_customer(session, customer_id))
    session.flush()


def list_customers_to_link(session: Session, limit: int | None = None) -> list[Customer]:
    """Customers with a TPID but no MSX account yet, by name (candidates for linking to MSX)."""
    stmt = (select(Customer).where(Customer.msx_id.is_(None), Customer.tpid.is_not(None))
            .order_by(func.lower(Customer.name), Customer.id).limit(limit))
    return list(session.scalars(stmt))


def list_customers_with_milestones(session: Session) -> list[Customer]:
    """Customers with at least one milestone still in MSX, by name (the milestones page's filter)."""
    has = select(Milestone.customer_id).where(Milestone.gone_from_msx_at.is_(None))
    stmt = select(Customer).where(Customer.id.in_(has)).order_by(func.lower(Customer.name), Customer.id)
    return list(session.scalars(stmt))


def customer_ids_of_seller(seller_id: int) -> Select[Any]:
    """Subquery: ids of the customers ``seller_id`` is on the account team of."""
    return select(customer_sellers.c.customer_id).where(customer_sellers.c.seller_id == seller_id)


def _summary_query() -> tuple[Select[Any], Any]:
    stats = (
        select(Note.customer_id, func.max(Note.call_date).label("last"), func.count().label("n"))
        .where(Note.customer_id.is_not(None))
        .group_by(Note.customer_id)
        .subquery()
    )
    stmt = (
        select(Customer, stats.c.last, func.coalesce(stats.c.n, 0))
        .outerjoin(stats, stats.c.customer_id == Customer.id)
        .options(selectinload(Customer.territory), selectinload(Customer.sellers),
                 selectinload(Customer.solution_engineers))
    )
    return stmt, stats.c.last


def list_customers(
    session: Session,
    query: str | None = None,
    *,
    sort: CustomerSort | str = CustomerSort.NAME,
    seller_id: int | None = None,
    territory_id: int | None = None,
    include_gone: bool = True,
    limit: int | None = None,
) -> list[CustomerSummary]:
    """Customers with last contact; ``query`` matches name or TPID (substring, any case).

    ``sort``: ``name`` (A→Z) or ``last_contact`` (most recent first, never-contacted last).
    """
    try:
        sort = CustomerSort(sort)
    except ValueError:
        raise ValidationError(f"unknown sort {sort!r}; use name or last_contact", field="sort") from None
    stmt, last = _summary_query()
    if query and query.strip():
        pattern = like_contains(query.strip().lower())
        stmt = stmt.where(or_(func.lower(Customer.name).like(pattern, escape="\\"),
                              Customer.tpid.like(pattern, escape="\\")))
    if seller_id is not None:
        stmt = stmt.where(Customer.id.in_(customer_ids_of_seller(seller_id)))
    if territory_id is not None:
        stmt = stmt.where(Customer.territory_id == territory_id)
    if not include_gone:
        stmt = stmt.where(Customer.gone_from_msx_at.is_(None))
    name_order = (func.lower(Customer.name), Customer.id)
    if sort is CustomerSort.LAST_CONTACT:
        stmt = stmt.order_by(last.is_(None), last.desc(), *name_order)
    else:
        stmt = stmt.order_by(*name_order)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [CustomerSummary(c, last, int(n)) for c, last, n in session.execute(stmt)]


def group_customers(
    session: Session, by: str, *, sort: CustomerSort | str = CustomerSort.NAME
) -> list[CustomerGroup]:
    """Customers grouped by ``seller`` or ``territory`` (groups by label; "none" group last).

    A customer with two sellers appears under both.
    """
    if by not in ("seller", "territory"):
        raise ValidationError(f"cannot group by {by!r}; use seller or territory", field="by")
    groups: dict[int | None, CustomerGroup] = {}
    for summary in list_customers(session, sort=sort):
        owners: list[tuple[int | None, str]]
        if by == "seller":
            owners = [(s.id, s.name) for s in summary.customer.sellers] or [(None, "No seller")]
        else:
            t = summary.customer.territory
            owners = [(t.id, t.name) if t else (None, "No territory")]
        for key, label in owners:
            groups.setdefault(key, CustomerGroup(key, label, [])).customers.append(summary)
    return sorted(groups.values(), key=lambda g: (g.key is None, g.label.lower()))


def find_customers(session: Session, text: str, limit: int = 10) -> list[Customer]:
    """Autocomplete: names starting with ``text`` first, then names containing it, then TPID prefix."""
    text = text.strip().lower()
    if not text:
        return list(session.scalars(select(Customer).order_by(func.lower(Customer.name)).limit(limit)))
    starts = func.lower(Customer.name).like(like_prefix(text), escape="\\")
    stmt = (
        select(Customer)
        .where(or_(func.lower(Customer.name).like(like_contains(text), escape="\\"),
                   Customer.tpid.like(like_prefix(text), escape="\\")))
        .order_by(starts.desc(), func.lower(Customer.name))
        .limit(limit)
    )
    return list(session.scalars(stmt))


def store_is_empty(session: Session) -> bool:
    """No customer and no note yet: a first run (the home page offers the demo or connecting to MSX)."""
    return session.scalar(select(Customer.id).limit(1)) is None and session.scalar(
        select(Note.id).limit(1)) is None
