"""The parts of Attio's responses the adapter uses, validated at the boundary."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from app.errors import AppError, ErrorCode


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ObjectId(_Model):
    object_id: str


class AttioObject(_Model):
    id: ObjectId
    api_slug: str | None
    singular_noun: str | None
    plural_noun: str | None


class RecordReferenceConfig(_Model):
    allowed_object_ids: list[str] | None = None


class AttributeConfig(_Model):
    record_reference: RecordReferenceConfig | None = None


class AttioAttribute(_Model):
    api_slug: str
    title: str
    type: str
    is_unique: bool = False
    is_multiselect: bool = False
    is_archived: bool = False
    is_writable: bool = True
    config: AttributeConfig = AttributeConfig()

    @property
    def allowed_object_ids(self) -> list[str]:
        ref = self.config.record_reference
        return list(ref.allowed_object_ids or []) if ref is not None else []


class AttioOption(_Model):
    title: str
    is_archived: bool = False


class RecordId(_Model):
    record_id: str


class AttioRecord(_Model):
    id: RecordId
    created_at: str
    values: dict[str, list[dict[str, Any]]]

    @property
    def record_id(self) -> str:
        return self.id.record_id

    def items(self, slug: str) -> list[dict[str, Any]]:
        return self.values.get(slug) or []


M = TypeVar("M", bound=_Model)


def _unexpected(model: type[_Model], exc: ValidationError) -> AppError:
    return AppError(
        ErrorCode.CRM_UNAVAILABLE,
        "Attio sent a response this service does not understand.",
        detail=f"attio {model.__name__}: {exc.errors(include_url=False, include_input=False)}",
    )


def parse_one(model: type[M], payload: dict[str, Any]) -> M:
    """`{"data": {...}}` -> model."""
    try:
        return model.model_validate(payload.get("data"))
    except ValidationError as exc:
        raise _unexpected(model, exc) from None


def parse_list(model: type[M], payload: dict[str, Any]) -> list[M]:
    """`{"data": [{...}, ...]}` -> models."""
    data = payload.get("data")
    if not isinstance(data, list):
        raise AppError(
            ErrorCode.CRM_UNAVAILABLE,
            "Attio sent a response this service does not understand.",
            detail=f"attio {model.__name__} list: data is {type(data).__name__}",
        )
    try:
        return [model.model_validate(item) for item in data]
    except ValidationError as exc:
        raise _unexpected(model, exc) from None
