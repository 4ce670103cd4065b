"""Late-payment reminders through a real SMTP server: one e-mail when an unpaid invoice passes a level (days after
its due date) to the invoice's contact or else the customer, in the organisation's language, on the timeline;
once per level, only the highest level reached, none when paid, none when the organisation wants none, and once
when several workers run at the same moment."""
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select, update

from app.extensions import db
from app.models import PaymentReminder, SalesDocument, Tenant, ThirdParty
from app.sales import dunning, payments, queries, services
from app.tenancy import tenant_context
from tests.customers import events_of, form_fields, make_contact, make_thirdparty, submit, viewer_for
from tests.factories import make_tenant
from tests.helpers import text_of
from tests.sales.support import rows_of, set_columns

DUE = date(2030, 3, 4)


def overdue_invoice(app, tenant, tp, *, contact_id=None, price="100", due_on=DUE) -> SalesDocument:
    """A validated invoice of ``tp`` (``price`` + 20 % VAT), issued 30 days before ``due_on``."""
    viewer = viewer_for(app, tenant, tenant.owner)
    with app.app_context(), tenant_context(tenant.id):
        customer = db.session.scalar(select(ThirdParty).where(ThirdParty.id == tp.id))
        doc, _ = services.create_document(viewer, customer, "invoice", {"title": "Works", "contact_id": contact_id})
        services.add_line(doc, {"product_id": None, "description": "Works", "quantity": Decimal(1), "unit": "",
                                "unit_price": Decimal(price), "discount": Decimal(0), "vat_rate": Decimal(20)})
        services.validate(viewer, doc)
        doc_id = doc.id
    set_columns(app, tenant, SalesDocument, doc_id, issued_on=due_on - timedelta(days=30), due_on=due_on)
    with app.app_context(), tenant_context(tenant.id):
        doc = db.session.scalar(select(SalesDocument).where(SalesDocument.id == doc_id))
        db.session.expunge(doc)
        return doc


def run(app, tenant, on: date) -> int:
    with app.app_context(), tenant_context(tenant.id):
        return dunning.send_due(on=on)


def reminders(app, tenant) -> list[tuple]:
    return [(r.invoice_id, r.level, r.sent_to) for r in rows_of(app, tenant, PaymentReminder, PaymentReminder.level)]


def set_tenant(app, tenant, **values) -> None:
    with app.app_context():
        db.session.execute(update(Tenant).where(Tenant.id == tenant.id).values(**values))
        db.session.commit()


def save_levels(owner, tenant, typed: str):
    """Type the reminder levels on the settings page and save; what the organisation then stores."""
    data = form_fields(owner.get(f"/{tenant.slug}/admin/settings").get_data(as_text=True), "settings-form")
    data["dunning_days"] = [typed]
    assert submit(owner, f"/{tenant.slug}/admin/settings", data).status_code == 303
    with owner.client.application.app_context():
        return db.session.get(Tenant, tenant.id).dunning_days


def customer_with_contact(app, tenant):
    tp = make_thirdparty(app, tenant, "Rossi Srl", emails=[["Accounts", "accounts@rossi.example"]])
    contact = make_contact(app, tenant, tp.id, "Bianchi", first_name="Giulia", emails=[["", "giulia@rossi.example"]])
    return tp, contact


def test_an_invoice_8_days_late_gets_one_reminder_to_its_contact(app, tenant, owner, mail_server):
    tp, contact = customer_with_contact(app, tenant)
    inv = overdue_invoice(app, tenant, tp, contact_id=contact.id)
    assert run(app, tenant, DUE + timedelta(days=6)) == 0  # late, but not 7 days yet
    assert run(app, tenant, DUE + timedelta(days=8)) == 1
    [message] = mail_server.messages
    assert message["To"] == "giulia@rossi.example"
    assert message["Subject"] == f"Reminder: invoice {inv.number} is overdue"
    body = message.get_content()
    assert "Hello Giulia Bianchi," in body and inv.number in body and "€120.00 is still to be paid" in body
    assert "was due on March 4, 2030" in body and "Atelier Alpha" in body
    assert reminders(app, tenant) == [(inv.id, 7, "giulia@rossi.example")]
    (event,) = events_of(app, tenant, kind="payment_reminder_sent")
    assert (event.thirdparty_id, event.contact_id, event.title, event.actor_id) == (tp.id, contact.id, inv.number, None)
    assert event.payload["level"] == 7 and event.payload["total"] == "120.00"
    card = " ".join(text_of(owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True)).split())
    assert "Payment reminder sent" in card and "Sent to giulia@rossi.example, 7 days after the due date." in card

    # The same day again, or the next: nothing more.
    assert run(app, tenant, DUE + timedelta(days=8)) == 0
    assert run(app, tenant, DUE + timedelta(days=9)) == 0
    assert len(mail_server.messages) == 1 and len(reminders(app, tenant)) == 1
    # The next level, once.
    assert run(app, tenant, DUE + timedelta(days=15)) == 1
    assert run(app, tenant, DUE + timedelta(days=16)) == 0
    assert [level for _i, level, _to in reminders(app, tenant)] == [7, 15] and len(mail_server.messages) == 2


def test_without_a_contact_the_customers_address_is_used(app, tenant, owner, mail_server):
    tp, _contact = customer_with_contact(app, tenant)
    overdue_invoice(app, tenant, tp)
    mute = make_contact(app, tenant, tp.id, "Muto")  # a contact without an e-mail: the customer's address then
    overdue_invoice(app, tenant, tp, contact_id=mute.id, price="50")
    assert run(app, tenant, DUE + timedelta(days=8)) == 2
    assert [m["To"] for m in mail_server.messages] == ["accounts@rossi.example", "accounts@rossi.example"]
    bodies = sorted(m.get_content() for m in mail_server.messages)
    assert any("Hello Rossi Srl," in b for b in bodies) and any("Hello Muto," in b for b in bodies)
    assert "giulia@rossi.example" not in {m["To"] for m in mail_server.messages}  # a contact, but not the invoice's


def test_after_20_days_only_the_15_day_level_is_sent(app, tenant, owner, mail_server):
    tp, _contact = customer_with_contact(app, tenant)
    inv = overdue_invoice(app, tenant, tp)
    assert run(app, tenant, DUE + timedelta(days=20)) == 1  # the job was stopped: one reminder, not two at once
    assert reminders(app, tenant) == [(inv.id, 15, "accounts@rossi.example")]
    assert len(mail_server.messages) == 1
    assert run(app, tenant, DUE + timedelta(days=25)) == 0
    assert run(app, tenant, DUE + timedelta(days=30)) == 1
    assert [level for _i, level, _to in reminders(app, tenant)] == [15, 30]


def test_a_paid_invoice_gets_no_reminder_and_a_partly_paid_one_its_balance(app, tenant, owner, mail_server):
    tp, _contact = customer_with_contact(app, tenant)
    paid = overdue_invoice(app, tenant, tp)
    partly = overdue_invoice(app, tenant, tp, price="200")
    viewer = viewer_for(app, tenant, tenant.owner)
    with app.app_context(), tenant_context(tenant.id):
        customer = db.session.scalar(select(ThirdParty).where(ThirdParty.id == tp.id))
        payments.record_payment(viewer, customer, amount=Decimal("170.00"), received_on=DUE, method="transfer",
                                reference="", shares={paid.id: Decimal("120.00"), partly.id: Decimal("50.00")})
    assert run(app, tenant, DUE + timedelta(days=8)) == 1
    [message] = mail_server.messages
    assert partly.number in message["Subject"] and "€190.00 is still to be paid" in message.get_content()
    assert [invoice_id for invoice_id, _l, _to in reminders(app, tenant)] == [partly.id]


def test_a_customer_without_an_email_gets_a_timeline_note_and_no_email(app, tenant, owner, mail_server):
    tp = make_thirdparty(app, tenant, "Silent Ltd")
    inv = overdue_invoice(app, tenant, tp)
    assert run(app, tenant, DUE + timedelta(days=8)) == 1
    assert mail_server.messages == []
    assert reminders(app, tenant) == [(inv.id, 7, "")]
    card = " ".join(text_of(owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True)).split())
    assert "Not sent: the customer has no e-mail address. 7 days after the due date." in card
    assert run(app, tenant, DUE + timedelta(days=9)) == 0
    assert len(events_of(app, tenant, kind="payment_reminder_sent")) == 1


def test_the_organisations_levels_decide(app, tenant, owner, mail_server):
    tp, _contact = customer_with_contact(app, tenant)
    inv = overdue_invoice(app, tenant, tp)
    assert save_levels(owner, tenant, "") == []  # no reminders at all
    for days in (8, 20, 40, 400):
        assert run(app, tenant, DUE + timedelta(days=days)) == 0
    assert mail_server.messages == [] and reminders(app, tenant) == []
    assert save_levels(owner, tenant, "20, 10") == [10, 20]
    assert run(app, tenant, DUE + timedelta(days=9)) == 0
    assert run(app, tenant, DUE + timedelta(days=10)) == 1
    assert reminders(app, tenant) == [(inv.id, 10, "accounts@rossi.example")]


def test_the_reminder_speaks_the_organisations_language(app, tenant, owner, mail_server):
    set_tenant(app, tenant, locale="fr", legal_details="SIRET 123 456 789 00012")
    tp, contact = customer_with_contact(app, tenant)
    inv = overdue_invoice(app, tenant, tp, contact_id=contact.id, price="1000")
    assert run(app, tenant, DUE + timedelta(days=8)) == 1
    [message] = mail_server.messages
    body = message.get_content()
    subject = "Reminder: invoice %(number)s is overdue"
    with app.app_context(), force_locale("fr"):
        expected_subject = gettext(subject, number=inv.number)
        greeting = gettext("Hello %(customer)s,", customer="Giulia Bianchi")
        note = gettext("Sent to %(address)s, %(days)d days after the due date.", address="giulia@rossi.example", days=7)
    assert expected_subject != subject % {"number": inv.number}, "the French catalogue lacks the reminder's subject"
    # (a subject is written on one line: the no-break space before the colon becomes a plain space)
    assert message["Subject"] == " ".join(expected_subject.split()) and "Relance" in message["Subject"]
    assert greeting in body and "Hello" not in body
    # The dates and amounts follow the language's conventions too, and the legal details close the message.
    assert inv.number in body and "1\u202f200,00\xa0€" in body and "4 mars 2030" in body and "€1,200.00" not in body
    assert "SIRET 123 456 789 00012" in body
    (event,) = events_of(app, tenant, kind="payment_reminder_sent")
    card = " ".join(text_of(owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True)).split())
    assert " ".join(note.split()) in card and event.payload["level"] == 7  # the timeline's note is written in the organisation's language


def test_only_the_organisation_in_scope_is_reminded(app, tenant, owner, mail_server):
    tp, _contact = customer_with_contact(app, tenant)
    overdue_invoice(app, tenant, tp)
    other = make_tenant(app, name="Beta")
    theirs = overdue_invoice(app, other, make_thirdparty(app, other, "Theirs", emails=[["", "theirs@beta.example"]]))
    assert run(app, tenant, DUE + timedelta(days=8)) == 1
    assert [m["To"] for m in mail_server.messages] == ["accounts@rossi.example"]
    assert reminders(app, other) == []
    assert run(app, other, DUE + timedelta(days=8)) == 1
    assert reminders(app, other) == [(theirs.id, 7, "theirs@beta.example")]


def test_the_command_reminds_every_organisation_once(app, tenant, owner, mail_server):
    tp, _contact = customer_with_contact(app, tenant)
    with app.app_context(), tenant_context(tenant.id):
        day = queries.today()
    inv = overdue_invoice(app, tenant, tp, due_on=day - timedelta(days=8))
    result = app.test_cli_runner().invoke(args=["sales", "remind"])
    assert result.exit_code == 0 and f"{tenant.slug}: 1 payment reminders" in result.output
    result = app.test_cli_runner().invoke(args=["sales", "remind"])
    assert result.exit_code == 0 and tenant.slug not in result.output
    assert [m["To"] for m in mail_server.messages] == ["accounts@rossi.example"]
    assert reminders(app, tenant) == [(inv.id, 7, "accounts@rossi.example")]


@pytest.mark.postgres
def test_four_workers_at_the_same_moment_send_one_reminder(app, tenant, owner, mail_server):
    tp, _contact = customer_with_contact(app, tenant)
    inv = overdue_invoice(app, tenant, tp)
    start, made, errors = threading.Barrier(4), [], []

    def worker():
        start.wait()
        try:
            made.append(run(app, tenant, DUE + timedelta(days=8)))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(made) == [0, 0, 0, 1]
    assert reminders(app, tenant) == [(inv.id, 7, "accounts@rossi.example")]
    assert [m["To"] for m in mail_server.messages] == ["accounts@rossi.example"]
    assert len(events_of(app, tenant, kind="payment_reminder_sent")) == 1
