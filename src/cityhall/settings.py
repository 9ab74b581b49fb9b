"""Django settings for cityhall: every value comes from the environment.

Each variable is declared through :func:`cityhall.core.env.setting`, which also
records its documentation; ``docs/configuration.md`` is generated from it.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import dj_database_url

from cityhall.core.env import ConfigurationError, setting

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent

# --- environment -----------------------------------------------------------------

ENVIRONMENT = setting(
    "CITYHALL_ENV",
    "development",
    "`development` or `production`. Production turns on secure cookies, HSTS, "
    "strict host checks and refuses the development secrets.",
)
if ENVIRONMENT not in {"development", "production"}:
    raise ConfigurationError("CITYHALL_ENV must be development or production")
PRODUCTION = ENVIRONMENT == "production"

DEBUG = setting(
    "CITYHALL_DEBUG",
    "false",
    "Django's debug pages. Never in production.",
    cast=bool,
)
DATA_DIR = Path(
    setting(
        "CITYHALL_DATA_DIR",
        str(PROJECT_DIR / "var"),
        "Folder for the SQLite database, uploaded files and other local state.",
        shown_default="`var/` in the project folder",
    )
)

_DEV_SECRET = "development-only-secret-do-not-use-in-production"  # noqa: S105
SECRET_KEY = setting(
    "CITYHALL_SECRET_KEY",
    _DEV_SECRET,
    "Django's secret key (signing of sessions, e-mail links and tokens). Required in production.",
    group="Security",
    secret=True,
)
if PRODUCTION and SECRET_KEY == _DEV_SECRET:
    raise ConfigurationError("CITYHALL_SECRET_KEY must be set in production")


def _derived_key(purpose: str) -> str:
    digest = hashlib.sha256(f"{purpose}:{SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


FIELD_ENCRYPTION_KEYS = setting(
    "CITYHALL_FIELD_ENCRYPTION_KEYS",
    "",
    "Comma-separated Fernet keys for sensitive fields (phone, address, verified "
    "identity). The first encrypts; all decrypt, so keys can be rotated by putting a "
    "new one first and running `cityhall rotate-keys`. Empty: derived from the secret key "
    "(development only). Make one with `cityhall generate-key`.",
    cast=list,
    group="Security",
    secret=True,
)
if not FIELD_ENCRYPTION_KEYS:
    if PRODUCTION:
        raise ConfigurationError("CITYHALL_FIELD_ENCRYPTION_KEYS must be set in production")
    FIELD_ENCRYPTION_KEYS = [_derived_key("fields")]

AUDIT_KEY = setting(
    "CITYHALL_AUDIT_KEY",
    "",
    "Key of the HMAC-SHA256 chain over the audit log. Keep it away from the database "
    "administrators so a changed row cannot be re-chained. Empty: derived from the "
    "secret key (development only).",
    group="Security",
    secret=True,
)
if not AUDIT_KEY:
    if PRODUCTION:
        raise ConfigurationError("CITYHALL_AUDIT_KEY must be set in production")
    AUDIT_KEY = _derived_key("audit")

ALLOWED_HOSTS = setting(
    "CITYHALL_ALLOWED_HOSTS",
    "127.0.0.1,localhost,[::1],testserver",
    "Comma-separated host names this site answers to.",
    cast=list,
    group="Security",
)
CSRF_TRUSTED_ORIGINS = setting(
    "CITYHALL_CSRF_TRUSTED_ORIGINS",
    "",
    "Comma-separated origins (https://city.example.jp) allowed to post forms, when "
    "behind a proxy that changes the host.",
    cast=list,
    group="Security",
)
SITE_URL = setting(
    "CITYHALL_SITE_URL",
    "http://127.0.0.1:8000",
    "Public address of the site, used in links sent by e-mail.",
).rstrip("/")

# --- municipality ------------------------------------------------------------------

MUNICIPALITY_CODE = setting(
    "CITYHALL_MUNICIPALITY_CODE",
    "242161",
    "全国地方公共団体コード (6 digits with check digit) of the city running this instance.",
    group="Municipality",
)
MUNICIPALITY_NAME = setting(
    "CITYHALL_MUNICIPALITY_NAME",
    "伊賀市",
    "Name of the municipality shown in the header and in e-mails.",
    group="Municipality",
)

MUNICIPALITY_NAMES = dict(
    item.split("=", 1)
    for item in setting(
        "CITYHALL_MUNICIPALITY_NAMES",
        "en=Iga City,pt-br=Iga,vi=Thành phố Iga,zh-hans=伊贺市,es=Iga",
        "The municipality's name in the other UI languages (`code=name`, comma-separated); "
        "Japanese pages use CITYHALL_MUNICIPALITY_NAME.",
        cast=list,
        group="Municipality",
    )
    if "=" in item
)

# --- applications ------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "cityhall.core",
    "cityhall.people",
    "cityhall.procedures",
    "cityhall.payments",
    "cityhall.notices",
    "cityhall.inquiries",
    "cityhall.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "cityhall.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "cityhall.core.pagecache.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cityhall.people.middleware.StaffMFAMiddleware",
    "cityhall.core.furigana.FuriganaMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cityhall.urls"
WSGI_APPLICATION = "cityhall.wsgi.application"
ASGI_APPLICATION = "cityhall.asgi.application"
AUTH_USER_MODEL = "people.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cityhall.core.context_processors.site",
            ],
        },
    }
]

# --- database --------------------------------------------------------------------

DATABASE_URL = setting(
    "DATABASE_URL",
    "",
    "Database address. Empty: SQLite in `CITYHALL_DATA_DIR/cityhall.sqlite3` (WAL mode). "
    "For PostgreSQL: `postgres://user:password@host:5432/cityhall`.",
    group="Database",
    secret=True,
)
DB_CONN_MAX_AGE = setting(
    "CITYHALL_DB_CONN_MAX_AGE",
    "60",
    "Seconds a database connection is kept open between requests (PostgreSQL).",
    cast=int,
    group="Database",
)
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=DB_CONN_MAX_AGE, conn_health_checks=True
        )
    }
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "cityhall.sqlite3"),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # Writers take the lock at BEGIN, so the web and worker never deadlock.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA busy_timeout=20000; PRAGMA foreign_keys=ON;"
            ),
        }
    )

# --- cache, sessions, tasks ---------------------------------------------------------

CACHE_URL = setting(
    "CITYHALL_CACHE_URL",
    "db://",
    "Cache for rate limits and sessions: `db://` (a table in the database, works "
    "across processes with no other server), `redis://host:6379/0`, or `locmem://` "
    "(one process only).",
    group="Cache and background work",
    secret=True,
)
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
elif CACHE_URL.startswith("locmem://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif CACHE_URL.startswith("db://"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "cityhall_cache",
        }
    }
else:
    raise ConfigurationError("CITYHALL_CACHE_URL must start with db://, redis:// or locmem://")

TASKS_BACKEND = setting(
    "CITYHALL_TASKS_BACKEND",
    "database",
    "Where background tasks queue: `database` (run `cityhall worker`), or `immediate` "
    "(run inside the request; for tests and tiny installs).",
    group="Cache and background work",
)
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[TASKS_BACKEND],
    }
}

PAGE_CACHE_SECONDS = setting(
    "CITYHALL_PAGE_CACHE_SECONDS",
    "60",
    "Seconds each web process keeps the public pages (home, life events …) it rendered "
    "for visitors who are not logged in. Changes to departments or facilities show "
    "after at most this long. 0 turns it off.",
    cast=int,
    group="Cache and background work",
)

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = setting(
    "CITYHALL_SESSION_AGE",
    str(14 * 24 * 3600),
    "Seconds a resident stays logged in.",
    cast=int,
    group="Security",
)
STAFF_SESSION_AGE = setting(
    "CITYHALL_STAFF_SESSION_AGE",
    str(8 * 3600),
    "Seconds a staff session lasts (a working day by default).",
    cast=int,
    group="Security",
)

# --- security ----------------------------------------------------------------------

SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = setting(
    "CITYHALL_HSTS_SECONDS",
    "31536000" if PRODUCTION else "0",
    "Strict-Transport-Security max-age in seconds.",
    cast=int,
    group="Security",
    shown_default="`0`; `31536000` (one year) in production",
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_SSL_REDIRECT = setting(
    "CITYHALL_SSL_REDIRECT",
    "true" if PRODUCTION else "false",
    "Redirect plain HTTP to HTTPS.",
    cast=bool,
    group="Security",
    shown_default="`false`; `true` in production",
)
if setting(
    "CITYHALL_BEHIND_PROXY",
    "false",
    "Trust X-Forwarded-Proto from a reverse proxy that terminates TLS.",
    cast=bool,
    group="Security",
):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = setting(
    "CITYHALL_LOGIN_FAILURE_LIMIT",
    "5",
    "Failed logins for one account from one address before it is locked out.",
    cast=int,
    group="Security",
)
AXES_COOLOFF_TIME = (
    setting(
        "CITYHALL_LOGIN_COOLOFF_MINUTES",
        "15",
        "Minutes a lockout lasts.",
        cast=int,
        group="Security",
    )
    / 60
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "cityhall.people.views.lockout"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = 1 if "SECURE_PROXY_SSL_HEADER" in globals() else 0
SIGNUP_RATE = setting(
    "CITYHALL_SIGNUP_RATE",
    "5/h",
    "Sign-ups allowed from one address (`N/s`, `N/m`, `N/h` or `N/d`).",
    group="Security",
)
LOGIN_RATE = setting(
    "CITYHALL_LOGIN_RATE",
    "30/m",
    "Login attempts allowed from one address, whatever the account.",
    group="Security",
)
OTP_TOTP_ISSUER = MUNICIPALITY_NAME + " cityhall"

LOGIN_URL = "people:login"
LOGIN_REDIRECT_URL = "portal:mypage"
LOGOUT_REDIRECT_URL = "portal:home"

# --- OpenID Connect (デジタル認証アプリ) ----------------------------------------------

OIDC_ISSUER = setting(
    "CITYHALL_OIDC_ISSUER",
    "",
    "Issuer URL of the OpenID provider (デジタル認証アプリ). Empty: the OIDC login is "
    "hidden. Its `/.well-known/openid-configuration` is read at first use.",
    group="OpenID Connect",
)
OIDC_CLIENT_ID = setting(
    "CITYHALL_OIDC_CLIENT_ID", "", "Client ID registered with the provider.", group="OpenID Connect"
)
OIDC_PRIVATE_KEY = setting(
    "CITYHALL_OIDC_PRIVATE_KEY",
    "",
    "PEM of the RSA or EC private key for private_key_jwt client authentication, or "
    "a path to the PEM file.",
    group="OpenID Connect",
    secret=True,
)
OIDC_KEY_ID = setting(
    "CITYHALL_OIDC_KEY_ID",
    "",
    "`kid` of that key as registered with the provider.",
    group="OpenID Connect",
)
OIDC_SCOPES = setting(
    "CITYHALL_OIDC_SCOPES",
    "openid name address birthdate gender",
    "Scopes asked for (space-separated).",
    group="OpenID Connect",
)
OIDC_VERIFIED_ACR = setting(
    "CITYHALL_OIDC_VERIFIED_ACR",
    "",
    "Comma-separated `acr` values that mean the login was verified with the My Number "
    "card. Empty: any login through the provider counts as card-verified.",
    cast=list,
    group="OpenID Connect",
)
OIDC_TIMEOUT = setting(
    "CITYHALL_OIDC_TIMEOUT",
    "10",
    "Seconds to wait for the provider's token and key endpoints.",
    cast=float,
    group="OpenID Connect",
)

# --- e-mail ------------------------------------------------------------------------

EMAIL_BACKEND_NAME = setting(
    "CITYHALL_EMAIL_BACKEND",
    "console",
    "`smtp` to send through the server below, `console` to print e-mails (demo).",
    group="E-mail",
)
EMAIL_BACKEND = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
}[EMAIL_BACKEND_NAME]
EMAIL_HOST = setting("CITYHALL_EMAIL_HOST", "127.0.0.1", "SMTP server.", group="E-mail")
EMAIL_PORT = setting("CITYHALL_EMAIL_PORT", "25", "SMTP port.", cast=int, group="E-mail")
EMAIL_HOST_USER = setting("CITYHALL_EMAIL_USER", "", "SMTP user name.", group="E-mail")
EMAIL_HOST_PASSWORD = setting(
    "CITYHALL_EMAIL_PASSWORD", "", "SMTP password.", group="E-mail", secret=True
)
EMAIL_USE_TLS = setting(
    "CITYHALL_EMAIL_STARTTLS", "false", "Use STARTTLS.", cast=bool, group="E-mail"
)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = setting(
    "CITYHALL_EMAIL_FROM",
    "伊賀市 <no-reply@city.iga.example>",
    "Sender of the e-mails cityhall sends.",
    group="E-mail",
)
EMAIL_VERIFY_HOURS = setting(
    "CITYHALL_EMAIL_VERIFY_HOURS",
    "48",
    "Hours an e-mail verification link stays valid.",
    cast=int,
    group="E-mail",
)

# --- procedures and applications ----------------------------------------------------

DRAFT_DAYS = setting(
    "CITYHALL_DRAFT_DAYS",
    "30",
    "Days an unfinished application (draft) and the link e-mailed to resume it stay valid.",
    cast=int,
    group="Procedures",
)
UPLOAD_MAX_MB = setting(
    "CITYHALL_UPLOAD_MAX_MB",
    "10",
    "Largest file a resident may attach to an application, in MB (a form field may set less).",
    cast=int,
    group="Procedures",
)
APPLICATION_SUBMIT_RATE = setting(
    "CITYHALL_APPLICATION_SUBMIT_RATE",
    "30/h",
    "Applications one resident may submit through the JSON API (N/s, N/m, N/h or N/d).",
    group="Procedures",
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- payments (公金) ------------------------------------------------------------------

PAYMENT_SECRET = setting(
    "CITYHALL_PAYMENT_SECRET",
    "",
    "Key of the HMAC that makes each slip's 確認番号 (check number) unpredictable. Keep it "
    "for as long as slips issued under it can be paid; derived from the secret key when unset "
    "(not allowed in production).",
    group="Payments",
    secret=True,
)
if not PAYMENT_SECRET:
    if PRODUCTION:
        raise ConfigurationError("CITYHALL_PAYMENT_SECRET must be set in production")
    PAYMENT_SECRET = _derived_key("payments")
PAYMENT_MUNICIPALITY_CODE = setting(
    "CITYHALL_PAYMENT_MUNICIPALITY_CODE",
    "24216",
    "共通納税機関コード on the eL-QR and the eL番号 (5 digits; Iga City is 24216).",
    group="Payments",
)
PAYMENT_OFFICE_CODE = setting(
    "CITYHALL_PAYMENT_OFFICE_CODE",
    "000",
    "税務事務所コード on the eL-QR (3 digits; 000 for a city without tax offices).",
    group="Payments",
)
PAYMENT_CVS_COMPANY_CODE = setting(
    "CITYHALL_PAYMENT_CVS_COMPANY_CODE",
    "912345",
    "収納企業コード of the convenience-store barcode (6 digits, issued through the collection "
    "agent). The default is a placeholder.",
    group="Payments",
)
PAYMENT_CVS_LIMIT_YEN = setting(
    "CITYHALL_PAYMENT_CVS_LIMIT_YEN",
    "300000",
    "Largest amount printed as a convenience-store barcode; slips above it carry the eL-QR only.",
    cast=int,
    group="Payments",
)
PAYMENT_PAY_BY_DAYS = setting(
    "CITYHALL_PAYMENT_PAY_BY_DAYS",
    "14",
    "Days after the due date (納期限) that a slip can still be paid at a store (its 支払期限); "
    "after that the city reissues it.",
    cast=int,
    group="Payments",
)
PAYMENT_CENTRAL_DEPARTMENT = setting(
    "CITYHALL_PAYMENT_CENTRAL_DEPARTMENT",
    "shuno",
    "Department code (収納課) whose staff see every charge, print slips, reconcile agent files "
    "and export revenue. Staff of other departments see the charges of their own kinds.",
    group="Payments",
)
PAYMENT_PRINT_PART_SIZE = setting(
    "CITYHALL_PAYMENT_PRINT_PART_SIZE",
    "1000",
    "Slips per PDF file in a batch print run (a part is written whole or not at all).",
    cast=int,
    group="Payments",
)
PAYMENT_PROVIDER = setting(
    "CITYHALL_PAYMENT_PROVIDER",
    "none" if PRODUCTION else "sandbox",
    "Online payment provider for small fees: `hosted` (a provider speaking the hosted-payment "
    "contract in docs/payments/online.md at CITYHALL_PAYMENT_PROVIDER_URL), `none` (no card "
    "or wallet payment; slips only) or `sandbox` (the built-in test provider: no money moves; "
    "refused in production).",
    group="Payments",
    shown_default="`none` in production, `sandbox` otherwise",
)
PAYMENT_PROVIDER_URL = setting(
    "CITYHALL_PAYMENT_PROVIDER_URL",
    "",
    "Base URL of the provider's API, e.g. https://pay.example.jp/v1.",
    group="Payments",
)
PAYMENT_PROVIDER_API_KEY = setting(
    "CITYHALL_PAYMENT_PROVIDER_API_KEY",
    "",
    "Bearer key for the provider's API.",
    group="Payments",
    secret=True,
)
PAYMENT_PROVIDER_WEBHOOK_SECRET = setting(
    "CITYHALL_PAYMENT_PROVIDER_WEBHOOK_SECRET",
    "",
    "Shared secret that signs the provider's webhooks (HMAC-SHA256); unsigned or wrongly "
    "signed webhooks are refused.",
    group="Payments",
    secret=True,
)
PAYMENT_ONLINE_LIMIT_YEN = setting(
    "CITYHALL_PAYMENT_ONLINE_LIMIT_YEN",
    "30000",
    "Largest amount a resident may pay by card or wallet online (small fees).",
    cast=int,
    group="Payments",
)
if PRODUCTION and PAYMENT_PROVIDER == "sandbox":
    raise ConfigurationError("CITYHALL_PAYMENT_PROVIDER=sandbox is for demos and tests only")
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- inquiries (FAQ, chat, tickets, bookings) ------------------------------------------

FAQ_SYNONYMS = setting(
    "CITYHALL_FAQ_SYNONYMS",
    str(BASE_DIR / "inquiries" / "search" / "data" / "synonyms.txt"),
    "Sudachi synonym dictionary used to expand search words (Apache-2.0; a copy ships "
    "with cityhall). Empty: no expansion.",
    group="Inquiries",
    shown_default="the copy shipped in cityhall/inquiries/search/data/synonyms.txt",
)
FAQ_CLARIFY_MARGIN = setting(
    "CITYHALL_FAQ_CLARIFY_MARGIN",
    "0.12",
    "The chat asks the resident to choose when the second answer scores within this share "
    "of the first (0.12 = within 12 %).",
    cast=float,
    group="Inquiries",
)
FAQ_MIN_SCORE = setting(
    "CITYHALL_FAQ_MIN_SCORE",
    "40",
    "Below this search score an FAQ entry is not offered as an answer (the chat says it "
    "found nothing and offers a person). 40 is calibrated on bench/data/faq_eval.csv and the "
    "city's 372 entries: it drops under 1 % of right first answers and keeps off-topic "
    "questions out; bench/faq_quality.py prints the figures to recalibrate for another FAQ.",
    cast=float,
    group="Inquiries",
)
LLM_URL = setting(
    "CITYHALL_LLM_URL",
    "",
    "Base URL of an OpenAI-compatible API (…/v1) for generated chat answers, grounded on the "
    "FAQ entries found and citing them. Empty (default): no generated answers.",
    group="Inquiries",
)
LLM_API_KEY = setting(
    "CITYHALL_LLM_API_KEY",
    "",
    "Bearer key for CITYHALL_LLM_URL.",
    group="Inquiries",
    secret=True,
)
LLM_MODEL = setting(
    "CITYHALL_LLM_MODEL",
    "",
    "Model name sent to CITYHALL_LLM_URL.",
    group="Inquiries",
)
LLM_TIMEOUT = setting(
    "CITYHALL_LLM_TIMEOUT",
    "15",
    "Seconds to wait for a generated answer before showing the FAQ answers alone.",
    cast=float,
    group="Inquiries",
)
INQUIRIES_TRIAGE_DEPARTMENT = setting(
    "CITYHALL_INQUIRIES_TRIAGE_DEPARTMENT",
    "koho-kocho",
    "Department code (広報広聴課) whose staff work the triage queue: inquiries the rules "
    "and the classifier could not route with confidence.",
    group="Inquiries",
)
INQUIRIES_ROUTING_THRESHOLD = setting(
    "CITYHALL_INQUIRIES_ROUTING_THRESHOLD",
    "0.6",
    "Confidence (0–1) the classifier needs to route an inquiry to a department by itself; "
    "below it the inquiry goes to the triage queue.",
    cast=float,
    group="Inquiries",
)
INQUIRIES_SLA_DAYS = setting(
    "CITYHALL_INQUIRIES_SLA_DAYS",
    "3",
    "Working days within which an inquiry gets its first answer (shown as overdue after).",
    cast=int,
    group="Inquiries",
)
INQUIRIES_CONTACT_RATE = setting(
    "CITYHALL_INQUIRIES_CONTACT_RATE",
    "10/h",
    "Inquiries one client (IP address) may send through the contact form.",
    group="Inquiries",
)
INQUIRIES_EMAIL_ADDRESS = setting(
    "CITYHALL_INQUIRIES_EMAIL_ADDRESS",
    "",
    "The inbound address residents write to (shown on the contact page; replies come from "
    "it). Empty: the e-mail channel is not advertised.",
    group="Inquiries",
)
INQUIRIES_IMAP_URL = setting(
    "CITYHALL_INQUIRIES_IMAP_URL",
    "",
    "Mailbox read by `cityhall fetch-inquiries`: imap://user:password@host:port/INBOX or "
    "imaps://… (TLS). Empty: mail is piped in with `cityhall receive-inquiry` instead.",
    group="Inquiries",
    secret=True,
)
BOOKING_REMINDER_HOURS = setting(
    "CITYHALL_BOOKING_REMINDER_HOURS",
    "24",
    "Hours before a booking its reminder is sent (with the .ics file again).",
    cast=int,
    group="Inquiries",
)
BOOKING_DAYS_AHEAD = setting(
    "CITYHALL_BOOKING_DAYS_AHEAD",
    "60",
    "How many days ahead residents may book.",
    cast=int,
    group="Inquiries",
)

# --- notices (news, messages, alerts) ---------------------------------------------------

NOTICES_DEPARTMENT = setting(
    "CITYHALL_NOTICES_DEPARTMENT",
    "koho-kocho",
    "Department code (広報広聴課) whose staff write articles, build segments and send messages.",
    group="Notices",
)
NOTICES_ALERT_DEPARTMENT = setting(
    "CITYHALL_NOTICES_ALERT_DEPARTMENT",
    "bosai",
    "Department code (危機管理課) whose staff send emergency alerts (administrators can too).",
    group="Notices",
)
NOTICES_BATCH = setting(
    "CITYHALL_NOTICES_BATCH",
    "200",
    "Deliveries a worker takes at a time.",
    cast=int,
    group="Notices",
)
NOTICES_MAX_ATTEMPTS = setting(
    "CITYHALL_NOTICES_MAX_ATTEMPTS",
    "5",
    "Tries per delivery before it is marked failed (back-off doubles from the base below).",
    cast=int,
    group="Notices",
)
NOTICES_RETRY_SECONDS = setting(
    "CITYHALL_NOTICES_RETRY_SECONDS",
    "30",
    "Wait before the first retry of a delivery that failed for a passing reason.",
    cast=int,
    group="Notices",
)
NOTICES_CLAIM_TIMEOUT = setting(
    "CITYHALL_NOTICES_CLAIM_TIMEOUT",
    "300",
    "Seconds after which deliveries taken by a worker that stopped are looked at again: "
    "never-tried ones are queued again, ones whose sending had begun are marked 'outcome "
    "unknown' (never sent twice) unless the channel is idempotent (LINE, inbox).",
    cast=int,
    group="Notices",
)
NOTICES_RETENTION_DAYS = setting(
    "CITYHALL_NOTICES_RETENTION_DAYS",
    "90",
    "Days delivery records are kept after a message is done (counts stay on the message); "
    "`cityhall purge_notices` deletes older ones.",
    cast=int,
    group="Notices",
)
NOTICES_INBOX_RETENTION_DAYS = setting(
    "CITYHALL_NOTICES_INBOX_RETENTION_DAYS",
    "730",
    "Days items stay in residents' in-app inboxes.",
    cast=int,
    group="Notices",
)
NOTICES_PROVIDER_COOLDOWN = setting(
    "CITYHALL_NOTICES_PROVIDER_COOLDOWN",
    "60",
    "Seconds a provider that failed is passed over in favour of the next one (failover).",
    cast=int,
    group="Notices",
)
NOTICES_EMAIL_RATE = setting(
    "CITYHALL_NOTICES_EMAIL_RATE",
    "0",
    "E-mails per second per worker (0: no limit; your relay's limit decides).",
    cast=float,
    group="Notices",
)
NOTICES_EMAIL_FALLBACK = setting(
    "CITYHALL_NOTICES_EMAIL_FALLBACK",
    "",
    "A second SMTP server, `host:port`, used while the first one fails (failover).",
    group="Notices",
)
LINE_API_URL = setting(
    "CITYHALL_LINE_API_URL",
    "https://api.line.me",
    "LINE Messaging API base URL.",
    group="LINE",
)
LINE_CHANNEL_ACCESS_TOKEN = setting(
    "CITYHALL_LINE_CHANNEL_ACCESS_TOKEN",
    "",
    "Messaging API channel access token (empty: the LINE channel is off).",
    group="LINE",
    secret=True,
)
LINE_CHANNEL_SECRET = setting(
    "CITYHALL_LINE_CHANNEL_SECRET",
    "",
    "Messaging API channel secret: verifies the webhook's x-line-signature.",
    group="LINE",
    secret=True,
)
LINE_RATE = setting(
    "CITYHALL_LINE_RATE",
    "100",
    "LINE API requests per second per worker (LINE allows 2,000/s for push, 200/s for multicast).",
    cast=float,
    group="LINE",
)
LINE_LOGIN_CHANNEL_ID = setting(
    "CITYHALL_LINE_LOGIN_CHANNEL_ID",
    "",
    "LINE Login channel id, for linking a resident's LINE account (empty: linking is off).",
    group="LINE",
)
LINE_LOGIN_CHANNEL_SECRET = setting(
    "CITYHALL_LINE_LOGIN_CHANNEL_SECRET",
    "",
    "LINE Login channel secret.",
    group="LINE",
    secret=True,
)
LINE_LOGIN_AUTHORIZE_URL = setting(
    "CITYHALL_LINE_LOGIN_AUTHORIZE_URL",
    "https://access.line.me/oauth2/v2.1/authorize",
    "LINE Login authorization endpoint.",
    group="LINE",
)
LINE_LOGIN_API_URL = setting(
    "CITYHALL_LINE_LOGIN_API_URL",
    "https://api.line.me",
    "LINE Login API base URL (token and profile endpoints).",
    group="LINE",
)
VAPID_PRIVATE_KEY = setting(
    "CITYHALL_VAPID_PRIVATE_KEY",
    "",
    "Web Push VAPID private key (P-256, base64url of the 32-byte scalar; `cityhall "
    "generate_vapid_key` makes one). Unset: derived from the secret key outside production; "
    "web push is off in production.",
    group="Web Push",
    secret=True,
)
VAPID_SUBJECT = setting(
    "CITYHALL_VAPID_SUBJECT",
    "mailto:webmaster@city.iga.example",
    "Contact the push services can reach (mailto: or https: URL).",
    group="Web Push",
)

# --- languages ---------------------------------------------------------------------

LANGUAGE_CODE = "ja"
LANGUAGES = [
    ("ja", "日本語"),
    ("ja-easy", "やさしい日本語"),
    ("pt-br", "Português"),
    ("vi", "Tiếng Việt"),
    ("zh-hans", "中文(简体)"),
    ("es", "Español"),
    ("en", "English"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "cityhall_lang"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = PRODUCTION
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Tokyo"

# --- static files --------------------------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded files (photos of documents, signatures) are private: there is no MEDIA_URL,
# they are served only through views that check who asks and write the audit log.
MEDIA_ROOT = DATA_DIR / "media"
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_MAX_AGE = 3600

# --- API ------------------------------------------------------------------------------

NINJA_PAGINATION_PER_PAGE = 50
API_RATE = setting(
    "CITYHALL_API_RATE",
    "120/m",
    "Requests per minute one address may make to the public JSON API.",
    group="Security",
)

# --- logging ----------------------------------------------------------------------------

LOG_LEVEL = setting(
    "CITYHALL_LOG_LEVEL", "INFO", "Log level: DEBUG, INFO, WARNING, ERROR.", group="Logging"
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"axes": {"level": "WARNING"}, "django.request": {"level": "ERROR"}},
}

CSRF_FAILURE_VIEW = "cityhall.core.views.csrf_failure"
