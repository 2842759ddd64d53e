"""A stateful fake of Attio's REST API v2, as a respx router, and `make_attio_crm` wired to it.

Objects, attributes, select options, records (create, assert, query, get), people with
`email_addresses`, companies with `team` (kept in step with people's `company`, as Attio's
relationship attributes are) and an optional `main_contact` record reference. Every request is
checked against the trimmed OpenAPI description before it is answered, and every answer is
checked too: a `SpecViolation` (an AssertionError) fails the test that sent it.

    fake = FakeAttio()
    crm = make_attio_crm(fake)
    ada = fake.add_person("Ada Lovelace", ["ada@example.com"])
    assert (await crm.find_person_by_email("ADA@example.com")).id == ada
    assert fake.writes == []
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import respx

from app.crm.attio.adapter import AttioCRM
from app.crm.attio.ratelimit import RateLimits, TokenBucket
from app.crm.attio.transport import AttioTransport, is_read
from tests.crm.attio import canned
from tests.crm.attio.fake_store import FakeAttribute, FakeObject, FakeStore, Reply, error
from tests.crm.attio.fake_values import BadFilter, matches, primary
from tests.crm.attio.openapi_check import OpenAPICheck, Operation

FAKE_TOKEN = "attio-test-token-5e3b9c"
BASE_URL = "https://api.attio.com"
Json = dict[str, Any]
Handler = Callable[[Operation, Any, httpx.Request], Json]
# Attio types API users may not create on objects (its docs: email, domain, name are built-ins).
_NOT_CREATABLE = {"email-address", "domain", "personal-name", "status", "interaction", "location"}


class FakeAttio:
    """Attio over respx. Seeds `people` and `companies` (with `main_contact_attribute` unless None).

    Helpers: `add_person`, `add_company`, `set_main_contact`, `add_object`, `add_attribute`,
    `set_values` (Attio input shapes, bypassing HTTP), `values` (Attio output values),
    `fail_next(status, times=, retry_after=)` for 429/5xx, and `requests` / `writes` / `clear_log`.
    """

    def __init__(self, *, token: str = FAKE_TOKEN, main_contact_attribute: str | None = "main_contact") -> None:
        self.token = token
        self.spec = OpenAPICheck.load()
        self.store = FakeStore(main_contact_attribute)
        self.requests: list[httpx.Request] = []
        self._faults: list[Reply] = []
        self.router = respx.MockRouter(assert_all_called=False)
        self.router.route(host="api.attio.com").mock(side_effect=self._handle)
        self._handlers: dict[tuple[str, str], Handler] = {
            ("GET", "/v2/objects"): self._list_objects,
            ("POST", "/v2/objects"): self._create_object,
            ("GET", "/v2/objects/{object}"): self._get_object,
            ("GET", "/v2/{target}/{identifier}/attributes"): self._list_attributes,
            ("POST", "/v2/{target}/{identifier}/attributes"): self._create_attribute,
            ("GET", "/v2/{target}/{identifier}/attributes/{attribute}/options"): self._list_options,
            ("POST", "/v2/{target}/{identifier}/attributes/{attribute}/options"): self._create_option,
            ("POST", "/v2/objects/{object}/records"): self._create_record,
            ("PUT", "/v2/objects/{object}/records"): self._assert_record,
            ("POST", "/v2/objects/{object}/records/query"): self._query_records,
            ("GET", "/v2/objects/{object}/records/{record_id}"): self._get_record,
        }

    # -- test helpers --------------------------------------------------------------------------

    def http_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.router.async_handler))

    @property
    def writes(self) -> list[httpx.Request]:
        return [r for r in self.requests if not is_read(r.method, r.url.path)]

    @property
    def objects(self) -> dict[str, FakeObject]:
        return self.store.objects

    def add_object(self, slug: str, singular: str, plural: str) -> FakeObject:
        return self.store.add_object(slug, singular, plural)

    def add_attribute(
        self,
        object_slug: str,
        slug: str,
        attio_type: str,
        *,
        unique: bool = False,
        multiselect: bool = False,
        options: tuple[str, ...] = (),
        target_object: str | None = None,
        title: str | None = None,
    ) -> FakeAttribute:
        return self.store.add_attribute(
            object_slug,
            slug,
            attio_type,
            unique=unique,
            multiselect=multiselect,
            options=options,
            target_object=target_object,
            title=title,
        )

    def clear_log(self) -> None:
        self.requests.clear()

    def fail_next(self, status: int, *, times: int = 1, retry_after: str | None = None) -> None:
        """Answer the next `times` requests with `status` (429 or 5xx) before doing anything."""
        body = canned.rate_limit_json() if status == 429 else canned.server_error_json(status)
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self._faults.extend(Reply(status, body, headers) for _ in range(times))

    def add_company(self, name: str, domain: str | None = None) -> str:
        values: Json = {"name": [{"value": name}]}
        if domain:
            values["domains"] = [{"domain": domain}]
        return self.store.insert(self.store.objects["companies"], values).id

    def add_person(self, name: str, emails: list[str], company_id: str | None = None) -> str:
        values: Json = {"name": name, "email_addresses": [{"email_address": e} for e in emails]}
        if company_id:
            values["company"] = [{"target_object": "companies", "target_record_id": company_id}]
        return self.store.insert(self.store.objects["people"], values).id

    def set_main_contact(self, company_id: str, person_id: str | None, attribute: str = "main_contact") -> None:
        ref = [{"target_object": "people", "target_record_id": person_id}] if person_id else []
        self.set_values("companies", company_id, {attribute: ref})

    def set_values(self, object_slug: str, record_id: str, values: Json) -> None:
        """Write values as Attio would (input shapes), bypassing HTTP."""
        obj = self.store.objects[object_slug]
        self.store.write(obj, obj.records[record_id], values)

    def values(self, object_slug: str, record_id: str) -> dict[str, list[Json]]:
        """The output values Attio would return for a record."""
        obj = self.store.objects[object_slug]
        values: dict[str, list[Json]] = self.store.output(obj, obj.records[record_id])["values"]
        return values

    # -- dispatch ------------------------------------------------------------------------------

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        op, body = self.spec.check_request(request)
        try:
            if request.headers["Authorization"] != f"Bearer {self.token}":
                raise error(401, "invalid_token", "The access token is invalid.")
            if self._faults:
                raise self._faults.pop(0)
            status, payload, headers = 200, self._handlers[(op.method, op.template)](op, body, request), {}
        except Reply as reply:
            status, payload, headers = reply.status, reply.body, reply.headers
        self.spec.check_response(op.method, op.template, status, payload)
        return httpx.Response(status, json=payload, headers=headers)

    # -- objects, attributes, options ----------------------------------------------------------

    def _list_objects(self, op: Operation, body: Any, request: httpx.Request) -> Json:
        return {"data": [o.json for o in self.objects.values()]}

    def _create_object(self, op: Operation, body: Any, request: httpx.Request) -> Json:
        data = body["data"]
        if data["api_slug"] in self.objects:
            raise error(
                409, "slug_conflict", "Failed to create object. Please ensure your api_slug and names are unique."
            )
        return {"data": self.add_object(data["api_slug"], data["singular_noun"], data["plural_noun"]).json}

    def _get_object(self, op: Operation, body: Any, request: httpx.Request) -> Json:
        return {"data": self.store.object(op.path_params["object"]).json}

    def _target_object(self, op: Operation) -> FakeObject:
        if op.path_params["target"] != "objects":
            raise error(404, "not_found", "The fake has no lists.")
        return self.store.object(op.path_params["identifier"])

    def _list_attributes(self, op: Operation, body: Any, request: httpx.Request) -> Json:
        obj = self._target_object(op)
        archived = request.url.params.get("show_archived") == "true"
        return {"data": [a.json for a in obj.attributes.values() if archived or not a.json["is_archived"]]}

    def _create_attribute(self, op: Operation, body: Any, request: httpx.Request) -> Json:
        obj = self._target_object(op)
        data = body["data"]
        if data["api_slug"] in obj.attributes:
            raise error(409, "slug_conflict", "An attribute with the same API slug already exists on this object.")
        if data["type"] in _NOT_CREATABLE:
            raise error(400, "validation_type", f"Attributes of type {data['type']} cannot be created.")
        allowed = None
        if data["type"] == "record-reference":
            refs = data["config"].get("record_reference", {}).get("allowed_objects")
            if not refs:
                raise error(400, "validation_type", "Record reference attributes need allowed_objects.")
            allowed = [self.store.object(r).id for r in refs]
        currency = None
        if data["type"] == "currency":
            if "currency" not in data["config"]:
                raise error(400, "validation_type", "Currency attributes need a currency config.")
            currency = data["config"]["currency"]["default_currency_code"]
        attr = self.store.add_attr(
            obj,
            data["api_slug"],
            data["type"],
            unique=data["is_unique"],
            multiselect=data["is_multiselect"],
            allowed=allowed,
            title=data["title"],
            currency=currency,
        )
        return {"data": attr.json}

    def _list_options(self, op: Operation, body: Any, request: httpx.Request) -> Json:
        attr = self.store.attribute(self._target_object(op), op.path_params["attribute"])
        archived = request.url.params.get("show_archived") == "true"
        return {"data": [o for o in attr.options if archived or not o["is_archived"]]}

    def _create_option(self, op: Operation, body: Any, request: httpx.Request) -> Json:
        obj = self._target_object(op)
        attr = self.store.attribute(obj, op.path_params["attribute"])
        title = body["data"]["title"]
        if any(o["title"] == title for o in attr.options):
            raise error(409, "slug_conflict", f'A select option with title "{title}" already exists.')
        option = canned.option_json(obj.id, attr.json["id"]["attribute_id"], title)
        attr.options.append(option)
        return {"data": option}

    # -- records -------------------------------------------------------------------------------

    def _create_record(self, op: Operation, body: Any, request: httpx.Request) -> Json:
        obj = self.store.object(op.path_params["object"])
        return {"data": self.store.output(obj, self.store.insert(obj, body["data"]["values"]))}

    def _assert_record(self, op: Operation, body: Any, request: httpx.Request) -> Json:
        obj = self.store.object(op.path_params["object"])
        values = body["data"]["values"]
        match = self.store.attribute(obj, request.url.params["matching_attribute"])
        if not match.json["is_unique"]:
            raise error(400, "value_not_found", f'The matching attribute "{match.slug}" is not unique.')
        if match.slug not in values:
            raise error(400, "missing_value", f'No value was given for the matching attribute "{match.slug}".')
        wanted = {primary(v) for v in self.store.convert(obj, match, values[match.slug])}
        for record in obj.records.values():
            if wanted & {primary(v) for v in self.store.stored(obj, record, match.slug)}:
                self.store.write(obj, record, values)
                return {"data": self.store.output(obj, record)}
        return {"data": self.store.output(obj, self.store.insert(obj, values))}

    def _query_records(self, op: Operation, body: Any, request: httpx.Request) -> Json:
        obj = self.store.object(op.path_params["object"])
        body = body or {}
        records = list(obj.records.values())
        if body.get("filter"):
            try:
                records = [r for r in records if matches(body["filter"], self.store.values_of(obj, r))]
            except BadFilter as exc:
                raise error(400, "filter_error", str(exc)) from None
        for sort in reversed(body.get("sorts") or []):
            attribute = sort.get("attribute")
            if attribute is None or attribute not in obj.attributes:
                raise error(400, "filter_error", "The fake sorts by attribute only.")
            records.sort(key=lambda r: self.store.sort_key(obj, r, attribute), reverse=sort["direction"] == "desc")
        offset, limit = int(body.get("offset", 0)), int(body.get("limit", 500))
        return {"data": [self.store.output(obj, r) for r in records[offset : offset + limit]]}

    def _get_record(self, op: Operation, body: Any, request: httpx.Request) -> Json:
        obj = self.store.object(op.path_params["object"])
        record = obj.records.get(op.path_params["record_id"])
        if record is None:
            raise error(404, "not_found", "Record not found.")
        return {"data": self.store.output(obj, record)}


async def _no_sleep(seconds: float) -> None:
    return None


def make_attio_crm(
    fake: FakeAttio | None = None,
    *,
    main_contact_attribute: str | None = "main_contact",
    limits: RateLimits | None = None,
    sleep: Callable[[float], Awaitable[None]] = _no_sleep,
    max_attempts: int = 3,
) -> AttioCRM:
    """An `AttioCRM` talking to `fake` (a fresh `FakeAttio` when None). Rate limits default to
    effectively unlimited and retry sleeps to no-ops, so suites stay fast."""
    fake = fake if fake is not None else FakeAttio(main_contact_attribute=main_contact_attribute)
    if limits is None:
        limits = RateLimits(read=TokenBucket(1e9, sleep=sleep), write=TokenBucket(1e9, sleep=sleep))
    transport = AttioTransport(
        fake.http_client(),
        fake.token,
        base_url=BASE_URL,
        limits=limits,
        sleep=sleep,
        max_attempts=max_attempts,
    )
    return AttioCRM(transport, main_contact_attribute=main_contact_attribute)
