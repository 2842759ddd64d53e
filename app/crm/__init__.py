"""CRM adapters: one `CRM` protocol, a `local` embedded CRM and an `attio` adapter."""
