"""Create Invoice: the record action's service, its request models, customer resolution and the
dialog's context (recipients and the cached price catalog)."""
