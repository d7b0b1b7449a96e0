"""Every model, imported here so metadata (and Alembic) sees them all."""
from pos.models.carts import DeskCart
from pos.models.catalog import (
    BundleContent,
    ExpectedTreatments,
    Item,
    ItemPriceChange,
    Package,
    PackageSupply,
)
from pos.models.clinic import ClinicSettingsRow
from pos.models.clinical import (
    AftercareSheet,
    ClientConsent,
    ConsentForm,
    ScreeningQuestionnaire,
    Treatment,
    TreatmentSupply,
)
from pos.models.credit import ClientCreditEntry
from pos.models.drawers import Drawer, DrawerEntry
from pos.models.gift_cards import GiftCard, GiftCardEntry
from pos.models.inventory import ItemStock, Location, Lot, LotStock, StockMovement
from pos.models.notify import Alert, OutboxMessage
from pos.models.payments import Payment
from pos.models.purchasing import PurchaseOrder, PurchaseOrderLine, Supplier
from pos.models.reporting import PackageLiabilitySnapshot
from pos.models.sales import (
    Client,
    DiscountCode,
    IdempotencyRecord,
    PackagePurchase,
    ProcessedEvent,
    ReceiptCounter,
    Refund,
    RefundLine,
    Sale,
    SaleLine,
)
from pos.models.sessions import LoginThrottle, StaffPin, StaffSession
from pos.models.staff import (
    ApiToken,
    AuditEntry,
    BulkReadBurst,
    ClientRecordRead,
    PasswordLink,
    Setting,
    User,
)
from pos.models.terminal import TerminalLocation, TerminalReader

__all__ = [
    "AftercareSheet", "Alert", "ApiToken", "AuditEntry", "BulkReadBurst", "Client",
    "ClientCreditEntry",
    "ClientRecordRead",
    "ClientConsent", "ClinicSettingsRow", "ConsentForm", "DeskCart", "DiscountCode", "Drawer",
    "DrawerEntry", "ExpectedTreatments", "GiftCard", "GiftCardEntry", "IdempotencyRecord",
    "Item", "ItemStock", "Location", "Lot", "LotStock", "LoginThrottle", "OutboxMessage",
    "Package", "PackageLiabilitySnapshot", "PackagePurchase", "PackageSupply", "PasswordLink",
    "Payment", "ProcessedEvent", "ReceiptCounter", "StaffPin", "StaffSession",
    "Refund", "RefundLine", "Sale", "SaleLine", "ScreeningQuestionnaire", "Setting",
    "StockMovement", "Treatment",
    "TreatmentSupply", "User",
    "BundleContent", "ItemPriceChange", "PurchaseOrder", "PurchaseOrderLine", "Supplier",
    "TerminalLocation", "TerminalReader",
]
