"""Bulk actions on the third-party list: tag or assign many at once."""
import uuid

from sqlalchemy import select

from app.extensions import db
from app.models import SalesRep, ThirdParty, ThirdPartyTag
from app.permissions import Viewer
from app.thirdparties.services import visible
from app.timeline.services import record_event


def apply(viewer: Viewer, ids: list[uuid.UUID], action: str, *, tag_id=None, rep_id=None) -> int:
    """Tag (``tag``) or assign (``assign``) the visible third parties among ``ids``; return how many changed."""
    rows = db.session.scalars(visible(select(ThirdParty).where(ThirdParty.id.in_(ids[:500])), viewer)).all()
    changed = 0
    for tp in rows:
        if action == "tag" and not db.session.scalar(select(ThirdPartyTag.id).where(
                ThirdPartyTag.thirdparty_id == tp.id, ThirdPartyTag.tag_id == tag_id)):
            db.session.add(ThirdPartyTag(thirdparty_id=tp.id, tag_id=tag_id))
            payload = {"changes": {"tags": [[], [str(tag_id)]]}}
        elif action == "assign" and not db.session.scalar(select(SalesRep.id).where(
                SalesRep.thirdparty_id == tp.id, SalesRep.membership_id == rep_id)):
            db.session.add(SalesRep(thirdparty_id=tp.id, membership_id=rep_id))
            payload = {"changes": {"reps": [[], [str(rep_id)]]}}
        else:
            continue
        record_event(thirdparty_id=tp.id, kind="thirdparty_updated", subject_type="thirdparty", subject_id=tp.id,
                     actor_id=viewer.user_id, title=tp.name, payload=payload)
        changed += 1
    db.session.commit()
    return changed
