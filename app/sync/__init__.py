"""Invoice sync: webhook intake, the guarded upsert, backfill, reconcile."""
