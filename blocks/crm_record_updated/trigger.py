"""When `crm.record_updated` fires (pure), and the observer the embedded CRM calls after each update."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from blocks.crm_record_updated.block import RecordUpdatedConfig, RecordUpdatedOutcome

if TYPE_CHECKING:
    from app.context import AppContext
    from app.crm.protocol import Record


def _matches(current: Any, wanted: Any) -> bool:
    if isinstance(current, list):
        return any(_matches(item, wanted) for item in current)
    if isinstance(current, str) and isinstance(wanted, str):
        return current.strip().casefold() == wanted.strip().casefold()
    if isinstance(current, bool) or isinstance(wanted, bool):
        return current is wanted
    if isinstance(current, (int, float)) and isinstance(wanted, (int, float)):
        return float(current) == float(wanted)
    return bool(current == wanted)


def fires(config: RecordUpdatedConfig, values: dict[str, Any], previous: dict[str, Any]) -> bool:
    """True when this update made the condition true (not when it merely stays true)."""
    new, old = values.get(config.attribute), previous.get(config.attribute)
    if new == old:
        return False
    if config.condition == "changed":
        return True
    was, now = _matches(old, config.value), _matches(new, config.value)
    if config.condition == "equals":
        return now and not was
    return was and not now


def outcome(event_id: str, object_slug: str, record_id: str, attribute: str,
            values: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    return RecordUpdatedOutcome(
        event_id=event_id, object=object_slug, record_id=record_id, attribute=attribute,
        value=values.get(attribute), previous_value=previous.get(attribute),
        values=values, previous_values=previous,
    ).model_dump(mode="json")


class RecordUpdatedHook:
    """The `on_record_updated` observer given to LocalCRM (see app/crm/factory.py)."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx

    async def __call__(
        self, workspace_id: str, object_slug: str, record: Record, previous_values: dict[str, Any]
    ) -> None:
        from blocks.dispatch import dispatch_record_updated

        await dispatch_record_updated(self._ctx, workspace_id, object_slug, record.id, record.values, previous_values)
