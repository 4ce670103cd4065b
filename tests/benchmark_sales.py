"""Sales benchmark (issue 5): the invoice list with 100,000 invoices, the pipeline board with 5,000 open
opportunities, and the PDF of a 50-line invoice.

Measured through Flask's test client, never asserted (timed tests are flaky); the figures are printed (target: page
p95 <= 100 ms). It uses its own organisation, ``/benchsales`` (1,000 customers), whose rows are bulk-inserted once
(no timeline events, no audit entries) and reused by later runs. On PostgreSQL it shares ``tests.benchmark``'s
database (``BENCH_DATABASE_URL``'s):

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/storia_bench .venv/bin/python -m tests.benchmark_sales

Without ``BENCH_DATABASE_URL`` it uses the SQLite file ``instance/bench.db``.
"""
import argparse
import os
import platform
import random
import statistics
import time
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select

from tests.benchmark import PASSWORD, _analyze, _environment, _login, _summary, _time, bench_app

SLUG = "benchsales"
CUSTOMERS = 1000
BATCH = 5000


def _ensure_tenant(app):
    from flask_migrate import upgrade

    from app.demo_scale import generate
    from app.extensions import db
    from app.models import Tenant, ThirdParty, User
    from app.tenancy import tenant_context

    with app.app_context():
        upgrade()
        if db.session.scalar(select(Tenant.id).where(Tenant.slug == SLUG)) is None:
            generate(slug=SLUG, customers=CUSTOMERS, events=CUSTOMERS, deep_events=0, password=PASSWORD,
                     echo=lambda line: print(line, flush=True))
        tenant_id = db.session.scalar(select(Tenant.id).where(Tenant.slug == SLUG))
        owner_id = db.session.scalar(select(User.id).where(User.email == f"owner@{SLUG}.example"))
        with tenant_context(tenant_id):
            customers = db.session.scalars(select(ThirdParty.id).order_by(ThirdParty.code)).all()
        db.session.remove()
    return {"tenant_id": tenant_id, "owner_id": owner_id, "customers": customers}


def _ensure_invoices(app, data, count):
    """``count`` validated invoices of one line each over the customers, a third of them paid (rows only)."""
    from app.extensions import db
    from app.models import SalesDocument, SalesLine, new_id, utcnow
    from app.tenancy import tenant_context

    with app.app_context(), tenant_context(data["tenant_id"]):
        present = db.session.scalar(select(func.count()).select_from(SalesDocument).where(SalesDocument.kind == "invoice"))
        if present >= count:
            db.session.remove()
            return
        print(f"writing {count - present} invoices…", flush=True)
        rng, now, today = random.Random(5), utcnow(), date.today()
        for start in range(present, count, BATCH):
            documents, lines = [], []
            for n in range(start, min(count, start + BATCH)):
                doc_id = new_id()
                net = Decimal(rng.randint(5_000, 500_000)) / 100
                vat = (net * Decimal("0.2")).quantize(Decimal("0.01"))
                issued = today - timedelta(days=rng.randint(0, 1000))
                documents.append({
                    "tenant_id": data["tenant_id"], "id": doc_id, "kind": "invoice", "number": f"FA-B{n:07d}", "status": "validated",
                    "thirdparty_id": data["customers"][n % len(data["customers"])], "contact_id": None, "source_id": None,
                    "title": f"Services {n}", "note": "", "currency": "EUR", "issued_on": issued, "payment_days": 30,
                    "due_on": issued + timedelta(days=30), "total_net": net, "total_vat": vat, "total_gross": net + vat,
                    "settled": net + vat if n % 3 == 0 else Decimal(0), "validated_at": now, "created_by_id": data["owner_id"],
                    "created_at": now - timedelta(seconds=n), "version": 1, "refusal_reason": ""})
                lines.append({"tenant_id": data["tenant_id"], "id": new_id(), "document_id": doc_id, "position": 0,
                              "product_id": None, "description": "Services", "quantity": Decimal(1), "unit": "",
                              "unit_price": net, "discount": Decimal(0), "vat_rate": Decimal(20), "net": net, "vat": vat})
            db.session.execute(insert(SalesDocument), documents)
            db.session.execute(insert(SalesLine), lines)
            db.session.commit()
        db.session.remove()
    _analyze(app)


def _ensure_opportunities(app, data, count):
    """``count`` open opportunities spread over the organisation's stages (rows only)."""
    from app.extensions import db
    from app.models import Opportunity, new_id, utcnow
    from app.pipeline import stages
    from app.tenancy import tenant_context

    with app.app_context(), tenant_context(data["tenant_id"]):
        present = db.session.scalar(select(func.count()).select_from(Opportunity).where(Opportunity.status == "open"))
        if present >= count:
            db.session.remove()
            return
        print(f"writing {count - present} opportunities…", flush=True)
        columns = stages.ensure_stages()
        rng, now = random.Random(6), utcnow()
        rows = [{"tenant_id": data["tenant_id"], "id": new_id(), "thirdparty_id": data["customers"][n % len(data["customers"])],
                 "contact_id": None, "stage_id": columns[n % len(columns)].id, "title": f"Opportunity {n}",
                 "amount": Decimal(rng.randint(100, 50_000)), "currency": "EUR", "probability": columns[n % len(columns)].probability,
                 "expected_close_on": date.today() + timedelta(days=rng.randint(0, 180)), "owner_id": data["owner_id"],
                 "status": "open", "created_by_id": data["owner_id"], "created_at": now - timedelta(seconds=n), "version": 1}
                for n in range(present, count)]
        for start in range(0, len(rows), BATCH):
            db.session.execute(insert(Opportunity), rows[start:start + BATCH])
            db.session.commit()
        db.session.remove()
    _analyze(app)


def _pdf_times(app, data, runs):
    """Render the PDF of a 50-line invoice ``runs`` times (in the app, without HTTP)."""
    from app.extensions import db
    from app.models import SalesDocument, SalesLine, Tenant, ThirdParty
    from app.sales import money, pdf
    from app.tenancy import tenant_context

    with app.test_request_context(), tenant_context(data["tenant_id"]):
        tenant = db.session.get(Tenant, data["tenant_id"])
        customer = db.session.scalar(select(ThirdParty).where(ThirdParty.id == data["customers"][0]))
        doc = SalesDocument(kind="invoice", number="FA-PDF-50", status="validated", thirdparty_id=customer.id, currency="EUR",
                            issued_on=date.today(), due_on=date.today() + timedelta(days=30), title="Fifty lines")
        for n in range(50):
            amounts = money.line_amounts(Decimal(n % 7 + 1), Decimal("49.90"), Decimal(n % 3 * 5), Decimal(20))
            doc.lines.append(SalesLine(position=n, description=f"Line {n}: maintenance of equipment, on site, with parts",
                                       quantity=Decimal(n % 7 + 1), unit="h", unit_price=Decimal("49.90"),
                                       discount=Decimal(n % 3 * 5), vat_rate=Decimal(20), net=amounts.net, vat=amounts.vat))
        totals = money.totals(doc.lines)
        doc.total_net, doc.total_vat, doc.total_gross = totals.net, totals.vat, totals.gross
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            pdf.render(doc, tenant=tenant, customer=customer, locale="fr")
            samples.append(time.perf_counter() - started)
        db.session.rollback()
        db.session.remove()
    return samples


def measure(app, data, samples):
    client = app.test_client()
    _login(client, f"owner@{SLUG}.example")
    htmx = {"HX-Request": "true"}
    pages = [
        ("invoice list (100,000 invoices)", f"/{SLUG}/sales/invoices/", None),
        ("invoice list, overdue (htmx)", f"/{SLUG}/sales/invoices/?state=overdue", htmx),
        ("invoice list, search (htmx)", f"/{SLUG}/sales/invoices/?q=B00420", htmx),
        ("invoice list, page 20", f"/{SLUG}/sales/invoices/?page=20", None),
        ("invoice list totals (loaded after the page)", f"/{SLUG}/sales/invoices/totals", htmx),
        ("invoice list totals, overdue", f"/{SLUG}/sales/invoices/totals?state=overdue", htmx),
        ("pipeline board (5,000 open)", f"/{SLUG}/pipeline/", None),
        ("pipeline list (5,000 open)", f"/{SLUG}/pipeline/list", None),
    ]
    lines = []
    for name, url, headers in pages:
        _time(client, url, 3, headers)  # warm up
        lines.append(_summary(name, _time(client, url, samples, headers)))
    pdf = [s * 1000 for s in _pdf_times(app, data, 20)]
    lines.append(f"{'PDF of a 50-line invoice':<44} median {statistics.median(pdf):7.1f} ms   (n={len(pdf)})")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--opportunities", type=int, default=5_000)
    parser.add_argument("--samples", type=int, default=100)
    parser.set_defaults(fresh=False)  # tests.benchmark._environment: never drop the shared benchmark database here
    args = parser.parse_args()
    env = _environment(args)
    app = bench_app(env)
    data = _ensure_tenant(app)
    _ensure_invoices(app, data, args.invoices)
    _ensure_opportunities(app, data, args.opportunities)
    engine = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
    print(f"\nStoria sales benchmark — {engine}, {args.invoices} invoices, {args.opportunities} open opportunities, "
          f"{CUSTOMERS} customers")
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"target p95 ≤ 100 ms\n", flush=True)
    for line in measure(app, data, args.samples):
        print(line, flush=True)


if __name__ == "__main__":
    main()
