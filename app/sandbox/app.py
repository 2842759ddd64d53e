"""The emulator as a Starlette app: Stripe's `/v1` subset, hosted invoice pages, `/_emulator`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.sandbox import (
    account,
    catalog,
    customers,
    events,
    invoice_actions,
    invoiceitems,
    invoices,
    webhooks,
)
from app.sandbox.admin import admin_routes
from app.sandbox.api import ApiRoute, api_endpoint
from app.sandbox.delivery import WebhookDispatcher
from app.sandbox.errors import unrecognized_url
from app.sandbox.hosted import invoice_page, invoice_pdf
from app.sandbox.state import EmulatorState

WEBHOOK_TIMEOUT_S = 10.0

API_ROUTES: tuple[ApiRoute, ...] = (
    ApiRoute("GET", "/v1/account", account.retrieve, None),
    ApiRoute("POST", "/v1/customers", customers.create, "customers", "write"),
    ApiRoute("GET", "/v1/customers", customers.list_customers, "customers"),
    ApiRoute("GET", "/v1/customers/{id}", customers.retrieve, "customers"),
    ApiRoute("POST", "/v1/customers/{id}", customers.update, "customers", "write"),
    ApiRoute("DELETE", "/v1/customers/{id}", customers.delete, "customers", "write"),
    ApiRoute("POST", "/v1/products", catalog.create_product, "products", "write"),
    ApiRoute("GET", "/v1/products", catalog.list_products, "products"),
    ApiRoute("GET", "/v1/products/{id}", catalog.retrieve_product, "products"),
    ApiRoute("POST", "/v1/products/{id}", catalog.update_product, "products", "write"),
    ApiRoute("DELETE", "/v1/products/{id}", catalog.delete_product, "products", "write"),
    ApiRoute("POST", "/v1/prices", catalog.create_price, "prices", "write"),
    ApiRoute("GET", "/v1/prices", catalog.list_prices, "prices"),
    ApiRoute("GET", "/v1/prices/{id}", catalog.retrieve_price, "prices"),
    ApiRoute("POST", "/v1/prices/{id}", catalog.update_price, "prices", "write"),
    ApiRoute("POST", "/v1/invoices", invoices.create, "invoices", "write"),
    ApiRoute("GET", "/v1/invoices", invoices.list_invoices, "invoices"),
    ApiRoute("GET", "/v1/invoices/{id}", invoices.retrieve, "invoices"),
    ApiRoute("POST", "/v1/invoices/{id}", invoices.update, "invoices", "write"),
    ApiRoute("DELETE", "/v1/invoices/{id}", invoices.delete, "invoices", "write"),
    ApiRoute("GET", "/v1/invoices/{id}/lines", invoices.list_lines, "invoices"),
    ApiRoute("POST", "/v1/invoices/{id}/add_lines", invoices.add_lines, "invoices", "write"),
    ApiRoute("POST", "/v1/invoices/{id}/finalize", invoice_actions.finalize, "invoices", "write"),
    ApiRoute("POST", "/v1/invoices/{id}/send", invoice_actions.send, "invoices", "write"),
    ApiRoute("POST", "/v1/invoices/{id}/pay", invoice_actions.pay, "invoices", "write"),
    ApiRoute("POST", "/v1/invoices/{id}/void", invoice_actions.void, "invoices", "write"),
    ApiRoute("POST", "/v1/invoices/{id}/mark_uncollectible", invoice_actions.mark_uncollectible,
             "invoices", "write"),
    ApiRoute("POST", "/v1/invoiceitems", invoiceitems.create, "invoiceitems", "write"),
    ApiRoute("GET", "/v1/invoiceitems", invoiceitems.list_items, "invoiceitems"),
    ApiRoute("GET", "/v1/invoiceitems/{id}", invoiceitems.retrieve, "invoiceitems"),
    ApiRoute("DELETE", "/v1/invoiceitems/{id}", invoiceitems.delete, "invoiceitems", "write"),
    ApiRoute("POST", "/v1/webhook_endpoints", webhooks.create, "webhook_endpoints", "write"),
    ApiRoute("GET", "/v1/webhook_endpoints", webhooks.list_endpoints, "webhook_endpoints"),
    ApiRoute("GET", "/v1/webhook_endpoints/{id}", webhooks.retrieve, "webhook_endpoints"),
    ApiRoute("POST", "/v1/webhook_endpoints/{id}", webhooks.update, "webhook_endpoints", "write"),
    ApiRoute("DELETE", "/v1/webhook_endpoints/{id}", webhooks.delete, "webhook_endpoints",
             "write"),
    ApiRoute("GET", "/v1/events", events.list_events, "events"),
    ApiRoute("GET", "/v1/events/{id}", events.retrieve, "events"),
)


async def _unrecognized(request: Request) -> Response:
    error = unrecognized_url(request.method.upper(), request.url.path)
    return Response(
        content=json.dumps(error.body()),
        status_code=error.status,
        media_type="application/json",
    )


def create_emulator_app(
    state: EmulatorState | None = None,
    *,
    webhook_retry_delays: Sequence[float] = (1, 5, 30),
) -> Starlette:
    """A Starlette app over `state` (a fresh one if None; reachable as `app.state.emulator`).

    Webhooks are delivered by a background task that lives in the app's lifespan, so run the
    app under a server that runs lifespan events (uvicorn does; see `server.py`).
    """
    emulator = state if state is not None else EmulatorState()
    delays = tuple(float(d) for d in webhook_retry_delays)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_S, trust_env=False) as client:
            dispatcher = WebhookDispatcher(emulator, client, delays)
            emulator.add_listener(dispatcher.wake_threadsafe)
            runner = asyncio.create_task(dispatcher.run())
            try:
                yield {}
            finally:
                emulator.remove_listener(dispatcher.wake_threadsafe)
                runner.cancel()
                await asyncio.gather(runner, return_exceptions=True)
                await dispatcher.aclose()

    routes = [
        *(Route(r.path, api_endpoint(emulator, r), methods=[r.method]) for r in API_ROUTES),
        Route("/v1/{rest:path}", _unrecognized,
              methods=["GET", "POST", "DELETE", "PUT", "PATCH"]),
        Route("/hosted/invoices/{id}", invoice_page(emulator), methods=["GET"]),
        Route("/hosted/invoices/{id}/pdf", invoice_pdf(emulator), methods=["GET"]),
        *admin_routes(emulator),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.emulator = emulator
    return app
