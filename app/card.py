"""The customer card's shell: the panels the domains register (app/domains.py), loaded for one customer and viewer.

The card knows no domain: it shows, for each registered panel the viewer may see, a box beside the timeline (and a
tab with its count on phones) or a line of the header's facts. What the header and the panels' tabs show as single
values (counts, latest dates, short lists as JSON) is read in one statement (``Panel.facts``)."""
from dataclasses import dataclass

from sqlalchemy import select

from app import domains
from app.extensions import db
from app.permissions import Viewer


@dataclass(frozen=True)
class Loaded:
    panel: domains.Panel
    data: dict

    @property
    def count(self) -> int | None:
        return self.panel.count(self.data) if self.panel.count else None

    @property
    def tab(self) -> tuple:
        """(key, label, count) of the panel's tab on phones."""
        return self.panel.key, self.panel.label, self.count


class Placed(dict):
    """The loaded panels by place ("side", "facts"), each a list of ``Loaded``; ``header``: the values of the caller's
    own facts (``load_panels(facts=…)``)."""

    header: dict = {}

    def data(self, key: str, item: str):
        """``item`` of what panel ``key`` loaded (the contacts the card's filter offers too), or None."""
        return next((loaded.data.get(item) for place in self.values() for loaded in place if loaded.panel.key == key), None)


def load_panels(viewer: Viewer, tp, facts: dict | None = None) -> Placed:
    """The panels of ``tp``'s card that ``viewer`` may see, with what each shows, by place ("side", "facts").

    ``facts``: the caller's own scalar expressions by name, read in the same statement as the panels' facts; their
    values are in ``Placed.header``."""
    wanted = {f"card__{name}": expr for name, expr in (facts or {}).items()}
    hidden = set()
    for panel in domains.panels():
        if panel.facts is None:
            continue
        exprs = panel.facts(viewer, tp)
        if exprs is None:
            hidden.add(panel.key)
        else:
            wanted |= {f"{panel.key}__{name}": expr for name, expr in exprs.items()}
    row = db.session.execute(select(*(expr.label(label) for label, expr in wanted.items()))).one()._asdict() if wanted else {}

    placed = Placed(side=[], facts=[])
    placed.header = {label.removeprefix("card__"): value for label, value in row.items() if label.startswith("card__")}
    for panel in domains.panels():
        if panel.key in hidden or (panel.lazy and panel.facts is None):
            continue
        if panel.facts is None:
            data = panel.load(viewer, tp)
        else:
            mine = {label.removeprefix(f"{panel.key}__"): value for label, value in row.items()
                    if label.startswith(f"{panel.key}__")}
            data = mine if panel.lazy else panel.load(viewer, tp, mine)
        if data is not None:
            placed.setdefault(panel.place, []).append(Loaded(panel, data))
    return placed
