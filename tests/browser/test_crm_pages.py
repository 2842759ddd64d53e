"""The embedded CRM's pages in real Chromium: the shared look, adding a person through the form,
and a company's record page with its record actions (Sync Stripe Invoices runs to the end; Create
Invoice opens the dialog)."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from app.connection.service import connect
from app.crm.local.adapter import LocalCRM
from tests.browser.conftest import BROWSER_TEST, LiveApp, SeenResponses, screenshot, sign_in

pytestmark = BROWSER_TEST


async def test_company_record_page_and_its_actions(live_app: LiveApp, page: Page, seen: SeenResponses) -> None:
    workspace = await live_app.workspace()
    account_id, key = live_app.emulator.new_account()
    await connect(live_app.ctx, workspace.workspace_id, key, "sandbox")
    live_app.emulator.state.bulk_invoices(account_id, 40, customers=4)
    crm = LocalCRM(live_app.ctx.store, workspace.workspace_id)
    globex = await crm.create_company("Globex", "globex.test")
    await crm.create_person("Hank Scorpio", "hank@globex.test", globex.id, main_contact=True)

    await sign_in(page, live_app, workspace.operator_token, "/crm/people")
    await expect(page.get_by_role("heading", name="People", exact=True)).to_be_visible()
    await expect(page.get_by_role("link", name="Settings")).to_have_count(0)  # operators have no settings
    await expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="CRM")).to_have_attribute(
        "aria-current", "page")
    await page.get_by_text("Add a person").click()
    await page.get_by_label("Name", exact=True).fill("Marge Simpson")
    await page.get_by_label("Email", exact=True).fill("marge@globex.test")
    await page.get_by_label("Company", exact=True).select_option(label="Globex")
    await page.get_by_role("button", name="Add person").click()
    await expect(page.get_by_role("heading", name="Marge Simpson")).to_be_visible()
    await expect(page.get_by_role("link", name="Globex", exact=True)).to_be_visible()

    await page.get_by_role("link", name="Globex", exact=True).click()
    await expect(page.get_by_role("heading", name="Globex", exact=True)).to_be_visible()
    actions = page.get_by_role("group", name="Record actions")
    create = actions.get_by_role("link", name="Create Invoice")
    await expect(create).to_have_attribute("href", f"/actions/create-invoice?object=companies&record_id={globex.id}")
    people = page.get_by_role("table", name="People at Globex")
    await expect(people).to_contain_text("Main contact")
    await expect(people).to_contain_text("marge@globex.test")

    await actions.get_by_role("button", name="Sync Stripe Invoices").click()
    status = page.locator("#action-status")
    await expect(status).to_have_text(re.compile(r"Invoice sync finished: 40 invoices read, 40 new"), timeout=15_000)
    await expect(page.get_by_role("link", name="Stripe invoices")).to_be_visible()  # the object is in the sidebar
    await screenshot(page, "crm-record.png")

    await create.click()
    await expect(page.get_by_role("heading", name=re.compile("^Create invoice"))).to_be_visible()
    await seen.assert_never_shown(page, key)
