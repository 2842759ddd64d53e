"""The job queue: arq on Redis when REDIS_URL is set, else an in-process runner.

Durability never depends on the queue: each job's state lives in the store, and unfinished work
is re-enqueued at start-up (`app.jobs.recovery`)."""
