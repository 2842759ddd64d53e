"""Template references: parsing, rendering, and schema paths."""

from __future__ import annotations

import pytest

from blocks.registry import BLOCKS
from blocks.schema_paths import check_path
from blocks.templates import Scope, TemplateSyntaxError, references_in, render

SCOPE = Scope(
    trigger={"invoice": {"id": "in_1", "amount_due": 1234, "number": None, "lines": [{"id": "il_1"}]}},
    steps=[{"invoice_id": "in_2", "paid": True}],
    keys={"pay": 0},
)


def test_a_whole_template_keeps_the_value_type() -> None:
    assert render("{{ trigger.invoice.amount_due }}", SCOPE) == 1234
    assert render("{{trigger.invoice}}", SCOPE)["id"] == "in_1"
    assert render("{{ steps.pay.paid }}", SCOPE) is True
    assert render("{{ trigger.invoice.lines.0.id }}", SCOPE) == "il_1"


def test_templates_inside_text_are_formatted() -> None:
    text = "Invoice {{ trigger.invoice.id }} ({{ trigger.invoice.amount_due }}) -> {{ steps.0.invoice_id }}, paid={{ steps.0.paid }}"
    assert render(text, SCOPE) == "Invoice in_1 (1234) -> in_2, paid=true"
    assert render("n={{ trigger.invoice.number }}", SCOPE) == "n="


def test_render_walks_nested_config_and_leaves_plain_values() -> None:
    config = {"a": ["{{ steps.0.invoice_id }}", 3, None], "b": {"c": "plain"}}
    assert render(config, SCOPE) == {"a": ["in_2", 3, None], "b": {"c": "plain"}}


def test_missing_values_render_as_null() -> None:
    assert render("{{ trigger.invoice.nothing.deeper }}", SCOPE) is None
    assert render("{{ steps.5.x }}", SCOPE) is None


@pytest.mark.parametrize("text", ["{{ }}", "{{ invoice.id }}", "{{ trigger..id }}", "{{ trigger.id", "x }}", "{{ steps }}"])
def test_malformed_templates_are_refused(text: str) -> None:
    with pytest.raises(TemplateSyntaxError):
        references_in(text)


def test_schema_paths_follow_refs_optionals_and_open_objects() -> None:
    paid = BLOCKS["stripe.invoice_paid"].outcome_schema()
    assert check_path(paid, ("invoice", "id")) is None
    assert check_path(paid, ("invoice", "customer_email")) is None
    problem = check_path(paid, ("invoice", "idd"))
    assert problem is not None and "'idd' is not a field of invoice" in problem and "customer_email" in problem
    assert "has no field" in (check_path(paid, ("invoice", "id", "x")) or "")
    crm = BLOCKS["crm.record_updated"].outcome_schema()
    assert check_path(crm, ("values", "stage")) is None  # any attribute of the record
    assert check_path(crm, ("value", "anything")) is None  # an untyped value
    http = BLOCKS["http.request"].outcome_schema()
    assert check_path(http, ("body", "data", "0", "id")) is None
    assert check_path(http, ("headers",)) is not None
