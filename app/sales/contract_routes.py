"""The contracts coming up: renewals to invoice and contracts about to end."""
from flask import g

from app.agenda.queries import customer_names
from app.htmx import render_page
from app.permissions import require
from app.sales import bp, contracts, queries
from app.sales.labels import PERIOD_LABELS


@bp.get("/contracts/upcoming")
@require("contract.read")
def upcoming_contracts():
    on = queries.today()
    renewals, endings = contracts.upcoming(g.viewer, on)
    return render_page("sales/upcoming.html", renewals=renewals, endings=endings, on=on, period_labels=PERIOD_LABELS,
                       names=customer_names({c.thirdparty_id for c in [*renewals, *endings]}))
