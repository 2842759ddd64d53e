"""Pure conversion of Attio's built-in people and companies records to our `Person`/`Company`.

Attio built-ins used: people `name` (personal-name), `email_addresses` (email-address,
multiselect), `company` (record reference); companies `name` (text), `domains` (domain),
`team` (record references to people; the other side of people's `company`). Attio has no main
contact: the adapter reads it from a configurable record-reference attribute on companies.
"""

from __future__ import annotations

from typing import Any

from app.crm.attio.models import AttioRecord
from app.crm.attio.values import decode_value, decode_values
from app.crm.protocol import Company, Person, Record

PEOPLE = "people"
COMPANIES = "companies"
EMAILS = "email_addresses"
TEAM = "team"


def _first(record: AttioRecord, slug: str) -> Any:
    items = record.items(slug)
    return decode_value(items[0]) if items else None


def _all(record: AttioRecord, slug: str) -> list[Any]:
    return [v for v in (decode_value(item) for item in record.items(slug)) if v is not None]


def person_from_record(record: AttioRecord) -> Person:
    name = _first(record, "name")
    return Person(
        id=record.record_id,
        name=name if isinstance(name, str) else "",
        emails=tuple(str(e) for e in _all(record, EMAILS)),
        company_id=_first(record, "company"),
    )


def team_ids(record: AttioRecord) -> list[str]:
    return [str(v) for v in _all(record, TEAM)]


def company_from_record(record: AttioRecord, people: tuple[Person, ...], main_contact_attribute: str | None) -> Company:
    name = _first(record, "name")
    main_contact = _first(record, main_contact_attribute) if main_contact_attribute else None
    return Company(
        id=record.record_id,
        name=name if isinstance(name, str) else "",
        domain=_first(record, "domains"),
        people=people,
        main_contact_id=str(main_contact) if main_contact else None,
    )


def generic_record(record: AttioRecord, multiselect: set[str], hidden: set[str]) -> Record:
    """Every attribute but the `hidden` ones (Attio's read-only `record_id`, `created_at`,
    `created_by`) as a plain value; lists for the multiselect ones."""
    return Record(
        id=record.record_id,
        values={
            slug: decode_values(items, multiselect=slug in multiselect)
            for slug, items in record.values.items()
            if slug not in hidden
        },
    )
