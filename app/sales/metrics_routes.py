"""The sales-cycle report: time to signature, win rate and days to pay over a period."""
from flask import g, request

from app.agenda.queries import customer_names
from app.htmx import render_page
from app.pagination import url_int
from app.permissions import require
from app.sales import bp, metrics, queries


@bp.get("/metrics")
@require("report.read")
def sales_metrics():
    months = url_int(request.args, "months", low=1, high=max(metrics.PERIODS), default=12)
    months = months if months in metrics.PERIODS else 12
    cycle = metrics.cycle(g.viewer, metrics.since(months, queries.today()))
    shown = cycle.customers[:50]
    return render_page("sales/metrics.html", "report", cycle=cycle, months=months, periods=metrics.PERIODS, customers=shown,
                       names=customer_names({row[0] for row in shown}))
