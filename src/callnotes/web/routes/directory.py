"""Directory pages: sellers, solution engineers, territories, PODs and topics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from callnotes.msx.links import teams_chat_url
from callnotes.store.repo.people import list_pods, list_sellers, list_solution_engineers, list_territories
from callnotes.store.repo.topics import list_topics
from callnotes.web.deps import SessionDep, render

router = APIRouter(include_in_schema=False)


@router.get("/sellers", response_class=HTMLResponse)
def sellers(request: Request, session: SessionDep) -> HTMLResponse:
    people = [(s, s.seller_type.value.title(), teams_chat_url(s.email)) for s in list_sellers(session)]
    return render(request, "people/people.html", active="sellers", title="Sellers", people=people,
                  role_label="Type", filter_param="seller_id")


@router.get("/ses", response_class=HTMLResponse)
def solution_engineers(request: Request, session: SessionDep) -> HTMLResponse:
    people = [(se, se.specialty.value.title(), teams_chat_url(se.email))
              for se in list_solution_engineers(session)]
    return render(request, "people/people.html", active="ses", title="Solution engineers", people=people,
                  role_label="Specialty", filter_param=None)


@router.get("/territories", response_class=HTMLResponse)
def territories(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "people/territories.html", active="territories",
                  territories=list_territories(session))


@router.get("/pods", response_class=HTMLResponse)
def pods(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "people/pods.html", active="pods", pods=list_pods(session))


@router.get("/topics", response_class=HTMLResponse)
def topics(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, "people/topics.html", active="topics", topics=list_topics(session))
