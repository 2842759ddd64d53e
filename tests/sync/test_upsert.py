"""The shared guarded upsert: a CRM write that fails is written again by the next observation,
even an identical one, and send-only mode writes nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.errors import AppError, ErrorCode
from app.store.workspaces import update_settings
from app.sync.upsert import Snapshot, upsert_invoices
from schema_mapping.mapping import SchemaMapping
from tests.sync.conftest import Connected, make_invoice


class FlakyCRM:
    """Wraps a CRM; the first `failures` batch writes raise like an unreachable CRM."""

    def __init__(self, inner: Any, failures: int) -> None:
        self._inner, self._failures = inner, failures

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def upsert_records(self, *args: Any) -> Any:
        if self._failures > 0:
            self._failures -= 1
            raise AppError(ErrorCode.CRM_UNAVAILABLE, "CRM down")
        return await self._inner.upsert_records(*args)


async def _finalized(c: Connected) -> dict[str, Any]:
    draft = await make_invoice(c.gateway, "flaky@example.com")
    return await c.gateway.finalize_invoice(draft["id"], f"fin-{draft['id']}")


async def test_failed_crm_write_is_rewritten_by_an_identical_observation(
    connected: Connected, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoice = await _finalized(connected)
    real = connected.ctx.crm
    flaky = FlakyCRM(real(connected.workspace_id), failures=1)
    monkeypatch.setattr(connected.ctx, "crm", lambda ws: flaky)
    snap = Snapshot(invoice, int(time.time()))
    with pytest.raises(AppError):
        await upsert_invoices(connected.ctx, connected.workspace_id, [snap])
    [outcome] = await upsert_invoices(connected.ctx, connected.workspace_id, [snap])
    assert outcome.result == "created"
    mapping = SchemaMapping.default()
    records, total = await real(connected.workspace_id).list_records(mapping.object_slug)
    assert total == 1 and records[0].values["status"] == "open"
    [again] = await upsert_invoices(connected.ctx, connected.workspace_id, [snap])
    assert again.result == "unchanged"


async def test_send_only_mode_writes_nothing(connected: Connected) -> None:
    invoice = await _finalized(connected)
    await update_settings(connected.ctx.store, connected.workspace_id, sync_enabled=False)
    [outcome] = await upsert_invoices(connected.ctx, connected.workspace_id, [Snapshot(invoice, int(time.time()))])
    assert outcome.result == "skipped"
    _, total = await connected.ctx.crm(connected.workspace_id).list_records(SchemaMapping.default().object_slug)
    assert total == 0


async def test_unmatched_and_auto_created_people(connected: Connected) -> None:
    invoice = await _finalized(connected)
    [first] = await upsert_invoices(connected.ctx, connected.workspace_id, [Snapshot(invoice, 1)])
    assert first.unmatched and first.person_id is None
    await update_settings(connected.ctx.store, connected.workspace_id, auto_create_people=True)
    [second] = await upsert_invoices(connected.ctx, connected.workspace_id, [Snapshot(invoice, 2)])
    assert not second.unmatched and second.person_id
    person = await connected.ctx.crm(connected.workspace_id).find_person_by_email("FLAKY@example.com")
    assert person is not None and person.id == second.person_id


async def test_health_shows_events_waiting_for_a_retry(connected: Connected, monkeypatch: pytest.MonkeyPatch) -> None:
    import json as _json

    from sqlalchemy import select

    from app.store.sync_tables import stripe_events
    from app.sync.events import process_event
    from app.sync.health import event_health
    from app.sync.intake import store_event

    invoice = await _finalized(connected)
    flaky = FlakyCRM(connected.ctx.crm(connected.workspace_id), failures=1)
    monkeypatch.setattr(connected.ctx, "crm", lambda ws: flaky)

    async def hold(*args: Any, **kwargs: Any) -> None:  # this test processes the event itself
        return None

    monkeypatch.setattr(connected.ctx.jobs, "enqueue", hold)
    event = {"id": "evt_retry_1", "object": "event", "type": "invoice.finalized", "created": int(time.time()),
             "data": {"object": _json.loads(_json.dumps(invoice))}}
    await store_event(connected.ctx, connected.workspace_id, event, source="webhook")
    async with connected.ctx.store.connect() as conn:
        row_id = (await conn.execute(select(stripe_events.c.id).where(
            stripe_events.c.event_id == "evt_retry_1"))).scalar_one()
    await process_event(connected.ctx, connected.workspace_id, row_id)
    health = await event_health(connected.ctx, connected.workspace_id)
    assert health["events"]["pending"] == 1 and health["events"]["failed"] == 0
    assert health["retrying"] == [{"event_id": "evt_retry_1", "type": "invoice.finalized",
                                   "error": "CRM down", "attempts": 1}]
    await process_event(connected.ctx, connected.workspace_id, row_id)
    health = await event_health(connected.ctx, connected.workspace_id)
    assert health["events"]["processed"] == 1 and health["retrying"] == []
