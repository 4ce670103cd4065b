"""Document views roll up (issue 14, point 5): each view stays in the document's history, the customer's timeline
shows one line per document ("viewed 3 times by 2 people", at the last view), and only to those who may see it."""
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import ProgrammingError

from app.extensions import db
from app.models import Role, TimelineEvent
from app.tenancy import tenant_context
from app.timeline.rollups import drop
from tests.customers import events_of, make_thirdparty
from tests.documents.support import PDF, access_of, documents_of, upload, versions_of
from tests.factories import add_member, make_user
from tests.helpers import Browser


def _document(app, tenant, owner, name="Preventivo.pdf"):
    tp = make_thirdparty(app, tenant, "Rossi SpA")
    assert upload(owner, tp.id, [(name, PDF)], tenant_slug=tenant.slug).status_code == 200
    doc = documents_of(app, tenant, tp.id)[0]
    version = versions_of(app, tenant, doc["id"])[0]
    return tp, doc, f"/{tenant.slug}/documents/{doc['id']}/versions/{version['id']}"


def _signed_in(app, tenant, email, role):
    add_member(app, tenant, make_user(app, email=email, name=email.split("@")[0].title()), role=role)
    other = Browser(app.test_client())
    other.login(email)
    return other


def test_views_roll_up_into_one_line_per_document(app, tenant, owner, app_storage):
    tp, doc, base = _document(app, tenant, owner)
    colleague = _signed_in(app, tenant, "giulia@alpha.example.com", "support")
    for browser, action in ((owner, "preview"), (owner, "download"), (colleague, "preview")):
        response = browser.get(f"{base}/{action}")
        assert response.status_code in (200, 302)
        response.close()

    # Every view is in the document's own history, shown on its page.
    assert [a[0] for a in access_of(app, tenant, doc["id"])] == ["preview", "download", "preview"]
    history = owner.get(f"/{tenant.slug}/documents/{doc['id']}").get_data(as_text=True)
    assert history.count("Giulia") >= 1
    # The timeline holds one line about them, the last view's: who and how many.
    lines = events_of(app, tenant, thirdparty_id=tp.id, kind="document_views")
    assert len(lines) == 1
    assert lines[0].title == "Preventivo.pdf"
    assert lines[0].payload["views"] == 3 and lines[0].payload["people"] == 2
    assert not [e for e in events_of(app, tenant, thirdparty_id=tp.id) if e.kind in ("document_previewed", "document_downloaded")]
    card = owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True)
    assert card.count("viewed 3 times by 2 people") == 1
    assert card.count('data-rollup="document_views:') == 1


def test_one_view_reads_in_the_singular(app, tenant, owner, app_storage):
    tp, _doc, base = _document(app, tenant, owner)
    owner.get(f"{base}/preview").close()
    card = owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True)
    assert "viewed 1 time by 1 person" in card


def test_whoever_may_not_see_documents_does_not_see_their_views(app, tenant, owner, app_storage):
    tp, _doc, base = _document(app, tenant, owner, name="Bilancio riservato.pdf")
    owner.get(f"{base}/preview").close()
    with app.app_context(), tenant_context(tenant.id):
        role = db.session.scalar(select(Role).where(Role.key == "support"))
        role.rights = [r for r in role.rights if not r.startswith("document.")]
        db.session.commit()
    clerk = _signed_in(app, tenant, "marco@alpha.example.com", "support")
    card = clerk.get(f"/{tenant.slug}/thirdparties/{tp.id}")
    assert card.status_code == 200
    page = card.get_data(as_text=True)
    assert "Rossi SpA" in page and "Bilancio riservato.pdf" not in page and "data-rollup" not in page
    assert "viewed 1 time" in owner.get(f"/{tenant.slug}/thirdparties/{tp.id}").get_data(as_text=True)


@pytest.mark.postgres
def test_the_app_may_drop_a_roll_up_line_and_nothing_else(app, tenant, owner, local_storage):
    """The timeline stays append-only for the app role: only a roll-up line can go (the RESTRICTIVE policy)."""
    app.extensions["storage"] = local_storage
    tp, _doc, base = _document(app, tenant, owner)
    owner.get(f"{base}/preview").close()
    with app.app_context(), tenant_context(tenant.id):
        uploaded = db.session.scalar(select(TimelineEvent.id).where(TimelineEvent.kind == "document_uploaded"))
        line = db.session.scalar(select(TimelineEvent.id).where(TimelineEvent.kind == "document_views"))
        drop(uploaded)
        drop(line)
        db.session.commit()
        kinds = db.session.scalars(select(TimelineEvent.kind).where(TimelineEvent.thirdparty_id == tp.id)).all()
        assert "document_uploaded" in kinds and "document_views" not in kinds
        # Straight SQL as the app role: a DELETE reaches no ordinary event, and no event may be changed.
        gone = db.session.execute(text("DELETE FROM timeline_event WHERE id = :id"), {"id": uploaded}).rowcount
        assert gone == 0 and db.session.scalar(select(TimelineEvent.kind).where(TimelineEvent.id == uploaded))
        with pytest.raises(ProgrammingError, match="permission denied"):
            db.session.execute(update(TimelineEvent).where(TimelineEvent.id == uploaded).values(title="changed"))
        db.session.rollback()


def test_the_migration_turns_recorded_view_events_into_roll_up_lines(app, tenant, owner, database_urls, app_storage):
    """Migration 0024 on a database that has the old events: one line per document, counted from its history."""
    import importlib.util
    from pathlib import Path

    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from sqlalchemy import create_engine

    from app.config import database_url
    from app.timeline.services import record_event

    tp, doc, base = _document(app, tenant, owner)
    for action in ("preview", "download", "preview"):
        owner.get(f"{base}/{action}").close()
    with app.app_context(), tenant_context(tenant.id):  # what the app used to write beside each view
        for kind in ("document_previewed", "document_downloaded", "document_previewed"):
            record_event(thirdparty_id=tp.id, kind=kind, subject_type="document", subject_id=doc["id"],
                         actor_id=tenant.owner.id, title=doc["name"], required_right="document.read")
        db.session.commit()

    path = next(Path("migrations/versions").glob("*_0024_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0024", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    engine = create_engine(database_url(database_urls["owner"]))
    with app.app_context(), engine.begin() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            migration._roll_up_views(connection.dialect.name == "postgresql")
    engine.dispose()

    kinds = [e.kind for e in events_of(app, tenant, thirdparty_id=tp.id)]
    assert "document_previewed" not in kinds and "document_downloaded" not in kinds
    lines = events_of(app, tenant, thirdparty_id=tp.id, kind="document_views")
    assert len(lines) == 1 and lines[0].payload["views"] == 3 and lines[0].payload["people"] == 1
    assert lines[0].payload["rollup"] == f"document_views:{doc['id']}" and lines[0].title == doc["name"]
