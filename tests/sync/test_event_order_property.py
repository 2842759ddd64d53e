"""Whatever order and however often Stripe delivers an invoice's events, the CRM ends with exactly
one record equal to the invoice's true final state."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.config import Settings
from app.context import AppContext, build_context
from app.jobs.inprocess import InProcessJobs
from app.store.sync_tables import stripe_events
from app.sync.events import process_event
from app.sync.intake import store_event
from schema_mapping.mapping import SchemaMapping
from schema_mapping.values import invoice_to_values
from tests.sync.conftest import connect_without_webhook, invoice_events, make_invoice

Scenario = tuple[list[dict[str, Any]], dict[str, Any]]  # (events, true final invoice)


@pytest.fixture
async def quiet_ctx(stripe_settings: Settings) -> AsyncIterator[AppContext]:
    """Jobs are queued but never run: the test decides the processing order."""
    context = await build_context(stripe_settings, jobs=InProcessJobs(periodic=False))
    try:
        yield context
    finally:
        await context.aclose()


@pytest.fixture
async def scenarios(quiet_ctx: AppContext, emulator: Any) -> tuple[str, str, list[Scenario]]:
    account_id, key = emulator.new_account()
    gw = quiet_ctx.stripe.for_key(key)
    built: list[Scenario] = []
    for path in (("finalize", "send", "pay"), ("finalize", "void"), ("finalize", "uncollectible", "pay"),
                 ("finalize", "send")):
        draft = await make_invoice(gw, f"{'-'.join(path)}@example.com")
        for i, step in enumerate(path):
            key_ = f"{draft['id']}-{i}"
            if step == "finalize":
                await gw.finalize_invoice(draft["id"], key_)
            elif step == "send":
                await gw.send_invoice(draft["id"], key_)
            elif step == "pay":
                await gw.pay_invoice(draft["id"], key_)
            elif step == "void":
                await gw.void_invoice(draft["id"], key_)
            else:
                await gw.mark_uncollectible(draft["id"], key_)
        built.append((await invoice_events(gw, draft["id"]), await gw.retrieve_invoice(draft["id"])))
    return account_id, key, built


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    which=st.integers(min_value=0, max_value=3),
    extra=st.lists(st.integers(min_value=0, max_value=50), max_size=20),
    rnd=st.randoms(use_true_random=False),
)
async def test_any_order_with_duplicates_converges(
    which: int, extra: list[int], rnd: Any, quiet_ctx: AppContext, scenarios: tuple[str, str, list[Scenario]]
) -> None:
    account_id, key, built = scenarios
    events, final = built[which]
    # every event at least once, some several times, all shuffled
    deliveries = events + [events[i % len(events)] for i in extra]
    rnd.shuffle(deliveries)
    ctx = quiet_ctx
    workspace_id = await connect_without_webhook(ctx, key, account_id)
    for event in deliveries:
        await store_event(ctx, workspace_id, json.loads(json.dumps(event)), source="webhook")
    async with ctx.store.connect() as conn:
        rows = (await conn.execute(select(stripe_events.c.id, stripe_events.c.event_id).where(
            stripe_events.c.workspace_id == workspace_id))).all()
    assert len(rows) == len(events)  # duplicates were stored once
    row_ids = [r.id for r in sorted(rows, key=lambda r: r.event_id)]
    rnd.shuffle(row_ids)  # processing order need not follow delivery order
    for row_id in row_ids:
        await process_event(ctx, workspace_id, row_id)

    mapping = SchemaMapping.default()
    records, total = await ctx.crm(workspace_id).list_records(mapping.object_slug, limit=10)
    assert total == 1
    expected = invoice_to_values(final, mapping, None)
    # the CRM keeps no empty values
    assert _present(records[0].values) == _present(expected)


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
