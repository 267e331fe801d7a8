"""Configuration: every setting comes from an environment variable with a safe default.

The README's configuration table lists them; keep the two in step.
"""
import os
from pathlib import Path


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    APP_ENV = os.environ.get("APP_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # default set in create_app
    # hide_parameters: a failing statement is logged without the values (names, emails) it carried.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}

    # Mail: without MAIL_SERVER, email is printed to the console (development).
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Mutual Aid Exchange <no-reply@localhost>")
    MAIL_MAX_ATTEMPTS = _int("MAIL_MAX_ATTEMPTS", 8)
    MAIL_RETRY_BASE_SECONDS = _int("MAIL_RETRY_BASE_SECONDS", 60)  # doubles after each failure
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 30)
    # A row a sender claimed but did not finish (it died) is sent again after this many seconds.
    MAIL_CLAIM_LEASE = _int("MAIL_CLAIM_LEASE", 600)

    # Texts (app/services/texts.py): without TEXT_PROVIDER, texts are printed to the console like
    # email without MAIL_SERVER. "twilio" sends through Twilio's REST API with its Python library;
    # TWILIO_API_BASE points it at another server that speaks the same API (the tests run one).
    TEXT_PROVIDER = os.environ.get("TEXT_PROVIDER", "")
    TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
    TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
    TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")  # E.164, or use a messaging service:
    TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")
    TWILIO_API_BASE = os.environ.get("TWILIO_API_BASE", "https://api.twilio.com")
    TEXT_TIMEOUT = _int("TEXT_TIMEOUT", 15)
    TEXT_MAX_ATTEMPTS = _int("TEXT_MAX_ATTEMPTS", 6)
    TEXT_RETRY_BASE_SECONDS = _int("TEXT_RETRY_BASE_SECONDS", 60)  # doubles after each failure
    TEXT_CLAIM_LEASE = _int("TEXT_CLAIM_LEASE", 600)
    # No texts from QUIET_START to QUIET_END local time (held until the morning), except about help
    # that happens before the morning (a same-day ride).
    TEXT_QUIET_START = _int("TEXT_QUIET_START", 21)
    TEXT_QUIET_END = _int("TEXT_QUIET_END", 8)
    PHONE_REGION = os.environ.get("PHONE_REGION", "US")  # numbers typed without +country
    PHONE_CODE_MINUTES = _int("PHONE_CODE_MINUTES", 10)
    PHONE_CODE_TRIES = _int("PHONE_CODE_TRIES", 5)
    PHONE_CODES_PER_HOUR = _int("PHONE_CODES_PER_HOUR", 3)  # codes texted to one member (or one number)
    PHONE_RATE_LIMIT = os.environ.get("PHONE_RATE_LIMIT", "5 per minute;20 per hour")
    TEXT_LINK_DAYS = _int("TEXT_LINK_DAYS", 14)
    # The provider's webhooks (texts received, delivery reports): a backstop per client address.
    TEXT_WEBHOOK_RATE_LIMIT = os.environ.get("TEXT_WEBHOOK_RATE_LIMIT", "120 per minute;3000 per hour")  # how long a signed link in a text works
    # What HELP answers: the community's name and how to reach a person.
    COMMUNITY_NAME = os.environ.get("COMMUNITY_NAME", "Mutual Aid Exchange")
    COMMUNITY_CONTACT = os.environ.get("COMMUNITY_CONTACT", "")  # e.g. "651-555-0100"; empty: the site's address

    # The worker (`flask worker`): its queue is a SQLite file in instance/ unless QUEUE_URL names
    # Redis (redis://...), which several machines can share. Email a request queues is handed to
    # the worker ("worker") or sent by the web process after the response ("inline": the tests, and
    # `make dev` without a worker); the worker's per-minute job sends whatever is left either way.
    QUEUE_URL = os.environ.get("QUEUE_URL") or os.environ.get("REDIS_URL", "")
    MAIL_DELIVERY = os.environ.get("MAIL_DELIVERY", "worker")
    WORKER_THREADS = _int("WORKER_THREADS", 2)
    # The worker's CPU priority (nice): its work (proposals, email, jobs) can wait a moment, a
    # person's page cannot; on a small machine the web processes come first. 0 leaves it as started.
    WORKER_NICE = _int("WORKER_NICE", 5)
    WORKER_JOBS = os.environ.get("WORKER_JOBS", "")  # the jobs this worker schedules (names, comma-separated); empty: all
    WORKER_PERIODIC_SECONDS = _int("WORKER_PERIODIC_SECONDS", 60)  # how often jobs are checked
    JOB_LEASE_SECONDS = _int("JOB_LEASE_SECONDS", 120)  # a dead worker's job is taken over after this
    JOB_RETRY_SECONDS = _int("JOB_RETRY_SECONDS", 300)  # a failed job is tried again after this
    OUTBOX_STUCK_SECONDS = _int("OUTBOX_STUCK_SECONDS", 900)  # oldest pending email older: degraded

    # Operations: who may read /readyz details and /metrics without logging in as an admin
    # (comma-separated addresses or networks, e.g. "127.0.0.1/32,10.0.0.0/8"; empty: admins only).
    OPS_ALLOWED_IPS = os.environ.get("OPS_ALLOWED_IPS", "127.0.0.1/32,::1/128")
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")  # "json" (one line per event) or "text"
    SENTRY_DSN = os.environ.get("SENTRY_DSN", "")

    # Digests: sent by the worker's hourly job from this local hour on; weekly on Mondays.
    DIGEST_HOUR = _int("DIGEST_HOUR", 7)
    DIGEST_MAX_ITEMS = _int("DIGEST_MAX_ITEMS", 25)

    # Places: offline ZIP centroids always; an online geocoder for street addresses only if set.
    GEOCODER = os.environ.get("GEOCODER", "")  # "" (offline only) or "nominatim"
    GEOCODER_USER_AGENT = os.environ.get("GEOCODER_USER_AGENT", "mutual-aid-exchange")
    COMMUNITY_TZ = os.environ.get("COMMUNITY_TZ", "America/Chicago")

    # Matching and coordination
    MATCH_TOP_K = _int("MATCH_TOP_K", 10)  # candidates kept per need for coordinators to swap to
    MATCH_RESPONSE_HOURS = _int("MATCH_RESPONSE_HOURS", 48)  # to accept an approved match, or it reopens
    MATCH_FOLLOWUP_DAYS = _int("MATCH_FOLLOWUP_DAYS", 3)  # after confirming, for help with no set time
    OUTCOME_LINK_DAYS = _int("OUTCOME_LINK_DAYS", 30)  # how long the "did it happen?" link works
    # Messages between matched people: the thread closes this many days after the match ends; each
    # person sends at most MESSAGES_PER_HOUR (counted by the service); the route's own limit is a
    # backstop per account. Reports of concern email every coordinator, so they are limited too.
    MESSAGE_THREAD_DAYS = _int("MESSAGE_THREAD_DAYS", 14)
    MESSAGES_PER_HOUR = _int("MESSAGES_PER_HOUR", 20)
    MESSAGE_RATE_LIMIT = os.environ.get("MESSAGE_RATE_LIMIT", "10 per minute;60 per hour")
    CONCERN_RATE_LIMIT = os.environ.get("CONCERN_RATE_LIMIT", "5 per minute;20 per hour")

    # Emergency fund limits, in cents
    FUND_MAX_REQUEST_CENTS = _int("FUND_MAX_REQUEST_CENTS", 50_000)  # $500 per request
    FUND_MAX_PER_PERSON_90D_CENTS = _int("FUND_MAX_PER_PERSON_90D_CENTS", 100_000)  # $1,000 per person per 90 days

    # Retention (app/services/retention.py, the worker's daily "retention" job): how long personal
    # details are kept once they have served. Counts stay for the reports (purged_counts).
    RETAIN_ADDRESS_DAYS = _int("RETAIN_ADDRESS_DAYS", 90)  # a closed post's exact place; a closed match's contact cards
    RETAIN_MESSAGES_DAYS = _int("RETAIN_MESSAGES_DAYS", 180)  # messages, after their thread closes
    RETAIN_CASE_NOTES_DAYS = _int("RETAIN_CASE_NOTES_DAYS", 730)  # coordinators' case notes, after they were written
    RETAIN_EMAIL_DAYS = _int("RETAIN_EMAIL_DAYS", 90)  # sent and failed emails (they carry names and contact cards)
    RETAIN_TEXT_DAYS = _int("RETAIN_TEXT_DAYS", 90)  # sent, failed and cancelled texts; the words of texts sent to us

    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120 per minute;3000 per hour")  # per token (app/api/auth.py)
    IMPORT_MAX_BYTES = _int("IMPORT_MAX_BYTES", 4 * 1024 * 1024)  # one CSV upload (members, posts)

    POST_LIFETIME_DAYS = _int("POST_LIFETIME_DAYS", 30)
    POST_EXPIRY_WARNING_DAYS = _int("POST_EXPIRY_WARNING_DAYS", 3)
    POSTS_PER_PAGE = _int("POSTS_PER_PAGE", 20)
    QUEUE_PER_PAGE = _int("QUEUE_PER_PAGE", 10)  # proposals per page of the coordinators' queue
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    # The host names requests may carry (links in emails are built from the request's host, so a
    # forged Host header must be refused). Comma-separated; in production the default is BASE_URL's
    # host plus localhost and 127.0.0.1 (the health checks on the machine itself).
    TRUSTED_HOSTS = [h.strip() for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h.strip()] or None

    # OWASP ASVS: scrypt N=2^15, r=8, p=3 (werkzeug's default p=1 is too weak).
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt:32768:8:3")
    PASSWORD_RESET_MAX_AGE = 30 * 60

    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    RESET_RATE_LIMIT = os.environ.get("RESET_RATE_LIMIT", "5 per minute;20 per hour")
    SIGNUP_RATE_LIMIT = os.environ.get("SIGNUP_RATE_LIMIT", "5 per minute;20 per hour")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # How many reverse proxies (nginx, Caddy) stand in front of the app: their X-Forwarded-For /
    # -Proto / -Host are trusted that many hops deep, so rate limits and logs see the client's
    # address. 0 (the default) trusts none: a client could otherwise forge its address.
    PROXY_FIX_HOPS = _int("PROXY_FIX_HOPS", 0)
    RATELIMIT_HEADERS_ENABLED = True

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = APP_ENV == "production"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 1024 * 1024


class TestConfig(Config):
    TESTING = True
    APP_ENV = "testing"
    SECRET_KEY = "test-secret-key"
    SESSION_COOKIE_SECURE = False
    # Cheap hashing keeps the suite fast; a test checks the production default separately.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    MAIL_SERVER = None
    # Work after the response runs as the response closes, so a test sees it done (production
    # hands it to a background thread): app/after_response.py.
    AFTER_RESPONSE_INLINE = True
    MAIL_DELIVERY = "inline"
    TEXT_PROVIDER = ""
    LOG_FORMAT = "text"
    GEOCODER = ""
    BASE_URL = "http://localhost"


def instance_path() -> Path:
    return Path(__file__).resolve().parent.parent / "instance"
