"""The settings panel in real Chromium, against the real app and the Stripe emulator: a restricted key
without invoice write gets the banner and a full key clears it; the sync switch removes and
re-registers the webhook in Stripe (and offers a reconnect when registering fails); a backfill's bar
reaches 100% and survives a reload; and no key ever reaches the browser."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Page, expect

from app.connection.service import connect
from app.sandbox.faults import FaultConfig
from blocks.validation import WorkflowSpec
from blocks.workflows import create_workflow
from tests.browser.conftest import BROWSER_TEST, LiveApp, SeenResponses, screenshot, sign_in

pytestmark = BROWSER_TEST

NO_INVOICE_WRITE = {"customers": "write", "products": "read", "prices": "read", "invoices": "read",
                    "invoiceitems": "read", "webhook_endpoints": "write", "events": "read"}
VOID_ON_FAILURE = {
    "name": "Void invoices whose payment failed",
    "trigger": {"block_id": "stripe.invoice_payment_failed", "config": {}},
    "steps": [{"block_id": "stripe.update_invoice_status",
               "config": {"invoice_id": "{{ trigger.invoice.id }}", "action": "void"}}],
}


def endpoints(app: LiveApp, account_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = app.emulator.state.summary(account_id)["webhook_endpoints"]
    return found


async def test_restricted_key_banner_then_a_full_key_clears_it(live_app: LiveApp, page: Page,
                                                               seen: SeenResponses) -> None:
    workspace = await live_app.workspace()
    account_id, full_key = live_app.emulator.new_account()
    restricted = live_app.emulator.state.create_restricted_key(account_id, NO_INVOICE_WRITE)
    await sign_in(page, live_app, workspace.admin_token, "/settings")
    await expect(page.get_by_role("heading", name="Not connected to Stripe")).to_be_visible()

    # A key that does not fit the mode: the message sits on the field, nothing is stored.
    key_field = page.get_by_label("Stripe secret or restricted key")
    await expect(key_field).to_have_attribute("type", "password")
    await page.get_by_label("Production").check()
    await key_field.fill(restricted)
    await page.get_by_role("button", name="Connect", exact=True).click()
    await expect(page.locator("#stripe-key-error")).to_contain_text("Mode 'production' accepts only")
    await expect(key_field).to_have_attribute("aria-invalid", "true")
    await expect(key_field).to_be_focused()
    await page.get_by_label("Sandbox").check()

    # Keyboard only: type the key and press Enter.
    await key_field.fill("")
    await key_field.focus()
    await page.keyboard.type(restricted)
    await page.keyboard.press("Enter")

    banner = page.locator("#permissions-banner")
    await expect(banner).to_contain_text("lacks 1 permission")
    await expect(banner.locator(".scope")).to_have_text(["Invoices: write"])
    await expect(banner).to_contain_text("Invoices cannot be created, finalized, sent, paid or voided.")
    await expect(banner).to_be_focused()
    await expect(key_field).to_have_value("")
    await expect(page.locator("#masked-key")).to_have_text(re.compile(r"^rk_test_…" + re.escape(restricted[-4:]) + "$"))
    await expect(page.locator("#connect-status")).to_contain_text("lacks 1 permission: Invoices: write")
    await screenshot(page, "settings-banner.png")

    await key_field.fill(full_key)
    await page.get_by_role("button", name="Connect the new key").click()
    await expect(page.locator("#connect-status")).to_contain_text("every permission the app needs")
    await expect(banner).to_have_count(0)
    await expect(page.get_by_role("heading", name="Stripe connection")).to_be_focused()
    await expect(page.locator("#webhook-health")).to_contain_text("Registered")
    await expect(page.locator("#schema-health")).to_contain_text("Ready")
    assert len(endpoints(live_app, account_id)) == 1

    # A lived-in healthy panel for the screenshot: some history imported, one workflow.
    live_app.emulator.state.bulk_invoices(account_id, 25, customers=5)
    await page.get_by_role("button", name="Sync Stripe invoices now").click()
    await expect(page.get_by_role("progressbar", name="Invoice history")).to_have_attribute("aria-valuenow", "100")
    await create_workflow(live_app.ctx, workspace.workspace_id, WorkflowSpec.model_validate(VOID_ON_FAILURE))
    await page.reload()
    await expect(page.locator("#permissions-banner")).to_have_count(0)
    await expect(page.locator("#workflows")).to_contain_text("Void invoices whose payment failed")
    await screenshot(page, "settings-healthy.png")

    assert any(url.startswith("PUT ") and url.endswith("/api/connection") for url, _ in seen.bodies)
    await seen.assert_never_shown(page, restricted, full_key)


async def test_the_sync_switch_removes_and_registers_the_webhook(live_app: LiveApp, page: Page,
                                                                  seen: SeenResponses) -> None:
    workspace = await live_app.workspace()
    account_id, key = live_app.emulator.new_account()
    await connect(live_app.ctx, workspace.workspace_id, key, "sandbox")
    hook_url = live_app.url(f"/webhooks/stripe/{workspace.workspace_id}")
    assert [e["url"] for e in endpoints(live_app, account_id)] == [hook_url]
    await sign_in(page, live_app, workspace.admin_token, "/settings")

    switch = page.get_by_role("switch", name="Mirror Stripe invoices into the CRM")
    status = page.locator("#sync-status")
    await expect(switch).to_be_checked()
    await switch.click()
    await expect(status).to_contain_text("The webhook endpoint was removed from Stripe.")
    await expect(switch).not_to_be_checked()
    assert endpoints(live_app, account_id) == []
    await expect(page.locator("#webhook-health")).to_contain_text("Sync is off (send-only mode)")

    await switch.press("Space")  # keyboard works too
    await expect(status).to_contain_text("registered in Stripe again")
    assert [e["url"] for e in endpoints(live_app, account_id)] == [hook_url]
    await expect(page.locator("#webhook-health .badge").first).to_have_text("Registered")

    # Stripe refuses to create the endpoint: the panel says so and offers to reconnect.
    await switch.click()
    await expect(status).to_contain_text("was removed")
    live_app.emulator.state.set_faults(FaultConfig(rate_500=1.0, path_regex=r"^/v1/webhook_endpoints$",
                                                   method="POST", account_id=account_id))
    try:
        await switch.click()
        await expect(status).to_contain_text("could not be registered")
        reconnect = page.locator("#sync-reconnect").get_by_role("button", name="Reconnect")
        await expect(reconnect).to_be_focused()
        await expect(page.locator("#sync-reconnect")).to_contain_text("Reconnect the Stripe key")
        await expect(page.locator("#webhook-problem")).to_be_visible()
        assert endpoints(live_app, account_id) == []
    finally:
        live_app.emulator.state.clear_faults()
    await reconnect.click()
    await expect(status).to_contain_text("The webhook endpoint is registered.")
    await expect(page.locator("#sync-reconnect")).to_be_hidden()
    await expect(page.locator("#webhook-problem")).to_have_count(0)
    assert [e["url"] for e in endpoints(live_app, account_id)] == [hook_url]

    await page.get_by_role("button", name="Retry failed events").click()
    await expect(page.locator("#webhook-status")).to_have_text("There are no failed events to retry.")

    await page.get_by_role("button", name="Disconnect").click()
    confirm = page.get_by_role("button", name="Yes, disconnect")
    await expect(confirm).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("#connect-status")).to_contain_text("Disconnected")
    await expect(page.get_by_role("heading", name="Not connected to Stripe")).to_be_visible()
    await expect(page.get_by_label("Stripe secret or restricted key")).to_be_focused()
    assert endpoints(live_app, account_id) == []

    await seen.assert_never_shown(page, key)


async def test_backfill_bar_reaches_100_percent_and_survives_a_reload(live_app: LiveApp, page: Page,
                                                                      seen: SeenResponses) -> None:
    workspace = await live_app.workspace()
    account_id, key = live_app.emulator.new_account()
    await connect(live_app.ctx, workspace.workspace_id, key, "sandbox")
    live_app.emulator.state.bulk_invoices(account_id, 300, customers=20)
    await sign_in(page, live_app, workspace.admin_token, "/settings")

    bar = page.get_by_role("progressbar", name="Invoice history")
    start = page.get_by_role("button", name="Sync Stripe invoices now")
    # Stripe answers the first two pages slowly: the reload happens while page 1 is on its way, and
    # page 2's wait shows the count the reloaded page has picked up by polling again.
    live_app.emulator.state.set_faults(FaultConfig(latency_ms=2500, path_regex=r"^/v1/invoices$", method="GET",
                                                   account_id=account_id, times=2))
    try:
        await start.click()
        await expect(page.locator("#backfill-status")).to_contain_text("Sync started.")
        await expect(bar).to_have_class(re.compile(r"\bindeterminate\b"))
        await expect(bar).not_to_have_attribute("aria-valuenow", re.compile("."))
        await page.reload()
        await expect(page.get_by_role("button", name="Syncing…")).to_have_attribute("aria-disabled", "true")
        # Under load the reloaded page may first poll after page 2 landed: any count shows it resumed.
        await expect(page.locator("#backfill-text")).to_have_text(re.compile(r"^[1-9]\d* invoices so far…$"))
        await expect(bar).to_have_attribute("aria-valuetext", re.compile(r"^[1-9]\d* invoices so far$"))
        await expect(bar).to_have_attribute("aria-valuenow", "100", timeout=20_000)
    finally:
        live_app.emulator.state.clear_faults()
    await expect(page.locator("#backfill-text")).to_contain_text("100% · 300 invoices imported")
    await expect(page.locator("#backfill-seen")).to_have_text("300")
    await expect(page.locator("#backfill-created")).to_have_text("300")
    await expect(page.locator("#backfill-rate")).to_have_text(re.compile(r"^[\d.]+/s$"))
    await expect(page.locator("#backfill-status")).to_contain_text("Done: 300 created")
    await expect(page.get_by_role("button", name="Sync Stripe invoices now")).not_to_have_attribute("aria-disabled", "true")
    assert (await bar.evaluate("el => el.firstElementChild.style.width")) == "100%"

    await seen.assert_never_shown(page, key)


async def test_schema_mapping_is_saved_and_set_up_and_conflicts_are_shown(live_app: LiveApp, page: Page,
                                                                          seen: SeenResponses) -> None:
    workspace = await live_app.workspace()
    _, key = live_app.emulator.new_account()
    await connect(live_app.ctx, workspace.workspace_id, key, "sandbox")  # sync on: the schema is set up
    await sign_in(page, live_app, workspace.admin_token, "/settings")
    await page.get_by_text("Show advanced schema mapping").click()
    number = page.get_by_label("Attribute slug for Number")
    amount_due = page.get_by_label("Attribute slug for Amount due")
    save = page.get_by_role("button", name="Save and set up schema")

    await number.fill("amount_due")  # checked before anything is sent
    await save.click()
    await expect(number).to_have_attribute("aria-invalid", "true")
    await expect(number).to_be_focused()
    await expect(page.locator("#map-number-error")).to_have_text("Already used for Amount due.")

    await number.fill("invoice_number")
    await save.click()
    await expect(page.locator("#mapping-status")).to_have_text(
        "Saved. Object stripe_invoices reused; attributes: 1 created, 16 already present.")
    await expect(number).not_to_have_attribute("aria-invalid", "true")

    # "number" still exists as a text attribute: mapping a number field onto it is a conflict.
    await amount_due.fill("number")
    await save.click()
    await expect(amount_due).to_be_focused()
    await expect(page.locator("#map-amount_due-error")).to_contain_text("expected type number, found text")
    await expect(page.locator("#mapping-error")).to_contain_text("some attributes conflict")
    await expect(page.locator("#schema-health")).to_contain_text("Needs attention")

    await page.get_by_role("button", name="Reset to the default slugs").click()
    await expect(number).to_have_value("number")
    await save.click()
    await expect(page.locator("#mapping-status")).to_contain_text("Saved.")
    await expect(page.locator("#schema-health")).to_contain_text("Ready")
    await seen.assert_never_shown(page, key)
