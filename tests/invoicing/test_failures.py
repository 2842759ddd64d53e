"""When Stripe fails mid-way: the draft is deleted and the user told what failed; retries with the
same execution id never make a second invoice; emailing failures keep the finalized invoice."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.errors import AppError
from app.http.body import parse_model
from app.invoicing.models import CreateInvoiceRequest
from app.invoicing.service import create_invoice
from app.store.workspaces import update_settings
from tests.invoicing.conftest import Billing, custom, due


def request(billing: Billing, **overrides: Any) -> CreateInvoiceRequest:
    body: dict[str, Any] = {"object": "companies", "record_id": billing.seed.company,
                            "line_items": [{"price_id": billing.seed.one_time_usd, "quantity": 1}, custom()],
                            "due_date": due(), "send_email": False}
    body.update(overrides)
    return parse_model(CreateInvoiceRequest, body)


def fail(billing: Billing, path_regex: str) -> None:
    billing.emulator.state.set_faults(rate_500=1.0, path_regex=path_regex, account_id=billing.account_id)


def live_invoices(billing: Billing) -> list[Any]:
    return list(billing.emulator.state.account(billing.account_id).invoices.values())


@pytest.fixture(autouse=True)
def _clear_faults(billing: Billing) -> Any:
    yield
    billing.emulator.state.clear_faults()


async def test_a_failed_finalize_deletes_the_draft_and_says_so(billing: Billing) -> None:
    fail(billing, r"/finalize$")
    mark = billing.mark()
    r = await billing.create(request(billing).model_dump(mode="json"))
    assert r.status_code == 502, r.text
    message = r.json()["error"]["message"]
    assert message.startswith("Could not finalize the invoice:")
    assert "The draft was deleted, so nothing was billed." in message
    calls = billing.calls_since(mark)
    assert calls[-1].startswith("DELETE /v1/invoices/in_")
    assert live_invoices(billing) == []


async def test_a_line_refused_by_stripe_deletes_the_draft(billing: Billing) -> None:
    """The cached catalog still lists a price archived a moment ago: Stripe refuses the line."""
    await billing.create(request(billing).model_dump(mode="json"))  # warms the catalog cache
    async with httpx.AsyncClient(base_url=billing.emulator.base_url, trust_env=False) as http:
        archived = await http.post(f"/v1/prices/{billing.seed.one_time_usd}", data={"active": "false"},
                                   headers={"Authorization": f"Bearer {billing.key}"})
        assert archived.status_code == 200
    before = len(live_invoices(billing))
    r = await billing.create(request(billing).model_dump(mode="json"))
    assert r.status_code == 422, r.text
    message = r.json()["error"]["message"]
    assert message.startswith("Could not add the invoice lines:") and "inactive" in message
    assert "nothing was billed" in message
    assert len(live_invoices(billing)) == before


async def test_a_retried_execution_makes_exactly_one_invoice(billing: Billing) -> None:
    req = request(billing)
    fail(billing, r"/finalize$")
    with pytest.raises(AppError) as caught:
        await create_invoice(billing.ctx, billing.ws, req, execution_id="wf-run-7:step-2")
    assert "draft was deleted" in caught.value.message and caught.value.retryable
    billing.emulator.state.clear_faults()

    first = await create_invoice(billing.ctx, billing.ws, req, execution_id="wf-run-7:step-2")
    again = await create_invoice(billing.ctx, billing.ws, req, execution_id="wf-run-7:step-2")
    assert first.invoice_id == again.invoice_id and first.number == again.number
    assert [i.id for i in live_invoices(billing)] == [first.invoice_id]
    assert first.status == "open"
    other = await create_invoice(billing.ctx, billing.ws, req, execution_id="wf-run-8:step-2")
    assert other.invoice_id != first.invoice_id


async def test_a_client_idempotency_key_returns_the_same_invoice(billing: Billing) -> None:
    body = request(billing).model_dump(mode="json")
    headers = {**billing.headers, "Idempotency-Key": "dialog-3f9c2a71"}
    first = await billing.client.post("/api/actions/create-invoice", json=body, headers=headers)
    second = await billing.client.post("/api/actions/create-invoice", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["invoice_id"] == second.json()["invoice_id"]
    assert len(live_invoices(billing)) == 1
    bad = await billing.client.post("/api/actions/create-invoice", json=body,
                                    headers={**billing.headers, "Idempotency-Key": "x"})
    assert bad.status_code == 422 and "Idempotency-Key" in bad.json()["error"]["message"]


async def test_an_email_failure_keeps_the_finalized_invoice(billing: Billing) -> None:
    fail(billing, r"/send$")
    r = await billing.create(request(billing, send_email=True).model_dump(mode="json"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "open" and body["email_sent"] is False
    assert body["email_error"].startswith(f"Invoice {body['number']} was finalized but could not be emailed")


async def test_send_only_mode_creates_invoices_without_touching_the_crm(billing: Billing) -> None:
    await billing.with_sync()
    await update_settings(billing.ctx.store, billing.ws, sync_enabled=False)
    r = await billing.create(request(billing, send_email=True).model_dump(mode="json"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["crm_sync"] == "skipped" and body["crm_record_id"] is None and body["email_sent"] is True
    records, total = await billing.crm.list_records("stripe_invoices")
    assert (records, total) == ([], 0)
