"""Threads: the steps of one story (a quote, its order, shipments, invoices, payments) read as one item of the
timeline, under the story's first record, newest step on top, the earlier ones behind a <details>.

A domain puts a step in a thread when it records it: ``payload["thread"] = {"key", "label", "kind", "id"}`` (the key
and the name of the first record). The core groups only what one page of the timeline holds, so keyset pagination,
filters and the one statement of a page stay as they are; a thread whose steps span pages continues, under the same
name, on the next page. See docs/architecture.md, "Timeline groups".
"""
from dataclasses import dataclass, field


@dataclass
class Thread:
    key: str
    head: dict                      # the thread's name and first record, from its newest step
    steps: list = field(default_factory=list)  # newest first

    @property
    def newest(self):
        return self.steps[0]

    @property
    def occurred_at(self):
        return self.newest.occurred_at


def threaded(events) -> list:
    """A page of events (newest first) as the rows it shows: an event alone, or a Thread where the page holds two or
    more steps of one thread, placed where its newest step is."""
    found: dict[str, Thread] = {}
    rows: list = []
    for event in events:
        head = (event.payload or {}).get("thread") if isinstance(event.payload, dict) else None
        key = head.get("key") if isinstance(head, dict) else None
        if not key:
            rows.append(event)
            continue
        if key in found:
            found[key].steps.append(event)
            continue
        found[key] = Thread(key, head, [event])
        rows.append(found[key])
    return [row.newest if isinstance(row, Thread) and len(row.steps) == 1 else row for row in rows]
