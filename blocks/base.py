"""What a block is: its id, kind, title, config and outcome models, and (for steps) how it runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from app.context import AppContext

BlockKind = Literal["trigger", "step"]


@dataclass(frozen=True)
class StepCall:
    """One execution of a step: the validated config and the id that makes it idempotent."""

    workspace_id: str
    execution_id: str
    config: Any  # an instance of the block's config model


# Returns the outcome (a dict matching the block's outcome model) or raises AppError/BlockError.
StepExecutor = Callable[["AppContext", StepCall], Awaitable[dict[str, Any]]]


class BlockConfig(BaseModel):
    """Base of every config model: unknown keys are mistakes worth reporting at save time."""

    model_config = ConfigDict(extra="forbid")


class NoConfig(BlockConfig):
    """A trigger that needs no configuration."""


@dataclass(frozen=True)
class BlockDefinition:
    id: str
    kind: BlockKind
    title: str
    description: str
    config_model: type[BaseModel]
    outcome_model: type[BaseModel]
    execute: StepExecutor | None = None
    # Stripe triggers: the event type that fires them.
    stripe_event: str | None = None

    def config_schema(self) -> dict[str, Any]:
        return self.config_model.model_json_schema()

    def outcome_schema(self) -> dict[str, Any]:
        return self.outcome_model.model_json_schema(mode="serialization")

    def describe(self) -> dict[str, Any]:
        """The manifest / `GET /api/blocks` entry."""
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "description": self.description,
            "config_schema": self.config_schema(),
            "outcome_schema": self.outcome_schema(),
        }
