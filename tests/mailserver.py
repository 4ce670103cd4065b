"""A real SMTP server for the tests (aiosmtpd, in-process, on a free loopback port)."""
import email
import re
import socket
from email.message import Message
from email.policy import default

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, messages: list):
        self.messages = messages

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailServer:
    def __init__(self):
        self.messages: list[Message] = []
        self.port = _free_port()
        self._controller = Controller(_Handler(self.messages), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self):
        self._controller.start()

    def stop(self):
        self._controller.stop()

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]

    def last_link(self, address: str, path_part: str) -> str:
        """The last URL containing ``path_part`` e-mailed to ``address``."""
        for message in reversed(self.to(address)):
            body = message.get_body(("plain",)).get_content()
            links = [u for u in re.findall(r"https?://\S+", body) if path_part in u]
            if links:
                return links[-1]
        raise AssertionError(f"no e-mail to {address} with a link to {path_part}")
