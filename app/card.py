"""The customer card's shell: the panels the domains register (app/domains.py), loaded for one customer and viewer.

The card knows no domain: it shows, for each registered panel the viewer may see, a box beside the timeline (and a
tab with its count on phones) or a line of the header's facts."""
from dataclasses import dataclass

from app import domains
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
    """The loaded panels by place ("side", "facts"), each a list of ``Loaded``."""

    def data(self, key: str, item: str):
        """``item`` of what panel ``key`` loaded (the contacts the card's filter offers too), or None."""
        return next((loaded.data.get(item) for place in self.values() for loaded in place if loaded.panel.key == key), None)


def load_panels(viewer: Viewer, tp) -> Placed:
    """The panels of ``tp``'s card that ``viewer`` may see, with what each shows, by place ("side", "facts")."""
    placed = Placed(side=[], facts=[])
    for panel in domains.panels():
        if panel.lazy:
            continue
        data = panel.load(viewer, tp)
        if data is not None:
            placed.setdefault(panel.place, []).append(Loaded(panel, data))
    return placed
