"""Objects and attributes of the embedded CRM: the standard objects, loading and writing schema."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.clock import utcnow
from app.crm.local.values import AttrDef
from app.crm.protocol import ATTRIBUTE_TYPES, AttributeSpec, ObjectInfo
from app.errors import AppError, ErrorCode
from app.store.crm_tables import crm_attributes, crm_objects

PEOPLE = "people"
COMPANIES = "companies"
_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

# The standard objects every workspace has (made on first use) and their system attributes.
STANDARD_OBJECTS: dict[str, tuple[ObjectInfo, tuple[AttrDef, ...]]] = {
    PEOPLE: (
        ObjectInfo(PEOPLE, "Person", "People"),
        (
            AttrDef("name", "Name", "text", system=True),
            AttrDef("email_addresses", "Email addresses", "email", unique=True, multi=True, system=True),
            AttrDef("company", "Company", "record-reference", target_object=COMPANIES, system=True),
        ),
    ),
    COMPANIES: (
        ObjectInfo(COMPANIES, "Company", "Companies"),
        (
            AttrDef("name", "Name", "text", system=True),
            AttrDef("domain", "Domain", "text", system=True),
            AttrDef("main_contact", "Main contact", "record-reference", target_object=PEOPLE, system=True),
        ),
    ),
}
_SYSTEM_ATTRIBUTE_COUNT = sum(len(attrs) for _, attrs in STANDARD_OBJECTS.values())


@dataclass(frozen=True)
class ObjectSchema:
    info: ObjectInfo
    attributes: dict[str, AttrDef] = field(default_factory=dict)  # in display order

    @property
    def slug(self) -> str:
        return self.info.slug

    def attribute(self, slug: str) -> AttrDef:
        attr = self.attributes.get(slug)
        if attr is None:
            raise AppError(
                ErrorCode.CRM_INVALID_REQUEST,
                f"Object '{self.slug}' has no attribute '{slug}'.",
                fields={slug: "unknown attribute"},
            )
        return attr


def check_slug(slug: str, what: str) -> str:
    if not _SLUG.match(slug):
        raise AppError(
            ErrorCode.CRM_INVALID_REQUEST,
            f"Invalid {what} slug '{slug}': use lower-case letters, digits and _, starting with a letter.",
            fields={"slug": "invalid slug"},
        )
    return slug


def insert_ignoring_conflicts(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and Postgres (the two dialects we run on)."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return conn.execute(dialect_insert(table).values(rows).on_conflict_do_nothing())


async def standard_objects_ready(conn: AsyncConnection, workspace_id: str) -> bool:
    count = await conn.scalar(
        select(func.count())
        .select_from(crm_attributes)
        .where(
            crm_attributes.c.workspace_id == workspace_id,
            crm_attributes.c.is_system.is_(True),
            crm_attributes.c.object_slug.in_(list(STANDARD_OBJECTS)),
        )
    )
    return count == _SYSTEM_ATTRIBUTE_COUNT


async def bootstrap_standard_objects(conn: AsyncConnection, workspace_id: str) -> None:
    """Create the standard objects and any missing system attribute; safe to run concurrently."""
    now = utcnow()
    objects = [
        {"workspace_id": workspace_id, "slug": info.slug, "singular": info.singular, "plural": info.plural, "created_at": now}
        for info, _ in STANDARD_OBJECTS.values()
    ]
    await insert_ignoring_conflicts(conn, crm_objects, objects)
    attributes = [
        _attribute_row(workspace_id, info.slug, attr, position, now)
        for info, attrs in STANDARD_OBJECTS.values()
        for position, attr in enumerate(attrs)
    ]
    await insert_ignoring_conflicts(conn, crm_attributes, attributes)


def _attribute_row(workspace_id: str, object_slug: str, attr: AttrDef, position: int, now: Any) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "object_slug": object_slug,
        "slug": attr.slug,
        "title": attr.title,
        "type": attr.type,
        "is_unique": attr.unique,
        "is_multi": attr.multi,
        "is_system": attr.system,
        "options": list(attr.options),
        "target_object": attr.target_object,
        "position": position,
        "created_at": now,
    }


async def load_object(conn: AsyncConnection, workspace_id: str, slug: str) -> ObjectInfo | None:
    row = (
        await conn.execute(
            select(crm_objects.c.slug, crm_objects.c.singular, crm_objects.c.plural).where(
                crm_objects.c.workspace_id == workspace_id, crm_objects.c.slug == slug
            )
        )
    ).first()
    return ObjectInfo(row.slug, row.singular, row.plural) if row else None


async def list_objects(conn: AsyncConnection, workspace_id: str) -> list[ObjectInfo]:
    rows = (
        await conn.execute(
            select(crm_objects.c.slug, crm_objects.c.singular, crm_objects.c.plural)
            .where(crm_objects.c.workspace_id == workspace_id)
            .order_by(crm_objects.c.created_at, crm_objects.c.slug)
        )
    ).all()
    standard = list(STANDARD_OBJECTS)
    # The standard objects first (people, companies), then custom objects oldest first.
    ordered = sorted(rows, key=lambda r: standard.index(r.slug) if r.slug in standard else len(standard))
    return [ObjectInfo(r.slug, r.singular, r.plural) for r in ordered]


async def load_schema(conn: AsyncConnection, workspace_id: str, slug: str) -> ObjectSchema:
    """The object and its attributes; NOT_FOUND if the workspace has no such object."""
    info = await load_object(conn, workspace_id, slug)
    if info is None:
        raise AppError(ErrorCode.NOT_FOUND, f"This CRM has no object '{slug}'.")
    rows = (
        await conn.execute(
            select(crm_attributes)
            .where(crm_attributes.c.workspace_id == workspace_id, crm_attributes.c.object_slug == slug)
            .order_by(crm_attributes.c.position, crm_attributes.c.created_at, crm_attributes.c.slug)
        )
    ).all()
    attributes = {
        r.slug: AttrDef(
            slug=r.slug,
            title=r.title,
            type=r.type,
            unique=r.is_unique,
            options=tuple(r.options or ()),
            target_object=r.target_object,
            multi=r.is_multi,
            system=r.is_system,
        )
        for r in rows
    }
    return ObjectSchema(info, attributes)


async def insert_object(conn: AsyncConnection, workspace_id: str, info: ObjectInfo) -> None:
    await conn.execute(
        insert(crm_objects).values(
            workspace_id=workspace_id, slug=info.slug, singular=info.singular, plural=info.plural, created_at=utcnow()
        )
    )


def checked_spec(spec: AttributeSpec) -> AttributeSpec:
    """The spec with its options cleaned, or CRM_INVALID_REQUEST saying what is wrong."""
    check_slug(spec.slug, "attribute")
    problems: dict[str, str] = {}
    if not spec.title.strip():
        problems["title"] = "must not be empty"
    if spec.type not in ATTRIBUTE_TYPES:
        problems["type"] = f"must be one of {', '.join(ATTRIBUTE_TYPES)}"
    options = tuple(dict.fromkeys(o.strip() for o in spec.options))
    if any(not o for o in options):
        problems["options"] = "options must not be empty strings"
    if options and spec.type != "select":
        problems["options"] = "only select attributes have options"
    if spec.target_object is not None and spec.type != "record-reference":
        problems["target_object"] = "only record-reference attributes have a target object"
    if spec.unique and spec.type == "checkbox":
        problems["unique"] = "a checkbox cannot be unique"
    if problems:
        raise AppError(ErrorCode.CRM_INVALID_REQUEST, f"Invalid attribute '{spec.slug}'.", fields=problems)
    return AttributeSpec(spec.slug, spec.title.strip(), spec.type, spec.unique, options, spec.target_object)


async def insert_attribute(conn: AsyncConnection, workspace_id: str, schema: ObjectSchema, spec: AttributeSpec) -> None:
    attr = AttrDef(spec.slug, spec.title, spec.type, spec.unique, spec.options, spec.target_object)
    row = _attribute_row(workspace_id, schema.slug, attr, len(schema.attributes), utcnow())
    await conn.execute(insert(crm_attributes).values(**row))


async def add_select_options(
    conn: AsyncConnection, workspace_id: str, schema: ObjectSchema, attribute_slug: str, options: tuple[str, ...]
) -> list[str]:
    """Append the missing options to a select attribute (row locked on Postgres); returns them."""
    attr = schema.attribute(attribute_slug)
    if attr.type != "select":
        raise AppError(
            ErrorCode.CRM_INVALID_REQUEST,
            f"Attribute '{attribute_slug}' of '{schema.slug}' is a {attr.type} attribute, not a select.",
            fields={attribute_slug: "not a select attribute"},
        )
    where = (
        crm_attributes.c.workspace_id == workspace_id,
        crm_attributes.c.object_slug == schema.slug,
        crm_attributes.c.slug == attribute_slug,
    )
    current = list(await conn.scalar(select(crm_attributes.c.options).where(*where).with_for_update()) or [])
    added = [o for o in dict.fromkeys(o.strip() for o in options) if o and o not in current]
    if added:
        await conn.execute(update(crm_attributes).where(*where).values(options=current + added))
    return added
