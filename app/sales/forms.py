"""Forms of the sales pages: a product, a document's header, a line, a quote's refusal, a payment."""
import uuid
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, DecimalField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.forms import as_choices, parse_uuid
from app.models import Product
from app.sales.labels import METHOD_LABELS, PERIOD_LABELS

LIMIT = Decimal("1e9")  # no quantity, price or amount reaches a billion
LINE_LIMIT = Decimal("1e12")  # nor a line a thousand billion (500 of them stay far inside the stored amounts' range)


def typed_decimal(text: str, *, places: int) -> Decimal | None:
    """A positive (or zero) number as people type it (``1 234,5`` or ``1234.5``), with at most ``places`` decimals;
    None when it is not one."""
    try:
        value = Decimal(text.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() and 0 <= value < LIMIT and -value.as_tuple().exponent <= places else None


def typed_per_row(formdata, prefix: str, keys: list, places: int) -> tuple[dict, object]:
    """The numbers typed in the ``<prefix>-<key>`` fields of a table, by key (blank ones left out), and the first
    key whose text is not a number (None when all are)."""
    given = {}
    for key in keys:
        text = formdata.get(f"{prefix}-{key}") or ""
        if text.strip():
            value = typed_decimal(text, places=places)
            if value is None:
                return given, key
            given[key] = value
    return given, None


class AmountField(DecimalField):
    """A decimal typed either way people write it: ``1234.5``, ``1234,5``, ``1 234,50``."""

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [valuelist[0].replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")]
        super().process_formdata(valuelist)


def _within(low: Decimal, high: Decimal, places: int):
    def check(form, field):
        value = field.data
        if value is None:
            return
        if not value.is_finite() or not low <= value <= high:
            raise ValidationError(_l("Enter a number between %(low)s and %(high)s.", low=low, high=high))
        if -value.as_tuple().exponent > places:
            raise ValidationError(_l("Use at most %(places)s decimals.", places=places))
    return check


def amount_field(label, *, low=-LIMIT, high=LIMIT, places=2, required=True):
    checks = [InputRequired() if required else Optional(), _within(Decimal(low), Decimal(high), places)]
    # A text box, not type=number: people type 12,5 as well as 12.5 (AmountField reads both).
    return AmountField(label, places=None, validators=checks, render_kw={"type": "text", "inputmode": "decimal", "autocomplete": "off"})


class ProductForm(FlaskForm):
    ref = StringField(_l("Reference"), validators=[DataRequired(), Length(max=40)])
    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)], render_kw={"rows": 3})
    is_service = BooleanField(_l("This is a service"))
    unit_price = amount_field(_l("Unit price before VAT"), low=0, places=4)
    vat_rate = amount_field(_l("VAT rate (%)"), low=0, high=100)
    unit = StringField(_l("Unit"), validators=[Length(max=20)], render_kw={"placeholder": _l("hour, piece, month…")})
    version = HiddenField()  # an edit: the version and the values it showed (app.editing)
    base = HiddenField()

    def values(self) -> dict:
        return {"ref": self.ref.data.strip(), "label": self.label.data.strip(), "description": self.description.data or "",
                "is_service": self.is_service.data, "unit_price": self.unit_price.data, "vat_rate": self.vat_rate.data,
                "unit": (self.unit.data or "").strip()}


class HeaderForm(FlaskForm):
    """The header of a quote, an invoice or a credit note (its lines are added on its page)."""

    title = StringField(_l("Subject"), validators=[Length(max=200)])
    # The customer's contacts; an id that is not one of them is "not found" (404) in the view.
    contact_id = SelectField(_l("For the attention of"), choices=[], default="", validate_choice=False)
    valid_until = DateField(_l("Valid until"), validators=[Optional()])
    payment_days = IntegerField(_l("Payment due after (days)"), validators=[Optional(), NumberRange(min=0, max=365)],
                                render_kw={"inputmode": "numeric", "min": 0, "max": 365})
    # Contracts: from when, how often it is invoiced, until when (empty: until cancelled).
    starts_on = DateField(_l("Starts on"), validators=[InputRequired(message=_l("Say when the contract starts."))])
    period = SelectField(_l("Invoiced"), choices=as_choices(PERIOD_LABELS.items()), default="monthly")
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    note = TextAreaField(_l("Note printed on the document"), validators=[Length(max=5000)], render_kw={"rows": 3})
    # Quotes: the opportunity it answers (one of the customer's; any other is "not found", 404, in the view).
    opportunity_id = HiddenField()
    idempotency_key = HiddenField()
    version = HiddenField()  # an edit: the version and the values it showed (app.editing)
    base = HiddenField()

    # The fields each kind reads besides the title, the contact and the note.
    OWN_FIELDS = {"quote": ("valid_until", "opportunity_id"), "invoice": ("payment_days",), "contract": ("starts_on", "period", "ends_on")}

    def __init__(self, *args, kind: str = "quote", **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        for name in {f for fields in self.OWN_FIELDS.values() for f in fields} - set(self.OWN_FIELDS.get(kind, ())):
            delattr(self, name)  # another kind's field: neither shown, nor read, nor validated

    def validate_contact_id(self, field):
        if field.data and parse_uuid(field.data) is None:
            raise ValidationError(_l("Choose one of the contacts."))

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("A contract ends after it starts."))

    def values(self) -> dict:
        """The header's values; the opportunity stays out (the view checks it, then links it)."""
        values = {"title": (self.title.data or "").strip(), "note": self.note.data or ""}
        return values | {name: getattr(self, name).data for name in self.OWN_FIELDS.get(self.kind, ()) if name != "opportunity_id"}


def document_form(contacts, *, kind: str, **kw) -> HeaderForm:
    form = HeaderForm(kind=kind, **kw)
    form.contact_id.choices = as_choices([("", "—"), *((str(c.id), c.full_name) for c in contacts)])
    return form


class LineForm(FlaskForm):
    """A line: pick a product (its label, price and VAT rate fill what is left blank) or write it out."""

    product_id = SelectField(_l("Product or service"), choices=[], default="")
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)], render_kw={"rows": 1})
    quantity = amount_field(_l("Quantity"), places=3)
    unit_price = amount_field(_l("Unit price"), places=4, required=False)
    discount = amount_field(_l("Discount (%)"), low=0, high=100, required=False)
    vat_rate = amount_field(_l("VAT (%)"), low=0, high=100, required=False)

    def __init__(self, products: list[Product], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.products = {str(p.id): p for p in products}
        self.product_id.choices = as_choices([("", _l("— free text —")), *((k, f"{p.ref} · {p.label}") for k, p in self.products.items())])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        product = self.products.get(self.product_id.data or "")
        price = self.unit_price.data if self.unit_price.data is not None else (product.unit_price if product else None)
        if ok and price is not None and abs(self.quantity.data * price) > LINE_LIMIT:
            self.quantity.errors = [*self.quantity.errors, _l("A line cannot exceed %(limit)s.", limit=f"{LINE_LIMIT:,.0f}")]
            return False
        if product:
            return ok
        for field, message in ((self.description, _l("Describe the line, or pick a product.")),
                               (self.unit_price, _l("Give a unit price, or pick a product.")),
                               (self.vat_rate, _l("Give a VAT rate, or pick a product."))):
            if field.data in (None, "") and not field.errors:
                field.errors = [*field.errors, message]
                ok = False
        return ok

    def values(self) -> dict:
        """The line's values, the chosen product filling what was left blank."""
        product = self.products.get(self.product_id.data or "")
        description = (self.description.data or "").strip().replace("\r\n", "\n")
        return {
            "product_id": product.id if product else None,
            "description": description or (product.label if product else ""),
            "quantity": self.quantity.data,
            "unit": product.unit if product else "",
            "unit_price": self.unit_price.data if self.unit_price.data is not None else product.unit_price,
            "discount": self.discount.data or Decimal(0),
            "vat_rate": self.vat_rate.data if self.vat_rate.data is not None else product.vat_rate,
        }


def line_form(products, line=None, **kw) -> LineForm:
    if line is not None and "formdata" not in kw:
        kw["data"] = {"product_id": str(line.product_id) if line.product_id else "", "description": line.description,
                      "quantity": line.quantity.normalize(), "unit_price": line.unit_price.normalize(),
                      "discount": line.discount.normalize(), "vat_rate": line.vat_rate.normalize()}
    elif "formdata" not in kw:
        kw["data"] = {"quantity": Decimal(1)}
    return LineForm(products, **kw)


class RefuseForm(FlaskForm):
    reason = StringField(_l("Why (optional)"), validators=[Length(max=200)])


class PaymentForm(FlaskForm):
    """A payment; its shares over the open invoices come as ``share-<invoice id>`` fields (``shares()``)."""

    amount = amount_field(_l("Amount received"), low=Decimal("0.01"))
    received_on = DateField(_l("Received on"), validators=[DataRequired()])
    method = SelectField(_l("Method"), choices=as_choices(METHOD_LABELS.items()), default="transfer")
    reference = StringField(_l("Reference"), validators=[Length(max=80)], render_kw={"placeholder": _l("transfer or cheque number")})
    idempotency_key = HiddenField()

    def shares(self, formdata, invoices) -> dict[uuid.UUID, Decimal] | None:
        """The amount given to each open invoice; all blank: the amount goes to the oldest due first. None (and
        an error on ``amount``) when a share is not an amount."""
        given, wrong = typed_per_row(formdata, "share", [invoice.id for invoice in invoices], places=2)
        if wrong is not None:
            number = next(invoice.number for invoice in invoices if invoice.id == wrong)
            self.amount.errors = [*self.amount.errors, _l("%(number)s: enter an amount like 120.50.", number=number)]
            return None
        if given:
            return given
        left = self.amount.data
        for invoice in invoices:
            share = min(left, invoice.balance)
            if share > 0:
                given[invoice.id] = share
                left -= share
        if left > 0:
            self.amount.errors = [*self.amount.errors, _l("This is more than the customer owes on its open invoices.")]
            return None
        return given



class ShipmentForm(FlaskForm):
    """A shipment; how much of each order line ships comes as ``qty-<line id>`` fields (``quantities()``), which the
    page fills with what is still to ship: sent as shown, the form ships everything that is left."""

    shipped_on = DateField(_l("Shipped on"), validators=[DataRequired()])
    reference = StringField(_l("Reference"), validators=[Length(max=80)], render_kw={"placeholder": _l("carrier, tracking number")})
    idempotency_key = HiddenField()

    def quantities(self, formdata, left: dict) -> dict | None:
        """How much of each line ships now: what its field says (blank: none of that line); a line still to ship
        whose field is not sent at all ships all that is left of it, as the page shows it filled. None (and an
        error) when a quantity is not a number."""
        given, wrong = typed_per_row(formdata, "qty", list(left), places=3)
        if wrong is not None:
            self.shipped_on.errors = [*self.shipped_on.errors, _l("Enter quantities like 2 or 1.5.")]
            return None
        unsent = {line_id: quantity for line_id, quantity in left.items() if quantity > 0 and f"qty-{line_id}" not in formdata}
        return given | unsent


def typed_quantity(value: Decimal) -> str:
    """``value`` as a person types it in a quantity field (2, 1.5; no thousands separator, which would not read back)."""
    return format(value.normalize(), "f")
