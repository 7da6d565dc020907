"""Sellers, solution engineers, territories and PODs: lookups and lists (MSX import fills them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from callnotes.store.errors import Conflict, ValidationError
from callnotes.store.limits import EMAIL_MAX, PERSON_NAME_MAX
from callnotes.store.models import (
    Pod,
    Seller,
    SellerType,
    SeSpecialty,
    SolutionEngineer,
    Territory,
)
from callnotes.store.repo._common import get_or_raise, optional_text, required_text

_P = TypeVar("_P", Seller, SolutionEngineer)


@dataclass
class PersonInput:
    """A seller or SE typed locally; ``role`` is a ``SellerType`` or ``SeSpecialty`` value."""

    name: str
    role: str
    email: str | None = None
    msx_id: str | None = None


def _role(enum: type[SellerType] | type[SeSpecialty], value: str) -> SellerType | SeSpecialty:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ValidationError(f"unknown role {value!r}; use one of {allowed}", field="role") from None


def _check_msx_id(session: Session, model: type[Seller] | type[SolutionEngineer], msx_id: str | None) -> None:
    if msx_id and session.scalar(select(model.id).where(model.msx_id == msx_id)) is not None:
        raise Conflict(f"someone with MSX user id {msx_id} already exists")


def _person(session: Session, model: type[_P], data: PersonInput, **role: Any) -> _P:
    _check_msx_id(session, model, data.msx_id)
    person = model(name=required_text(data.name, "name", PERSON_NAME_MAX),
                   email=optional_text(data.email, "email", EMAIL_MAX), msx_id=data.msx_id, **role)
    session.add(person)
    session.flush()
    return person


def create_seller(session: Session, data: PersonInput) -> Seller:
    """Add a seller; :class:`Conflict` if the MSX user id is taken."""
    return _person(session, Seller, data, seller_type=_role(SellerType, data.role))


def create_solution_engineer(session: Session, data: PersonInput) -> SolutionEngineer:
    """Add a solution engineer; :class:`Conflict` if the MSX user id is taken."""
    return _person(session, SolutionEngineer, data, specialty=_role(SeSpecialty, data.role))


def get_seller(session: Session, seller_id: int) -> Seller:
    return get_or_raise(session, Seller, seller_id, "seller")


def get_solution_engineer(session: Session, engineer_id: int) -> SolutionEngineer:
    return get_or_raise(session, SolutionEngineer, engineer_id, "solution engineer")


def get_territory(session: Session, territory_id: int) -> Territory:
    return get_or_raise(session, Territory, territory_id, "territory")


def get_pod(session: Session, pod_id: int) -> Pod:
    return get_or_raise(session, Pod, pod_id, "POD")


def list_sellers(session: Session, seller_type: SellerType | None = None) -> list[Seller]:
    """Sellers by name, with their customers loaded."""
    stmt = select(Seller).options(selectinload(Seller.customers)).order_by(func.lower(Seller.name), Seller.id)
    if seller_type is not None:
        stmt = stmt.where(Seller.seller_type == seller_type)
    return list(session.scalars(stmt))


def list_solution_engineers(session: Session, specialty: SeSpecialty | None = None) -> list[SolutionEngineer]:
    """Solution engineers by name, with their customers loaded."""
    stmt = (select(SolutionEngineer).options(selectinload(SolutionEngineer.customers))
            .order_by(func.lower(SolutionEngineer.name), SolutionEngineer.id))
    if specialty is not None:
        stmt = stmt.where(SolutionEngineer.specialty == specialty)
    return list(session.scalars(stmt))


def list_territories(session: Session, pod_id: int | None = None) -> list[Territory]:
    """Territories by name, with POD and customers loaded."""
    stmt = (select(Territory).options(selectinload(Territory.pod), selectinload(Territory.customers))
            .order_by(Territory.name, Territory.id))
    if pod_id is not None:
        stmt = stmt.where(Territory.pod_id == pod_id)
    return list(session.scalars(stmt))


def list_pods(session: Session) -> list[Pod]:
    """PODs by name, with territories loaded."""
    return list(session.scalars(select(Pod).options(selectinload(Pod.territories)).order_by(Pod.name)))
