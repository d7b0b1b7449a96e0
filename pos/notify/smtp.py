"""Send one email over SMTP with the MAIL_* settings."""
from __future__ import annotations

import base64
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from pos.notify import DeliveryFailed

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    sender: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings | None:
        """None when no MAIL_SERVER is set: mail then stays in the outbox."""
        if not config.get("MAIL_SERVER"):
            return None
        return cls(server=config["MAIL_SERVER"], port=int(config.get("MAIL_PORT") or 25),
                   username=config.get("MAIL_USERNAME"), password=config.get("MAIL_PASSWORD"),
                   use_tls=bool(config.get("MAIL_USE_TLS")),
                   sender=config.get("MAIL_FROM") or "clinic-pos@localhost")


def split_recipients(recipients: str) -> list[str]:
    return [address for _, address in getaddresses([recipients or ""]) if address]


def build_email(sender: str, recipients: list[str], subject: str, body: str,
                attachments: list[dict[str, Any]] | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message.set_content(body)
    for attachment in attachments or []:
        content_type = attachment.get("content_type") or "application/octet-stream"
        maintype, _, subtype = content_type.partition("/")
        filename = attachment.get("filename") or "attachment"
        if "text" in attachment and attachment["text"] is not None:
            message.add_attachment(str(attachment["text"]), subtype=subtype or "plain",
                                   filename=filename)
        else:
            data = base64.b64decode(attachment.get("content_b64") or "")
            message.add_attachment(data, maintype=maintype or "application",
                                   subtype=subtype or "octet-stream", filename=filename)
    return message


def send_email(settings: MailSettings, recipients: str, subject: str, body: str,
               attachments: list[dict[str, Any]] | None = None) -> None:
    """Hand one message to the mail server, or raise DeliveryFailed saying why."""
    to = split_recipients(recipients)
    if not to:
        raise DeliveryFailed("No recipients: set ALERT_EMAIL_TO or give a manager an email.")
    message = build_email(settings.sender, to, subject, body, attachments)
    try:
        with smtplib.SMTP(settings.server, settings.port, timeout=TIMEOUT_SECONDS) as smtp:
            if settings.use_tls:
                smtp.starttls()
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(message, from_addr=settings.sender, to_addrs=to)
    # The texts below never repeat the server's answer: it may echo an address.
    except smtplib.SMTPRecipientsRefused:
        raise DeliveryFailed("The mail server refused every recipient.") from None
    except smtplib.SMTPAuthenticationError as error:
        raise DeliveryFailed(f"The mail server refused the login (SMTP {error.smtp_code}).") \
            from None
    except smtplib.SMTPResponseException as error:
        raise DeliveryFailed(f"The mail server answered SMTP {error.smtp_code}.") from None
    except (smtplib.SMTPException, OSError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise DeliveryFailed(
            f"Could not reach the mail server {settings.server}:{settings.port}: {reason}."
        ) from None
