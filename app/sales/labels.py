"""How sales read: kinds, payment methods and the timeline events of every step."""
from flask_babel import lazy_gettext as _l

KIND_LABELS = {"quote": _l("Quote"), "order": _l("Order"), "invoice": _l("Invoice"), "credit_note": _l("Credit note"),
               "contract": _l("Contract")}
BOOK_TITLES = {"quotes": _l("Quotes"), "orders": _l("Orders"), "invoices": _l("Invoices"), "contracts": _l("Contracts")}
NEW_TITLES = {"quote": _l("New quote"), "order": _l("New order"), "invoice": _l("New invoice"), "contract": _l("New contract")}
PERIOD_LABELS = {"monthly": _l("Every month"), "quarterly": _l("Every quarter"), "yearly": _l("Every year")}

METHOD_LABELS = {"transfer": _l("Bank transfer"), "card": _l("Card"), "cheque": _l("Cheque"), "cash": _l("Cash"),
                 "direct_debit": _l("Direct debit"), "other": _l("Other")}

# Timeline events of every step. Each is seen only with the right that reads its document (its book's ``read``).
EVENT_LABELS = {
    "quote_created": _l("Quote drafted"),
    "quote_validated": _l("Quote validated"),
    "quote_sent": _l("Quote sent"),
    "quote_signed": _l("Quote signed"),
    "quote_refused": _l("Quote refused"),
    "invoice_created": _l("Invoice drafted"),
    "invoice_validated": _l("Invoice validated"),
    "credit_note_created": _l("Credit note drafted"),
    "credit_note_validated": _l("Credit note validated"),
    "payment_received": _l("Payment received"),
    "payment_reminder_sent": _l("Payment reminder sent"),
    "order_created": _l("Order drafted"),
    "order_validated": _l("Order confirmed"),
    "order_shipped": _l("Shipment"),
    "contract_created": _l("Contract drafted"),
    "contract_validated": _l("Contract started"),
    "contract_renewed": _l("Contract renewed"),
}
EVENT_ICONS = {"quote_created": "file-text", "quote_validated": "file-text", "quote_sent": "send", "quote_signed": "signature",
               "quote_refused": "circle-x", "invoice_created": "receipt", "invoice_validated": "receipt",
               "credit_note_created": "undo-2", "credit_note_validated": "undo-2", "payment_received": "banknote",
               "payment_reminder_sent": "triangle-alert", "order_created": "shopping-cart", "order_validated": "shopping-cart",
               "order_shipped": "truck", "contract_created": "repeat", "contract_validated": "repeat", "contract_renewed": "repeat"}
