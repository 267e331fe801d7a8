"""Who carries our texts: a provider sends one text and checks the signature of what it posts to
us. Twilio is the one built in (its official Python library); another (Vonage, Plivo, Telnyx,
Amazon SNS) is a class with the same four methods, named in `PROVIDERS` and chosen by
TEXT_PROVIDER. Without TEXT_PROVIDER, texts are printed, as email is without a mail server.
"""
import logging
from typing import Protocol

from flask import current_app

from app.services.outbox import Permanent

log = logging.getLogger(__name__)

# Twilio error codes after which the same text can never go (the rest are tried again later):
# invalid "To", not a mobile number, the number sent STOP to the carrier, a region not enabled.
TWILIO_PERMANENT = {21211, 21214, 21217, 21219, 21408, 21610, 21612, 21614, 21635}


class TryLater(Exception):
    """The provider could not take the text now (network, 5xx, rate limit): retried with backoff."""


class Provider(Protocol):
    name: str

    def connect(self): ...

    def send(self, conn, to: str, body: str, status_url: str | None) -> str:
        """Send one text; returns the provider's id for it. Raises TryLater or outbox.Permanent."""

    def close(self, conn) -> None: ...

    def valid_signature(self, url: str, params: dict, headers) -> bool:
        """Whether a webhook request really comes from the provider."""


class Console:
    """Development: print each text instead of sending it; webhooks are never trusted."""

    name = "console"

    def connect(self):
        return None

    def send(self, conn, to: str, body: str, status_url: str | None) -> str:
        print(f"Text to {to}:\n{body}\n", flush=True)
        return "console"

    def close(self, conn) -> None:
        pass

    def valid_signature(self, url: str, params: dict, headers) -> bool:
        return False


class Twilio:
    """Twilio's Programmable Messaging REST API through the `twilio` library."""

    name = "twilio"

    def connect(self):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        cfg = current_app.config
        base = cfg["TWILIO_API_BASE"].rstrip("/")

        class _Http(TwilioHttpClient):
            # Requests for api.twilio.com go to TWILIO_API_BASE instead (a server speaking the same
            # API: the tests' local one); everything else about the request is the library's own.
            def request(self, method, url, *args, **kwargs):
                if base != "https://api.twilio.com" and url.startswith("https://api.twilio.com"):
                    url = base + url[len("https://api.twilio.com"):]
                return super().request(method, url, *args, **kwargs)

        http = _Http(timeout=cfg["TEXT_TIMEOUT"], logger=_QUIET)
        return Client(cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"], http_client=http)

    def send(self, conn, to: str, body: str, status_url: str | None) -> str:
        from requests.exceptions import RequestException
        from twilio.base.exceptions import TwilioException, TwilioRestException

        cfg = current_app.config
        sender = ({"messaging_service_sid": cfg["TWILIO_MESSAGING_SERVICE_SID"]} if cfg["TWILIO_MESSAGING_SERVICE_SID"]
                  else {"from_": cfg["TWILIO_FROM_NUMBER"]})
        try:
            message = conn.messages.create(to=to, body=body, status_callback=status_url, **sender)
        except TwilioRestException as exc:
            text = f"Twilio {exc.status} error {exc.code}: {exc.msg}"
            # A bad request stays bad; a refused login or an unknown account is our configuration,
            # fixed by an admin, after which the waiting texts still go.
            if exc.code in TWILIO_PERMANENT or exc.status == 400:
                raise Permanent(text) from None
            raise TryLater(text) from None
        except (RequestException, TwilioException, OSError) as exc:
            raise TryLater(f"{type(exc).__name__}: {exc}") from None
        return message.sid

    def close(self, conn) -> None:
        session = getattr(conn.http_client, "session", None)
        if session is not None:
            session.close()

    def valid_signature(self, url: str, params: dict, headers) -> bool:
        from twilio.request_validator import RequestValidator

        token = current_app.config["TWILIO_AUTH_TOKEN"]
        signature = headers.get("X-Twilio-Signature", "")
        return bool(token and signature) and RequestValidator(token).validate(url, params, signature)


# The library logs each request's URL, parameters (the number and the text itself) and headers at
# INFO: none of that may reach our logs.
_QUIET = logging.getLogger("app.texts.twilio_http")
_QUIET.setLevel(logging.WARNING)
_QUIET.propagate = False

PROVIDERS = {"": Console, "console": Console, "twilio": Twilio}


def provider() -> Provider:
    name = current_app.config["TEXT_PROVIDER"]
    if name not in PROVIDERS:
        raise RuntimeError(f"TEXT_PROVIDER {name!r} is not one of {sorted(k for k in PROVIDERS if k)}")
    return PROVIDERS[name]()
