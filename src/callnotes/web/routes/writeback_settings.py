"""The settings page's write-back section: auto / ask / off, saved in the app's preferences
(``settings.json``); when ``CALLNOTES_WRITEBACK`` is set the page shows its value and the control is
disabled (the environment wins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from callnotes.config import Settings, current_writeback, env_overrides, save_preferences
from callnotes.domain import WritebackMode
from callnotes.store.errors import Conflict, StoreError, ValidationError
from callnotes.web.deps import SettingsDep, is_htmx, render

router = APIRouter(include_in_schema=False)
WRITEBACK_CHOICES = (
    (WritebackMode.AUTO.value, "Auto", "Writes go to MSX as soon as it answers."),
    (WritebackMode.ASK.value, "Ask", "Each write waits in the outbox until you approve it."),
    (WritebackMode.OFF.value, "Off", "Nothing is queued for MSX; task and milestone controls say so."),
)


def writeback_context(settings: Settings, **extra: Any) -> dict[str, Any]:
    """What ``settings/_writeback.html`` shows."""
    return {"writeback_mode": current_writeback(settings).value, "writeback_choices": WRITEBACK_CHOICES,
            "writeback_env": bool(env_overrides({"writeback"})), "writeback_saved": False,
            "writeback_error": None, **extra}


def _refused(request: Request, settings: Settings, exc: StoreError, status_code: int) -> Response:
    """htmx: the section again with the reason (the form swaps error answers in); else the error page."""
    if not is_htmx(request):
        raise exc
    return render(request, "settings/_writeback.html", status_code=status_code,
                  **writeback_context(settings, writeback_error=str(exc)))


@router.post("/settings/writeback", response_class=HTMLResponse)
def save_writeback(
    request: Request, settings: SettingsDep, writeback: Annotated[str, Form(max_length=20)] = ""
) -> Response:
    """Save the mode (a running worker follows it at once); refused while the environment sets it."""
    if env_overrides({"writeback"}):
        refusal = Conflict("CALLNOTES_WRITEBACK is set in the environment, which wins over this page: "
                           "nothing was saved.")
        return _refused(request, settings, refusal, 409)
    try:
        chosen = WritebackMode(writeback.strip().lower())
    except ValueError:
        known = ", ".join(m.value for m in WritebackMode)
        return _refused(request, settings, ValidationError(
            f"{writeback!r} is not a write-back mode ({known})", field="writeback"), 422)
    save_preferences(settings, writeback=chosen.value)
    if not is_htmx(request):
        return RedirectResponse("/settings#writeback", status_code=303)
    return render(request, "settings/_writeback.html", **writeback_context(settings, writeback_saved=True))
