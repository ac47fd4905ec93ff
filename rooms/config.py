"""Every setting of the app: its unit, its default, and how the environment gives it
(README, Configuration). Tests override them through create_app(config)."""
import os
import secrets
from datetime import timedelta

# The checkout: the default instance folder and assets root (node_modules) live here.
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Every config key, its unit and default.
DEFAULTS = {
    "INSTANCE_PATH": os.path.join(HERE, "instance"),  # folder for the database and secret key
    "DATABASE": None,                 # SQLite file path; default INSTANCE_PATH/playroom.sqlite3
    "REDIS_URL": None,                # redis://host:port/db: keep all data in Redis instead of
                                      # SQLite, and use it as the Socket.IO message queue (env REDIS_URL)
    "MESSAGE_QUEUE": None,            # Socket.IO message queue URL for several processes; None: REDIS_URL
                                      # when set, else none (one process); False: never a queue
    "MESSAGE_QUEUE_CHANNEL": "playroom",  # pub/sub channel; Redis pub/sub ignores the db number, so two
                                      # deployments on one redis-server need different channels
    "SECRET_KEY": None,               # default: generated once into INSTANCE_PATH/secret_key
    "DATA_KEY": None,                 # base64 AES-256 key for encryption at rest (PLAYROOM_DATA_KEY)
    "DATA_KEY_FILE": None,            # keyring file; default INSTANCE_PATH/data.key, made at first
                                      # start, mode 0600 (PLAYROOM_DATA_KEY_FILE; rooms/store/crypto.py)
    "ASYNC_MODE": "threading",        # eventlet | gevent | threading (the entry point passes its own)
    "INVITE_TTL_DAYS": 30,            # days an invite link stays valid
    "SNAPSHOT_EVERY": 200,            # ops between room snapshots
    "ASSETS_ROOT": HERE,              # folder holding node_modules (pictures, browser modules)
    "SESSION_COOKIE_SECURE": False,   # set True when served over HTTPS (PLAYROOM_SECURE_COOKIES=1)
    "BEHIND_PROXY": False,            # trust one reverse proxy's X-Forwarded-For/-Proto/-Host, so links
                                      # and origin checks use the public https URL (PLAYROOM_BEHIND_PROXY=1)
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": timedelta(days=30),
    "WTF_CSRF_TIME_LIMIT": None,      # tokens live as long as the session
    "INACTIVITY_MINUTES": 30,         # a therapist is signed out after this long without a request (0: never)
    "LOGIN_MAX_FAILURES": 5,          # failed sign-ins per account within LOGIN_WINDOW_MINUTES before back-off (AUTH6)
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,  # the same per client address (a clinic may share one)
    "LOGIN_WINDOW_MINUTES": 15,       # minutes failed sign-ins are counted for
    "LOGIN_BACKOFF_SECONDS": 30,      # first wait over a sign-in limit, doubling per failure (AUTH6)
    # Accounts (issue 15, rooms/web/account_pages.py)
    "OPEN_SIGNUP": False,             # anyone may create a therapist account (PLAYROOM_OPEN_SIGNUP=1)
    "REQUIRE_2FA": False,             # every therapist must use two-step sign-in (PLAYROOM_REQUIRE_2FA=1)
    "PASSWORD_MIN_SCORE": 3,          # zxcvbn score (0-4) a new password needs (AUTH8)
    "RESET_LINK_MINUTES": 60,         # a password reset link works this long (and once, AUTH9)
    "THERAPIST_INVITE_DAYS": 7,       # an invitation to create an account works this long (AUTH10)
    "SMTP_HOST": None,                # mail server for reset links and invitations; None: no mail
    "SMTP_PORT": 587,
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_SECURITY": "starttls",      # starttls | ssl | none
    "MAIL_FROM": "playroom@localhost",
    "PUBLIC_URL": "http://127.0.0.1:5000",  # where links printed by CLI commands point
    "SESSION_IDLE_MINUTES": 60,       # an open session nobody has been in for this long ends by itself
    # The therapist's crisis card (issue 15 part 7, rooms/web/safety.py): one line each
    # (PLAYROOM_CRISIS_LINES; a newline or "|" separates lines given in the environment).
    "CRISIS_LINES": "988 Suicide & Crisis Lifeline — call or text 988 (US)\n"
                    "Emergency services — call 911 (US)",
    "RETENTION_INTERVAL_MINUTES": 60,  # minutes between runs of the record retention task (0: never)
}


# Settings the environment gives as text (PLAYROOM_<KEY>); whole numbers are parsed below.
TEXT_ENV = ("SMTP_HOST", "SMTP_USER", "SMTP_PASSWORD", "SMTP_SECURITY", "MAIL_FROM", "PUBLIC_URL",
            "DATA_KEY", "DATA_KEY_FILE", "CRISIS_LINES")


def message_queue(config):
    """SocketIO arguments for the message queue that lets several processes share
    rooms (broadcasts reach the sockets of every process): the Redis of REDIS_URL
    unless MESSAGE_QUEUE says otherwise. python-socketio's Redis manager needs a
    monkey-patched socket module under eventlet and gevent; the entry point patches
    before any import (threading needs nothing). No queue: {} (one process)."""
    url = config.get("MESSAGE_QUEUE")
    if url is None:
        url = config.get("REDIS_URL")
    if not url:
        return {}
    return {"message_queue": url, "channel": config["MESSAGE_QUEUE_CHANNEL"]}


def secret_key(instance):
    """The app's secret key: generated once into the instance folder (mode 0600)."""
    path = os.path.join(instance, "secret_key")
    if not os.path.exists(path):
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(secrets.token_hex(32))
    with open(path) as f:
        return f.read().strip()


def env_config():
    """The settings the environment gives (README, Configuration), without ASYNC_MODE."""
    config = {}
    if os.environ.get("PLAYROOM_INSTANCE"):
        config["INSTANCE_PATH"] = os.environ["PLAYROOM_INSTANCE"]
    if os.environ.get("REDIS_URL"):
        config["REDIS_URL"] = os.environ["REDIS_URL"]
    if os.environ.get("PLAYROOM_SECURE_COOKIES") == "1":
        config["SESSION_COOKIE_SECURE"] = config["REMEMBER_COOKIE_SECURE"] = True
    if os.environ.get("PLAYROOM_BEHIND_PROXY") == "1":
        config["BEHIND_PROXY"] = True
    for flag in ("OPEN_SIGNUP", "REQUIRE_2FA"):
        if os.environ.get(f"PLAYROOM_{flag}") == "1":
            config[flag] = True
    for key in TEXT_ENV:
        if os.environ.get(f"PLAYROOM_{key}") is not None:
            config[key] = os.environ[f"PLAYROOM_{key}"]
    # Every whole-number setting can be given as PLAYROOM_<KEY>, e.g.
    # PLAYROOM_INACTIVITY_MINUTES=45 or PLAYROOM_SESSION_IDLE_MINUTES=90.
    for key, default in DEFAULTS.items():
        raw = os.environ.get(f"PLAYROOM_{key}")
        if raw is not None and isinstance(default, int) and not isinstance(default, bool):
            try:
                config[key] = int(raw)
            except ValueError:
                raise SystemExit(f"PLAYROOM_{key} must be a whole number, not {raw!r}")
    return config
