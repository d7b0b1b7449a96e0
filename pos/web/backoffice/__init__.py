"""Back office pages [manager]: discount codes, and importing a clinic's data from CSV."""
