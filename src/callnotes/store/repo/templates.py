"""Note templates: named Markdown skeletons offered by the note editor."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callnotes.store.errors import Conflict
from callnotes.store.models import NoteTemplate
from callnotes.store.repo._common import get_or_raise, required_text


@dataclass
class TemplateInput:
    name: str
    body: str = ""


def _check_unique(session: Session, name: str, template_id: int | None) -> None:
    stmt = select(NoteTemplate.id).where(func.lower(NoteTemplate.name) == name.lower())
    if template_id is not None:
        stmt = stmt.where(NoteTemplate.id != template_id)
    if session.scalar(stmt) is not None:
        raise Conflict(f"a template called {name!r} already exists")


def create_template(session: Session, data: TemplateInput) -> NoteTemplate:
    """Add a template; :class:`Conflict` when the name is taken (any case)."""
    name = required_text(data.name, "name", 200)
    _check_unique(session, name, None)
    template = NoteTemplate(name=name, body=data.body or "")
    session.add(template)
    session.flush()
    return template


def list_templates(session: Session) -> list[NoteTemplate]:
    return list(session.scalars(select(NoteTemplate).order_by(func.lower(NoteTemplate.name))))


def get_template(session: Session, template_id: int) -> NoteTemplate:
    return get_or_raise(session, NoteTemplate, template_id, "template")


def update_template(session: Session, template_id: int, data: TemplateInput) -> NoteTemplate:
    template = get_template(session, template_id)
    name = required_text(data.name, "name", 200)
    _check_unique(session, name, template_id)
    template.name, template.body = name, data.body or ""
    session.flush()
    return template


def delete_template(session: Session, template_id: int) -> None:
    session.delete(get_template(session, template_id))
    session.flush()
