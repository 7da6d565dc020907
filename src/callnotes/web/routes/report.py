"""The quarter report (Microsoft's fiscal year starts on 1 July): notes per customer, HoK tasks by
category and milestone, milestones touched, action items closed — with SVG charts drawn on the
server (no script, no CDN), and the same figures as Markdown and CSV downloads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from callnotes.domain import FiscalQuarter
from callnotes.store.repo.report import QuarterReport, quarter_report, report_csv, report_markdown
from callnotes.web.deps import SessionDep, render
from callnotes.web.errors import WebError

router = APIRouter(include_in_schema=False)
_Quarter = Annotated[str, Query(max_length=12)]


def _quarter(text: str) -> FiscalQuarter:
    if not text:
        return FiscalQuarter.of(datetime.now(UTC).date())
    try:
        return FiscalQuarter.parse(text)
    except ValueError as exc:
        raise WebError(f"{exc}; the current one is {FiscalQuarter.of(datetime.now(UTC).date()).slug}",
                       status_code=422) from None


def _download(body: str, media_type: str, report: QuarterReport, extension: str) -> PlainTextResponse:
    name = f"callnotes-{report.quarter.slug}.{extension}"
    return PlainTextResponse(body, media_type=media_type,
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/report", response_class=HTMLResponse)
def report_page(request: Request, session: SessionDep, quarter: _Quarter = "") -> HTMLResponse:
    report = quarter_report(session, _quarter(quarter))
    current = FiscalQuarter.of(datetime.now(UTC).date())
    return render(request, "report.html", active="report", report=report, current=current,
                  choices=[current.previous().previous(), current.previous(), current])


@router.get("/report.md")
def report_md(session: SessionDep, quarter: _Quarter = "") -> PlainTextResponse:
    report = quarter_report(session, _quarter(quarter))
    return _download(report_markdown(report, datetime.now(UTC).date()), "text/markdown; charset=utf-8",
                     report, "md")


@router.get("/report.csv")
def report_csv_download(session: SessionDep, quarter: _Quarter = "") -> PlainTextResponse:
    report = quarter_report(session, _quarter(quarter))
    return _download(report_csv(report), "text/csv; charset=utf-8", report, "csv")
