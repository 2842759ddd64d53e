"""The create-invoice dialog in real Chromium, against the real app (uvicorn on a free port) and the
Stripe emulator: pick a company's person, add a catalog and a custom line, "Finalize and email",
see the number and hosted URL; and a refused request shown next to the field at fault."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from app.connection.service import connect
from app.context import build_context
from app.crm.local.adapter import LocalCRM
from app.http.app import build_app
from app.jobs.inprocess import InProcessJobs
from app.sandbox.server import RunningEmulator, serving_in_loop
from app.store.workspaces import create_workspace
from tests.conftest import make_settings

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "create-invoice.png"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]




async def new_price(base_url: str, key: str, name: str, amount: int, currency: str = "usd") -> str:
    async with httpx.AsyncClient(base_url=base_url, trust_env=False) as http:
        r = await http.post("/v1/prices", data={"product_data[name]": name, "unit_amount": str(amount),
                                                "currency": currency}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    price_id: str = r.json()["id"]
    return price_id


async def open_dialog(page: Page, base_url: str, token: str, object_slug: str, record_id: str) -> None:
    dialog = f"/actions/create-invoice?{urlencode({'object': object_slug, 'record_id': record_id})}"
    await page.goto(f"{base_url}/login?{urlencode({'token': token, 'next': dialog})}")
    await expect(page.get_by_role("heading", name="Create invoice")).to_be_visible()


async def test_create_invoice_dialog(tmp_path: Path, emulator: RunningEmulator) -> None:
    settings = make_settings(tmp_path, stripe_api_base=emulator.base_url, stripe_rate_sandbox=2000.0)
    ctx = await build_context(settings, jobs=InProcessJobs(periodic=False))
    async with serving_in_loop(build_app(ctx)) as base_url:
        workspace = await create_workspace(ctx.store, "Acme")
        account_id, key = emulator.new_account()
        await connect(ctx, workspace.workspace_id, key, "sandbox")  # sync on: schema set up too
        workshop = await new_price(emulator.base_url, key, "Onboarding workshop", 50_000)
        crm = LocalCRM(ctx.store, workspace.workspace_id)
        company = await crm.create_company("Globex", "globex.test")
        await crm.create_person("Hank Scorpio", "hank@globex.test", company.id, main_contact=True)
        marge = await crm.create_person("Marge Simpson", "marge@globex.test", company.id)

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1100, "height": 900}, locale="en-US")
                await open_dialog(page, base_url, workspace.operator_token, "companies", company.id)

                recipient = page.get_by_label("Send to")
                await expect(recipient).to_contain_text("Hank Scorpio")
                assert await recipient.input_value() != marge.id  # the main contact is preselected
                await recipient.select_option(marge.id)

                await page.get_by_label("Catalog price").select_option(workshop)
                await page.get_by_role("button", name="Add catalog item").click()
                await page.get_by_role("button", name="Add custom line").click()
                await page.get_by_label("Description, line 2").fill("Design review")
                await page.get_by_label("Unit price, line 2").fill("250.50")
                await page.get_by_label("Quantity, line 2").fill("2")
                await expect(page.locator("#total")).to_have_text("$1,001.00")

                await page.get_by_role("button", name="Finalize and email").click()
                result = page.locator("#result")
                await expect(result).to_be_visible()
                number = await page.locator("#result-number").inner_text()
                hosted = await page.get_by_role("link", name="Open the hosted invoice").get_attribute("href")
                await expect(result).to_contain_text("emailed to marge@globex.test")
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(SCREENSHOT), full_page=True)

                invoices = list(emulator.state.account(account_id).invoices.values())
                assert len(invoices) == 1
                invoice = invoices[0]
                assert (invoice.number, invoice.hosted_invoice_url) == (number, hosted)
                assert invoice.status == "open" and invoice.sent_count == 1 and invoice.total == 100_100
                assert invoice.customer_email == "marge@globex.test"
                assert key not in await page.content()

                # A refused request: its message sits next to the line it concerns.
                await open_dialog(page, base_url, workspace.operator_token, "people", marge.id)
                await page.get_by_role("button", name="Add catalog item").click()
                await page.get_by_role("button", name="Add custom line").click()
                await page.get_by_label("Description, line 2").fill("Travel")
                await page.get_by_label("Unit price, line 2").fill("80")
                await page.get_by_label("Currency, line 2").select_option("eur")
                await expect(page.locator("#total")).to_have_text("Lines use different currencies")
                await page.get_by_role("button", name="Finalize", exact=True).click()
                await expect(page.get_by_role("alert")).to_contain_text("an invoice has a single currency")
                currency = page.get_by_label("Currency, line 2")
                await expect(currency).to_have_attribute("aria-invalid", "true")
                await expect(currency).to_be_focused()
                await expect(page.locator("tr", has=currency).locator(".field-error")).to_contain_text("must be USD")
                assert len(emulator.state.account(account_id).invoices) == 1  # nothing new in Stripe
            finally:
                await browser.close()
