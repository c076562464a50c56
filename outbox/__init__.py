"""The transactional outbox: side effects that must happen after a commit (every email now,
webhooks later), written as rows in the same transaction and delivered by Celery exactly once in
effect. See outbox.services."""
