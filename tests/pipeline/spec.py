"""The access spec rows of the pipeline (see tests/access_spec.py, whose SPEC they join): who may call each route and
one valid request to it, with what it may write. References name the objects of ``tests/pipeline/seed.py``."""
from app.pipeline.forms import CloseForm, MoveForm, OpportunityForm, StageForm
from tests.access_spec import (
    AUDIT,
    BY_OWNER,
    DELETE,
    INSERT,
    ONLY_MINE,
    TIMELINE,
    Case,
    Ref,
    _tenant,
    contact,
    thirdparty,
    user,
)


def opportunity(key=""):
    """A seeded opportunity of the seeded customer: "" open (in the first stage), "lost"."""
    return Ref("opportunity", key)


def stage(key=""):
    """A seeded stage: "" the first, "other" the second, "extra" one no opportunity uses."""
    return Ref("stage", key)


FILTERS = ("owner", "q", "customer", "stage", "status", "page")
OPPORTUNITY_FORM = {"title": "Spring deal", "contact_id": contact(), "amount": "2500.50", "stage_id": stage("other"),
                    "probability": "40", "expected_close_on": "2031-04-30", "owner_id": user("sales")}
CHANGED = {"status", "closed_at", "close_reason", "probability", "version"}
BY_OWNER_AUDIT = {"audit_entry": {"actor_id": user("owner")}}

PIPELINE_SPEC = (
    # The board, the list and the customer picker: what "only mine" hides is filtered out, never refused.
    _tenant("pipeline.index", "/pipeline/", ["GET"], "quote.read", Case(
        fragment=True, query={"owner": user("owner"), "q": "cnry"}), query_params=FILTERS),
    _tenant("pipeline.list_view", "/pipeline/list", ["GET"], "quote.read", Case(
        fragment=True, query={"q": "cnry", "stage": stage(), "status": "open", "owner": user("owner"),
                              "customer": thirdparty()}), query_params=FILTERS),
    _tenant("pipeline.choose_customer", "/pipeline/new", ["GET"], "quote.create", Case(fragment=True, query={"q": "cnry"}),
            query_params=("q",)),
    # An opportunity: opened from a customer's card (or the board), shown, changed, moved, won or lost, reopened.
    _tenant("pipeline.new", "/pipeline/customers/<uuid:thirdparty_id>/new", ["GET"], "quote.create", Case(
        fragment=True, args={"thirdparty_id": thirdparty()}, query={"contact": contact(), "stage": stage("other"), "back": "board"},
        hidden_without=(ONLY_MINE,)), query_params=("contact", "stage", "back")),
    _tenant("pipeline.create", "/pipeline/customers/<uuid:thirdparty_id>", ["POST"], "quote.create", Case(
        args={"thirdparty_id": thirdparty()}, form={**OPPORTUNITY_FORM, "idempotency_key": "security-suite-opportunity"},
        form_class=OpportunityForm, hidden_without=(ONLY_MINE,), ignored=("version",),
        writes={"opportunity": {INSERT}, **TIMELINE, **AUDIT},
        pinned={"opportunity": {"thirdparty_id": thirdparty(), "contact_id": contact(), "stage_id": stage("other"),
                                "owner_id": user("sales"), "created_by_id": user("owner"), "status": "open", "probability": 40,
                                "title": "Spring deal", "version": 1}, **BY_OWNER})),
    _tenant("pipeline.show", "/pipeline/<uuid:opportunity_id>", ["GET"], "quote.read", Case(
        args={"opportunity_id": opportunity()}, hidden_without=(ONLY_MINE,))),
    _tenant("pipeline.edit", "/pipeline/<uuid:opportunity_id>/edit", ["GET"], "quote.create", Case(
        fragment=True, args={"opportunity_id": opportunity()}, hidden_without=(ONLY_MINE,))),
    _tenant("pipeline.update", "/pipeline/<uuid:opportunity_id>/edit", ["POST"], "quote.create", Case(
        args={"opportunity_id": opportunity()}, form={**OPPORTUNITY_FORM, "version": Ref("version", "opportunity")},
        form_class=OpportunityForm, hidden_without=(ONLY_MINE,), ignored=("idempotency_key",),
        writes={"opportunity": {"title", "amount", "stage_id", "probability", "expected_close_on", "owner_id", "version"},
                **TIMELINE, **AUDIT},
        pinned={"opportunity": {"title": "Spring deal", "stage_id": stage("other"), "owner_id": user("sales"),
                                "contact_id": contact(), "probability": 40, "status": "open"}, **BY_OWNER})),
    _tenant("pipeline.move", "/pipeline/<uuid:opportunity_id>/move", ["POST"], "quote.create", Case(
        args={"opportunity_id": opportunity()}, form={"stage_id": stage("other")}, form_class=MoveForm,
        hidden_without=(ONLY_MINE,), writes={"opportunity": {"stage_id", "probability", "version"}, **TIMELINE, **AUDIT},
        pinned={"opportunity": {"stage_id": stage("other"), "status": "open"}, **BY_OWNER})),
    _tenant("pipeline.close", "/pipeline/<uuid:opportunity_id>/<any(won, lost):outcome>", ["POST"], "quote.create",
            Case("won", args={"opportunity_id": opportunity(), "outcome": "won"}, form={"reason": "Best offer"},
                 form_class=CloseForm, hidden_without=(ONLY_MINE,), writes={"opportunity": CHANGED, **TIMELINE, **AUDIT},
                 pinned={"opportunity": {"status": "won", "probability": 100}, **BY_OWNER}),
            Case("lost", args={"opportunity_id": opportunity(), "outcome": "lost"}, form={"reason": "Went elsewhere"},
                 form_class=CloseForm, hidden_without=(ONLY_MINE,), writes={"opportunity": CHANGED, **TIMELINE, **AUDIT},
                 pinned={"opportunity": {"status": "lost", "close_reason": "Went elsewhere", "probability": 0}, **BY_OWNER})),
    _tenant("pipeline.reopen", "/pipeline/<uuid:opportunity_id>/reopen", ["POST"], "quote.create", Case(
        args={"opportunity_id": opportunity("lost")}, hidden_without=(ONLY_MINE,),
        writes={"opportunity": CHANGED, **TIMELINE, **AUDIT},
        pinned={"opportunity": {"status": "open", "close_reason": None, "closed_at": None}, **BY_OWNER})),
    # The organisation's stages, for administrators.
    _tenant("pipeline.stages", "/pipeline/stages", ["GET"], "admin.settings", Case(fragment=True)),
    _tenant("pipeline.create_stage", "/pipeline/stages", ["POST"], "admin.settings", Case(
        form={"name": "Demo booked", "probability": "35"}, form_class=StageForm, writes={"pipeline_stage": {INSERT}, **AUDIT},
        pinned={"pipeline_stage": {"name": "Demo booked", "probability": 35, "position": 5}, **BY_OWNER_AUDIT})),
    _tenant("pipeline.update_stage", "/pipeline/stages/<uuid:stage_id>/edit", ["POST"], "admin.settings", Case(
        args={"stage_id": stage()}, form={"name": "First call", "probability": "15"}, form_class=StageForm,
        writes={"pipeline_stage": {"name", "probability"}, **AUDIT},
        pinned={"pipeline_stage": {"name": "First call", "probability": 15}, **BY_OWNER_AUDIT})),
    _tenant("pipeline.move_stage", "/pipeline/stages/<uuid:stage_id>/<any(up, down):direction>", ["POST"], "admin.settings",
            Case(args={"stage_id": stage(), "direction": "down"}, writes={"pipeline_stage": {"position"}, **AUDIT},
                 pinned=BY_OWNER_AUDIT)),
    _tenant("pipeline.delete_stage", "/pipeline/stages/<uuid:stage_id>/delete", ["POST"], "admin.settings", Case(
        args={"stage_id": stage("extra")}, writes={"pipeline_stage": {DELETE}, **AUDIT}, pinned=BY_OWNER_AUDIT)),
)
