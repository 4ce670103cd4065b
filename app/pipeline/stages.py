"""An organisation's pipeline stages: the defaults until it has its own, then adding, renaming, ordering, deleting.

An organisation that never used the pipeline has no stage rows. Its pages show the default stages (named in the
organisation's language) without writing anything; the first write that needs them stores them. Their ids are
derived from the tenant's id, so the page that showed them and the write that stores them agree, and two first
writes at once store them once (the second one's insert hits the primary key and reads the first one's rows).
"""
import uuid

from flask_babel import force_locale, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Opportunity, PipelineStage, Tenant
from app.pipeline.labels import DEFAULT_STAGES
from app.tenancy import current_tenant_id


class StageError(Exception):
    """A change of the stages that cannot be made; ``message`` says why, for the administrator."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _stored() -> list[PipelineStage]:
    return list(db.session.scalars(select(PipelineStage).order_by(PipelineStage.position, PipelineStage.created_at,
                                                                 PipelineStage.id)))


def _defaults() -> list[PipelineStage]:
    """The default stages of the organisation in scope, not stored (transient rows with their future ids)."""
    tenant = db.session.get(Tenant, current_tenant_id())
    with force_locale(tenant.locale):
        return [PipelineStage(tenant_id=tenant.id, id=uuid.uuid5(tenant.id, f"pipeline-stage-{n}"), name=str(name),
                              position=n, probability=probability)
                for n, (name, probability) in enumerate(DEFAULT_STAGES)]


def list_stages() -> list[PipelineStage]:
    """The stages in board order: the organisation's, or the defaults while it has none (nothing is written)."""
    return _stored() or _defaults()


def ensure_stages() -> list[PipelineStage]:
    """The stored stages, the defaults stored first when there are none (every write that uses a stage calls this)."""
    stages = _stored()
    if stages:
        return stages
    db.session.add_all(_defaults())
    try:
        db.session.commit()
    except IntegrityError:  # another request stored them a moment ago: theirs are the same rows
        db.session.rollback()
    return _stored()


def get_stage(stage_id: uuid.UUID | None) -> PipelineStage | None:
    """A stored stage of this organisation (call ``ensure_stages`` first when the defaults may be meant)."""
    return db.session.scalar(select(PipelineStage).where(PipelineStage.id == stage_id)) if stage_id else None


def usage() -> dict[uuid.UUID, int]:
    """How many opportunities (open, won or lost, whoever's customers) each stage holds."""
    return dict(db.session.execute(select(Opportunity.stage_id, func.count()).group_by(Opportunity.stage_id)).all())


def name_taken(name: str, but: uuid.UUID | None = None) -> bool:
    """Whether another stage already has this name (letter case aside)."""
    return any(s.name.casefold() == name.casefold() and s.id != but for s in list_stages())


def add_stage(name: str, probability: int) -> PipelineStage:
    """A new stage at the end of the board."""
    stages = ensure_stages()
    stage = PipelineStage(name=name, probability=probability, position=max((s.position for s in stages), default=-1) + 1)
    db.session.add(stage)
    db.session.commit()
    return stage


def update_stage(stage: PipelineStage, name: str, probability: int) -> None:
    """Rename a stage or change its default probability (opportunities already in it keep theirs)."""
    stage.name, stage.probability = name, probability
    db.session.commit()


def move_stage(stage: PipelineStage, direction: str) -> bool:
    """Swap a stage with its neighbour (``up``: one column to the left); False when it is already at that end.

    The positions are numbered afresh from 0, which also heals the gaps that deleting leaves."""
    stages = _stored()
    index = next(i for i, s in enumerate(stages) if s.id == stage.id)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(stages):
        return False
    stages[index], stages[other] = stages[other], stages[index]
    for position, each in enumerate(stages):
        if each.position != position:
            each.position = position
    db.session.commit()
    return True


def delete_stage(stage: PipelineStage) -> None:
    """Delete a stage that no opportunity uses (open, won or lost), unless it is the last one.

    :raise StageError: when it is in use or the last stage.
    """
    used = db.session.scalar(select(func.count()).select_from(Opportunity).where(Opportunity.stage_id == stage.id))
    if used:
        raise StageError(ngettext(
            "%(name)s cannot be deleted: %(num)d opportunity (open, won or lost) is in it. Move it to another stage first.",
            "%(name)s cannot be deleted: %(num)d opportunities (open, won or lost) are in it. Move them to another stage first.",
            used, name=stage.name))
    if len(_stored()) == 1:
        raise StageError(_l("The pipeline needs at least one stage: add another one before deleting this one."))
    db.session.delete(stage)
    db.session.commit()
