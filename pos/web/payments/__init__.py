"""Payments: the Stripe webhook, the demo gateway's payment page, and the pages a client
sees after paying on their phone."""
