"""`stripe.create_customer`: create the Stripe customer for an email, or update the one that has it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from blocks.base import BlockConfig, BlockDefinition
from blocks.stripe_create_customer.execute import execute


class CreateCustomerConfig(BlockConfig):
    email: str = Field(min_length=3, max_length=512, description="matched exactly (after lower-casing)")
    name: str | None = Field(default=None, max_length=256)
    phone: str | None = Field(default=None, max_length=20)
    description: str | None = Field(default=None, max_length=350)
    metadata: dict[str, str] = Field(default_factory=dict, max_length=40)


class CreateCustomerOutcome(BaseModel):
    customer_id: str
    email: str
    name: str | None = None
    created: bool = Field(description="true when no customer had this email")
    updated: bool = Field(description="true when an existing customer was updated")


BLOCK = BlockDefinition(
    id="stripe.create_customer",
    kind="step",
    title="Create or update customer",
    description="Find the Stripe customer with this email and update it, or create one if none exists.",
    config_model=CreateCustomerConfig,
    outcome_model=CreateCustomerOutcome,
    execute=execute,
)
