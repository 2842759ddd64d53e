"""The embedded CRM's JSON shapes (contract, DESIGN §6): people, companies, objects, records."""

from __future__ import annotations

from typing import Any

from app.crm.local.schema import COMPANIES, PEOPLE
from app.crm.protocol import AttributeSpec, Company, ObjectInfo, Person, Record


def person_json(person: Person, values: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": person.id, "object": PEOPLE, "name": person.name, "email": person.primary_email,
        "emails": list(person.emails), "company_id": person.company_id,
    }
    if values is not None:
        out["values"] = values
    return out


def company_json(company: Company, *, with_people: bool, values: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": company.id, "object": COMPANIES, "name": company.name, "domain": company.domain,
        "main_contact_id": company.main_contact_id,
    }
    if with_people:
        out["people"] = [person_json(p) for p in company.people]
    if values is not None:
        out["values"] = values
    return out


def object_json(info: ObjectInfo, attributes: list[AttributeSpec] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"slug": info.slug, "singular": info.singular, "plural": info.plural}
    if attributes is not None:
        out["attributes"] = [attribute_json(a) for a in attributes]
    return out


def attribute_json(a: AttributeSpec) -> dict[str, Any]:
    return {"slug": a.slug, "title": a.title, "type": a.type, "unique": a.unique,
            "options": list(a.options), "target_object": a.target_object}


def record_json(object_slug: str, record: Record) -> dict[str, Any]:
    return {"id": record.id, "object": object_slug, "values": record.values}
