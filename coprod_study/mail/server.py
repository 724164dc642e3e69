"""`coprod-study mail-in`: an inbound SMTP server (aiosmtpd) that takes replies by e-mail."""

import asyncio
import logging

from flask import Flask

log = logging.getLogger(__name__)


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode().replace("\r", " ").replace("\n", " ")


class ReplyHandler:
    """Refuses at RCPT what cannot be ours, and at DATA what cannot be posted; the
    sending server turns a refusal into a bounce that quotes our reason."""

    def __init__(self, app: Flask):
        self.app = app

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        domain = (self.app.config.get("REPLY_DOMAIN") or "").lower()
        if not domain or not address.lower().endswith("@" + domain):
            return "550 5.1.1 No such reply address here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(None, self.receive, envelope.original_content or envelope.content, list(envelope.rcpt_tos))
        if result.accepted:
            return "250 2.0.0 Posted"
        return f"550 5.7.1 {_ascii(result.reason)}"

    def receive(self, raw: bytes, recipients: list[str]):
        from coprod_study.extensions import db
        from coprod_study.mail import inbound

        with self.app.app_context():
            try:
                return inbound.receive(raw, recipients)
            except Exception:
                log.exception("Inbound mail could not be read")
                db.session.rollback()
                return inbound.Result(False, "The message could not be read; nothing was posted.")
            finally:
                db.session.remove()


def controller(app: Flask, host: str, port: int):
    from aiosmtpd.controller import Controller

    return Controller(
        ReplyHandler(app),
        hostname=host,
        port=port,
        data_size_limit=int(app.config.get("MAIL_IN_MAX_BYTES", 1024 * 1024)),
    )


def serve_forever(app: Flask, host: str, port: int) -> None:
    import signal
    import threading

    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    running = controller(app, host, port)
    running.start()
    try:
        done.wait()
    finally:
        running.stop()
