"""Connecting a workspace to Stripe: key checks, permission probe, webhook endpoint lifecycle."""
