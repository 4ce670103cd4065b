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


def load_panels(viewer: Viewer, tp) -> dict[str, list[Loaded]]:
    """The panels of ``tp``'s card that ``viewer`` may see, with what each shows, by place ("side", "facts")."""
    placed: dict[str, list[Loaded]] = {"side": [], "facts": []}
    for panel in domains.panels():
        if panel.lazy:
            continue
        data = panel.load(viewer, tp)
        if data is not None:
            placed.setdefault(panel.place, []).append(Loaded(panel, data))
    return placed
