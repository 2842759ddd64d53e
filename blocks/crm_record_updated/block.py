"""`crm.record_updated`: fires when a CRM record's attribute changes to meet a condition
("a deal's stage becomes Won"). Fed by the embedded CRM's update observer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from blocks.base import BlockConfig, BlockDefinition

_SLUG = r"^[a-z][a-z0-9_]{0,62}$"
Scalar = str | int | float | bool | None


class RecordUpdatedConfig(BlockConfig):
    object: str = Field(pattern=_SLUG, description="object slug, e.g. deals")
    attribute: str = Field(pattern=_SLUG, description="attribute slug, e.g. stage")
    condition: Literal["equals", "not_equals", "changed"] = Field(
        default="equals",
        description="equals: the value becomes `value`; not_equals: it stops being `value`; changed: any change",
    )
    value: Scalar = Field(default=None, description="compared case-insensitively for text")

    @model_validator(mode="after")
    def _value_given(self) -> RecordUpdatedConfig:
        if self.condition != "changed" and "value" not in self.model_fields_set:
            raise ValueError(f"condition '{self.condition}' needs a value")
        return self


class RecordUpdatedOutcome(BaseModel):
    event_id: str
    object: str
    record_id: str
    attribute: str
    value: Any = None
    previous_value: Any = None
    values: dict[str, Any] = Field(description="all of the record's values after the update")
    previous_values: dict[str, Any]


BLOCK = BlockDefinition(
    id="crm.record_updated",
    kind="trigger",
    title="CRM record updated",
    description="A record's attribute changed to meet a condition (e.g. a deal's stage becomes Won).",
    config_model=RecordUpdatedConfig,
    outcome_model=RecordUpdatedOutcome,
)

