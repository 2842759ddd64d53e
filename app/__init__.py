"""Stripe Invoicing for the CRM: the service package."""
