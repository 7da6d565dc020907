"""Note templates: the Markdown skeletons the editor's template picker offers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from callnotes.store.errors import Conflict, ValidationError
from callnotes.store.limits import TEMPLATE_BODY_MAX, TEMPLATE_NAME_MAX
from callnotes.store.repo.templates import TemplateInput, create_template, delete_template, list_templates
from callnotes.web.deps import SessionDep, checked_id, render

router = APIRouter(include_in_schema=False)


@router.get("/templates", response_class=HTMLResponse)
def template_list(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "templates.html", active="templates", templates=list_templates(session),
                  form={"name": "", "body": ""}, errors=[])


@router.post("/templates", response_class=HTMLResponse)
def template_create(
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form(max_length=TEMPLATE_NAME_MAX)] = "",
    body: Annotated[str, Form(max_length=TEMPLATE_BODY_MAX)] = "",
) -> Response:
    try:
        create_template(session, TemplateInput(name=name, body=body))
    except (ValidationError, Conflict) as exc:
        session.rollback()
        return render(request, "templates.html", status_code=422, active="templates",
                      templates=list_templates(session), form={"name": name, "body": body}, errors=[str(exc)])
    return RedirectResponse("/templates", status_code=303)


@router.post("/templates/{template_id:int}/delete")
def template_delete(session: SessionDep, template_id: int) -> Response:
    delete_template(session, checked_id(template_id, "template"))
    return RedirectResponse("/templates", status_code=303)
