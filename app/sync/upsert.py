"""The one guarded upsert that webhook processing, reconcile, backfill and Create Invoice share.

For a batch of invoice snapshots: link each to a person, judge it against the stored guard state
(app.sync.guard), commit the winners' state (version + 1) in one transaction, write them to the
CRM, then re-read the versions: if a newer state was committed while we wrote, our CRM write may
have landed after theirs, so the newest stored values are written again. The last CRM write for
an invoice is therefore always its newest state, whatever the interleaving of workers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.errors import AppError, ErrorCode
from app.store.dialect import insert_ignore
from app.store.sync_tables import invoice_sync_state as state_t
from app.store.workspaces import get_settings
from app.sync.guard import Observation, Verdict, fingerprint, judge
from app.sync.people import PersonLinker
from app.workspace_settings import mapping_of
from schema_mapping.values import invoice_to_values

if TYPE_CHECKING:
    from app.context import AppContext
    from app.crm.protocol import CRM
    from app.stripe.gateway import StripeGateway

log = logging.getLogger(__name__)

Result = Literal["created", "updated", "unchanged", "skipped"]


@dataclass(frozen=True)
class Snapshot:
    invoice: dict[str, Any]
    observed_at: int


@dataclass(frozen=True)
class UpsertOutcome:
    invoice_id: str
    result: Result
    unmatched: bool
    record_id: str | None = None
    person_id: str | None = None


@dataclass
class _Plan:
    snapshot: Snapshot
    values: dict[str, Any]
    observation: Observation
    person_id: str | None
    unmatched: bool
    version: int = 0
    verdict: Verdict = Verdict.SKIP
    record_id: str | None = None
    created: bool = False


async def upsert_invoices(
    ctx: AppContext,
    workspace_id: str,
    snapshots: list[Snapshot],
    *,
    gateway: StripeGateway | None = None,
    refetches_left: int = 2,
) -> list[UpsertOutcome]:
    """Apply snapshots (one per invoice id) through the guard. `gateway` is used to re-fetch an
    invoice when its snapshot cannot be ordered against the stored one."""
    settings = await get_settings(ctx.store, workspace_id)
    if not settings.sync_enabled:
        return [UpsertOutcome(s.invoice["id"], "skipped", False) for s in snapshots]
    mapping = mapping_of(settings)  # one settings read per batch
    crm = ctx.crm(workspace_id)
    linker = PersonLinker(crm, auto_create=settings.auto_create_people)
    outcomes: dict[str, UpsertOutcome] = {}
    plans: list[_Plan] = []
    for snap in _latest_per_invoice(snapshots):
        if snap.invoice.get("status") in (None, "draft"):
            # Drafts are not mirrored: Stripe can delete them without a trace.
            outcomes[snap.invoice["id"]] = UpsertOutcome(snap.invoice["id"], "skipped", False)
            continue
        person_id, unmatched = await linker.person_for(snap.invoice)
        values = invoice_to_values(snap.invoice, mapping, person_id)
        obs = Observation(snap.invoice["status"], snap.observed_at, fingerprint(values))
        plans.append(_Plan(snap, values, obs, person_id, unmatched))

    await _judge_and_commit(ctx, workspace_id, plans)

    refetch = [p for p in plans if p.verdict is Verdict.REFETCH]
    if refetch:
        if gateway is None:
            raise AppError(ErrorCode.NOT_CONNECTED, "An invoice needs re-reading from Stripe, but no key is connected.")
        if refetches_left == 0:
            # Another writer keeps storing same-second states of this invoice: let the caller retry.
            raise AppError(ErrorCode.INTERNAL, "The invoice kept changing while it was read; it will be retried.")
        fresh = [Snapshot(await gateway.retrieve_invoice(p.snapshot.invoice["id"]), int(time.time())) for p in refetch]
        for outcome in await upsert_invoices(ctx, workspace_id, fresh, gateway=gateway, refetches_left=refetches_left - 1):
            outcomes[outcome.invoice_id] = outcome

    match_slug = mapping.slug("stripe_invoice_id")
    to_write = [p for p in plans if p.verdict is Verdict.APPLY]
    if to_write:
        results = await crm.upsert_records(mapping.object_slug, match_slug, [p.values for p in to_write])
        for plan, result in zip(to_write, results, strict=True):
            plan.record_id, plan.created = result.record.id, result.created
    await _repair_overtaken(ctx, crm, workspace_id, plans, mapping.object_slug, match_slug)

    for plan in plans:
        invoice_id = plan.snapshot.invoice["id"]
        if plan.verdict is Verdict.REFETCH:
            continue
        result_kind: Result = "unchanged" if plan.verdict is Verdict.SKIP else ("created" if plan.created else "updated")
        outcomes[invoice_id] = UpsertOutcome(invoice_id, result_kind, plan.unmatched, plan.record_id, plan.person_id)
    return [outcomes[s.invoice["id"]] for s in snapshots if s.invoice["id"] in outcomes]


def _latest_per_invoice(snapshots: list[Snapshot]) -> list[Snapshot]:
    latest: dict[str, Snapshot] = {}
    for snap in snapshots:
        current = latest.get(snap.invoice["id"])
        if current is None or snap.observed_at >= current.observed_at:
            latest[snap.invoice["id"]] = snap
    return list(latest.values())


async def _judge_and_commit(ctx: AppContext, workspace_id: str, plans: list[_Plan]) -> None:
    """One transaction: read the guard state (locked), judge, write the winners."""
    if not plans:
        return
    for attempt in range(5):
        try:
            async with ctx.store.begin() as conn:
                pending = plans
                while pending:  # first states another worker inserted meanwhile: judged again, locked
                    pending = await _judge_locked(conn, ctx.store.is_sqlite, workspace_id, pending)
            return
        except IntegrityError:
            # Another worker inserted the first state of one of these invoices: judge again.
            if attempt == 4:
                raise
            log.info("guard state raced; retrying", extra={"workspace_id": workspace_id})


async def _judge_locked(conn: Any, is_sqlite: bool, workspace_id: str, plans: list[_Plan]) -> list[_Plan]:
    """Judge `plans` against their stored rows (locked) and write the winners; returns the plans
    whose first state another worker inserted between our read and our insert (ON CONFLICT DO
    NOTHING waits for that worker's commit, so a second pass reads and locks its row)."""
    ids = [p.snapshot.invoice["id"] for p in plans]
    query = select(state_t).where(state_t.c.workspace_id == workspace_id, state_t.c.invoice_id.in_(ids))
    if not is_sqlite:
        query = query.with_for_update()
    stored = {r.invoice_id: r for r in (await conn.execute(query)).all()}
    now = utcnow()
    raced: list[_Plan] = []
    for plan in sorted(plans, key=lambda p: p.snapshot.invoice["id"]):  # one lock order for every batch
        row = stored.get(plan.snapshot.invoice["id"])
        prior = Observation(row.status, row.observed_at, row.fingerprint) if row else None
        plan.verdict = judge(prior, plan.observation)
        plan.record_id = row.crm_record_id if row else None
        if plan.verdict is Verdict.SKIP and row is not None and row.written_version < row.version:
            # The stored state never reached the CRM (its write failed): write it now.
            plan.verdict, plan.values, plan.version = Verdict.APPLY, dict(row.values), row.version
            continue
        if plan.verdict is not Verdict.APPLY:
            continue
        plan.version = (row.version if row else 0) + 1
        fields = {"status": plan.observation.status, "observed_at": plan.observation.observed_at,
                  "fingerprint": plan.observation.fingerprint, "version": plan.version,
                  "values": plan.values, "updated_at": now}
        if row is None:
            inserted = await conn.execute(insert_ignore(conn.dialect.name, state_t, workspace_id=workspace_id,
                                                        invoice_id=plan.snapshot.invoice["id"], **fields))
            if inserted.rowcount == 0:
                raced.append(plan)
        else:
            await conn.execute(update(state_t).where(
                state_t.c.workspace_id == workspace_id,
                state_t.c.invoice_id == plan.snapshot.invoice["id"]).values(**fields))
    return raced


async def _repair_overtaken(ctx: AppContext, crm: CRM, workspace_id: str, plans: list[_Plan], object_slug: str,
                            match_slug: str) -> None:
    applied = {p.snapshot.invoice["id"]: p for p in plans if p.verdict is Verdict.APPLY}
    if not applied:
        return
    async with ctx.store.begin() as conn:
        rows = (await conn.execute(select(state_t).where(
            state_t.c.workspace_id == workspace_id, state_t.c.invoice_id.in_(list(applied))))).all()
        for row in rows:
            plan = applied[row.invoice_id]
            if row.version == plan.version and plan.record_id:
                await conn.execute(update(state_t).where(
                    state_t.c.workspace_id == workspace_id, state_t.c.invoice_id == row.invoice_id,
                    state_t.c.version == plan.version).values(crm_record_id=plan.record_id,
                                                              written_version=plan.version))
    for row in rows:
        plan = applied[row.invoice_id]
        if row.version != plan.version:
            log.info("newer state committed during our write; rewriting", extra={"invoice": row.invoice_id})
            await crm.upsert_record(object_slug, match_slug, dict(row.values))
