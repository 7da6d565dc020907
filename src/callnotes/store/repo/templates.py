"""Note templates: named Markdown skeletons offered by the note editor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callnotes.store.errors import Conflict, ValidationError
from callnotes.store.limits import TEMPLATE_BODY_MAX, TEMPLATE_NAME_MAX
from callnotes.store.models import NoteTemplate
from callnotes.store.repo._common import get_or_raise, required_text


@dataclass
class TemplateInput:
    name: str
    body: str = ""


def clean_template_fields(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` (any of ``name``, ``body``) checked against the limits; the name stripped."""
    cleaned = dict(values)
    if "name" in cleaned:
        cleaned["name"] = required_text(cleaned["name"], "name", TEMPLATE_NAME_MAX)
    if "body" in cleaned:
        cleaned["body"] = cleaned["body"] or ""
        if len(cleaned["body"]) > TEMPLATE_BODY_MAX:
            raise ValidationError(f"template is longer than {TEMPLATE_BODY_MAX} characters", field="body")
    return cleaned


def _check_unique(session: Session, name: str, template_id: int | None) -> None:
    stmt = select(NoteTemplate.id).where(func.lower(NoteTemplate.name) == name.lower())
    if template_id is not None:
        stmt = stmt.where(NoteTemplate.id != template_id)
    if session.scalar(stmt) is not None:
        raise Conflict(f"a template called {name!r} already exists")


def create_template(session: Session, data: TemplateInput) -> NoteTemplate:
    """Add a template; :class:`Conflict` when the name is taken (any case)."""
    values = clean_template_fields({"name": data.name, "body": data.body})
    _check_unique(session, values["name"], None)
    template = NoteTemplate(**values)
    session.add(template)
    session.flush()
    return template


def list_templates(session: Session) -> list[NoteTemplate]:
    return list(session.scalars(select(NoteTemplate).order_by(func.lower(NoteTemplate.name))))


def get_template(session: Session, template_id: int) -> NoteTemplate:
    return get_or_raise(session, NoteTemplate, template_id, "template")


def update_template(session: Session, template_id: int, data: TemplateInput) -> NoteTemplate:
    template = get_template(session, template_id)
    values = clean_template_fields({"name": data.name, "body": data.body})
    _check_unique(session, values["name"], template_id)
    template.name, template.body = values["name"], values["body"]
    session.flush()
    return template


def delete_template(session: Session, template_id: int) -> None:
    session.delete(get_template(session, template_id))
    session.flush()
