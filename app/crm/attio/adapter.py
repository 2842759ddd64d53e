"""`AttioCRM`: the `CRM` protocol over Attio's REST API v2.

Decisions worth knowing:

* `upsert_record` queries for the match value first (a read: 100/s budget) and then asserts
  (`PUT .../records?matching_attribute=`, a write). `created` is "no record matched before the
  assert", which is exact unless another writer creates the same record between the two calls;
  Attio's assert answer carries no created/updated flag and comparing `created_at` with our clock
  would depend on clock skew.
* Emails: Attio stores a normalised `email_address` next to the `original_email_address` but does
  not document its equality filter as case-insensitive, so we lower-case the address we write
  and the address we search for, and re-check the match ourselves without regard to case.
* Values are encoded by the attribute's Attio type, read once per object and cached on this
  adapter (refreshed when a value names an attribute the cache does not know).
* Attio record ids are UUIDs: any other id is "not found" without a request.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from app.crm.attio import paths
from app.crm.attio.bodies import (
    attribute_body,
    equals_filter,
    object_body,
    option_body,
    person_values,
    query_body,
    record_body,
)
from app.crm.attio.models import (
    AttioAttribute,
    AttioObject,
    AttioOption,
    AttioRecord,
    parse_list,
    parse_one,
)
from app.crm.attio.records import (
    COMPANIES,
    EMAILS,
    PEOPLE,
    company_from_record,
    generic_record,
    person_from_record,
    team_ids,
)
from app.crm.attio.transport import AttioError, AttioTransport
from app.crm.attio.values import encode_value, from_attio_type, to_attio_type
from app.crm.protocol import AttributeSpec, Company, ObjectInfo, Person, Record, UpsertResult
from app.errors import AppError, ErrorCode

COUNT_PAGE = 500  # Attio's default (and largest documented) query page


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


def _invalid(message: str) -> AppError:
    return AppError(ErrorCode.CRM_INVALID_REQUEST, message)


class AttioCRM:
    """One Attio workspace (the token's) as a `CRM`.

    `main_contact_attribute`: slug of a record-reference-to-people attribute on companies that
    names the main contact (Attio has none built in); None when it is absent or disabled.
    `currency_code`: default currency for currency attributes this adapter creates.
    """

    def __init__(
        self,
        transport: AttioTransport,
        *,
        main_contact_attribute: str | None = "main_contact",
        currency_code: str = "USD",
    ) -> None:
        self._t = transport
        self._main_contact = main_contact_attribute
        self._currency_code = currency_code
        self._meta: dict[str, dict[str, AttioAttribute]] = {}
        self._object_slugs: dict[str, str] | None = None

    # -- people and companies ------------------------------------------------------------------

    async def find_person_by_email(self, email: str) -> Person | None:
        wanted = email.strip().lower()
        if not wanted:
            return None
        body = query_body(filter=equals_filter(EMAILS, "email-address", wanted), limit=10)
        payload = await self._t.post(paths.records_query(PEOPLE), body)
        for record in parse_list(AttioRecord, payload):
            person = person_from_record(record)
            if any(address.lower() == wanted for address in person.emails):
                return person
        return None

    async def get_person(self, person_id: str) -> Person | None:
        record = await self._get_raw(PEOPLE, person_id)
        return person_from_record(record) if record is not None else None

    async def get_company(self, company_id: str) -> Company | None:
        record = await self._get_raw(COMPANIES, company_id)
        if record is None:
            return None
        company = company_from_record(record, (), self._main_contact)
        ids = team_ids(record)
        if company.main_contact_id and company.main_contact_id not in ids:
            ids.append(company.main_contact_id)
        found = await asyncio.gather(*(self.get_person(pid) for pid in dict.fromkeys(ids)))
        people = tuple(p for p in found if p is not None)
        return company_from_record(record, people, self._main_contact)

    async def create_person(self, name: str, email: str, company_id: str | None = None) -> Person:
        address = email.strip().lower()
        if not address:
            raise _invalid("A person needs an email address.")
        body = record_body(person_values(name, address, company_id))
        payload = await self._t.post(paths.records(PEOPLE), body)
        return person_from_record(parse_one(AttioRecord, payload))

    # -- objects and attributes ----------------------------------------------------------------

    async def get_object(self, slug: str) -> ObjectInfo | None:
        try:
            payload = await self._t.get(paths.object_(slug))
        except AttioError as exc:
            if exc.code is ErrorCode.NOT_FOUND:
                return None
            raise
        return self._object_info(parse_one(AttioObject, payload), slug)

    async def ensure_object(self, slug: str, singular: str, plural: str) -> tuple[ObjectInfo, bool]:
        existing = await self.get_object(slug)
        if existing is not None:
            return existing, False
        try:
            payload = await self._t.post(paths.objects(), object_body(slug, singular, plural))
        except AttioError as exc:
            if exc.code is not ErrorCode.CONFLICT:
                raise
            # Created meanwhile by someone else: reuse it.
            again = await self.get_object(slug)
            if again is None:
                raise
            return again, False
        self._object_slugs = None
        return self._object_info(parse_one(AttioObject, payload), slug), True

    async def list_attributes(self, object_slug: str) -> list[AttributeSpec]:
        meta = await self._attribute_meta(object_slug, refresh=True)
        specs: list[AttributeSpec] = []
        for attr in meta.values():
            options: tuple[str, ...] = ()
            if attr.type == "select":
                options = tuple(await self._option_titles(object_slug, attr.api_slug))
            specs.append(
                AttributeSpec(
                    slug=attr.api_slug,
                    title=attr.title,
                    type=from_attio_type(attr.type),
                    unique=attr.is_unique,
                    options=options,
                    target_object=await self._target_slug(attr),
                )
            )
        return specs

    async def create_attribute(self, object_slug: str, spec: AttributeSpec) -> AttributeSpec:
        attio_type = to_attio_type(spec.type)
        try:
            body = attribute_body(spec, attio_type=attio_type, currency_code=self._currency_code)
        except ValueError as exc:
            raise _invalid(str(exc)) from None
        payload = await self._t.post(paths.attributes(object_slug), body)
        attr = parse_one(AttioAttribute, payload)
        self._meta.pop(object_slug, None)
        added = await self.ensure_select_options(object_slug, attr.api_slug, spec.options) if spec.options else []
        return AttributeSpec(
            slug=attr.api_slug,
            title=attr.title,
            type=from_attio_type(attr.type),
            unique=attr.is_unique,
            options=tuple(added),
            target_object=spec.target_object,
        )

    async def ensure_select_options(self, object_slug: str, attribute_slug: str, options: tuple[str, ...]) -> list[str]:
        present = set(await self._option_titles(object_slug, attribute_slug))
        added: list[str] = []
        for title in dict.fromkeys(options):
            if title in present:
                continue
            try:
                await self._t.post(paths.options(object_slug, attribute_slug), option_body(title))
            except AttioError as exc:
                # slug_conflict: the option exists (archived, or added meanwhile): "already there".
                if exc.attio_code == "slug_conflict" or exc.code is ErrorCode.CONFLICT:
                    continue
                raise
            added.append(title)
        return added

    # -- records -------------------------------------------------------------------------------

    async def upsert_record(self, object_slug: str, match_attribute: str, values: dict[str, Any]) -> UpsertResult:
        if values.get(match_attribute) is None:
            raise _invalid(f"The value of the matching attribute {match_attribute!r} is missing.")
        encoded = await self._encode(object_slug, values)
        existing = await self.find_record(object_slug, match_attribute, values[match_attribute])
        payload = await self._t.put(
            paths.records(object_slug),
            record_body(encoded),
            params={"matching_attribute": match_attribute},
        )
        record = await self._generic(object_slug, parse_one(AttioRecord, payload))
        return UpsertResult(record=record, created=existing is None)

    async def upsert_records(
        self, object_slug: str, match_attribute: str, values_list: list[dict[str, Any]]
    ) -> list[UpsertResult]:
        """Attio has no batch assert: one per record, paced by the transport's write limit."""
        return [await self.upsert_record(object_slug, match_attribute, values) for values in values_list]

    async def find_record(self, object_slug: str, attribute: str, value: Any) -> Record | None:
        meta = await self._attribute_meta(object_slug)
        attr = meta.get(attribute) or (await self._attribute_meta(object_slug, refresh=True)).get(attribute)
        if attr is None:
            raise _invalid(f"The Attio object {object_slug!r} has no attribute {attribute!r}.")
        if attr.type == "email-address" and isinstance(value, str):
            value = value.strip().lower()
        body = query_body(filter=equals_filter(attribute, attr.type, value), limit=1)
        payload = await self._t.post(paths.records_query(object_slug), body)
        found = parse_list(AttioRecord, payload)
        return await self._generic(object_slug, found[0]) if found else None

    async def get_record(self, object_slug: str, record_id: str) -> Record | None:
        record = await self._get_raw(object_slug, record_id)
        return await self._generic(object_slug, record) if record is not None else None

    async def list_records(self, object_slug: str, *, limit: int = 50, offset: int = 0) -> tuple[list[Record], int]:
        if limit < 1 or offset < 0:
            raise _invalid("limit must be at least 1 and offset not negative.")
        page = await self._query_page(object_slug, limit=limit, offset=offset)
        records = [await self._generic(object_slug, r) for r in page]
        # Attio has no count endpoint: count by paging only when this page cannot tell.
        if len(page) == limit:
            total = await self._count_from(object_slug, offset + limit)
        elif page or offset == 0:
            total = offset + len(page)
        else:
            total = await self._count_from(object_slug, 0)
        return records, total

    # -- helpers -------------------------------------------------------------------------------

    async def _get_raw(self, object_slug: str, record_id: str) -> AttioRecord | None:
        if not _is_uuid(record_id):
            return None
        try:
            payload = await self._t.get(paths.record(object_slug, record_id))
        except AttioError as exc:
            if exc.code is ErrorCode.NOT_FOUND:
                return None
            raise
        return parse_one(AttioRecord, payload)

    async def _query_page(self, object_slug: str, *, limit: int, offset: int) -> list[AttioRecord]:
        body = query_body(limit=limit, offset=offset, oldest_first=True)
        return parse_list(AttioRecord, await self._t.post(paths.records_query(object_slug), body))

    async def _count_from(self, object_slug: str, offset: int) -> int:
        total = offset
        while True:
            page = await self._query_page(object_slug, limit=COUNT_PAGE, offset=total)
            total += len(page)
            if len(page) < COUNT_PAGE:
                return total

    async def _attribute_meta(self, object_slug: str, *, refresh: bool = False) -> dict[str, AttioAttribute]:
        if refresh or object_slug not in self._meta:
            payload = await self._t.get(paths.attributes(object_slug))
            attrs = parse_list(AttioAttribute, payload)
            self._meta[object_slug] = {a.api_slug: a for a in attrs if not a.is_archived}
        return self._meta[object_slug]

    async def _option_titles(self, object_slug: str, attribute_slug: str) -> list[str]:
        payload = await self._t.get(paths.options(object_slug, attribute_slug))
        return [o.title for o in parse_list(AttioOption, payload) if not o.is_archived]

    async def _target_slug(self, attr: AttioAttribute) -> str | None:
        """The one object a record reference may point at, as a slug (None: any or several)."""
        ids = attr.allowed_object_ids
        if attr.type != "record-reference" or len(ids) != 1:
            return None
        if self._object_slugs is None or ids[0] not in self._object_slugs:
            objects = parse_list(AttioObject, await self._t.get(paths.objects()))
            self._object_slugs = {o.id.object_id: o.api_slug for o in objects if o.api_slug}
        return self._object_slugs.get(ids[0], ids[0])

    async def _encode(self, object_slug: str, values: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        meta = await self._attribute_meta(object_slug)
        if not values.keys() <= meta.keys():
            meta = await self._attribute_meta(object_slug, refresh=True)
        unknown = sorted(values.keys() - meta.keys())
        if unknown:
            raise _invalid(f"The Attio object {object_slug!r} has no attribute(s) {', '.join(unknown)}.")
        encoded: dict[str, list[dict[str, Any]]] = {}
        for slug, value in values.items():
            attr = meta[slug]
            try:
                encoded[slug] = encode_value(attr.type, value, target_object=await self._target_slug(attr))
            except (ValueError, TypeError) as exc:
                raise _invalid(f"Bad value for Attio attribute {slug!r}: {exc}") from None
        return encoded

    async def _generic(self, object_slug: str, record: AttioRecord) -> Record:
        meta = await self._attribute_meta(object_slug)
        return generic_record(
            record,
            multiselect={slug for slug, a in meta.items() if a.is_multiselect},
            hidden={slug for slug, a in meta.items() if not a.is_writable},
        )

    @staticmethod
    def _object_info(obj: AttioObject, fallback_slug: str) -> ObjectInfo:
        return ObjectInfo(
            slug=obj.api_slug or fallback_slug,
            singular=obj.singular_noun or "",
            plural=obj.plural_noun or "",
        )
