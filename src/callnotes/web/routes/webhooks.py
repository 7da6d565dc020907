"""``POST /webhooks/dataverse``: the endpoint a Dataverse service endpoint (webhook) posts to.

DESIGN.md §Contracts: 200 when the delivery was applied or ignored (``{"outcome", "message", "entity",
"record_id"}``), 400 when the body is not a RemoteExecutionContext, 401 when the key (or signature) is
missing or wrong — checked before the body is read as JSON; nothing changes unless it passes. The route
needs no CSRF token (web/csrf.py: it authenticates every request itself). It is reachable from other
machines only when the app runs with ``callnotes serve --allow-remote`` (README: "Webhooks").
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from callnotes.sync.webhooks import MAX_BODY, WebhookMalformed, authenticate, receive
from callnotes.web.deps import SettingsDep

WEBHOOK_PATH = "/webhooks/dataverse"
router = APIRouter(tags=["webhooks"])


@router.post(WEBHOOK_PATH)
async def dataverse_webhook(request: Request, settings: SettingsDep) -> dict[str, str]:
    """Apply one Dataverse change to the MSX mirror (milestones, opportunities, tasks, account teams)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise WebhookMalformed(f"the body is larger than {MAX_BODY // 1024} KB")
    body = await request.body()
    authenticate(settings, dict(request.query_params), dict(request.headers), body)
    outcome = await run_in_threadpool(receive, request.app.state.runtime.queue.context, body)
    return outcome.as_json()
