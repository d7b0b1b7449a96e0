"""Alert channels (SMTP, webhook) fed from the transactional outbox."""


class DeliveryFailed(Exception):
    """A message could not be handed over; the text is safe to show (no addresses, no body)."""
