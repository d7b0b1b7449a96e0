"""The front desk: clients, checkout, sales and receipts, refunds, and the cash day."""
