"""Shipments of an order: what left on which day; the order is to ship, partly shipped or shipped accordingly."""
import uuid
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, func, select, type_coerce

from app.extensions import db
from app.idempotency import save_once, saved_with
from app.models import SalesDocument, Shipment, ShipmentLine
from app.models.sales import from_units
from app.permissions import Viewer
from app.sales.queries import thread_of
from app.sales.services import SalesError, locked
from app.timeline.services import record_event


def shipped_by_line(order_id: uuid.UUID) -> dict[uuid.UUID, Decimal]:
    """How much of each of the order's lines has left so far."""
    rows = db.session.execute(
        select(ShipmentLine.line_id, func.sum(type_coerce(ShipmentLine.quantity, BigInteger)))
        .join(Shipment, (Shipment.tenant_id == ShipmentLine.tenant_id) & (Shipment.id == ShipmentLine.shipment_id))
        .where(Shipment.order_id == order_id).group_by(ShipmentLine.line_id))
    return {line_id: from_units(total, 3) for line_id, total in rows.all()}


def left_to_ship(order: SalesDocument) -> dict[uuid.UUID, Decimal]:
    shipped = shipped_by_line(order.id)
    return {line.id: max(line.quantity - shipped.get(line.id, Decimal(0)), Decimal(0)) for line in order.lines}


def shipments_of(order_id: uuid.UUID) -> list[Shipment]:
    return db.session.scalars(select(Shipment).where(Shipment.order_id == order_id)
                              .order_by(Shipment.shipped_on, Shipment.created_at)).all()


def record_shipment(viewer: Viewer, order: SalesDocument, *, shipped_on: date, reference: str,
                    quantities: dict[uuid.UUID, Decimal], idempotency_key: str | None = None) -> tuple[Shipment, bool]:
    """Record what left (order line id → quantity, at most what is left of each) and update the order's status.

    The order row is locked while its quantities are checked, so two shipments recorded at once cannot ship
    more than was ordered. A retried submission (same key) records nothing and returns the first shipment.
    """
    if (existing := saved_with(Shipment, idempotency_key)) is not None:
        return existing, False
    status = locked(order).status
    if status == "shipped":
        raise SalesError(_l("Nothing is left to ship: everything ordered has been shipped."))
    if status not in ("validated", "partial"):
        raise SalesError(_l("Only a validated order that is not fully shipped can ship."))
    left = left_to_ship(order)
    quantities = {k: v for k, v in quantities.items() if v}
    if not quantities:
        raise SalesError(_l("Enter a quantity to ship for at least one line."))
    for line_id, quantity in quantities.items():
        if line_id not in left or quantity < 0 or quantity > left[line_id]:
            raise SalesError(_l("A quantity is more than what is left to ship of its line."))
    shipment = Shipment(order_id=order.id, shipped_on=shipped_on, reference=reference, created_by_id=viewer.user_id,
                        idempotency_key=idempotency_key)
    for line in order.lines:
        if line.id in quantities:
            shipment.lines.append(ShipmentLine(line_id=line.id, quantity=quantities[line.id]))

    def build():
        db.session.add(shipment)
        order.status = "shipped" if all(left[k] - quantities.get(k, 0) <= 0 for k in left) else "partial"
        db.session.flush()
        record_event(thirdparty_id=order.thirdparty_id, contact_id=order.contact_id, kind="order_shipped",
                     subject_type="order", subject_id=order.id, actor_id=viewer.user_id, title=order.number or "",
                     body=reference, payload={"complete": order.status == "shipped", "shipment": str(shipment.id),
                              "thread": thread_of(order)},
                     required_right="order.read")
        return shipment

    return save_once(Shipment, idempotency_key, build)
