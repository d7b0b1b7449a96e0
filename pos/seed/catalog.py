"""What the demo clinic sells and stocks (../shared/DOMAIN.md), and who its clients are."""
from __future__ import annotations

# sku, name, kind, unit, price, cost, reorder point, reorder quantity, taxable
ITEMS = [
    ("CART-36", "MDPen needle cartridge (36-pin, sterile)", "supply", "cartridge", 0, 450, 20,
     100, False),
    ("LIDO-23", "Topical lidocaine 23% (per g)", "supply", "g", 0, 60, 60, 300, False),
    ("HA-CLIN", "HA serum, clinical (per ml)", "supply", "ml", 0, 120, 40, 200, False),
    ("GF-MASK", "Growth-factor gel mask", "supply", "mask", 0, 900, 10, 40, False),
    ("MIST-CLIN", "Copper + HA Mist, clinical (per ml)", "supply", "ml", 0, 40, 50, 250, False),
    ("CLEANSE", "Hydrating cleanser (per ml)", "supply", "ml", 0, 5, 100, 1000, False),
    ("BUNDLE-FV", "First-visit bundle (1 oz HA serum + Copper + HA Mist)", "bundle", "bundle",
     0, 2800, 5, 20, False),
    ("SERUM-1OZ", "Pure HA serum 1 oz (take-home)", "retail", "bottle", 6500, 1900, 6, 24, True),
    ("MIST-RET", "Copper + HA Mist (take-home)", "retail", "bottle", 3800, 900, 6, 24, True),
]
REORDER = {sku: (point, quantity) for sku, *_, point, quantity, _taxable in ITEMS}
COST = {sku: cost for sku, _n, _k, _u, _p, cost, *_ in ITEMS}
RETAIL_SKUS = ("SERUM-1OZ", "MIST-RET")
BUNDLE_SKU = "BUNDLE-FV"

# What one session consumes, per the domain brief's procedure.
SESSION_SUPPLIES = (("CART-36", 1), ("LIDO-23", 5), ("HA-CLIN", 3), ("GF-MASK", 1),
                    ("MIST-CLIN", 5), ("CLEANSE", 10))

# code, name, area, sessions, price
PACKAGES = [
    ("FACE-1", "Face microneedling, single session", "face", 1, 30000),
    ("FACE-3", "Face microneedling series of 3", "face", 3, 79500),
    ("SCALP-4", "Scalp (hair restoration) series of 4", "scalp", 4, 110000),
]
PACKAGE_AREA = {code: area for code, _name, area, _sessions, _price in PACKAGES}
PACKAGE_SESSIONS = {code: sessions for code, _name, _area, sessions, _price in PACKAGES}
MIN_DAYS_BETWEEN, MAX_DAYS_BETWEEN = 28, 42  # "at least 3 treatments, 4-6 weeks apart"

# Lots received over the year: code prefix and shelf life in days (None: no lot, no expiry).
LOT_PREFIX = {"CART-36": "C", "LIDO-23": "L", "HA-CLIN": "H", "GF-MASK": "G",
              "MIST-CLIN": "M", "CLEANSE": "CL", "BUNDLE-FV": "FV", "SERUM-1OZ": "S",
              "MIST-RET": "MR"}
SHELF_LIFE_DAYS = {"CART-36": 720, "LIDO-23": 200, "HA-CLIN": 365, "GF-MASK": 365,
                   "MIST-CLIN": 365, "CLEANSE": 730, "BUNDLE-FV": 400, "SERUM-1OZ": 540,
                   "MIST-RET": 400}

# Today's delivery: a short-dated lidocaine lot the supplier sent (the expiring-lot alert).
SHORT_DATED_LOT = ("LIDO-23", "L-1187", 20, 60)  # sku, lot, days until expiry, quantity

# The client who walks in today, has just bought a series and awaits a first treatment.
TODAYS_CLIENT = ("Ava", "Martinez", "ava.martinez@example.com", "555-0100")

# Fake names for the year's clients (paired in order: 39 of them).
FIRST_NAMES = ["Noah", "Mia", "Liam", "Olivia", "Ethan", "Sofia", "Lucas", "Amara", "Mateo",
               "Chloe", "Hiro", "Zara", "Daniel", "Priya", "Owen", "Leila", "Samuel", "Grace",
               "Yusuf", "Hannah", "Diego", "Ines", "Caleb", "Nora", "Felix", "Maya", "Tomas",
               "Aisha", "Julian", "Elena", "Kai", "Ruby", "Marcus", "Freya", "Andre", "Lucia",
               "Isaac", "Naomi", "Theo"]
LAST_NAMES = ["Kim", "Okafor", "Novak", "Bennett", "Silva", "Haddad", "Larsen", "Mensah",
              "Rossi", "Dubois", "Tanaka", "Ahmed", "Walsh", "Patel", "Fischer", "Moreau",
              "Osei", "Lindqvist", "Demir", "Weber", "Castro", "Ferreira", "Brooks", "Sato",
              "Kowalski", "Reyes", "Horvat", "Bello", "Navarro", "Petrov", "Nakamura",
              "Quinn", "Adeyemi", "Berg", "Costa", "Romero", "Cohen", "Achebe", "Lambert"]

# The demo clinic's details, so its receipts show what a real one prints (the name comes
# from CLINIC_NAME): a fictional address and a 555 number.
CLINIC_DETAILS = {
    "address": "221 Harbour Street, Suite 4\nPortland, ME 04101",
    "phone": "(207) 555-0142",
    "tax_id": "EIN 00-0000000 (demo)",
    "receipt_footer": "Aftercare: no makeup for 24 hours, sunscreen every day. "
                      "Questions? Call us.",
}
