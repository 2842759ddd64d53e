"""Who an invoice goes to: a person, or one of a company's people (default: its main contact,
else the first person with an email address)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.crm.protocol import CRM, Person
from app.errors import AppError, ErrorCode, validation_error
from app.invoicing.models import ObjectSlug

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MAX_EMAIL = 512  # Stripe's limit on a customer's email


def normalise_email(email: str | None) -> str | None:
    """Lower-cased and trimmed, or None when it is not a usable address. Stripe's
    `customers.list(email=)` matches exactly, so every lookup and create uses this form."""
    if not email:
        return None
    value = email.strip().lower()
    return value if len(value) <= _MAX_EMAIL and _EMAIL.fullmatch(value) else None


@dataclass(frozen=True)
class RecipientChoices:
    """The record an invoice is created from, and the people it may be addressed to."""

    object: ObjectSlug
    record_id: str
    record_name: str
    people: tuple[Person, ...]
    default_person_id: str | None
    main_contact_id: str | None = None


@dataclass(frozen=True)
class Recipient:
    object: ObjectSlug
    record_id: str
    record_name: str
    person: Person
    email: str  # normalised

    @property
    def name(self) -> str:
        return self.person.name.strip() or self.email


async def recipient_choices(crm: CRM, object: ObjectSlug, record_id: str) -> RecipientChoices:
    if object == "people":
        person = await crm.get_person(record_id)
        if person is None:
            raise AppError(ErrorCode.NOT_FOUND, f"No person with id {record_id} in this workspace's CRM.",
                           fields={"record_id": "not found"})
        return RecipientChoices(object, record_id, person.name, (person,), person.id)
    company = await crm.get_company(record_id)
    if company is None:
        raise AppError(ErrorCode.NOT_FOUND, f"No company with id {record_id} in this workspace's CRM.",
                       fields={"record_id": "not found"})
    reachable = [p for p in company.people if normalise_email(p.primary_email)]
    main = next((p for p in reachable if p.id == company.main_contact_id), None)
    default = main or (reachable[0] if reachable else None)
    return RecipientChoices(object, record_id, company.name, company.people, default.id if default else None,
                            company.main_contact_id)


def pick_recipient(choices: RecipientChoices, person_record_id: str | None) -> Recipient:
    """The person the invoice goes to, or a validation error naming the field to fix."""
    if choices.object == "people":
        if person_record_id is not None and person_record_id != choices.record_id:
            raise validation_error("person_record_id only applies to companies; leave it out for a person.",
                                   person_record_id="only for companies")
        person = choices.people[0]
    elif person_record_id is not None:
        found = next((p for p in choices.people if p.id == person_record_id), None)
        if found is None:
            raise validation_error(f"That person is not one of {choices.record_name}'s people.",
                                   person_record_id="not one of this company's people")
        person = found
    else:
        default = next((p for p in choices.people if p.id == choices.default_person_id), None)
        if default is None:
            raise validation_error(
                f"{choices.record_name} has no people with an email address: add one in the CRM first.",
                person_record_id="no one to send the invoice to",
            )
        person = default
    email = normalise_email(person.primary_email)
    if email is None:
        field = "person_record_id" if choices.object == "companies" else "record_id"
        what = "no email address" if not person.primary_email else f"an invalid email address ({person.primary_email})"
        raise validation_error(f"{person.name or person.id} has {what}: fix it in the CRM first.",
                               **{field: "needs a valid email address"})
    return Recipient(choices.object, choices.record_id, choices.record_name, person, email)
