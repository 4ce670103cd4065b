"""Command-line tools: ``flask demo``, ``flask worker``, ``flask audit``, ``flask documents``."""
import click
from flask import Flask, current_app


def register_cli(app: Flask) -> None:
    @app.cli.command("demo")
    @click.option("--password", default=None, help="Password of the demo accounts.")
    @click.option("--customers", type=int, default=0, help="Also make a large organisation with this many customers.")
    @click.option("--events", type=int, default=0, help="Timeline events in the large organisation.")
    @click.option("--deep-customer-events", type=int, default=0, help="Events of its one very deep customer.")
    @click.option("--slug", default="bench", help="Web address of the large organisation.")
    def demo(password, customers, events, deep_customer_events, slug):
        """Load the demo organisations (idempotent) and print their logins; optionally a large one."""
        from app.demo import DEMO_ORGANISATIONS, DEMO_PASSWORD, load_demo

        password = password or DEMO_PASSWORD
        if customers:
            from app.demo_scale import generate

            result = generate(slug=slug, customers=customers, events=events, deep_events=deep_customer_events,
                              password=password, echo=click.echo)
            _rebuild_search([result["slug"]])  # the bulk load bypasses the ORM hooks that keep the index
            click.echo(f"/{result['slug']}: sign in as {result['owner']} / {password}; deep customer "
                       f"/{result['slug']}/thirdparties/{result['deep_thirdparty_id']}")
            return
        logins = load_demo(password)
        _rebuild_search(list(DEMO_ORGANISATIONS))  # demo data loaded before the search index existed becomes searchable too
        click.echo("\nStoria demo — open http://127.0.0.1:5000 and sign in with:")
        for email, name, roles in logins:
            click.echo(f"  {email:<26} password {password:<20} {name}: {roles}")
        click.echo("")

    def _rebuild_search(slugs=None):
        from app.extensions import db
        from app.search_index import rebuild

        written = 0
        for slug in _each_tenant():
            if slugs is None or slug in slugs:
                click.echo(f"/{slug}")
                written += rebuild(db.session, echo=click.echo)
                db.session.commit()
        click.echo(f"search index: {written} terms written")

    @app.cli.group("search")
    def search():
        """The global search's index."""

    @search.command("rebuild")
    @click.option("--slug", "slugs", multiple=True, help="Only this organisation (repeatable).")
    def search_rebuild(slugs):
        """Index every record again (after upgrading to the migration that made the index, or after a bulk load);
        writes only the terms that differ."""
        _rebuild_search(slugs or None)

    @app.cli.command("purge")
    def purge():
        """Delete expired rate-limit counts and login attempts (run daily)."""
        from app.ratelimit import purge_expired

        click.echo(f"removed {purge_expired()} expired rows")

    @app.cli.group("audit")
    def audit():
        """The tamper-evident audit log."""

    @audit.command("verify")
    @click.option("--tenant", "slug", default=None, help="Only this organisation (its web address).")
    def audit_verify(slug):
        """Check every organisation's audit chain; exit with 1 if one was tampered with."""
        from sqlalchemy import select

        from app.audit.chain import verify_chain
        from app.extensions import db
        from app.models import Tenant
        from app.tenancy import tenant_context

        stmt = select(Tenant.id, Tenant.slug).order_by(Tenant.slug)
        tenants = db.session.execute(stmt.where(Tenant.slug == slug) if slug else stmt).all()
        if slug and not tenants:
            raise click.ClickException(f"no organisation at /{slug}")
        broken = 0
        for tenant_id, tenant_slug in tenants:
            with tenant_context(tenant_id):
                problems = verify_chain()
            db.session.rollback()
            broken += bool(problems)
            click.echo(f"{tenant_slug}: " + ("intact" if not problems else "TAMPERED"))
            for problem in problems:
                click.echo(f"  - {problem}")
        if broken:
            raise SystemExit(1)

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    def worker(burst):
        """Run the background job worker (needs REDIS_URL)."""
        from app.jobs import run_worker

        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException("REDIS_URL is not set: jobs already run inside the web process.")
        run_worker(current_app._get_current_object(), burst=burst)

    @app.cli.group("agenda")
    def agenda():
        """Agenda reminders."""

    @agenda.command("remind")
    @click.option("--every", type=int, default=0, help="Run again every N seconds (a clock process) instead of once.")
    def agenda_remind(every):
        """Make and e-mail the reminders whose time has come, in every organisation (each one once)."""
        import time

        from app.agenda.reminders import send_due

        while True:
            for slug in _each_tenant():
                made = send_due()
                if made:
                    click.echo(f"{slug}: {made} reminders")
            if not every:
                return
            time.sleep(every)

    @app.cli.group("sales")
    def sales():
        """Sales: late-payment reminders."""

    @sales.command("remind")
    @click.option("--every", type=int, default=0, help="Run again every N seconds (a clock process) instead of once.")
    def sales_remind(every):
        """E-mail the late-payment reminders that are due, in every organisation (each one once)."""
        import time

        from app.sales.dunning import send_due

        while True:
            for slug in _each_tenant():
                made = send_due()
                if made:
                    click.echo(f"{slug}: {made} payment reminders")
            if not every:
                return
            time.sleep(every)

    @app.cli.command("clock")
    def clock():
        """The clock process: agenda reminders every minute, late-payment reminders every hour, in every organisation."""
        import time

        from app.agenda.reminders import send_due as agenda_due
        from app.sales.dunning import send_due as payments_due

        minute = 0
        while True:
            for slug in _each_tenant():
                made = agenda_due()
                paid_late = payments_due() if minute % 60 == 0 else 0
                if made or paid_late:
                    click.echo(f"{slug}: {made} agenda reminders, {paid_late} payment reminders")
            minute += 1
            time.sleep(60)

    @app.cli.group("documents")
    def documents():
        """Stored files: trash purge and reconciliation with the store."""

    def _each_tenant():
        from sqlalchemy import select

        from app.extensions import db
        from app.models import Tenant
        from app.tenancy import tenant_context

        for tenant_id, slug in db.session.execute(select(Tenant.id, Tenant.slug).order_by(Tenant.slug)).all():
            with tenant_context(tenant_id):
                yield slug
            db.session.rollback()

    @documents.command("purge")
    def documents_purge():
        """Delete documents that stayed in the trash past 30 days, with their stored files (run daily)."""
        from app.documents.maintenance import purge_trash
        from app.storage import get_storage

        for slug in _each_tenant():
            click.echo(f"{slug}: purged {purge_trash(get_storage())} documents")

    @documents.command("reconcile")
    @click.option("--remove-orphans", is_flag=True, help="Delete stored objects no document points to (older than an hour).")
    def documents_reconcile(remove_orphans):
        """Report rows whose file is missing and files no row points to; exit with 1 on a missing file."""
        from app.documents.maintenance import reconcile
        from app.storage import get_storage

        missing = 0
        for slug in _each_tenant():
            result = reconcile(get_storage(), remove_orphans=remove_orphans)
            missing += len(result.dangling)
            click.echo(f"{slug}: {len(result.dangling)} missing files, {len(result.orphans)} orphan files"
                       + (f", {len(result.removed)} removed" if remove_orphans else ""))
            for key in result.dangling:
                click.echo(f"  missing: {key}")
            for key in result.orphans:
                click.echo(f"  orphan: {key}")
        if missing:
            raise SystemExit(1)
