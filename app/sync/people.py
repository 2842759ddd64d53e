"""Linking an invoice to the CRM person with the customer's email (created when allowed)."""

from __future__ import annotations

from typing import Any

from app.crm.protocol import CRM
from app.errors import AppError, ErrorCode


def customer_email(invoice: dict[str, Any]) -> str | None:
    email = invoice.get("customer_email")
    customer = invoice.get("customer")
    if not email and isinstance(customer, dict):
        email = customer.get("email")
    return email.strip().lower() if isinstance(email, str) and email.strip() else None


def customer_name(invoice: dict[str, Any]) -> str | None:
    name = invoice.get("customer_name")
    customer = invoice.get("customer")
    if not name and isinstance(customer, dict):
        name = customer.get("name")
    return name if isinstance(name, str) and name.strip() else None


class PersonLinker:
    """Finds (or creates) the person per email once per batch."""

    def __init__(self, crm: CRM, *, auto_create: bool) -> None:
        self._crm = crm
        self._auto_create = auto_create
        self._cache: dict[str, str | None] = {}

    async def person_for(self, invoice: dict[str, Any]) -> tuple[str | None, bool]:
        """(person id, unmatched): unmatched when the invoice has an email and nobody matches it."""
        email = customer_email(invoice)
        if email is None:
            return None, True
        if email not in self._cache:
            self._cache[email] = await self._find_or_create(email, customer_name(invoice))
        person_id = self._cache[email]
        return person_id, person_id is None

    async def _find_or_create(self, email: str, name: str | None) -> str | None:
        person = await self._crm.find_person_by_email(email)
        if person is not None:
            return person.id
        if not self._auto_create:
            return None
        try:
            return (await self._crm.create_person(name or email.split("@")[0], email)).id
        except AppError as exc:
            if exc.code is not ErrorCode.CONFLICT:
                raise
            # Created concurrently by another worker: use theirs.
            again = await self._crm.find_person_by_email(email)
            return again.id if again else None
