"""Webhooks out: a city's other systems hear of every public case event, signed the Standard Webhooks
way, from a transactional outbox (`webhook_deliveries`, filled by a trigger in the transaction that
writes the event), at least once, retried with backoff, with a delivery log and a replay action."""
