"""Adapter paths that need an answer the stateful fake would not give on its own."""

from __future__ import annotations

import pytest

from app.crm.attio.adapter import AttioCRM
from app.crm.protocol import AttributeSpec
from app.errors import AppError, ErrorCode
from tests.crm.attio import canned
from tests.crm.attio.canned_server import CannedAttio
from tests.crm.attio.fake_attio import FakeAttio, make_attio_crm

OBJ = canned.new_id()
ATTR = canned.new_id()
OPTIONS = "/v2/objects/stripe_invoices/attributes/status/options"


async def test_select_option_slug_conflict_means_already_there() -> None:
    server = CannedAttio()
    server.on("GET", OPTIONS, (200, {"data": [canned.option_json(OBJ, ATTR, "open")]}))
    create = server.on(
        "POST",
        OPTIONS,
        (409, canned.error_json(409, "slug_conflict", 'A select option with title "paid" already exists.')),
        (200, {"data": canned.option_json(OBJ, ATTR, "void")}),
    )
    crm = AttioCRM(server.transport())
    added = await crm.ensure_select_options("stripe_invoices", "status", ("open", "paid", "void"))
    assert added == ["void"]
    assert create.call_count == 2  # "open" was listed, so never posted


async def test_other_option_errors_propagate() -> None:
    server = CannedAttio()
    server.on("GET", OPTIONS, (200, {"data": []}))
    server.on("POST", OPTIONS, (400, canned.error_json(400, "validation_type", "Bad title.")))
    with pytest.raises(AppError) as info:
        await AttioCRM(server.transport()).ensure_select_options("stripe_invoices", "status", ("x",))
    assert info.value.code is ErrorCode.CRM_INVALID_REQUEST
    assert "validation_type" in info.value.message


async def test_ensure_object_created_meanwhile_is_reused() -> None:
    server = CannedAttio()
    obj = canned.object_json("stripe_invoices", "Stripe invoice", "Stripe invoices", object_id=OBJ)
    get = server.on(
        "GET",
        "/v2/objects/stripe_invoices",
        (404, canned.error_json(404, "not_found", 'Object with slug/ID "stripe_invoices" not found.')),
        (200, {"data": obj}),
    )
    server.on("POST", "/v2/objects", (409, canned.error_json(409, "slug_conflict", "Failed to create object.")))
    info, created = await AttioCRM(server.transport()).ensure_object(
        "stripe_invoices", "Stripe invoice", "Stripe invoices"
    )
    assert not created and info.slug == "stripe_invoices"
    assert get.call_count == 2


async def test_archived_attributes_and_options_are_ignored() -> None:
    server = CannedAttio()
    server.on(
        "GET",
        "/v2/objects/stripe_invoices/attributes",
        (
            200,
            {
                "data": [
                    canned.attribute_json(OBJ, "status", "select", attribute_id=ATTR),
                    canned.attribute_json(OBJ, "old", "text", archived=True),
                ]
            },
        ),
    )
    server.on(
        "GET",
        OPTIONS,
        (
            200,
            {
                "data": [
                    canned.option_json(OBJ, ATTR, "open"),
                    canned.option_json(OBJ, ATTR, "gone", archived=True),
                ]
            },
        ),
    )
    specs = await AttioCRM(server.transport()).list_attributes("stripe_invoices")
    assert specs == [AttributeSpec(slug="status", title="Status", type="select", options=("open",))]


async def test_unexpected_response_shape_is_unavailable() -> None:
    server = CannedAttio()
    server.router.route(method="GET", path="/v2/objects/people").respond(200, json={"data": {"api_slug": 3}})
    with pytest.raises(AppError) as info:
        await AttioCRM(server.transport()).get_object("people")
    assert info.value.code is ErrorCode.CRM_UNAVAILABLE


async def test_fake_rate_limit_and_outage_through_the_adapter() -> None:
    fake = FakeAttio()
    ada = fake.add_person("Ada", ["ada@x.io"])
    crm = make_attio_crm(fake, max_attempts=3)
    fake.fail_next(429, retry_after="0")
    fake.fail_next(503)
    person = await crm.get_person(ada)
    assert person is not None and person.id == ada
    assert len(fake.requests) == 3
    fake.fail_next(500, times=3)
    with pytest.raises(AppError) as info:
        await crm.get_person(ada)
    assert info.value.code is ErrorCode.CRM_UNAVAILABLE
    fake.fail_next(429, times=3, retry_after="0")
    with pytest.raises(AppError) as info:
        await crm.get_person(ada)
    assert info.value.code is ErrorCode.CRM_RATE_LIMITED
