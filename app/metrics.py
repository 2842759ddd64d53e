"""Prometheus metrics, one registry per AppContext (no process-global collectors)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events_received = Counter("invoicing_webhook_events_received", "Signed Stripe events accepted", ["duplicate"], registry=r)
        self.events_rejected = Counter("invoicing_webhook_events_rejected", "Webhook deliveries refused", ["reason"], registry=r)
        self.events_processed = Counter("invoicing_events_processed", "Stripe events processed", ["outcome"], registry=r)
        self.events_failed = Counter("invoicing_events_failed", "Stripe event processing failures", registry=r)
        self.processing_lag = Histogram(
            "invoicing_event_processing_lag_seconds", "From Stripe's event time to processed",
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600), registry=r,
        )
        self.backfill_invoices = Counter("invoicing_backfill_invoices", "Invoices upserted by backfill", ["result"], registry=r)
        self.backfill_running = Gauge("invoicing_backfill_running", "Backfill jobs running in this process", registry=r)
        self.stripe_calls = Counter("invoicing_stripe_calls", "Stripe API calls", ["operation", "outcome"], registry=r)
        self.workflow_runs = Counter("invoicing_workflow_runs", "Workflow runs finished", ["status"], registry=r)
        self.invoices_created = Counter("invoicing_invoices_created", "Invoices created through the app", registry=r)

    def observe_stripe_call(self, operation: str, outcome: str) -> None:
        self.stripe_calls.labels(operation=operation, outcome=outcome).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def serve(self, port: int, addr: str = "0.0.0.0") -> None:
        """Serve this registry at http://addr:port/metrics from a daemon thread (for `invoicing
        worker`, which has no HTTP app; METRICS_PORT)."""
        start_http_server(port, addr=addr, registry=self.registry)
