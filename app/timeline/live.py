"""Live timelines: a new event reaches every open timeline of its third party within moments.

One small interface, three transports (DESIGN "Live"):
* PostgreSQL: ``pg_notify`` inside the writing transaction (delivered only if it commits) and one
  LISTEN connection per process, so it works across gunicorn workers and hosts;
* Redis pub/sub when ``REDIS_URL`` is set and the database is not PostgreSQL;
* in-process (the embedded SQLite default): published after commit.
A notification only wakes the streams of that third party; each stream then reads the events
after its own cursor from the database, so a missed or duplicated notification loses or repeats
nothing. The number of open streams per process is bounded by ``LIVE_MAX_STREAMS``.
"""
import logging
import queue
import threading
import time
import uuid
from collections import defaultdict

from flask import current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

log = logging.getLogger("storia.live")
CHANNEL = "storia_timeline"
RESYNC = "resync"


class Subscription:
    """One open stream's mailbox."""

    def __init__(self, hub: "Hub", key: tuple):
        self.hub, self.key = hub, key
        self.queue: queue.Queue = queue.Queue(maxsize=1000)

    def wait(self, timeout: float) -> list:
        """Block until something arrives (or ``timeout``); return everything that arrived."""
        try:
            items = [self.queue.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                items.append(self.queue.get_nowait())
            except queue.Empty:
                return items

    def close(self) -> None:
        self.hub.unsubscribe(self)


class Hub:
    """Fans notifications out to the subscriptions of this process; at most ``max_streams`` at once."""

    def __init__(self, max_streams: int):
        self.max_streams = max_streams
        self._lock = threading.Lock()
        self._subs: dict[tuple, set[Subscription]] = defaultdict(set)
        self._count = 0

    @property
    def open_streams(self) -> int:
        return self._count

    def subscribe(self, key: tuple) -> Subscription | None:
        """A new subscription for ``(tenant_id, thirdparty_id)``, or None when the process is full."""
        with self._lock:
            if self._count >= self.max_streams:
                return None
            sub = Subscription(self, key)
            self._subs[key].add(sub)
            self._count += 1
            return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.key)
            if subs and sub in subs:
                subs.discard(sub)
                self._count -= 1
                if not subs:
                    del self._subs[sub.key]

    def deliver(self, key: tuple, message: str) -> None:
        with self._lock:
            targets = list(self._subs.get(key, ()))
        for sub in targets:
            try:
                sub.queue.put_nowait(message)
            except queue.Full:  # a stuck stream; it will resync from the database anyway
                pass

    def deliver_all(self, message: str) -> None:
        with self._lock:
            keys = list(self._subs)
        for key in keys:
            self.deliver(key, message)


def _message(tenant_id, thirdparty_id, event_id) -> str:
    return f"{tenant_id}:{thirdparty_id}:{event_id}"


def _parse(message: str):
    tenant_id, thirdparty_id, event_id = message.split(":")
    return (uuid.UUID(tenant_id), uuid.UUID(thirdparty_id)), event_id


class Transport:
    """Where announcements go and how this process hears them."""

    def __init__(self, hub: Hub):
        self.hub = hub

    def announce(self, session: Session, event) -> None:
        session.info.setdefault("live_events", []).append(_message(event.tenant_id, event.thirdparty_id, event.id))

    def published(self, messages: list[str]) -> None:
        for message in messages:
            key, event_id = _parse(message)
            self.hub.deliver(key, event_id)

    def ensure_listening(self) -> None:
        """Start hearing other processes (no-op in process)."""

    def stop(self) -> None:
        """Stop hearing other processes (tests, shutdown)."""


class PostgresTransport(Transport):
    def __init__(self, hub: Hub, dsn: str):
        super().__init__(hub)
        self.dsn = dsn
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def announce(self, session: Session, event) -> None:
        # In the writer's transaction: PostgreSQL delivers it at commit, never after a rollback.
        session.execute(select(func.pg_notify(CHANNEL, _message(event.tenant_id, event.thirdparty_id, event.id))))

    def published(self, messages: list[str]) -> None:
        """Nothing to do after commit: this process hears its own notifications too."""

    def ensure_listening(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._listen, name="storia-live-listener", daemon=True)
                self._thread.start()

    def _listen(self) -> None:
        import psycopg

        delay = 0.5
        while not self._stopped.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.hub.deliver_all(RESYNC)  # whatever happened while we were not listening
                    delay = 0.5
                    while not self._stopped.is_set():
                        for notify in conn.notifies(timeout=1.0):
                            key, event_id = _parse(notify.payload)
                            self.hub.deliver(key, event_id)
            except Exception:  # noqa: BLE001 - the listener must survive database restarts
                if self._stopped.is_set():
                    return
                log.warning("live listener lost its connection; reconnecting in %.1fs", delay, exc_info=True)
                self._stopped.wait(delay)
                delay = min(delay * 2, 10)

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class RedisTransport(Transport):
    def __init__(self, hub: Hub, url: str):
        super().__init__(hub)
        self.url = url
        self._client = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def published(self, messages: list[str]) -> None:
        from redis import Redis

        if self._client is None:
            self._client = Redis.from_url(self.url)
        for message in messages:
            self._client.publish(CHANNEL, message)

    def ensure_listening(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._listen, name="storia-live-listener", daemon=True)
                self._thread.start()

    def _listen(self) -> None:
        from redis import Redis

        delay = 0.5
        while True:
            try:
                pubsub = Redis.from_url(self.url).pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                self.hub.deliver_all(RESYNC)
                for item in pubsub.listen():
                    key, event_id = _parse(item["data"].decode())
                    self.hub.deliver(key, event_id)
            except Exception:  # noqa: BLE001
                log.warning("live listener lost Redis; reconnecting in %.1fs", delay, exc_info=True)
                time.sleep(delay)
                delay = min(delay * 2, 10)


def init_app(app) -> None:
    """Choose the transport from the configuration (one per app and process)."""
    hub = Hub(app.config["LIVE_MAX_STREAMS"])
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        app.extensions["storia_live"] = PostgresTransport(hub, dsn)
    elif app.config.get("REDIS_URL"):
        app.extensions["storia_live"] = RedisTransport(hub, app.config["REDIS_URL"])
    else:
        app.extensions["storia_live"] = Transport(hub)


def transport() -> Transport:
    return current_app.extensions["storia_live"]


def announce(session: Session, event) -> None:
    """Tell open timelines about ``event`` once the transaction commits."""
    transport().announce(session, event)


@sa_event.listens_for(Session, "after_commit")
def _publish(session):
    messages = session.info.pop("live_events", None)
    if messages and has_app_context():
        transport().published(messages)


@sa_event.listens_for(Session, "after_rollback")
def _forget(session):
    session.info.pop("live_events", None)
