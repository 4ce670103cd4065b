"""Outgoing e-mail: SMTP when ``MAIL_URL`` is set, the console otherwise.

``MAIL_URL`` is ``smtp://user:password@host:port`` (plain), ``smtp+starttls://…`` or ``smtps://…``.
"""
import logging
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from flask import current_app

from app.jobs import enqueue

log = logging.getLogger("storia.mail")


def send_mail(to: str, subject: str, body: str) -> None:
    """Queue a plain-text e-mail (sent at once when no worker is configured)."""
    enqueue(deliver_mail, to, subject, body)


def one_line(text: str) -> str:
    """Header text on one line: subjects carry user text (an organisation's or a person's name), which
    may hold line breaks or other control characters; in a header they would fail the send (or forge
    headers with a less careful library)."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def deliver_mail(to: str, subject: str, body: str) -> None:
    """Send one e-mail now (runs in the worker or in the request)."""
    subject = one_line(subject)
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    url = current_app.config.get("MAIL_URL")
    if not url:
        # No mail server: print it, so that a developer can follow the link (never in production).
        print(f"\n----- e-mail to {to} -----\nSubject: {subject}\n\n{body}\n----- end of e-mail -----\n", flush=True)
        return
    parts = urlsplit(url)
    port = parts.port or (465 if parts.scheme == "smtps" else 587 if parts.scheme == "smtp+starttls" else 25)
    context = ssl.create_default_context()
    if parts.scheme == "smtps":
        client = smtplib.SMTP_SSL(parts.hostname, port, timeout=20, context=context)
    else:
        client = smtplib.SMTP(parts.hostname, port, timeout=20)
    with client:
        if parts.scheme == "smtp+starttls":
            client.starttls(context=context)
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)
    log.info("sent %r to a recipient at %s", subject, to.rpartition("@")[2])
