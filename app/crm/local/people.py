"""People and companies as records of the standard objects (pure mapping)."""

from __future__ import annotations

from collections.abc import Iterable

from app.crm.protocol import Company, Person, Record


def person_from_record(record: Record) -> Person:
    emails = record.values.get("email_addresses") or []
    return Person(
        id=record.id,
        name=str(record.values.get("name") or ""),
        emails=tuple(str(e) for e in emails),
        company_id=record.values.get("company"),
    )


def company_from_record(record: Record, people: Iterable[Person] = ()) -> Company:
    return Company(
        id=record.id,
        name=str(record.values.get("name") or ""),
        domain=record.values.get("domain"),
        people=tuple(people),
        main_contact_id=record.values.get("main_contact"),
    )


def record_label(record: Record) -> str:
    """What to call a record in a list or a link: its name, else its first text value, else its id."""
    name = record.values.get("name")
    if isinstance(name, str) and name.strip():
        return name
    for value in record.values.values():
        if isinstance(value, str) and value.strip() and not value.startswith("rec_"):
            return value
    return record.id
