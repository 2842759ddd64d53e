"""The one interface every CRM adapter implements.

Values cross this boundary as plain JSON values keyed by attribute slug (text/email/url/select ->
str, number/currency -> float|int|str decimal, checkbox -> bool, date -> "YYYY-MM-DD", timestamp ->
ISO 8601 UTC string, record-reference -> record id str). Adapters translate to their own storage
or wire format. An adapter instance is bound to one workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args

AttributeType = Literal[
    "text",
    "number",
    "currency",
    "date",
    "timestamp",
    "select",
    "checkbox",
    "email",
    "url",
    "record-reference",
]
ATTRIBUTE_TYPES: tuple[AttributeType, ...] = get_args(AttributeType)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    emails: tuple[str, ...]
    company_id: str | None = None

    @property
    def primary_email(self) -> str | None:
        return self.emails[0] if self.emails else None


@dataclass(frozen=True)
class Company:
    id: str
    name: str
    domain: str | None
    people: tuple[Person, ...] = ()
    main_contact_id: str | None = None


@dataclass(frozen=True)
class ObjectInfo:
    slug: str
    singular: str
    plural: str


@dataclass(frozen=True)
class AttributeSpec:
    """What an attribute should be; also what an existing attribute is."""

    slug: str
    title: str
    type: AttributeType
    unique: bool = False
    options: tuple[str, ...] = ()  # select options
    target_object: str | None = None  # record-reference target


@dataclass(frozen=True)
class Record:
    id: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UpsertResult:
    record: Record
    created: bool


class CRM(Protocol):
    """A CRM as this service needs it. All methods raise `AppError` (CRM_* codes) on failure."""

    async def find_person_by_email(self, email: str) -> Person | None:
        """Case-insensitive match on any of the person's email addresses."""

    async def get_person(self, person_id: str) -> Person | None: ...

    async def get_company(self, company_id: str) -> Company | None:
        """The company with its people and main contact id (None if it has none)."""

    async def create_person(self, name: str, email: str, company_id: str | None = None) -> Person: ...

    async def get_object(self, slug: str) -> ObjectInfo | None: ...

    async def ensure_object(self, slug: str, singular: str, plural: str) -> tuple[ObjectInfo, bool]:
        """Reuse the object if it exists (never changed), else create it; `bool` = created."""

    async def list_attributes(self, object_slug: str) -> list[AttributeSpec]: ...

    async def create_attribute(self, object_slug: str, spec: AttributeSpec) -> AttributeSpec:
        """Create one attribute (with its select options). An existing slug is a CONFLICT error."""

    async def ensure_select_options(
        self, object_slug: str, attribute_slug: str, options: tuple[str, ...]
    ) -> list[str]:
        """Add the options that are missing; returns the ones added."""

    async def upsert_record(
        self, object_slug: str, match_attribute: str, values: dict[str, Any]
    ) -> UpsertResult:
        """Create or update the one record whose unique `match_attribute` equals values[match]."""

    async def upsert_records(
        self, object_slug: str, match_attribute: str, values_list: list[dict[str, Any]]
    ) -> list[UpsertResult]:
        """Several upserts at once (one transaction where the CRM has them), results in order."""

    async def find_record(self, object_slug: str, attribute: str, value: Any) -> Record | None: ...

    async def get_record(self, object_slug: str, record_id: str) -> Record | None: ...

    async def list_records(
        self, object_slug: str, *, limit: int = 50, offset: int = 0
    ) -> tuple[list[Record], int]:
        """A page of records (oldest first) and the total count."""
