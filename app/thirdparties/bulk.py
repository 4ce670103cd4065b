"""Bulk actions on the third-party list: tag or assign many at once."""
import uuid

from sqlalchemy import select

from app.customers import visible
from app.editing import lock_all
from app.extensions import db
from app.models import SalesRep, ThirdParty, ThirdPartyTag, utcnow
from app.permissions import Viewer
from app.thirdparties.services import reps_by_thirdparty, tags_by_thirdparty
from app.timeline.services import record_event


def apply(viewer: Viewer, ids: list[uuid.UUID], action: str, *, tag_id=None, rep_id=None) -> int:
    """Tag (``tag``) or assign (``assign``) the visible third parties among ``ids``; return how many changed."""
    rows = lock_all(db.session.scalars(visible(select(ThirdParty).where(ThirdParty.id.in_(ids[:500])), viewer)).all())
    found = [tp.id for tp in rows]
    tags_of = {i: sorted(str(t.id) for t in tags) for i, tags in tags_by_thirdparty(found).items()}
    reps_of = {i: sorted(str(r) for r in reps) for i, reps in reps_by_thirdparty(found).items()}
    changed = 0
    for tp in rows:
        if action == "tag" and str(tag_id) not in tags_of[tp.id]:
            db.session.add(ThirdPartyTag(thirdparty_id=tp.id, tag_id=tag_id))
            payload = {"changes": {"tags": [tags_of[tp.id], sorted([*tags_of[tp.id], str(tag_id)])]}}
        elif action == "assign" and str(rep_id) not in reps_of[tp.id]:
            db.session.add(SalesRep(thirdparty_id=tp.id, membership_id=rep_id))
            payload = {"changes": {"reps": [reps_of[tp.id], sorted([*reps_of[tp.id], str(rep_id)])]}}
        else:
            continue
        tp.updated_at = utcnow()  # a new version: an edit form opened before this sees the change (no lost update)
        record_event(thirdparty_id=tp.id, kind="thirdparty_updated", subject_type="thirdparty", subject_id=tp.id,
                     actor_id=viewer.user_id, title=tp.name, payload=payload)
        changed += 1
    db.session.commit()
    return changed
