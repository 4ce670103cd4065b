"""The organisation's logo: uploaded in the settings, stored as a small clean PNG, printed on its documents."""
import io

from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import Tenant
from tests.customers import form_fields, make_thirdparty
from tests.sales.support import validated
from tests.sales.test_sales_settings import settings_page


def _image(fmt: str, size=(1200, 400)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 60)).save(out, format=fmt)
    return out.getvalue()


def _upload(browser, tenant, content: bytes, filename: str, **changes):
    data = {k: v[0] for k, v in form_fields(settings_page(browser, tenant), "settings-form").items()}
    data.pop("logo", None)
    data.update(changes)
    data["logo"] = (io.BytesIO(content), filename)
    return browser.client.post(f"/{tenant.slug}/admin/settings", data=data, content_type="multipart/form-data")


def _stored_logo(app, tenant) -> bytes | None:
    with app.app_context():
        return db.session.scalar(select(Tenant.logo).where(Tenant.id == tenant.id))


def test_a_logo_is_stored_as_a_small_png_and_printed_on_the_pdf(app, browser, tenant, owner):
    assert _upload(browser, tenant, _image("JPEG"), "logo.jpg").status_code == 303
    png = _stored_logo(app, tenant)
    assert png.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (600, 200)  # shrunk into its box, proportions kept
    assert "Remove the logo" in settings_page(browser, tenant)

    invoice = validated(app, browser, tenant, make_thirdparty(app, tenant, "Vetreria Conti"), "invoice")
    pdf = PdfReader(io.BytesIO(browser.get(f"/{tenant.slug}/sales/invoices/{invoice.id}.pdf").data))
    assert len(pdf.pages[0].images) == 1

    assert _upload(browser, tenant, b"", "", remove_logo="y").status_code == 303
    assert _stored_logo(app, tenant) is None


def test_what_is_not_an_image_is_refused_and_nothing_changes(app, browser, tenant, owner):
    assert _upload(browser, tenant, _image("PNG", (300, 100)), "logo.png").status_code == 303
    before = _stored_logo(app, tenant)
    for content, name in ((b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "logo.svg"),
                          (b"<html><body>hi</body></html>", "logo.png"), (_image("BMP", (50, 50)), "logo.bmp"),
                          (b"\x89PNG" + b"0" * (400 * 1024 + 10), "big.png")):
        response = _upload(browser, tenant, content, name, name="Renamed meanwhile")
        assert response.status_code == 422, name
        assert "PNG, JPEG, GIF or WebP" in response.get_data(as_text=True)
        assert _stored_logo(app, tenant) == before
