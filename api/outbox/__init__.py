"""Background work: the transactional outbox, domain events, scheduled jobs and `cadre worker`."""
