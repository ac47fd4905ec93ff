"""Playroom: app factory and server entry point.

`python app.py` serves on HOST:PORT (default 127.0.0.1:5000) with the async mode
from PLAYROOM_ASYNC_MODE (default gevent, chosen by bench/: README "Performance").
Only this entry point monkey-patches eventlet/gevent, and only it runs the servers
of rooms/transport/server.py, which import them; everything else uses Flask-SocketIO's
`start_background_task`/`sleep`, so the mode is a config switch. The settings are in
rooms/config.py, the services in rooms/playroom.py (docs/ARCHITECTURE.md).
"""
import os
import sys

DEFAULT_ASYNC_MODE = "gevent"

if __name__ == "__main__":  # monkey-patching must precede every other import
    _MODE = os.environ.get("PLAYROOM_ASYNC_MODE", DEFAULT_ASYNC_MODE)
    if _MODE == "eventlet":
        import warnings
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        import eventlet
        eventlet.monkey_patch()
        from rooms.transport.server import fast_eventlet_unmask
        fast_eventlet_unmask()
    elif _MODE == "gevent":
        import gevent
        # Greenlets need not remember who spawned them (a debugging aid that keeps
        # the spawning call stack: ~2.5 KiB for each socket's two tasks, bench/ idle).
        gevent.config.track_greenlet_tree = False
        from gevent import monkey
        monkey.patch_all()

import logging
import secrets
import time

from flask import Flask, g
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

from activities.contract.protocol import LIMITS
from activities.registry import build_registry
from rooms.core import fastjson
from rooms.config import DEFAULTS, env_config, message_queue, secret_key  # noqa: F401 (app.env_config, app.message_queue: tests)
from rooms.playroom import Playroom
from rooms.store import rekey, transfer
from rooms.transport.server import few_malloc_arenas, serve, tune_gc
from rooms.web import account_pages, accounts
from rooms.web import i18n
from rooms.web import pages as web
from rooms.web import records as records_web
from rooms.web import safety as safety_web
from rooms.web import home as home_web
from rooms.web import uploads as uploads_web


def create_app(config=None):
    """The app. Without `config` (as `flask --app app <command>` calls it) the settings
    come from the environment, with no message queue (a command serves no sockets)."""
    if config is None:
        config = {**env_config(), "MESSAGE_QUEUE": False}
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update(config)
    instance = app.config["INSTANCE_PATH"]
    os.makedirs(instance, exist_ok=True)
    app.config["DATABASE"] = app.config["DATABASE"] or os.path.join(instance, "playroom.sqlite3")
    app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or secret_key(instance)

    CSRFProtect(app)
    accounts.login_manager.init_app(app)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(uploads_web.bp)      # therapists' pictures (issue 6)
    app.register_blueprint(safety_web.bp)       # the crisis card, therapist only (SAFE2)
    app.register_blueprint(home_web.bp)         # home practice between sessions (issue 17)

    # async_handlers=False: each client's events are handled in order on that
    # client's own reader task (other clients are not blocked), so one socket's
    # ops can never overtake each other, and no task is spawned per message.
    socketio = SocketIO(app, async_mode=app.config["ASYNC_MODE"],
                        max_http_buffer_size=LIMITS["packet_bytes"],
                        ping_interval=10, ping_timeout=10, async_handlers=False,
                        manage_session=False, json=fastjson, **message_queue(app.config))
    # The one place the activities are chosen: rooms/ sees them only through the
    # contract's Registry (docs/ARCHITECTURE.md).
    app.extensions["playroom"] = Playroom(app, socketio, build_registry())
    i18n.init_app(app)                # a language per person: catalogs, Jinja i18n (issue 16)
    records_web.init_app(app, socketio)   # session records, retention (issue 7)
    account_pages.init_app(app)       # sign-up, passwords, sign-ins, two-step (issue 15)
    transfer.register_cli(app)        # flask export-data / import-data (moving between stores)
    rekey.register_cli(app)           # flask rotate-key (encryption at rest, issue 15)
    if app.config["BEHIND_PROXY"]:
        # Outside Socket.IO's middleware, so its same-origin check sees the public URL too.
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    @app.template_filter("datetimeformat")
    def _datetimeformat(ts):
        return time.strftime("%d %b %Y", time.localtime(ts))

    @app.before_request
    def _nonce():
        g.csp_nonce = secrets.token_urlsafe(16)

    @app.context_processor
    def _inject():
        return {"csp_nonce": g.get("csp_nonce", "")}

    @app.after_request
    def _headers(resp):
        # No page may load anything from another host (SAFE1).
        resp.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
            f"script-src 'self' 'nonce-{g.get('csp_nonce', '')}'; connect-src 'self'; "
            "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'; "
            "form-action 'self'")
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp

    return app


def main():
    mode = os.environ.get("PLAYROOM_ASYNC_MODE", DEFAULT_ASYNC_MODE)
    logging.basicConfig(level=os.environ.get("PLAYROOM_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    few_malloc_arenas()
    app = create_app({"ASYNC_MODE": mode, **env_config()})
    account_pages.first_run_hint(app)
    tune_gc()
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    print(f"Playroom serving on http://{host}:{port} ({mode})", flush=True)
    serve(app, host, port, mode)


if __name__ == "__main__":
    sys.exit(main())
