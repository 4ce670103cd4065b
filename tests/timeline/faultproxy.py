"""A small TCP fault proxy in front of PostgreSQL (QUALITY T19; Toxiproxy is not packaged here).

Modes:
* ``forward`` — bytes pass both ways;
* ``cut()`` — every open connection is reset and new ones are accepted then reset at once (the
  database "is down"); ``restore()`` forwards again;
* ``reset_at_commit(after_reply=...)`` — the next ``COMMIT`` sent by a client kills its connection,
  either before PostgreSQL receives it (the transaction is rolled back) or once PostgreSQL has
  committed but before the answer reaches the client (the client cannot know it succeeded).

psycopg 3 sends ``COMMIT`` as a simple-protocol Query message (``Q``, length, ``COMMIT\\0``).
"""
import select
import socket
import struct
import threading

COMMIT_MESSAGE = b"Q" + struct.pack("!I", 4 + len(b"COMMIT\x00")) + b"COMMIT\x00"


def _reset(sock: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0), as a crashed server or a broken network would."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class _Pair:
    def __init__(self, proxy: "FaultProxy", client: socket.socket):
        self.proxy, self.client = proxy, client
        self.server = socket.create_connection(proxy.target)
        self.closed = threading.Event()
        self.swallow_reply = False
        self.thread = threading.Thread(target=self._pump, name="fault-proxy-pair", daemon=True)

    def _pump(self) -> None:
        sockets = [self.client, self.server]
        try:
            while not self.closed.is_set():
                readable, _, _ = select.select(sockets, [], [], 0.1)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is self.client:
                        if COMMIT_MESSAGE in data and self.proxy._take_commit_trap() is not None:
                            if not self.proxy._commit_after_reply:
                                return  # the COMMIT never reaches PostgreSQL
                            self.swallow_reply = True
                        self.server.sendall(data)
                    else:
                        if self.swallow_reply:
                            return  # PostgreSQL committed; its answer is lost
                        self.client.sendall(data)
        except (OSError, ValueError):  # reset by cut() meanwhile
            return
        finally:
            self.close()

    def close(self) -> None:
        if not self.closed.is_set():
            self.closed.set()
            _reset(self.client)
            _reset(self.server)
        self.proxy._forget(self)


class FaultProxy:
    def __init__(self, target: tuple[str, int]):
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: set[_Pair] = set()
        self._down = False
        self._commit_trap = False
        self._commit_after_reply = False
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            readable, _, _ = select.select([self._listener], [], [], 0.05)
            if not readable:
                continue
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._down:
                _reset(client)
                continue
            try:
                pair = _Pair(self, client)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._pairs.add(pair)
            pair.thread.start()

    def _forget(self, pair) -> None:
        with self._lock:
            self._pairs.discard(pair)

    def _take_commit_trap(self):
        with self._lock:
            if not self._commit_trap:
                return None
            self._commit_trap = False
            return True

    # --- switches ---

    def cut(self) -> None:
        """The database goes away: reset open connections, refuse new ones."""
        self._down = True
        with self._lock:
            pairs = list(self._pairs)
        for pair in pairs:
            pair.close()
            pair.thread.join(timeout=5)

    def restore(self) -> None:
        self._down = False

    def reset_at_commit(self, *, after_reply: bool) -> None:
        """Kill the connection of the next COMMIT (once), before or after PostgreSQL executes it."""
        with self._lock:
            self._commit_trap, self._commit_after_reply = True, after_reply

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()
        self.cut()
