"""Idempotent setup of the invoice object in a CRM, and a read-only check of it.

`ensure_schema` reuses the object if it exists (never changing it), creates only the attributes
that are missing and only the select options that are missing, and never changes an existing
attribute: a slug that exists with another type is reported as a conflict, not overwritten. A
second run therefore writes nothing and reports every attribute `present`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, computed_field

from app.crm.protocol import CRM, AttributeSpec
from app.errors import AppError, ErrorCode
from schema_mapping.mapping import SchemaMapping, spec_for
from schema_mapping.spec import FIELD_KEYS

AttributeStatus = Literal["created", "present", "conflict", "missing"]
ObjectStatus = Literal["created", "present", "missing"]

# Types a CRM may lack: there the value lives in a text attribute (Attio has no URL type and
# does not let API users create email attributes), which is then what we expect to find.
_ALSO_STORED_AS: dict[str, frozenset[str]] = {
    "url": frozenset({"text"}),
    "email": frozenset({"text"}),
}


class AttributeReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str
    slug: str
    status: AttributeStatus
    expected_type: str
    actual_type: str | None = None
    options_added: list[str] = []
    options_missing: list[str] = []
    detail: str | None = None


class SchemaReport(BaseModel):
    """Per attribute: `created` | `present` | `conflict` (| `missing`, from `check_schema`)."""

    model_config = ConfigDict(frozen=True)

    object_slug: str
    object_status: ObjectStatus
    attributes: list[AttributeReport]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """No conflict, and nothing missing (only `check_schema` reports missing parts)."""
        return self.object_status != "missing" and all(
            a.status in ("created", "present") and not a.options_missing for a in self.attributes
        )

    @property
    def conflicts(self) -> list[AttributeReport]:
        return [a for a in self.attributes if a.status == "conflict"]


def mismatch(expected: AttributeSpec, actual: AttributeSpec) -> str | None:
    """Why `actual` cannot hold the field `expected` describes; None when it can."""
    if actual.type != expected.type and actual.type not in _ALSO_STORED_AS.get(expected.type, ()):
        return f"expected type {expected.type}, found {actual.type}"
    if (
        expected.type == "record-reference"
        and actual.target_object is not None
        and expected.target_object is not None
        and actual.target_object != expected.target_object
    ):
        return f"references {actual.target_object}, expected {expected.target_object}"
    if expected.unique and not actual.unique:
        return "must be unique (records are matched on it)"
    return None


def _present(key: str, expected: AttributeSpec, actual: AttributeSpec) -> AttributeReport:
    problem = mismatch(expected, actual)
    return AttributeReport(
        field=key,
        slug=expected.slug,
        status="conflict" if problem else "present",
        expected_type=expected.type,
        actual_type=actual.type,
        detail=problem,
    )


def _missing_options(expected: AttributeSpec, actual: AttributeSpec) -> list[str]:
    return [o for o in expected.options if o not in actual.options]


async def ensure_schema(crm: CRM, mapping: SchemaMapping) -> SchemaReport:
    """Create or reuse the invoice object and add what is missing; see the module docstring."""
    info, wanted = spec_for(mapping)
    _, created = await crm.ensure_object(info.slug, info.singular, info.plural)
    existing = {a.slug: a for a in await crm.list_attributes(info.slug)}
    reports: list[AttributeReport] = []
    for key, spec in zip(FIELD_KEYS, wanted, strict=True):
        actual = existing.get(spec.slug)
        if actual is None:
            reports.append(await _create(crm, info.slug, key, spec))
            continue
        report = _present(key, spec, actual)
        missing = _missing_options(spec, actual)
        if report.status == "present" and missing:
            added = await crm.ensure_select_options(info.slug, spec.slug, tuple(missing))
            report = report.model_copy(update={"options_added": added})
        reports.append(report)
    return SchemaReport(
        object_slug=info.slug,
        object_status="created" if created else "present",
        attributes=reports,
    )


async def _create(crm: CRM, object_slug: str, key: str, spec: AttributeSpec) -> AttributeReport:
    try:
        made = await crm.create_attribute(object_slug, spec)
    except AppError as exc:
        if exc.code is not ErrorCode.CONFLICT:
            raise
        # The slug was taken meanwhile, or by an attribute the listing hides (archived).
        again = {a.slug: a for a in await crm.list_attributes(object_slug)}.get(spec.slug)
        if again is not None:
            return _present(key, spec, again)
        return AttributeReport(
            field=key,
            slug=spec.slug,
            status="conflict",
            expected_type=spec.type,
            detail=f"the slug is taken by an attribute that cannot be read: {exc.message}",
        )
    return AttributeReport(
        field=key,
        slug=spec.slug,
        status="created",
        expected_type=spec.type,
        actual_type=made.type,
        options_added=list(made.options),
    )


async def check_schema(crm: CRM, mapping: SchemaMapping) -> SchemaReport:
    """What `ensure_schema` would find, without writing anything (for health)."""
    info, wanted = spec_for(mapping)
    obj = await crm.get_object(info.slug)
    existing = {a.slug: a for a in await crm.list_attributes(info.slug)} if obj else {}
    reports: list[AttributeReport] = []
    for key, spec in zip(FIELD_KEYS, wanted, strict=True):
        actual = existing.get(spec.slug)
        if actual is None:
            reports.append(
                AttributeReport(
                    field=key,
                    slug=spec.slug,
                    status="missing",
                    expected_type=spec.type,
                    options_missing=list(spec.options),
                )
            )
            continue
        report = _present(key, spec, actual)
        if report.status == "present":
            report = report.model_copy(update={"options_missing": _missing_options(spec, actual)})
        reports.append(report)
    return SchemaReport(
        object_slug=info.slug,
        object_status="present" if obj else "missing",
        attributes=reports,
    )
