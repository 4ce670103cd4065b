"""A real HTTP server for an app (werkzeug, threaded) and a raw server-sent-events reader.

The reader runs in its own thread and keeps every event it received; tests wait for an event with a
bounded deadline (arrival, never latency, is what they assert).
"""
import http.client
import logging
import socket
import threading
import time
import uuid
from dataclasses import dataclass

from werkzeug.serving import make_server

WAIT = 10.0  # seconds: a generous bound for something that normally takes milliseconds


class LiveServer:
    """Serve ``app`` on 127.0.0.1 on a free port, one thread per request (an SSE stream holds one)."""

    def __init__(self, app):
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="live-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


@dataclass(frozen=True)
class Message:
    event: str
    data: str
    id: str | None

    @property
    def event_id(self) -> uuid.UUID | None:
        """The timeline event's id, from the SSE id ``<iso time>_<uuid>``."""
        return uuid.UUID(self.id.rsplit("_", 1)[1]) if self.id else None


class EventStream:
    """One open ``text/event-stream`` request, read line by line in a background thread."""

    def __init__(self, port: int, path: str, cookie: str, *, last_event_id: str | None = None):
        self.received: list[Message] = []
        self.ended = threading.Event()
        self._changed = threading.Condition()
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Cookie": cookie, "Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self._conn.request("GET", path, headers=headers)
        self._sock = self._conn.sock
        self.response = self._conn.getresponse()
        self.status = self.response.status
        if self.status == 200:
            self._reader = threading.Thread(target=self._read, name="sse-reader", daemon=True)
            self._reader.start()
        else:
            self.body = self.response.read().decode()
            self.ended.set()
            self._reader = None

    def _read(self) -> None:
        fields: dict[str, str] = {}
        data: list[str] = []
        try:
            while True:
                raw = self.response.readline()
                if not raw:
                    return
                line = raw.decode().rstrip("\r\n")
                if not line:
                    if data or "event" in fields:
                        self._add(Message(fields.get("event", "message"), "\n".join(data), fields.get("id")))
                    fields, data = {}, []
                elif line.startswith(":"):
                    continue
                else:
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "data":
                        data.append(value)
                    else:
                        fields[name] = value
        except (OSError, ValueError, http.client.HTTPException):
            return  # closed by close()
        finally:
            self.ended.set()
            with self._changed:
                self._changed.notify_all()

    def _add(self, message: Message) -> None:
        with self._changed:
            self.received.append(message)
            self._changed.notify_all()

    # --- what tests ask ---

    def wait_for(self, predicate, what: str, timeout: float = WAIT) -> Message:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for message in self.received:
                    if predicate(message):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.ended.is_set():
                    got = [(m.event, m.event_id) for m in self.received]
                    raise AssertionError(f"{what} did not arrive within {timeout}s (stream ended: {self.ended.is_set()}); "
                                         f"received {len(got)} messages, the last ones {got[-5:]}")
                self._changed.wait(remaining)

    def wait_for_event(self, event_id, timeout: float = WAIT) -> Message:
        return self.wait_for(lambda m: m.event_id == event_id, f"event {event_id}", timeout)

    def wait_for_end(self, timeout: float = WAIT) -> None:
        assert self.ended.wait(timeout), f"the stream was still open after {timeout}s"

    def event_ids(self) -> list[uuid.UUID]:
        with self._changed:
            return [m.event_id for m in self.received if m.event_id]

    def close(self) -> None:
        try:
            if self._sock is not None:
                self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self._reader is not None:
            self._reader.join(timeout=5)
        self.response.close()
        self._conn.close()
