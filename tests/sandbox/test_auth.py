# mypy: disable-error-code="union-attr, arg-type, typeddict-item, typeddict-unknown-key, no-untyped-call, misc, operator, index"
"""Keys: unknown/revoked -> 401; restricted keys -> 403 before any lookup or validation."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import stripe

from app.sandbox.server import RunningEmulator

ClientFactory = Callable[..., stripe.StripeClient]


async def test_unknown_key_is_401_with_masked_key(make_client: ClientFactory) -> None:
    key = "sk_test_51NotARealKeyAtAll0000abcd"
    with pytest.raises(stripe.AuthenticationError) as error:
        await make_client(key).v1.customers.list_async()
    assert error.value.http_status == 401
    message = str(error.value.user_message)
    assert message.startswith("Invalid API Key provided: sk_test_")
    assert message.endswith("abcd") and "NotARealKey" not in message


async def test_revoked_key_is_401(emulator: RunningEmulator, make_client: ClientFactory,
                                  admin: httpx.AsyncClient) -> None:
    _, key = emulator.new_account()
    client = make_client(key)
    await client.v1.customers.list_async()
    response = await admin.post("/_emulator/keys/revoke", json={"key": key})
    assert response.json() == {"revoked": True}
    with pytest.raises(stripe.AuthenticationError):
        await client.v1.customers.list_async()
    with pytest.raises(stripe.AuthenticationError):
        await client.v1.accounts.retrieve_current_async()


async def test_missing_key_is_401(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/v1/customers")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_restricted_read_key(emulator: RunningEmulator, make_client: ClientFactory,
                                   account: tuple[str, str]) -> None:
    account_id, secret = account
    customer = await make_client(secret).v1.customers.create_async(params={"email": "r@x.co"})
    key = emulator.state.create_restricted_key(account_id, {"customers": "read"})
    assert key.startswith("rk_test_")
    client = make_client(key)

    fetched = await client.v1.customers.retrieve_async(customer.id)
    assert fetched.email == "r@x.co"
    with pytest.raises(stripe.PermissionError) as error:
        await client.v1.customers.create_async(params={"email": "new@x.co"})
    assert error.value.http_status == 403
    message = str(error.value.user_message)
    assert message.startswith("The provided key 'rk_test_")
    assert f"on account '{account_id}'" in message
    assert "Having the 'rak_customer_write' permission would allow this request to continue." in message
    with pytest.raises(stripe.PermissionError) as error:
        await client.v1.invoices.list_async()
    assert "'rak_invoice_read'" in str(error.value.user_message)
    # every valid key may read the account
    assert (await client.v1.accounts.retrieve_current_async()).id == account_id


async def test_write_probe_403_before_404(emulator: RunningEmulator,
                                          make_client: ClientFactory,
                                          account: tuple[str, str]) -> None:
    """The app's permission probe: update a customer that cannot exist."""
    account_id, _ = account
    read_only = make_client(emulator.state.create_restricted_key(
        account_id, {"customers": "read", "invoices": "read"}))
    writer = make_client(emulator.state.create_restricted_key(
        account_id, {"customers": "write", "invoices": "write"}))

    for call in (
        lambda c: c.v1.customers.update_async("cus_does_not_exist", params={"name": "x"}),
        lambda c: c.v1.invoices.finalize_invoice_async("in_does_not_exist"),
        lambda c: c.v1.invoices.add_lines_async("in_does_not_exist", params={"lines": []}),
        lambda c: c.v1.invoices.delete_async("in_does_not_exist"),
    ):
        with pytest.raises(stripe.PermissionError):
            await call(read_only)
        with pytest.raises(stripe.InvalidRequestError) as error:
            await call(writer)
        assert error.value.http_status == 404 and error.value.code == "resource_missing"

    # Before validation too: a bad param still gets 403 from a read-only key.
    with pytest.raises(stripe.PermissionError):
        await read_only.v1.invoices.create_async(params={"customer": ""})
    assert emulator.state.summary(account_id)["customers"]["count"] == 0


async def test_write_implies_read_and_livemode_from_key(
    emulator: RunningEmulator, make_client: ClientFactory, admin: httpx.AsyncClient
) -> None:
    response = await admin.post("/_emulator/accounts", json={"livemode": True})
    body = response.json()
    assert body["secret_key"].startswith("sk_live_")
    response = await admin.post("/_emulator/restricted_keys", json={
        "account_id": body["account_id"], "permissions": {"products": "write"},
    })
    key = response.json()["key"]
    assert key.startswith("rk_live_")
    client = make_client(key)
    product = await client.v1.products.create_async(params={"name": "Live thing"})
    assert product.livemode is True
    assert (await client.v1.products.retrieve_async(product.id)).name == "Live thing"
    with pytest.raises(stripe.PermissionError):
        await client.v1.prices.list_async()

    bad = await admin.post("/_emulator/restricted_keys", json={
        "account_id": body["account_id"], "permissions": {"charges": "write"},
    })
    assert bad.status_code == 400
