"""What the settings panel shows: `GET /api/health`, the settings and the workflows, turned into
plain values for the templates. The shaping functions are pure; `settings_context` loads."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.connection.webhook_endpoint import webhook_url
from app.errors import AppError
from app.health import workspace_health
from app.stripe.probe import REQUIRED
from app.workspace_settings import schema_mapping_for
from schema_mapping.mapping import SLUG_PATTERN, SchemaMapping
from schema_mapping.spec import FIELDS

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)

ACTIVE_JOB_STATUSES = frozenset({"queued", "running"})
RECENT_RUNS = 3
_LEVELS = {"read": 1, "write": 2}


def when(iso: str | None) -> str | None:
    """`2025-03-01T09:30:12+00:00` -> `2025-03-01 09:30 UTC` (None stays None)."""
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def recommended_permissions() -> list[dict[str, str]]:
    """Per Stripe resource, the one access level to grant (write includes read), and why.

    Stripe's restricted-key editor offers None / Read / Write per resource, so the recommendation is
    one row per resource, in `REQUIRED` order."""
    rows: dict[str, dict[str, Any]] = {}
    for permission in REQUIRED:
        row = rows.setdefault(permission.resource, {"resource": permission.resource, "level": permission.level,
                                                    "why": []})
        if _LEVELS[permission.level] > _LEVELS[row["level"]]:
            row["level"] = permission.level
        row["why"].append(permission.breaks)
    return [{"resource": r["resource"], "level": r["level"], "scope": f"{r['resource']}: {r['level']}",
             "why": " ".join(r["why"])} for r in rows.values()]


def schema_view(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema part of health: `skipped` (sync off), `error`, `ok` or `problem`, with counts."""
    if schema.get("skipped"):
        return {"state": "skipped", "message": "Sync is off, so the invoice object is not checked."}
    if "error" in schema:
        return {"state": "error", "object": schema.get("object"), "message": schema["error"]}
    attributes: list[dict[str, Any]] = list(schema.get("attributes") or [])
    counts = Counter(str(a["status"]) for a in attributes)
    problems = [a for a in attributes if a["status"] != "present" or a.get("options_missing")]
    return {
        "state": "ok" if schema.get("ok") else "problem",
        "object": schema.get("object_slug"),
        "object_status": schema.get("object_status"),
        "counts": {s: counts.get(s, 0) for s in ("created", "present", "missing", "conflict")},
        "attributes": attributes,
        "problems": problems,
    }


def backfill_view(job: dict[str, Any] | None) -> dict[str, Any] | None:
    """The latest backfill for the progress bar. Stripe lists carry no total, so only a finished
    job has a percentage (100); a running one shows its counts and rate."""
    if job is None:
        return None
    status = str(job.get("status"))
    counts = dict(job.get("counts") or {})
    return {
        "id": job.get("id"),
        "status": status,
        "active": status in ACTIVE_JOB_STATUSES,
        "percent": 100 if status == "succeeded" else None,
        "counts": counts,
        "rate": job.get("rate_per_s"),
        "pages": job.get("pages", 0),
        "error": job.get("error"),
        "finished_at": when(job.get("finished_at")),
    }


def mapping_fields(mapping: SchemaMapping) -> list[dict[str, str]]:
    """One editable row per logical invoice field: its title, CRM type, slug and default slug."""
    default = SchemaMapping.default()
    return [{"key": f.key, "title": f.title, "type": f.type, "slug": mapping.slug(f.key),
             "default": default.slug(f.key)} for f in FIELDS]


def webhook_view(webhook: dict[str, Any]) -> dict[str, Any]:
    events = dict(webhook.get("events") or {})
    return {
        **webhook,
        "events": {k: events.get(k, 0) for k in ("processed", "pending", "failed")},
        "last_event": when(webhook.get("last_event_received_at")),
        "last_reconciled": when(webhook.get("last_reconciled_at")),
        "registered_when": when(webhook.get("registered_at")),
        "recent_failures": list(webhook.get("recent_failures") or []),
        "retrying": list(webhook.get("retrying") or []),
    }


def _block_title(block_id: str) -> str:
    try:
        from blocks.registry import BLOCKS
    except ImportError:
        return block_id
    block = BLOCKS.get(block_id)
    return block.title if block is not None else block_id


def _run_view(run: dict[str, Any]) -> dict[str, Any]:
    return {"id": run.get("id"), "status": run.get("status"), "error": run.get("error"),
            "when": when(run.get("finished_at") or run.get("started_at") or run.get("created_at"))}


async def workflows_view(ctx: AppContext, workspace_id: str) -> tuple[list[dict[str, Any]], str | None]:
    """Each workflow with its last runs, or ([], why) when workflows cannot be listed."""
    try:
        from blocks.runs import list_runs
        from blocks.workflows import list_workflows
    except ImportError:
        return [], None
    try:
        found = await list_workflows(ctx, workspace_id)
        result = []
        for workflow in found:
            runs = await list_runs(ctx, workspace_id, workflow["id"], limit=RECENT_RUNS)
            result.append({
                "id": workflow["id"], "name": workflow["name"], "enabled": workflow["enabled"],
                "trigger": _block_title(workflow["trigger"]["block_id"]),
                "steps": [_block_title(s["block_id"]) for s in workflow.get("steps") or []],
                "runs": [_run_view(r) for r in runs],
            })
    except AppError as exc:
        return [], exc.message
    return result, None


async def settings_context(ctx: AppContext, workspace_id: str) -> dict[str, Any]:
    """Everything `settings.html` renders. Never holds the Stripe key: only its masked form."""
    health = await workspace_health(ctx, workspace_id)
    mapping = await schema_mapping_for(ctx, workspace_id)
    workflows, workflows_error = await workflows_view(ctx, workspace_id)
    connection = health["connection"]
    missing = health["missing_permissions_detail"]
    return {
        "connection": {**connection, "connected_when": when(connection.get("connected_at"))},
        "missing": missing,
        "webhook": webhook_view(health["webhook"]),
        "webhook_expected_url": webhook_url(ctx, workspace_id),
        "webhook_needed": bool(connection.get("connected") and health["sync_enabled"]),
        "webhook_blocked": any(m["scope"] == "Webhook endpoints: write" for m in missing),
        "schema": schema_view(health["schema"]),
        "sync_enabled": health["sync_enabled"],
        "auto_create_people": health["auto_create_people"],
        "backfill": backfill_view(health["backfill"]),
        "mapping_object": mapping.object_slug,
        "mapping_object_default": SchemaMapping.default().object_slug,
        "mapping_fields": mapping_fields(mapping),
        "slug_pattern": SLUG_PATTERN.strip("^$"),
        "recommended": recommended_permissions(),
        "workflows": workflows,
        "workflows_error": workflows_error,
    }
