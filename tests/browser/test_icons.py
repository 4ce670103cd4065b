"""The icons draw in a real browser from the one sprite (app/icons.py): on a phone, the card's phone link, the menu
button and a timeline row each show their icon's strokes — an empty box or nothing at all would fail."""
import io

from PIL import Image

from tests.customers import make_thirdparty
from tests.factories import make_tenant, make_user


def _drawn_pixels(locator) -> int:
    """How many pixels of the element's picture are darker than the page's light background."""
    picture = Image.open(io.BytesIO(locator.screenshot(animations="disabled"))).convert("L")
    return sum(picture.histogram()[:160])


def test_icons_draw_from_the_sprite_on_a_phone(app, phone, sign_in, shot):
    owner = make_user(app, email="elena@vetri.example.com", name="Elena Conti")
    org = make_tenant(app, slug="vetri-conti", name="Vetri Conti", owner=owner)
    customer = make_thirdparty(app, org, "Vetreria Sala", phones=[["Office", "+39 041 555 0101"]])
    sign_in(phone, owner.email)
    responses = []
    phone.on("response", lambda response: responses.append(response) if "icons.svg" in response.url else None)
    phone.goto(f"/vetri-conti/thirdparties/{customer.id}")
    for selector in (".card-header a[href^='tel:'] svg.icon", ".menu-toggle svg.icon", ".timeline .event-icon svg.icon"):
        icon = phone.locator(selector).first
        box = icon.bounding_box()
        assert box and box["width"] >= 12 and box["height"] >= 12, selector
        assert _drawn_pixels(icon) > 8, f"{selector}: nothing drawn"
    assert responses and all(r.status in (200, 304) for r in responses), [r.status for r in responses]
    shot(phone, "phone-card-icons")
