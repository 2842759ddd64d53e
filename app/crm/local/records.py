"""Record reads and writes inside one connection, keeping the unique and reference indexes in step.

Writers call these inside `Store.begin()`. Unique values are checked first (to name the conflicting
attribute) and then inserted into `crm_unique_values`, whose primary key settles races: a writer that
lost one gets an IntegrityError and its caller retries the whole transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from app.clock import utcnow
from app.crm.local.schema import ObjectSchema
from app.crm.local.values import AttrDef, unique_keys
from app.crm.protocol import Record
from app.errors import AppError, ErrorCode
from app.secrets_box import new_id
from app.store.crm_tables import crm_records, crm_references, crm_unique_values


class UniqueValueTaken(AppError):
    """A unique value already belongs to another record (a CONFLICT, unless the caller upserts)."""

    def __init__(self, singular: str, attribute: AttrDef, key: str, owner: str) -> None:
        super().__init__(
            ErrorCode.CONFLICT,
            f"Another {singular} ({owner}) already has {attribute.title.lower()} '{key}'.",
            fields={attribute.slug: "already in use", "record_id": owner},
        )
        self.attribute = attribute.slug
        self.owner = owner


def _scope(workspace_id: str, object_slug: str) -> ColumnElement[bool]:
    return and_(crm_records.c.workspace_id == workspace_id, crm_records.c.object_slug == object_slug)


async def read_record(
    conn: AsyncConnection, workspace_id: str, object_slug: str, record_id: str, *, lock: bool = False
) -> Record | None:
    query = select(crm_records.c.id, crm_records.c.data).where(
        _scope(workspace_id, object_slug), crm_records.c.id == record_id
    )
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    return Record(row.id, dict(row.data)) if row else None


async def read_records(conn: AsyncConnection, workspace_id: str, object_slug: str, ids: list[str]) -> list[Record]:
    if not ids:
        return []
    rows = (
        await conn.execute(
            select(crm_records.c.id, crm_records.c.data)
            .where(_scope(workspace_id, object_slug), crm_records.c.id.in_(ids))
            .order_by(crm_records.c.created_at, crm_records.c.id)
        )
    ).all()
    return [Record(r.id, dict(r.data)) for r in rows]


async def page_records(
    conn: AsyncConnection, workspace_id: str, object_slug: str, limit: int, offset: int
) -> tuple[list[Record], int]:
    total = await conn.scalar(select(func.count()).select_from(crm_records).where(_scope(workspace_id, object_slug)))
    rows = (
        await conn.execute(
            select(crm_records.c.id, crm_records.c.data)
            .where(_scope(workspace_id, object_slug))
            .order_by(crm_records.c.created_at, crm_records.c.id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return [Record(r.id, dict(r.data)) for r in rows], int(total or 0)


async def first_with_value(conn: AsyncConnection, workspace_id: str, object_slug: str, attribute: str, value: Any) -> Record | None:
    """The oldest record whose (non-unique) attribute equals a normalised value; a JSON scan."""
    element = crm_records.c.data[attribute]
    if isinstance(value, bool):
        match = element.as_boolean() == value
    elif isinstance(value, (int, float)):
        match = element.as_float() == float(value)
    else:
        match = element.as_string() == value
    row = (
        await conn.execute(
            select(crm_records.c.id, crm_records.c.data)
            .where(_scope(workspace_id, object_slug), match)
            .order_by(crm_records.c.created_at, crm_records.c.id)
            .limit(1)
        )
    ).first()
    return Record(row.id, dict(row.data)) if row else None


async def count_by_object(conn: AsyncConnection, workspace_id: str) -> dict[str, int]:
    result = await conn.execute(
        select(crm_records.c.object_slug, func.count())
        .where(crm_records.c.workspace_id == workspace_id)
        .group_by(crm_records.c.object_slug)
    )
    return {slug: int(count) for slug, count in result}


async def objects_of(conn: AsyncConnection, workspace_id: str, ids: list[str]) -> list[tuple[str, Record]]:
    """(object slug, record) for each id that is a record of this workspace."""
    result = await conn.execute(
        select(crm_records.c.id, crm_records.c.object_slug, crm_records.c.data).where(
            crm_records.c.workspace_id == workspace_id, crm_records.c.id.in_(sorted(set(ids)))
        )
    )
    return [(r.object_slug, Record(r.id, dict(r.data))) for r in result]


async def owner_of(conn: AsyncConnection, workspace_id: str, object_slug: str, attribute: str, key: str) -> str | None:
    """The record holding a unique value, by the index's primary key."""
    owner: str | None = await conn.scalar(
        select(crm_unique_values.c.record_id).where(
            crm_unique_values.c.workspace_id == workspace_id,
            crm_unique_values.c.object_slug == object_slug,
            crm_unique_values.c.attribute_slug == attribute,
            crm_unique_values.c.value_key == key,
        )
    )
    return owner


async def referring_ids(conn: AsyncConnection, workspace_id: str, attribute: str, target_id: str) -> list[str]:
    """Ids of the records whose record-reference `attribute` points at `target_id`."""
    rows = await conn.execute(
        select(crm_references.c.record_id).where(
            crm_references.c.workspace_id == workspace_id,
            crm_references.c.target_id == target_id,
            crm_references.c.attribute_slug == attribute,
        )
    )
    return [r.record_id for r in rows]


async def check_references(conn: AsyncConnection, workspace_id: str, schema: ObjectSchema, values: dict[str, Any]) -> None:
    """Every record-reference must name a record of this workspace (and of the target object)."""
    problems: dict[str, str] = {}
    for slug, value in values.items():
        attr = schema.attributes[slug]
        if attr.type != "record-reference" or value is None:
            continue
        target = await conn.scalar(
            select(crm_records.c.object_slug).where(crm_records.c.workspace_id == workspace_id, crm_records.c.id == value)
        )
        if target is None:
            problems[slug] = f"no record '{value}' in this workspace"
        elif attr.target_object and target != attr.target_object:
            problems[slug] = f"'{value}' is not a record of '{attr.target_object}'"
    if problems:
        summary = "; ".join(f"'{k}': {v}" for k, v in problems.items())
        raise AppError(ErrorCode.CRM_INVALID_REQUEST, f"Invalid value for attribute {summary}.", fields=problems)


async def insert_record(conn: AsyncConnection, workspace_id: str, schema: ObjectSchema, values: dict[str, Any]) -> Record:
    """A new record with already normalised values (None values are dropped)."""
    data = {k: v for k, v in values.items() if v is not None}
    record_id = new_id("rec")
    await _claim_unique_values(conn, workspace_id, schema, record_id, {}, data)
    now = utcnow()
    await conn.execute(
        insert(crm_records).values(
            id=record_id, workspace_id=workspace_id, object_slug=schema.slug, data=data, created_at=now, updated_at=now
        )
    )
    await _write_unique_values(conn, workspace_id, schema, record_id, {}, data)
    await _write_references(conn, workspace_id, schema, record_id, {}, data)
    return Record(record_id, data)


async def rewrite_record(
    conn: AsyncConnection, workspace_id: str, schema: ObjectSchema, current: Record, patch: dict[str, Any]
) -> Record:
    """Merge `patch` (None clears) into a record read with `lock=True`; no write if nothing changes."""
    data = {**current.values, **patch}
    data = {k: v for k, v in data.items() if v is not None}
    if data == current.values:
        return current
    await _claim_unique_values(conn, workspace_id, schema, current.id, current.values, data)
    await conn.execute(
        update(crm_records).where(crm_records.c.id == current.id).values(data=data, updated_at=utcnow())
    )
    await _write_unique_values(conn, workspace_id, schema, current.id, current.values, data)
    await _write_references(conn, workspace_id, schema, current.id, current.values, data)
    return Record(current.id, data)


def _changed_unique(schema: ObjectSchema, old: dict[str, Any], new: dict[str, Any]) -> list[tuple[AttrDef, set[str], set[str]]]:
    """(attribute, keys to drop, keys to add) for each unique attribute whose value changes."""
    out = []
    for attr in schema.attributes.values():
        if not attr.unique:
            continue
        before, after = set(unique_keys(old.get(attr.slug))), set(unique_keys(new.get(attr.slug)))
        if before != after:
            out.append((attr, before - after, after - before))
    return out


async def _claim_unique_values(
    conn: AsyncConnection, workspace_id: str, schema: ObjectSchema, record_id: str, old: dict[str, Any], new: dict[str, Any]
) -> None:
    for attr, _, added in _changed_unique(schema, old, new):
        for key in sorted(added):
            owner = await owner_of(conn, workspace_id, schema.slug, attr.slug, key)
            if owner is not None and owner != record_id:
                raise UniqueValueTaken(schema.info.singular.lower(), attr, key, owner)


async def _write_unique_values(
    conn: AsyncConnection, workspace_id: str, schema: ObjectSchema, record_id: str, old: dict[str, Any], new: dict[str, Any]
) -> None:
    for attr, dropped, added in _changed_unique(schema, old, new):
        if dropped:
            await conn.execute(
                delete(crm_unique_values).where(
                    crm_unique_values.c.record_id == record_id,
                    crm_unique_values.c.attribute_slug == attr.slug,
                    crm_unique_values.c.value_key.in_(sorted(dropped)),
                )
            )
        if added:
            # Sorted, so two writers claiming the same keys take them in one order (no deadlock).
            await conn.execute(
                insert(crm_unique_values),
                [
                    {"workspace_id": workspace_id, "object_slug": schema.slug, "attribute_slug": attr.slug,
                     "value_key": key, "record_id": record_id}
                    for key in sorted(added)
                ],
            )


async def _write_references(
    conn: AsyncConnection, workspace_id: str, schema: ObjectSchema, record_id: str, old: dict[str, Any], new: dict[str, Any]
) -> None:
    for attr in schema.attributes.values():
        if attr.type != "record-reference" or old.get(attr.slug) == new.get(attr.slug):
            continue
        if attr.slug in old:
            await conn.execute(
                delete(crm_references).where(
                    crm_references.c.record_id == record_id, crm_references.c.attribute_slug == attr.slug
                )
            )
        if new.get(attr.slug) is not None:
            await conn.execute(
                insert(crm_references).values(
                    record_id=record_id, attribute_slug=attr.slug, workspace_id=workspace_id, target_id=new[attr.slug]
                )
            )
