"""Save-time checks of a workflow: blocks exist and have the right kind, configs validate (values
that are templates are checked at run time instead), and every template points at an output the
referenced block's outcome schema has. Every problem names the step and the field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.errors import AppError, ErrorCode
from blocks.base import BlockDefinition
from blocks.registry import BLOCKS
from blocks.schema_paths import check_path
from blocks.templates import Loc, TemplateSyntaxError, references_in, templated_strings

MAX_STEPS = 20
STEP_KEY = r"^[a-z][a-z0-9_]{0,39}$"


class TriggerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    block_id: str = Field(min_length=1, max_length=80)
    config: dict[str, Any] = Field(default_factory=dict)


class StepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    block_id: str = Field(min_length=1, max_length=80)
    config: dict[str, Any] = Field(default_factory=dict)
    key: str | None = Field(default=None, pattern=STEP_KEY, description="optional name for {{ steps.<key>... }}")


class WorkflowSpec(BaseModel):
    """`POST /api/workflows` (contract: name, enabled?, trigger, steps)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    enabled: bool = True
    trigger: TriggerSpec
    steps: list[StepSpec] = Field(min_length=1, max_length=MAX_STEPS)

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


def _loc_text(loc: Loc) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def _data_path(config: Any, loc: tuple[Any, ...]) -> tuple[Loc, Loc]:
    """Pydantic's error location mapped onto the config: (the part that exists in the config,
    the field to name: that plus a last missing or extra key). Union tags are dropped."""
    path: list[str | int] = []
    current = config
    for position, part in enumerate(loc):
        if isinstance(current, dict) and str(part) in current:
            current = current[str(part)]
            path.append(str(part))
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
            path.append(part)
        elif position == len(loc) - 1 and isinstance(current, dict):
            return tuple(path), (*path, part)
    return tuple(path), tuple(path)


def config_problems(block: BlockDefinition, config: dict[str, Any], *, templates: bool = True) -> dict[str, str]:
    """Field -> message for the config's errors; with `templates`, errors at templated values are
    left for run time (the rendered value is what counts)."""
    try:
        block.config_model.model_validate(config)
    except ValidationError as exc:
        templated = [loc for loc, _ in templated_strings(config)] if templates else []
        problems: dict[str, str] = {}
        for err in exc.errors():
            # An error at or inside a templated value is judged after rendering instead.
            path, named = _data_path(config, err["loc"])
            if any(path[: len(t)] == t for t in templated):
                continue
            problems.setdefault(_loc_text(named), err["msg"].removeprefix("Value error, "))
        return problems
    return {}


def _config_field(field: str) -> str:
    return f"config.{field}" if field else "config"


class _Checker:
    """Collects problems as field path -> message (`steps[1].config.invoice_id`), and a label per
    path for the summary that also names the block (`steps[1] (stripe.update_invoice_status)`)."""

    def __init__(self, spec: WorkflowSpec) -> None:
        self.spec = spec
        self.problems: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self.keys: dict[str, int] = {}

    def add(self, where: str, field: str, message: str, *, block: BlockDefinition | None = None) -> None:
        path = f"{where}.{field}" if field else where
        if path not in self.problems:
            self.problems[path] = message
            self.labels[path] = f"{where} ({block.id}) {field}" if block else path

    def block(self, where: str, block_id: str, kind: str) -> BlockDefinition | None:
        block = BLOCKS.get(block_id)
        if block is None:
            self.add(where, "block_id", f"unknown block '{block_id}' (known: {', '.join(BLOCKS)})")
            return None
        if block.kind != kind:
            self.add(where, "block_id", f"'{block_id}' is a {block.kind}, not a {kind}")
            return None
        return block

    def run(self) -> None:
        trigger = self.block("trigger", self.spec.trigger.block_id, "trigger")
        if trigger is not None:
            for field, message in config_problems(trigger, self.spec.trigger.config, templates=False).items():
                self.add("trigger", _config_field(field), message)
            for loc, _ in templated_strings(self.spec.trigger.config):
                self.add("trigger", f"config.{_loc_text(loc)}", "a trigger's config cannot use templates")
        outcomes: list[BlockDefinition | None] = []
        for index, step in enumerate(self.spec.steps):
            where = f"steps[{index}]"
            block = self.block(where, step.block_id, "step")
            if block is not None:
                for field, message in config_problems(block, step.config).items():
                    self.add(where, _config_field(field), message, block=block)
                self.references(index, where, block, step.config, trigger, outcomes)
            outcomes.append(block)
            if step.key is not None:
                if step.key in self.keys:
                    self.add(where, "key", f"key '{step.key}' is already used by steps[{self.keys[step.key]}]")
                self.keys.setdefault(step.key, index)

    def references(self, index: int, where: str, block: BlockDefinition, config: dict[str, Any],
                   trigger: BlockDefinition | None, earlier: list[BlockDefinition | None]) -> None:
        for loc, text in templated_strings(config):
            field = f"config.{_loc_text(loc)}"
            try:
                refs = references_in(text)
            except TemplateSyntaxError as exc:
                self.add(where, field, str(exc), block=block)
                continue
            for ref in refs:
                if ref.root == "trigger":
                    source, label = trigger, f"the trigger ({trigger.id})" if trigger else "the trigger"
                else:
                    assert ref.step is not None
                    target = int(ref.step) if ref.step.isdigit() else self.keys.get(ref.step)
                    if target is None:
                        self.add(where, field, f"'{{{{ {ref.text} }}}}': no earlier step has key '{ref.step}'",
                                 block=block)
                        continue
                    if target >= index:
                        reach = f"only steps[0]..steps[{index - 1}]" if index else "only the trigger"
                        self.add(where, field, f"'{{{{ {ref.text} }}}}': this step can reference {reach}",
                                 block=block)
                        continue
                    source = earlier[target]
                    label = f"steps[{target}] ({source.id})" if source else f"steps[{target}]"
                if source is None:
                    continue  # its block is unknown: already reported
                problem = check_path(source.outcome_schema(), ref.path)
                if problem:
                    self.add(where, field, f"'{{{{ {ref.text} }}}}' refers to an output {label} does not have: {problem}",
                             block=block)


def validate_workflow(spec: WorkflowSpec) -> None:
    """Raise a 422 whose message lists each problem as `<step> (<block>) <field>: <why>`, with
    `fields` mapping each field path (`steps[0].config.invoice_id`) to its problem."""
    checker = _Checker(spec)
    checker.run()
    if checker.problems:
        listed = "; ".join(f"{checker.labels[k]}: {v}" for k, v in list(checker.problems.items())[:5])
        more = len(checker.problems) - 5
        suffix = f" (and {more} more)" if more > 0 else ""
        raise AppError(ErrorCode.VALIDATION, f"Invalid workflow: {listed}{suffix}", fields=checker.problems)
