"""The state behind the fake Attio: objects, attributes, options, records, stored as Attio would.

Values are kept as Attio's output values; writes go through `fake_values.to_output`, so what the
fake answers is what Attio would answer for the same writes. `companies.team` is derived from
people's `company`, as Attio keeps the two sides of a relationship attribute in step.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.crm.attio import canned
from tests.crm.attio.fake_values import BadValue, primary, to_output

Json = dict[str, Any]


class Reply(Exception):
    def __init__(self, status: int, body: Json, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def error(status: int, code: str, message: str) -> Reply:
    return Reply(status, canned.error_json(status, code, message))


@dataclass
class FakeAttribute:
    json: Json
    options: list[Json] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return str(self.json["api_slug"])

    @property
    def type(self) -> str:
        return str(self.json["type"])


@dataclass
class FakeRecord:
    id: str
    created_at: str
    values: dict[str, list[Json]] = field(default_factory=dict)


@dataclass
class FakeObject:
    json: Json
    attributes: dict[str, FakeAttribute] = field(default_factory=dict)
    records: dict[str, FakeRecord] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.json["id"]["object_id"])

    @property
    def slug(self) -> str:
        return str(self.json["api_slug"])


class FakeStore:
    def __init__(self, main_contact_attribute: str | None) -> None:
        self.objects: dict[str, FakeObject] = {}
        self._tick = itertools.count(1)
        self._epoch = datetime(2024, 1, 1, tzinfo=UTC)
        self._actor = canned.new_id()
        self._seed(main_contact_attribute)

    def add_object(self, slug: str, singular: str, plural: str) -> FakeObject:
        obj = FakeObject(canned.object_json(slug, singular, plural, created_at=self.now()))
        self.objects[slug] = obj
        self.add_attr(obj, "record_id", "text", system=True, unique=True)
        self.add_attr(obj, "created_at", "timestamp", system=True)
        self.add_attr(obj, "created_by", "actor-reference", system=True)
        return obj

    def add_attribute(
        self,
        object_slug: str,
        slug: str,
        attio_type: str,
        *,
        unique: bool = False,
        multiselect: bool = False,
        options: tuple[str, ...] = (),
        target_object: str | None = None,
        title: str | None = None,
    ) -> FakeAttribute:
        obj = self.objects[object_slug]
        allowed = [self.objects[target_object].id] if target_object else None
        attr = self.add_attr(
            obj, slug, attio_type, unique=unique, multiselect=multiselect, allowed=allowed, title=title
        )
        for option in options:
            attr.options.append(canned.option_json(obj.id, attr.json["id"]["attribute_id"], option))
        return attr

    def object(self, ref: str) -> FakeObject:
        for obj in self.objects.values():
            if ref in (obj.slug, obj.id):
                return obj
        raise error(404, "not_found", f'Object with slug/ID "{ref}" not found.')

    def attribute(self, obj: FakeObject, ref: str) -> FakeAttribute:
        for attr in obj.attributes.values():
            if ref in (attr.slug, attr.json["id"]["attribute_id"]):
                return attr
        raise error(404, "not_found", f'Attribute with slug/ID "{ref}" not found.')

    def now(self) -> str:
        moment = self._epoch + timedelta(seconds=next(self._tick))
        return moment.strftime("%Y-%m-%dT%H:%M:%S.000000000Z")

    def _seed(self, main_contact_attribute: str | None) -> None:
        people = self.add_object("people", "Person", "People")
        companies = self.add_object("companies", "Company", "Companies")
        self.add_attr(people, "name", "personal-name", system=True)
        self.add_attr(people, "email_addresses", "email-address", system=True, unique=True, multiselect=True)
        self.add_attr(people, "company", "record-reference", system=True, allowed=[companies.id])
        self.add_attr(companies, "name", "text", system=True)
        self.add_attr(companies, "domains", "domain", system=True, unique=True, multiselect=True)
        self.add_attr(companies, "team", "record-reference", system=True, multiselect=True, allowed=[people.id])
        if main_contact_attribute:
            self.add_attribute("companies", main_contact_attribute, "record-reference", target_object="people")

    def add_attr(
        self,
        obj: FakeObject,
        slug: str,
        attio_type: str,
        *,
        system: bool = False,
        unique: bool = False,
        multiselect: bool = False,
        allowed: list[str] | None = None,
        title: str | None = None,
        currency: str | None = None,
    ) -> FakeAttribute:
        attr = FakeAttribute(
            canned.attribute_json(
                obj.id,
                slug,
                attio_type,
                title=title,
                unique=unique,
                multiselect=multiselect,
                system=system,
                allowed_object_ids=allowed,
                currency_code=currency,
                created_at=self.now(),
            )
        )
        # Built-ins that API users write to stay writable, as in Attio.
        attr.json["is_writable"] = slug not in ("record_id", "created_at", "created_by")
        obj.attributes[slug] = attr
        return attr

    def insert(self, obj: FakeObject, values: Json) -> FakeRecord:
        record = FakeRecord(id=canned.new_id(), created_at=self.now())
        self.write(obj, record, values)
        obj.records[record.id] = record
        return record

    def convert(self, obj: FakeObject, attr: FakeAttribute, raw: Any) -> list[Json]:
        items = raw if isinstance(raw, list) else [raw]
        if len(items) > 1 and not attr.json["is_multiselect"]:
            raise error(400, "value_not_found", f'Attribute "{attr.slug}" takes a single value.')
        try:
            return [
                to_output(
                    attr.type,
                    item,
                    option_for=lambda title: next(
                        (
                            o
                            for o in attr.options
                            if title in (o["title"], o["id"]["option_id"]) and not o["is_archived"]
                        ),
                        None,
                    ),
                    resolve_object=lambda ref: next(
                        (o.slug for o in self.objects.values() if ref in (o.slug, o.id)), None
                    ),
                    record_exists=lambda slug, rid: rid in self.objects[slug].records,
                    currency_code=attr.json["config"]["currency"]["default_currency_code"],
                )
                for item in items
            ]
        except BadValue as exc:
            raise error(400, "value_not_found", f"{attr.slug}: {exc}") from None

    def write(self, obj: FakeObject, record: FakeRecord, values: Json) -> None:
        converted: dict[str, list[Json]] = {}
        for ref, raw in values.items():
            attr = self._attribute_for_write(obj, ref)
            converted[attr.slug] = self.convert(obj, attr, raw)
        for slug, items in converted.items():
            if obj.attributes[slug].json["is_unique"]:
                self._check_unique(obj, record, slug, items)
        for slug, items in converted.items():
            if (obj.slug, slug) == ("companies", "team"):
                self._set_team(record.id, [i["target_record_id"] for i in items])
            else:
                record.values[slug] = items

    def _attribute_for_write(self, obj: FakeObject, ref: str) -> FakeAttribute:
        try:
            attr = self.attribute(obj, ref)
        except Reply:
            raise error(400, "value_not_found", f'Cannot find attribute with slug/ID "{ref}".') from None
        if not attr.json["is_writable"]:
            raise error(400, "value_not_found", f'Attribute "{attr.slug}" is not writable.')
        return attr

    def _check_unique(self, obj: FakeObject, record: FakeRecord, slug: str, items: list[Json]) -> None:
        mine = {primary(i) for i in items}
        for other in obj.records.values():
            if other.id != record.id and mine & {primary(i) for i in other.values.get(slug, [])}:
                raise error(409, "uniqueness_conflict", f'A record with this "{slug}" value already exists.')

    def _set_team(self, company_id: str, people_ids: list[str]) -> None:
        # Relationship attribute: companies.team is the other side of people.company.
        for person in self.objects["people"].records.values():
            linked = [i["target_record_id"] for i in person.values.get("company", [])]
            if person.id in people_ids:
                person.values["company"] = [canned.ref_value("companies", company_id)]
            elif company_id in linked:
                person.values["company"] = []

    def stored(self, obj: FakeObject, record: FakeRecord, slug: str) -> list[Json]:
        if slug == "record_id":
            return [canned.text_value(record.id)]
        if slug == "created_at":
            return [canned.timestamp_value(record.created_at)]
        if slug == "created_by":
            return [canned.actor_value(self._actor)]
        if (obj.slug, slug) == ("companies", "team"):
            return [
                canned.ref_value("people", p.id)
                for p in self.objects["people"].records.values()
                if any(i["target_record_id"] == record.id for i in p.values.get("company", []))
            ]
        return list(record.values.get(slug, []))

    def values_of(self, obj: FakeObject, record: FakeRecord) -> Callable[[str], list[Json] | None]:
        def values_of(slug: str) -> list[Json] | None:
            return self.stored(obj, record, slug) if slug in obj.attributes else None

        return values_of

    def sort_key(self, obj: FakeObject, record: FakeRecord, slug: str) -> tuple[bool, Any]:
        items = self.stored(obj, record, slug)
        return (not items, primary(items[0]) if items else 0)

    def output(self, obj: FakeObject, record: FakeRecord) -> Json:
        values = {
            slug: self.stored(obj, record, slug)
            for slug, attr in obj.attributes.items()
            if not attr.json["is_archived"]
        }
        return canned.record_json(obj.id, record.id, values, created_at=record.created_at)
