"""E-mail over SMTP, with STARTTLS (or implicit TLS) and login, one message per officer.

Subject and body are templates over :mod:`alerting.notifiers.text` (defaults in Chinese with an
English line). ``Message-ID`` is derived from the delivery's idempotency key, so a re-sent
message after a crash carries the same id and mail clients fold the two into one; the key is
also in ``X-Yujing-Idempotency-Key``.

smtplib is blocking, so each send runs in a worker thread (bounded by ``timeout_s``). Outcomes:
a 4xx reply, a dropped connection or a timeout is retryable; a 5xx reply (bad recipient, refused
sender, rejected login) and a certificate that does not verify are not — sending again would get
the same answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from alerting.model import Delivery
from alerting.notifiers import text
from yujing.contracts import DeliveryError

__all__ = ["EmailNotifier"]


class EmailNotifier:
    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        sender: str,
        *,
        starttls: bool = True,
        implicit_tls: bool = False,
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
        timeout_s: float = 10.0,
        subject_template: str = text.DEFAULT_EMAIL_SUBJECT,
        body_template: str = text.DEFAULT_EMAIL_BODY,
        is_public: bool = False,
    ) -> None:
        if starttls and implicit_tls:
            raise ValueError(f"email {name}: choose starttls or implicit_tls, not both")
        if username is not None and password is None:
            raise ValueError(f"email {name}: username needs a password_file")
        self.name = name
        self.is_public = is_public
        self._host, self._port, self._sender = host, port, sender
        self._starttls, self._implicit_tls = starttls, implicit_tls
        self._username, self._password = username, password
        self._ca_file = ca_file
        self._timeout_s = timeout_s
        self._subject = text.check_template(subject_template)
        self._body = text.check_template(body_template)

    def __repr__(self) -> str:
        return f"EmailNotifier(name={self.name!r}, server={self._host}:{self._port})"

    def message(self, delivery: Delivery) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self._sender
        msg["To"] = delivery.address
        msg["Subject"] = text.render(self._subject, delivery)
        msg["Date"] = formatdate(delivery.notice.ts, usegmt=True)
        digest = hashlib.sha256(delivery.idempotency_key.encode()).hexdigest()[:32]
        msg["Message-ID"] = f"<{digest}@yujing>"
        msg["X-Yujing-Idempotency-Key"] = delivery.idempotency_key
        if delivery.notice.is_drill:
            msg["X-Yujing-Exercise"] = "true"
        msg.set_content(text.render(self._body, delivery))
        return msg

    async def send(self, delivery: Delivery) -> None:
        if not delivery.address:
            raise DeliveryError(f"email {self.name}: no address", retryable=False)
        await asyncio.to_thread(self._send, self.message(delivery))

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(
            cafile=str(self._ca_file) if self._ca_file is not None else None
        )

    def _send(self, msg: EmailMessage) -> None:
        where = f"{self._host}:{self._port}"
        try:
            smtp: smtplib.SMTP
            if self._implicit_tls:
                smtp = smtplib.SMTP_SSL(
                    self._host, self._port, timeout=self._timeout_s, context=self._context()
                )
            else:
                smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout_s)
            with smtp:
                smtp.ehlo()
                if self._starttls:
                    smtp.starttls(context=self._context())
                    smtp.ehlo()
                if self._username is not None and self._password is not None:
                    smtp.login(self._username, self._password)
                smtp.send_message(msg)
        except smtplib.SMTPResponseException as exc:  # a reply code: 4xx transient, 5xx final
            raise DeliveryError(
                f"email {self.name}: {exc.smtp_code} from {where}: {exc.smtp_error!r}",
                retryable=400 <= exc.smtp_code < 500,
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"email {self.name}: recipient refused by {where}: {codes}",
                retryable=all(400 <= c < 500 for c in codes),
            ) from exc
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(
                f"email {self.name}: certificate of {where}: {exc}", retryable=False
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:  # e.g. no STARTTLS offered
            raise DeliveryError(f"email {self.name}: {where}: {exc}", retryable=False) from exc
        except (smtplib.SMTPException, OSError) as exc:  # connection, timeout, dropped session
            raise DeliveryError(
                f"email {self.name}: {type(exc).__name__} to {where}: {exc}", retryable=True
            ) from exc

    async def close(self) -> None:
        return None
