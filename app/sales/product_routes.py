"""The product and service catalogue: list, search, add, change, archive and restore."""
from flask import abort, flash, request, url_for
from flask_babel import gettext as _

from app.editing import EditConflict, decode_snapshot, encode_snapshot
from app.htmx import redirect_to, render_page
from app.pagination import page_number
from app.permissions import require
from app.sales import bp, products
from app.sales.forms import ProductForm


@bp.get("/products/")
@require("quote.read")
def product_index():
    args = request.args
    query = products.ProductQuery(text=args.get("q", "").strip()[:100], archived=args.get("archived") == "1",
                                  page=page_number(args))
    rows, has_next = products.list_products(query)
    return render_page("sales/products.html", "results", query=query, rows=rows, has_next=has_next)


def _form_page(form, product=None, status=200, conflict=None):
    return render_page("sales/product_form.html", "product_form", form=form, product=product, status=status, conflict=conflict,
                       names={})


def _product_or_404(product_id):
    return products.get_product(product_id) or abort(404)


def _ref_is_free(form, product=None) -> bool:
    if products.ref_taken(form.ref.data.strip(), product.id if product else None):
        form.ref.errors = [*form.ref.errors, _("Another product already has this reference.")]
        return False
    return True


@bp.get("/products/new")
@require("quote.create")
def new_product():
    return _form_page(ProductForm(formdata=None, data={"vat_rate": 20}))


@bp.post("/products/")
@require("quote.create")
def create_product():
    form = ProductForm()
    if not (form.validate_on_submit() and _ref_is_free(form)):
        return _form_page(form, status=422)
    product = products.save_product(None, form.values())
    flash(_("%(ref)s was added to the catalogue.", ref=product.ref), "success")
    return redirect_to(url_for(".product_index"))


@bp.get("/products/<uuid:product_id>/edit")
@require("quote.create")
def edit_product(product_id):
    product = _product_or_404(product_id)
    form = ProductForm(formdata=None, obj=product)
    form.version.data, form.base.data = product.version, encode_snapshot(products.snapshot(product))
    return _form_page(form, product)


@bp.post("/products/<uuid:product_id>/edit")
@require("quote.create")
def update_product(product_id):
    """Save a product; when someone else saved it meanwhile, 409 and the form as typed (never a silent overwrite)."""
    product = _product_or_404(product_id)
    form = ProductForm()
    if not (form.validate_on_submit() and _ref_is_free(form, product)):
        return _form_page(form, product, status=422)
    try:
        products.update_product(product, form.values(), version=request.form.get("version", type=int) or 0,
                                base=decode_snapshot(form.base.data))
    except EditConflict as conflict:
        form.version.data, form.base.data = product.version, encode_snapshot(products.snapshot(product))
        return _form_page(form, product, status=409, conflict=conflict.fields)
    flash(_("Your changes were saved."), "success")
    return redirect_to(url_for(".product_index"))


@bp.post("/products/<uuid:product_id>/<any(archive, restore):action>")
@require("quote.create")
def archive_product(product_id, action):
    """Archived products are no longer offered on new lines; documents keep the lines that used them."""
    product = _product_or_404(product_id)
    products.set_archived(product, action == "archive")
    flash(_("%(ref)s was archived.", ref=product.ref) if action == "archive" else _("%(ref)s was restored.", ref=product.ref), "success")
    return redirect_to(url_for(".product_index", archived="1" if action == "restore" else None))


