"""Workflow blocks: Stripe and CRM triggers, steps, the workflow runtime and the host API behind them.

One folder per block (`stripe_invoice_paid/`, `stripe_update_invoice_status/`, ...) with its
definition in `block.py` and its lifecycle code in `trigger.py` or `execute.py`; the runtime
(`registry`, `templates`, `validation`, `runner`, `dispatch`, `activations`, `deliveries`) sits here.
"""
