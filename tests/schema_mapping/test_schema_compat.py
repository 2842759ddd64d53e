"""The pure part of schema setup: when an existing attribute can hold a field."""

from __future__ import annotations

from app.crm.protocol import AttributeSpec
from schema_mapping.setup import AttributeReport, SchemaReport, mismatch


def spec(type_: str, **kw: object) -> AttributeSpec:
    return AttributeSpec(slug="x", title="X", type=type_, **kw)  # type: ignore[arg-type]


def test_same_type_is_fine() -> None:
    assert mismatch(spec("number"), spec("number")) is None


def test_url_and_email_may_live_in_text() -> None:
    assert mismatch(spec("url"), spec("text")) is None
    assert mismatch(spec("email"), spec("text")) is None
    assert mismatch(spec("text"), spec("url")) == "expected type text, found url"


def test_other_type_is_a_conflict() -> None:
    assert mismatch(spec("number"), spec("currency")) == "expected type number, found currency"
    assert mismatch(spec("url"), spec("domain")) == "expected type url, found domain"


def test_record_reference_target() -> None:
    want = spec("record-reference", target_object="people")
    assert mismatch(want, spec("record-reference", target_object="people")) is None
    assert mismatch(want, spec("record-reference")) is None  # any object
    assert mismatch(want, spec("record-reference", target_object="companies")) == (
        "references companies, expected people"
    )


def test_match_attribute_must_be_unique() -> None:
    assert mismatch(spec("text", unique=True), spec("text")) == "must be unique (records are matched on it)"
    assert mismatch(spec("text"), spec("text", unique=True)) is None


def test_report_ok_and_json() -> None:
    ok = AttributeReport(field="number", slug="number", status="present", expected_type="text", actual_type="text")
    bad = AttributeReport(
        field="status",
        slug="status",
        status="conflict",
        expected_type="select",
        actual_type="text",
        detail="expected type select, found text",
    )
    report = SchemaReport(object_slug="stripe_invoices", object_status="present", attributes=[ok, bad])
    assert not report.ok
    assert report.conflicts == [bad]
    dumped = report.model_dump(mode="json")
    assert dumped["ok"] is False
    assert dumped["attributes"][1]["actual_type"] == "text"
    assert SchemaReport(object_slug="o", object_status="created", attributes=[ok]).ok
    assert not SchemaReport(object_slug="o", object_status="missing", attributes=[]).ok
