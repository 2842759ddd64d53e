"""`LocalCRM`: the `CRM` protocol over the store's CRM tables, bound to one workspace.

Every write is one transaction, retried when the database refuses it because a concurrent writer
claimed the same unique value first (the retry re-reads and becomes an update or a CONFLICT).
Updates, including the update half of an upsert, go through `_update`, which reports each changed
record to the optional `on_record_updated` observer after the transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.crm.local import records as rows
from app.crm.local.people import company_from_record, person_from_record, record_label
from app.crm.local.schema import (
    COMPANIES,
    PEOPLE,
    STANDARD_OBJECTS,
    ObjectSchema,
    add_select_options,
    bootstrap_standard_objects,
    check_slug,
    checked_spec,
    insert_attribute,
    insert_object,
    list_objects,
    load_object,
    load_schema,
    standard_objects_ready,
)
from app.crm.local.values import InvalidValue, normalise, normalise_values, unique_keys
from app.crm.protocol import AttributeSpec, Company, ObjectInfo, Person, Record, UpsertResult
from app.errors import AppError, ErrorCode
from app.store.engine import Store

if TYPE_CHECKING:
    from app.crm.protocol import CRM

log = logging.getLogger(__name__)
T = TypeVar("T")
_ATTEMPTS = 5
_MAX_PAGE = 1000
# (object slug, record after, values before) of one committed update.
_Update = tuple[str, Record, dict[str, Any]]


class RecordUpdatedObserver(Protocol):
    """Told about every committed update of a record (not about creations)."""

    async def __call__(
        self, workspace_id: str, object_slug: str, record: Record, previous_values: dict[str, Any], /
    ) -> None: ...


class LocalCRM:
    """The embedded CRM of one workspace. Implements `app.crm.protocol.CRM`, plus what the
    embedded CRM's own API and pages need (companies, listings, records of any object)."""

    def __init__(
        self, store: Store, workspace_id: str, *, on_record_updated: RecordUpdatedObserver | None = None
    ) -> None:
        self._store = store
        self._workspace_id = workspace_id
        self._on_record_updated = on_record_updated
        self._standard_ready = False

    @property
    def workspace_id(self) -> str:
        return self._workspace_id

    # -- people and companies -----------------------------------------------------------------

    async def find_person_by_email(self, email: str) -> Person | None:
        """Case-insensitive: emails are stored lower-cased and looked up in the unique index."""
        key = email.strip().lower()
        if not key:
            return None
        await self._prepare(PEOPLE)
        async with self._store.connect() as conn:
            owner = await rows.owner_of(conn, self._workspace_id, PEOPLE, "email_addresses", key)
            record = await rows.read_record(conn, self._workspace_id, PEOPLE, owner) if owner else None
        return person_from_record(record) if record else None

    async def get_person(self, person_id: str) -> Person | None:
        record = await self.get_record(PEOPLE, person_id)
        return person_from_record(record) if record else None

    async def get_company(self, company_id: str) -> Company | None:
        await self._prepare(COMPANIES)
        async with self._store.connect() as conn:
            record = await rows.read_record(conn, self._workspace_id, COMPANIES, company_id)
            if record is None:
                return None
            ids = await rows.referring_ids(conn, self._workspace_id, "company", company_id)
            people = await rows.read_records(conn, self._workspace_id, PEOPLE, ids)
        return company_from_record(record, (person_from_record(p) for p in people))

    async def records_referring_to(
        self, object_slug: str, attribute: str, target_ids: list[str], *, limit: int = 50
    ) -> list[Record]:
        """Records of `object_slug` whose record-reference `attribute` points at one of `target_ids`
        (newest last), through the reference index: e.g. a person's Stripe invoices."""
        await self._prepare(object_slug)
        async with self._store.connect() as conn:
            ids = [i for t in target_ids for i in await rows.referring_ids(conn, self._workspace_id, attribute, t)]
            found = await rows.read_records(conn, self._workspace_id, object_slug, ids)
        return found[-limit:]

    async def create_person(
        self, name: str, email: str, company_id: str | None = None, *, main_contact: bool = False
    ) -> Person:
        """A new person; a used email is a CONFLICT. `main_contact` makes them their company's."""
        name = name.strip()
        if not name:
            raise AppError(ErrorCode.CRM_INVALID_REQUEST, "A person needs a name.", fields={"name": "must not be empty"})
        if main_contact and not company_id:
            raise AppError(
                ErrorCode.CRM_INVALID_REQUEST,
                "Only a person of a company can be its main contact: give company_id.",
                fields={"main_contact": "needs company_id"},
            )
        await self._prepare(PEOPLE)

        async def work(conn: AsyncConnection, updates: list[_Update]) -> Person:
            schema = await load_schema(conn, self._workspace_id, PEOPLE)
            values = {"name": name, "email_addresses": [email], "company": company_id}
            record = await self._insert(conn, schema, normalise_values(schema.attributes, values))
            if main_contact and company_id:
                companies = await load_schema(conn, self._workspace_id, COMPANIES)
                await self._update(conn, updates, companies, company_id, {"main_contact": record.id})
            return person_from_record(record)

        return await self._write(work)

    async def create_company(self, name: str, domain: str | None = None) -> Company:
        name = name.strip()
        if not name:
            raise AppError(ErrorCode.CRM_INVALID_REQUEST, "A company needs a name.", fields={"name": "must not be empty"})
        domain = (domain or "").strip().lower() or None
        record = await self.create_record(COMPANIES, {"name": name, "domain": domain})
        return company_from_record(record)

    async def list_people(self, *, limit: int = 50, offset: int = 0) -> tuple[list[Person], int]:
        records, total = await self.list_records(PEOPLE, limit=limit, offset=offset)
        return [person_from_record(r) for r in records], total

    async def list_companies(self, *, limit: int = 50, offset: int = 0) -> tuple[list[Company], int]:
        """A page of companies (without their people: see `get_company`) and the total."""
        records, total = await self.list_records(COMPANIES, limit=limit, offset=offset)
        return [company_from_record(r) for r in records], total

    # -- objects and attributes ---------------------------------------------------------------

    async def get_object(self, slug: str) -> ObjectInfo | None:
        await self._prepare(slug)
        async with self._store.connect() as conn:
            return await load_object(conn, self._workspace_id, slug)

    async def list_objects(self) -> list[ObjectInfo]:
        await self._prepare(PEOPLE)
        async with self._store.connect() as conn:
            return await list_objects(conn, self._workspace_id)

    async def ensure_object(self, slug: str, singular: str, plural: str) -> tuple[ObjectInfo, bool]:
        """Reuse the object if it exists (never changed), else create it; `bool` = created."""
        info = _checked_object(slug, singular, plural)
        existing = await self.get_object(slug)
        if existing is not None:
            return existing, False

        async def work(conn: AsyncConnection, updates: list[_Update]) -> tuple[ObjectInfo, bool]:
            found = await load_object(conn, self._workspace_id, slug)
            if found is not None:
                return found, False
            await insert_object(conn, self._workspace_id, info)
            return info, True

        return await self._write(work)

    async def create_object(self, slug: str, singular: str, plural: str) -> ObjectInfo:
        """A new custom object; an existing slug is a CONFLICT."""
        info, created = await self.ensure_object(slug, singular, plural)
        if not created:
            raise AppError(ErrorCode.CONFLICT, f"An object with slug '{slug}' already exists.", fields={"slug": "taken"})
        return info

    async def list_attributes(self, object_slug: str) -> list[AttributeSpec]:
        return [a.spec() for a in (await self._schema(object_slug)).attributes.values()]

    async def create_attribute(self, object_slug: str, spec: AttributeSpec) -> AttributeSpec:
        """Create one attribute (with its select options). An existing slug is a CONFLICT error."""
        spec = checked_spec(spec)
        await self._prepare(object_slug)
        if spec.target_object:
            await self._prepare(spec.target_object)

        async def work(conn: AsyncConnection, updates: list[_Update]) -> AttributeSpec:
            schema = await load_schema(conn, self._workspace_id, object_slug)
            if spec.slug in schema.attributes:
                raise AppError(
                    ErrorCode.CONFLICT,
                    f"Object '{object_slug}' already has an attribute '{spec.slug}'.",
                    fields={"slug": "taken"},
                )
            if spec.target_object and await load_object(conn, self._workspace_id, spec.target_object) is None:
                raise AppError(
                    ErrorCode.CRM_INVALID_REQUEST,
                    f"Target object '{spec.target_object}' does not exist.",
                    fields={"target_object": "unknown object"},
                )
            await insert_attribute(conn, self._workspace_id, schema, spec)
            return spec

        return await self._write(work)

    async def ensure_select_options(
        self, object_slug: str, attribute_slug: str, options: tuple[str, ...]
    ) -> list[str]:
        """Add the options that are missing; returns the ones added."""
        await self._prepare(object_slug)

        async def work(conn: AsyncConnection, updates: list[_Update]) -> list[str]:
            schema = await load_schema(conn, self._workspace_id, object_slug)
            return await add_select_options(conn, self._workspace_id, schema, attribute_slug, options)

        return await self._write(work)

    # -- records ------------------------------------------------------------------------------

    async def upsert_record(self, object_slug: str, match_attribute: str, values: dict[str, Any]) -> UpsertResult:
        """Create or update the one record whose unique `match_attribute` equals values[match]."""
        return (await self.upsert_records(object_slug, match_attribute, [values]))[0]

    async def upsert_records(
        self, object_slug: str, match_attribute: str, values_list: list[dict[str, Any]]
    ) -> list[UpsertResult]:
        """Many upserts in one transaction (a backfill page): all or none."""
        await self._prepare(object_slug)

        async def work(conn: AsyncConnection, updates: list[_Update]) -> list[UpsertResult]:
            schema = await load_schema(conn, self._workspace_id, object_slug)
            attr = schema.attribute(match_attribute)
            if not attr.unique:
                raise AppError(
                    ErrorCode.CRM_INVALID_REQUEST,
                    f"Cannot match on '{match_attribute}': it is not a unique attribute of '{object_slug}'.",
                    fields={match_attribute: "not unique"},
                )
            return [await self._upsert_one(conn, updates, schema, match_attribute, attr.multi, v) for v in values_list]

        return await self._write(work)

    async def _upsert_one(
        self, conn: AsyncConnection, updates: list[_Update], schema: ObjectSchema, match_attribute: str,
        multi: bool, values: dict[str, Any],
    ) -> UpsertResult:
        clean = normalise_values(schema.attributes, values)
        keys = unique_keys(clean.get(match_attribute))
        if len(keys) != 1:
            raise AppError(
                ErrorCode.CRM_INVALID_REQUEST,
                f"An upsert needs exactly one value of '{match_attribute}' to match on.",
                fields={match_attribute: "needs exactly one value"},
            )
        owner = await rows.owner_of(conn, self._workspace_id, schema.slug, match_attribute, keys[0])
        if owner is None:
            try:
                return UpsertResult(await self._insert(conn, schema, clean), created=True)
            except rows.UniqueValueTaken as taken:
                # Committed by a concurrent upsert since we looked (Postgres reads committed
                # rows per statement): nothing was written yet, so update that record instead.
                if taken.attribute != match_attribute:
                    raise
                owner = taken.owner
        if multi:  # keep the record's other values of a list attribute (other emails)
            clean.pop(match_attribute)
        record, _ = await self._update(conn, updates, schema, owner, clean)
        return UpsertResult(record, created=False)

    async def create_record(self, object_slug: str, values: dict[str, Any]) -> Record:
        await self._prepare(object_slug)

        async def work(conn: AsyncConnection, updates: list[_Update]) -> Record:
            schema = await load_schema(conn, self._workspace_id, object_slug)
            return await self._insert(conn, schema, normalise_values(schema.attributes, values))

        return await self._write(work)

    async def update_record(
        self, object_slug: str, record_id: str, values: dict[str, Any]
    ) -> tuple[Record, dict[str, Any]]:
        """Merge `values` into the record (None clears one); returns it and its previous values."""
        await self._prepare(object_slug)

        async def work(conn: AsyncConnection, updates: list[_Update]) -> tuple[Record, dict[str, Any]]:
            schema = await load_schema(conn, self._workspace_id, object_slug)
            return await self._update(conn, updates, schema, record_id, normalise_values(schema.attributes, values))

        return await self._write(work)

    async def find_record(self, object_slug: str, attribute: str, value: Any) -> Record | None:
        schema = await self._schema(object_slug)
        attr = schema.attribute(attribute)
        try:
            wanted = normalise(attr, value)
        except InvalidValue:
            return None  # no stored value can equal an invalid one
        if wanted is None:
            return None
        async with self._store.connect() as conn:
            if attr.unique:
                owner = await rows.owner_of(conn, self._workspace_id, object_slug, attribute, unique_keys(wanted)[0])
                return await rows.read_record(conn, self._workspace_id, object_slug, owner) if owner else None
            return await rows.first_with_value(conn, self._workspace_id, object_slug, attribute, wanted)

    async def get_record(self, object_slug: str, record_id: str) -> Record | None:
        await self._prepare(object_slug)
        async with self._store.connect() as conn:
            return await rows.read_record(conn, self._workspace_id, object_slug, record_id)

    async def list_records(self, object_slug: str, *, limit: int = 50, offset: int = 0) -> tuple[list[Record], int]:
        """A page of records (oldest first) and the total count."""
        if not 1 <= limit <= _MAX_PAGE or offset < 0:
            raise AppError(
                ErrorCode.CRM_INVALID_REQUEST, f"limit must be 1..{_MAX_PAGE} and offset at least 0.",
                fields={"limit": str(limit), "offset": str(offset)},
            )
        await self._schema(object_slug)  # NOT_FOUND for an unknown object
        async with self._store.connect() as conn:
            return await rows.page_records(conn, self._workspace_id, object_slug, limit, offset)

    async def record_counts(self) -> dict[str, int]:
        """Records per object slug (objects without records are absent)."""
        async with self._store.connect() as conn:
            return await rows.count_by_object(conn, self._workspace_id)

    async def record_labels(self, record_ids: list[str]) -> dict[str, tuple[str, str]]:
        """record id -> (object slug, display label), for records of this workspace only."""
        if not record_ids:
            return {}
        async with self._store.connect() as conn:
            found = await rows.objects_of(conn, self._workspace_id, record_ids)
        return {record.id: (slug, record_label(record)) for slug, record in found}

    # -- internals ----------------------------------------------------------------------------

    async def _prepare(self, slug: str) -> None:
        """Create the standard objects the first time a workspace touches one of them."""
        if self._standard_ready or slug not in STANDARD_OBJECTS:
            return
        async with self._store.connect() as conn:
            ready = await standard_objects_ready(conn, self._workspace_id)
        if not ready:
            async with self._store.begin() as conn:
                await bootstrap_standard_objects(conn, self._workspace_id)
        self._standard_ready = True

    async def _schema(self, object_slug: str) -> ObjectSchema:
        await self._prepare(object_slug)
        async with self._store.connect() as conn:
            return await load_schema(conn, self._workspace_id, object_slug)

    async def _insert(self, conn: AsyncConnection, schema: ObjectSchema, clean: dict[str, Any]) -> Record:
        await rows.check_references(conn, self._workspace_id, schema, clean)
        return await rows.insert_record(conn, self._workspace_id, schema, clean)

    async def _update(
        self, conn: AsyncConnection, updates: list[_Update], schema: ObjectSchema, record_id: str, clean: dict[str, Any]
    ) -> tuple[Record, dict[str, Any]]:
        """The one update path: lock, merge, re-index, and queue the observer call."""
        current = await rows.read_record(conn, self._workspace_id, schema.slug, record_id, lock=True)
        if current is None:
            raise AppError(ErrorCode.NOT_FOUND, f"No {schema.info.singular.lower()} record '{record_id}' in this CRM.")
        await rows.check_references(conn, self._workspace_id, schema, clean)
        record = await rows.rewrite_record(conn, self._workspace_id, schema, current, clean)
        if record is not current:
            updates.append((schema.slug, record, current.values))
        return record, current.values

    async def _write(self, work: Callable[[AsyncConnection, list[_Update]], Awaitable[T]]) -> T:
        for attempt in range(1, _ATTEMPTS + 1):
            updates: list[_Update] = []
            try:
                async with self._store.begin() as conn:
                    result = await work(conn, updates)
            except IntegrityError as exc:
                # A concurrent writer claimed the same unique value or schema row first; the next
                # attempt reads what it wrote.
                if attempt < _ATTEMPTS:
                    continue
                raise AppError(
                    ErrorCode.CONFLICT, "The CRM data changed concurrently; try again.", detail=str(exc)
                ) from exc
            for update in updates:
                await self._notify(*update)
            return result
        raise AssertionError("unreachable")

    async def _notify(self, object_slug: str, record: Record, previous: dict[str, Any]) -> None:
        if self._on_record_updated is None:
            return
        try:
            await self._on_record_updated(self._workspace_id, object_slug, record, previous)
        except Exception:
            # The update is committed; an observer's failure must not turn it into an error.
            log.exception("record_updated observer failed", extra={"object": object_slug, "record_id": record.id})


def _checked_object(slug: str, singular: str, plural: str) -> ObjectInfo:
    check_slug(slug, "object")
    singular, plural = singular.strip(), plural.strip()
    problems = {k: "must not be empty" for k, v in (("singular", singular), ("plural", plural)) if not v}
    if problems:
        raise AppError(ErrorCode.CRM_INVALID_REQUEST, "An object needs singular and plural names.", fields=problems)
    return ObjectInfo(slug, singular, plural)


if TYPE_CHECKING:

    def _conforms(store: Store) -> CRM:
        return LocalCRM(store, "ws")  # mypy checks LocalCRM against the CRM protocol here
