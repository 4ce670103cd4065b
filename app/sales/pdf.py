"""The printable PDF of a quote, order, invoice, credit note or contract, in the organisation's language.

Drawn with reportlab's standard Helvetica (WinAnsi encoding: €, French and Italian letters), so no font file is
needed. User text goes through ``_text``: what the font cannot print becomes its plain letter ("ř" → "r") or "?",
control characters go, and markup is escaped, never interpreted. The lines table runs on over as many pages as it
needs, its header repeated; every page says "page/pages", and a draft carries a large "DRAFT" across each page.
"""
import io
import unicodedata
from functools import lru_cache
from xml.sax.saxutils import escape

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.sales import money

KIND_TITLES = {"quote": _l("Quote"), "order": _l("Order"), "invoice": _l("Invoice"), "credit_note": _l("Credit note"),
               "contract": _l("Contract")}
PERIOD_LABELS = {"monthly": _l("Monthly"), "quarterly": _l("Quarterly"), "yearly": _l("Yearly")}

MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
LINE_COLUMNS = [w * mm for w in (72, 24, 24, 16, 14, 24)]  # description, quantity, unit price, discount, VAT, net
GREY = colors.Color(0.45, 0.45, 0.45)

BASE = ParagraphStyle("base", fontName="Helvetica", fontSize=9, leading=11.5)
BOLD = ParagraphStyle("bold", BASE, fontName="Helvetica-Bold")
SMALL = ParagraphStyle("small", BASE, fontSize=8, leading=10, textColor=GREY)
ORGANISATION = ParagraphStyle("organisation", BOLD, fontSize=14, leading=18)
CUSTOMER = ParagraphStyle("customer", BASE, leftIndent=WIDTH / 2)
CUSTOMER_NAME = ParagraphStyle("customer_name", BOLD, fontSize=11, leading=14, leftIndent=WIDTH / 2, spaceBefore=8 * mm)
HEADING = ParagraphStyle("heading", BOLD, fontSize=16, leading=20, spaceBefore=8 * mm, spaceAfter=1 * mm)
RIGHT = ParagraphStyle("right", BASE, alignment=TA_RIGHT)
RIGHT_BOLD = ParagraphStyle("right_bold", BOLD, alignment=TA_RIGHT)


@lru_cache(maxsize=4096)
def _printable(char: str) -> str:
    """``char`` as the font can print it: itself, its plain letter(s), "?", or nothing for a control character."""
    if char in "\n\u202f\t":  # babel's narrow no-break space (French amounts) is not in WinAnsi: a no-break space
        return {"\u202f": "\u00a0", "\t": " "}.get(char, char)
    if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
        return ""
    try:
        char.encode("cp1252")
        return char
    except UnicodeEncodeError:
        plain = "".join(c for c in unicodedata.normalize("NFKD", char) if c != char and _printable(c) == c)
        return plain or "?"


def _plain(value) -> str:
    """Any text as the font can print it."""
    return "".join(map(_printable, str(value or "")))


def _text(value) -> str:
    """Any text as Paragraph markup that shows it as it is: printable, escaped, its line breaks kept."""
    return escape(_plain(value)).replace("\n", "<br/>")


def _p(value, style=BASE) -> Paragraph:
    return Paragraph(_text(value), style)


class _NumberedCanvas(Canvas):
    """Keeps its pages until the end, to write "page/pages" at the foot of each (reportlab's usual recipe)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages = []

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        for number, page in enumerate(self._pages, 1):
            self.__dict__.update(page)
            self.setFont("Helvetica", 8)
            self.setFillColor(GREY)
            self.drawRightString(A4[0] - MARGIN, 10 * mm, f"{number}/{len(self._pages)}")
            super().showPage()
        super().save()


def _page_decoration(footer: str, watermark: str | None):
    def decorate(canvas, doc):  # drawn before the page's content, so that the watermark lies under it
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, 10 * mm, footer)
        if watermark:
            size = min(120, 560 / canvas.stringWidth(watermark, "Helvetica-Bold", 1))
            canvas.setFont("Helvetica-Bold", size)
            canvas.setFillColor(colors.Color(0.87, 0.87, 0.87))
            canvas.translate(A4[0] / 2, A4[1] / 2)
            canvas.rotate(45)
            canvas.drawCentredString(0, -size / 3, watermark)
        canvas.restoreState()
    return decorate


def _table(rows, widths, *, head=False, style=()):
    """A table whose rows never split (none is taller than ``_pieces`` makes); ``head``: a first row repeated on each page."""
    commands = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2), *style]
    if head:
        commands += [("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)), ("LINEBELOW", (0, 0), (-1, 0), 0.6, GREY)]
    return Table(rows, colWidths=widths, repeatRows=1 if head else 0, hAlign="LEFT", style=TableStyle(commands))


class _Formats:
    """Amounts, prices, rates, quantities and dates as ``locale`` writes them."""

    def __init__(self, currency: str, locale: str):
        self.currency, self.locale = currency, locale

    def amount(self, value) -> str:
        return format_currency(value, self.currency, locale=self.locale)

    def price(self, value) -> str:  # a unit price keeps its decimals beyond the cents (0.0125)
        return format_currency(value.normalize(), self.currency, locale=self.locale, decimal_quantization=False)

    def percent(self, value) -> str:
        return format_percent(value / 100, locale=self.locale, decimal_quantization=False)

    def quantity(self, value, unit: str) -> str:
        return " ".join(filter(None, (format_decimal(value.normalize(), locale=self.locale), unit)))

    def day(self, value) -> str:
        return format_date(value, format="long", locale=self.locale)


def _logo(png: bytes | None) -> list:
    """The organisation's logo (stored as a small PNG by the settings), at most 60 × 24 mm, keeping its proportions."""
    if not png:
        return []
    width, height = ImageReader(io.BytesIO(png)).getSize()
    scale = min(60 * mm / width, 24 * mm / height)
    logo = Image(io.BytesIO(png), width=width * scale, height=height * scale)
    logo.hAlign = "LEFT"
    return [logo, Spacer(1, 3 * mm)]


def _parties(tenant, customer, contact) -> list:
    story = [*_logo(tenant.logo), _p(tenant.name, ORGANISATION)]
    story += [_p(line, SMALL) for line in (tenant.legal_details or "").splitlines() if line.strip()]
    story.append(_p(customer.name, CUSTOMER_NAME))
    address = customer.addresses[0].one_line() if customer.addresses else ""
    for line in (address, customer.vat_number and _("VAT number: %(number)s", number=customer.vat_number),
                 customer.code and _("Customer code: %(code)s", code=customer.code),
                 contact and _("For the attention of %(name)s", name=contact.full_name)):
        if line:
            story.append(_p(line, CUSTOMER))
    return story


def _dates(doc, f: _Formats) -> list:
    facts = [(_("Date"), doc.issued_on and f.day(doc.issued_on))]
    if doc.kind == "quote":
        facts.append((_("Valid until"), doc.valid_until and f.day(doc.valid_until)))
    if doc.kind == "invoice":
        facts.append((_("Due date"), doc.due_on and f.day(doc.due_on)))
    if doc.kind == "contract":
        start, end = (doc.starts_on and f.day(doc.starts_on)), (doc.ends_on and f.day(doc.ends_on))
        span = _("from %(start)s to %(end)s", start=start, end=end) if start and end else start and _("from %(start)s", start=start)
        facts.append((_("Period"), ", ".join(str(p) for p in (PERIOD_LABELS.get(doc.period or ""), span) if p)))
    rows = [[_p(label, BOLD), _p(value)] for label, value in facts if value]
    return [Spacer(1, 3 * mm), _table(rows, [35 * mm, WIDTH - 35 * mm])] if rows else []


def _pieces(paragraph: Paragraph, width: float, height: float = 150) -> list[Paragraph]:
    """A long paragraph cut into pieces at most ``height`` tall: table rows never split, so each piece is a row."""
    pieces = []
    while paragraph.wrap(width, 1e9)[1] > height and len(parts := paragraph.split(width, height)) == 2:
        pieces.append(parts[0])
        paragraph = parts[1]
    return [*pieces, paragraph]


def _lines(doc, f: _Formats) -> list:
    labels = (_("Quantity"), _("Unit price"), _("Discount"), _("VAT"), _("Total before VAT"))
    rows = [[_p(_("Description"), BOLD)] + [_p(label, RIGHT_BOLD) for label in labels]]
    starts = []  # the row each line starts on: a rule above it (its description's next pieces go on below, unruled)
    for line in doc.lines:
        numbers = (f.quantity(line.quantity, line.unit), f.price(line.unit_price),
                   f.percent(line.discount) if line.discount else "", f.percent(line.vat_rate), f.amount(line.net))
        starts.append(("LINEABOVE", (0, len(rows)), (-1, len(rows)), 0.25, colors.lightgrey))
        pieces = _pieces(_p(line.description), LINE_COLUMNS[0] - 6)
        rows.append([pieces[0]] + [_p(number, RIGHT) for number in numbers])
        rows += [[piece, *[""] * len(numbers)] for piece in pieces[1:]]
    closing = ("LINEBELOW", (0, -1), (-1, -1), 0.25, colors.lightgrey)
    return [Spacer(1, 6 * mm), _table(rows, LINE_COLUMNS, head=True, style=[*starts[1:], closing])]


def _summary(doc, f: _Formats) -> list:
    """The VAT of each rate beside the totals (of the lines, so that the page always adds up)."""
    totals = money.totals(doc.lines)
    by_rate = [[_p(_("VAT rate"), BOLD), _p(_("Base"), RIGHT_BOLD), _p(_("VAT"), RIGHT_BOLD)]]
    by_rate += [[_p(f.percent(rate)), _p(f.amount(part.net), RIGHT), _p(f.amount(part.vat), RIGHT)]
                for rate, part in totals.by_rate.items()]
    sums = [[_p(_("Total before VAT")), _p(f.amount(totals.net), RIGHT)], [_p(_("VAT")), _p(f.amount(totals.vat), RIGHT)],
            [_p(_("Total with VAT"), BOLD), _p(f.amount(totals.gross), RIGHT_BOLD)]]
    side_by_side = [[_table(by_rate, [22 * mm, 28 * mm, 26 * mm], head=True),
                     _table(sums, [40 * mm, 34 * mm], style=[("LINEABOVE", (0, -1), (-1, -1), 0.6, GREY)])]]
    story = [Spacer(1, 5 * mm), Table(side_by_side, colWidths=[WIDTH - 80 * mm, 80 * mm], style=[("VALIGN", (0, 0), (-1, -1), "TOP")])]
    if doc.kind == "invoice" and (doc.due_on or doc.payment_days):
        due = (_("Payment due on %(date)s", date=f.day(doc.due_on)) if doc.due_on
               else _("Payment due %(days)s days after the invoice date", days=doc.payment_days))
        story += [Spacer(1, 4 * mm), _p(due, BOLD)]
    return story + ([Spacer(1, 4 * mm), _p(doc.note)] if doc.note else [])


def render(doc, *, tenant, customer, contact=None, source_number=None, locale="en") -> bytes:
    """The PDF of ``doc`` (a SalesDocument with its lines) of ``tenant`` for ``customer`` (a ThirdParty with its
    addresses), to the attention of ``contact`` if given, in ``locale``. Needs a Flask app or request context."""
    locale = locale or "en"
    f = _Formats(doc.currency, locale)
    with force_locale(locale):
        kind = str(KIND_TITLES.get(doc.kind, doc.kind))
        draft = _("DRAFT") if doc.is_draft else None
        heading = f"{kind} — {draft}" if draft else " ".join(filter(None, (kind, doc.number)))
        story = _parties(tenant, customer, contact) + [_p(heading, HEADING)] + ([_p(doc.title, BOLD)] if doc.title else [])
        if source_number:
            story.append(_p(_("Made from %(number)s", number=source_number)))
        story += _dates(doc, f) + _lines(doc, f) + _summary(doc, f)

        buffer = io.BytesIO()
        pdf = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                                bottomMargin=MARGIN, title=_plain(heading), author=_plain(tenant.name), creator="Storia")
        decorate = _page_decoration(_plain(f"{tenant.name} · {heading}")[:110], draft)
        pdf.build(story, onFirstPage=decorate, onLaterPages=decorate, canvasmaker=_NumberedCanvas)
        return buffer.getvalue()
