"""The front desk: clients, checkout, sales, receipts and refunds (the drawer: pos/web/drawers)."""
