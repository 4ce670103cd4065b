"""Third parties: who may see which, listing and searching, creating, editing, archiving."""
import uuid
from dataclasses import dataclass, field
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select

from app import customfields
from app.audit.chain import changes_of
from app.customers import visible
from app.database import json_rows
from app.editing import commit_or_conflict, lock, merge_edit
from app.extensions import db
from app.models import (
    Address,
    Channel,
    Contact,
    CustomField,
    Membership,
    Note,
    SalesRep,
    Tag,
    ThirdParty,
    ThirdPartyTag,
    TimelineEvent,
    User,
    utcnow,
)
from app.numbering import next_code
from app.pagination import page_of, split_page
from app.permissions import Viewer
from app.timeline.services import escape_like, record_event, visible_to

SORTS = {
    "name": (ThirdParty.name.asc(), ThirdParty.id.asc()),
    "-name": (ThirdParty.name.desc(), ThirdParty.id.desc()),
    "code": (ThirdParty.code.asc(), ThirdParty.id.asc()),
    "-created": (ThirdParty.created_at.desc(), ThirdParty.id.desc()),
    "-updated": (ThirdParty.updated_at.desc(), ThirdParty.id.desc()),
}
KINDS = {"customer": _l("Customer"), "prospect": _l("Prospect"), "supplier": _l("Supplier")}
EDITABLE = ("name", "is_customer", "is_prospect", "is_supplier", "vat_number", "website", "description", "custom",
            "addresses", "phones", "emails", "tag_ids", "rep_ids")


@dataclass(frozen=True)
class ListQuery:
    text: str = ""
    kind: str = ""
    tag_id: uuid.UUID | None = None
    rep_id: uuid.UUID | None = None
    status: str = "active"
    custom: dict = field(default_factory=dict)
    conditions: tuple = ()  # the domains' own filters (the agenda's "not contacted for 90 days"…), as SQL conditions
    sort: str = "name"
    page: int = 1


def list_thirdparties(viewer: Viewer, query: ListQuery) -> tuple[list[ThirdParty], bool]:
    """One page of the third parties ``viewer`` may see, filtered and sorted; and whether more follow."""
    stmt = visible(select(ThirdParty.id), viewer)
    if query.text:
        stmt = stmt.where(ThirdParty.search_text.like(f"%{escape_like(query.text.lower())}%", escape="\\"))
    if query.kind in KINDS:
        stmt = stmt.where(getattr(ThirdParty, f"is_{query.kind}").is_(True))
    if query.tag_id:
        stmt = stmt.where(exists().where(ThirdPartyTag.tenant_id == ThirdParty.tenant_id,
                                         ThirdPartyTag.thirdparty_id == ThirdParty.id, ThirdPartyTag.tag_id == query.tag_id))
    if query.rep_id:
        stmt = stmt.where(exists().where(SalesRep.tenant_id == ThirdParty.tenant_id, SalesRep.thirdparty_id == ThirdParty.id,
                                         SalesRep.membership_id == query.rep_id))
    if query.status == "active":
        stmt = stmt.where(ThirdParty.archived_at.is_(None))
    elif query.status == "archived":
        stmt = stmt.where(ThirdParty.archived_at.is_not(None))
    for condition in query.conditions:
        stmt = stmt.where(condition)
    choice_keys = {f.key for f in customfields.list_fields("thirdparty") if f.field_type == "choice"} if query.custom else set()
    for key, value in query.custom.items():
        stmt = stmt.where(custom_matches(ThirdParty.custom, key, value, exact=key in choice_keys))
    order = SORTS.get(query.sort, SORTS["name"])
    # The page's ids first: sorted by name, PostgreSQL finds them on one covering index (migration 0005)
    # without reading the rows it skips; then the rows of that page only.
    ids = page_of(stmt.order_by(*order), query.page).subquery()
    return split_page(db.session.scalars(select(ThirdParty).join(ids, ThirdParty.id == ids.c.id).order_by(*order)).all())


def custom_matches(column, key: str, value, *, exact: bool = False):
    """SQL: the custom field ``key`` of a JSON column holds ``value`` (or contains it, unless ``exact``: choices)."""
    element = column[key]
    if isinstance(value, bool):
        return element.as_boolean() == value
    text = str(value)
    if exact:
        return element.as_string() == text
    return or_(element.as_string() == text, func.lower(element.as_string()).like(f"%{escape_like(text.lower())}%"))


def count_visible(viewer: Viewer) -> int:
    return db.session.scalar(visible(select(func.count()).select_from(ThirdParty), viewer)
                             .where(ThirdParty.archived_at.is_(None)))


def tags_by_thirdparty(ids) -> dict[uuid.UUID, list[Tag]]:
    """The tags of several third parties at once (one query)."""
    result: dict[uuid.UUID, list[Tag]] = {i: [] for i in ids}
    if not ids:
        return result
    rows = db.session.execute(
        select(ThirdPartyTag.thirdparty_id, Tag).join(Tag, (Tag.tenant_id == ThirdPartyTag.tenant_id) & (Tag.id == ThirdPartyTag.tag_id))
        .where(ThirdPartyTag.thirdparty_id.in_(list(ids))).order_by(Tag.name)
    ).all()
    for thirdparty_id, tag in rows:
        result[thirdparty_id].append(tag)
    return result


def reps_by_thirdparty(ids) -> dict[uuid.UUID, list[uuid.UUID]]:
    result: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
    if ids:
        for thirdparty_id, membership_id in db.session.execute(
                select(SalesRep.thirdparty_id, SalesRep.membership_id).where(SalesRep.thirdparty_id.in_(list(ids)))):
            result[thirdparty_id].append(membership_id)
    return result


def snapshot(tp: ThirdParty) -> dict:
    """The editable values of ``tp`` as plain data (for forms, conflict checks and change lists)."""
    return {
        "name": tp.name, "is_customer": tp.is_customer, "is_prospect": tp.is_prospect, "is_supplier": tp.is_supplier,
        "vat_number": tp.vat_number, "website": tp.website, "description": tp.description, "custom": dict(tp.custom or {}),
        "addresses": [[a.label, a.street, a.postcode, a.city, a.country] for a in tp.addresses],
        "phones": [[c.label, c.value] for c in tp.phones],
        "emails": [[c.label, c.value] for c in tp.emails],
        "tag_ids": sorted(str(t.id) for t in tags_by_thirdparty([tp.id])[tp.id]),
        "rep_ids": sorted(str(r.membership_id) for r in tp.reps),
    }


def _search_text(tp: ThirdParty, values: dict) -> str:
    parts = [values["name"], tp.code, values["vat_number"]]
    parts += [v for _label, v in values["phones"] + values["emails"]]
    parts += [a[3] for a in values["addresses"]] + [a[2] for a in values["addresses"]]
    return " ".join(p for p in parts if p).lower()


def _apply(tp: ThirdParty, values: dict, current: dict | None = None) -> None:
    """Write ``values`` into ``tp``; address and channel rows are replaced only when they changed."""
    for name in ("name", "is_customer", "is_prospect", "is_supplier", "vat_number", "website", "description", "custom"):
        setattr(tp, name, values[name])
    current = current or {}
    if values["addresses"] != current.get("addresses"):
        tp.addresses = [Address(label=a[0], street=a[1], postcode=a[2], city=a[3], country=a[4], position=i)
                        for i, a in enumerate(values["addresses"])]
    if values["phones"] != current.get("phones") or values["emails"] != current.get("emails"):
        channels = [("phone", p) for p in values["phones"]] + [("email", e) for e in values["emails"]]
        tp.channels = [Channel(kind=kind, label=label, value=value, position=i)
                       for i, (kind, (label, value)) in enumerate(channels)]
    tp.search_text = _search_text(tp, values)
    tp.updated_at = utcnow()


def _sync_links(tp: ThirdParty, tag_ids: list[str], rep_ids: list[str]) -> dict:
    """Set the tags and reps of ``tp``; return the change list for the timeline."""
    changes = {}
    current_tags = {str(t.tag_id): t for t in db.session.scalars(select(ThirdPartyTag).where(ThirdPartyTag.thirdparty_id == tp.id))}
    wanted_tags = {str(t) for t in tag_ids if t}
    for tag_id in set(current_tags) - wanted_tags:
        db.session.delete(current_tags[tag_id])
    for tag_id in wanted_tags - set(current_tags):
        db.session.add(ThirdPartyTag(thirdparty_id=tp.id, tag_id=uuid.UUID(tag_id)))
    if wanted_tags != set(current_tags):
        changes["tags"] = [sorted(current_tags), sorted(wanted_tags)]
    current_reps = {str(r.membership_id): r for r in tp.reps}
    wanted_reps = {str(r) for r in rep_ids if r}
    for rep_id in set(current_reps) - wanted_reps:
        tp.reps.remove(current_reps[rep_id])
    for rep_id in wanted_reps - set(current_reps):
        tp.reps.append(SalesRep(membership_id=uuid.UUID(rep_id)))
    if wanted_reps != set(current_reps):
        changes["reps"] = [sorted(current_reps), sorted(wanted_reps)]
    return changes


def create_thirdparty(viewer: Viewer, values: dict) -> ThirdParty:
    """Create a third party with the next customer code; its creator follows it if they see only theirs."""
    code = next_code("customer")
    while db.session.scalar(select(ThirdParty.id).where(ThirdParty.code == code)):
        code = next_code("customer")  # an edited pattern may give a code already used: take the next number
    tp = ThirdParty(code=code)
    db.session.add(tp)
    _apply(tp, values)
    db.session.flush()
    rep_ids = list(values.get("rep_ids") or [])
    if not viewer.sees_all("thirdparty") and str(viewer.membership_id) not in rep_ids:
        rep_ids.append(str(viewer.membership_id))  # else its creator could not open what they just made
    _sync_links(tp, values.get("tag_ids") or [], rep_ids)
    record_event(thirdparty_id=tp.id, kind="thirdparty_created", subject_type="thirdparty", subject_id=tp.id,
                 actor_id=viewer.user_id, title=tp.name, payload={"code": tp.code, "kinds": tp.kinds})
    db.session.commit()
    return tp


def update_thirdparty(viewer: Viewer, tp: ThirdParty, submitted: dict, *, version: int, base: dict | None) -> dict:
    """Save an edit (merged with concurrent ones); record what changed. Returns the changes.

    :raise EditConflict: when someone else changed the same fields meanwhile.
    """
    current = snapshot(lock(tp))
    values = merge_edit(current, submitted, stale=version != tp.version, base=base)
    if not viewer.sees_all("thirdparty") and str(viewer.membership_id) not in values["rep_ids"]:
        # Someone who sees only their own customers cannot take themselves off one.
        values = {**values, "rep_ids": sorted([*values["rep_ids"], str(viewer.membership_id)])}
    _apply(tp, values, current)
    changes = changes_of(tp, ("name", "is_customer", "is_prospect", "is_supplier", "vat_number", "website",
                              "description", "custom"))
    for key in ("addresses", "phones", "emails"):
        if values[key] != current[key]:
            changes[key] = [current[key], values[key]]
    changes.update(_sync_links(tp, values["tag_ids"], values["rep_ids"]))
    if changes:
        record_event(thirdparty_id=tp.id, kind="thirdparty_updated", subject_type="thirdparty", subject_id=tp.id,
                     actor_id=viewer.user_id, title=tp.name, payload={"changes": changes})
        commit_or_conflict(db.session, tp, snapshot, submitted)
    else:
        db.session.rollback()
    return changes


def set_archived(viewer: Viewer, tp: ThirdParty, archived: bool) -> None:
    """Archive (hidden from lists, history kept) or restore a third party."""
    if (lock(tp).archived_at is not None) == archived:
        return
    tp.archived_at = utcnow() if archived else None
    tp.updated_at = utcnow()
    record_event(thirdparty_id=tp.id, kind="thirdparty_archived" if archived else "thirdparty_restored",
                 subject_type="thirdparty", subject_id=tp.id, actor_id=viewer.user_id, title=tp.name)
    db.session.commit()


def card_facts(viewer: Viewer, tp: ThirdParty) -> dict:
    """The facts of a card's header as scalar expressions, read with the panels' in one statement (``app.card``):
    contacts, notes the viewer may read (and of them pinned), last activity, and as short JSON lists the tags, the reps' names and the
    custom fields of third parties (what ``card_values`` turns them into)."""
    notes = select(func.count()).select_from(Note).where(Note.thirdparty_id == tp.id)
    if not viewer.can("note.read_private"):
        notes = notes.where(or_(Note.private.is_(False), Note.author_id == viewer.user_id))
    tags = (select(Tag.name, Tag.colour).join(ThirdPartyTag, (ThirdPartyTag.tenant_id == Tag.tenant_id)
                                               & (ThirdPartyTag.tag_id == Tag.id))
            .where(ThirdPartyTag.thirdparty_id == tp.id))
    reps = (select(User.name).join(Membership, Membership.user_id == User.id)
            .join(SalesRep, (SalesRep.tenant_id == Membership.tenant_id) & (SalesRep.membership_id == Membership.id))
            .where(SalesRep.thirdparty_id == tp.id))
    fields = select(CustomField.key, CustomField.label, CustomField.field_type).where(CustomField.entity == "thirdparty")
    return {
        "contacts": select(func.count()).select_from(Contact)
        .where(Contact.thirdparty_id == tp.id, Contact.archived_at.is_(None)).scalar_subquery(),
        "notes": notes.scalar_subquery(),
        "pinned": notes.where(Note.pinned.is_(True)).scalar_subquery(),  # the pinned notes are read only if some
        "last_activity": select(func.max(TimelineEvent.occurred_at))
        .where(TimelineEvent.thirdparty_id == tp.id, visible_to(viewer)).scalar_subquery(),
        "tags": json_rows(tags, Tag.name),
        "reps": json_rows(reps, User.name),
        "fields": json_rows(fields, CustomField.position, CustomField.label),
    }


def card_values(values: dict) -> dict:
    """What the card's template reads of ``card_facts``' values: counts, and tags, reps and fields as objects."""
    return {**values,
            "tags": [SimpleNamespace(name=name, colour=colour) for name, colour in values["tags"] or []],
            "reps": [name for (name,) in values["reps"] or []],
            "fields": [SimpleNamespace(key=key, label=label, field_type=kind) for key, label, kind in values["fields"] or []]}
