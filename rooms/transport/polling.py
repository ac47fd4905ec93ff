"""Long-polling requests for a session the server has just closed (WIRE2).

python-engineio forgets a closed session only at that session's next GET or at its
periodic sweep. In between, its POST branch looks the session up with `_get_socket`
outside any `try`, which raises `KeyError('Session is disconnected')` for a closed
one: a request from a client the server had just sent away (RATE3) or whose
session a bad packet ended came out of the WSGI server as a traceback and an HTTP
500 (threading mode made the window wide: requests run in parallel with the
close). Such a request is answered as engine.io answers one for an unknown
session: 400 Bad Request.
"""
import inspect

# What python-engineio 4.x's BaseServer._get_socket raises (pyproject.toml pins it).
_GONE = ("Session is disconnected", "Session not found")


def check_patchable(server_class):
    """Fail at start-up if `_get_socket` no longer raises the KeyErrors answered here."""
    source = inspect.getsource(server_class._get_socket)
    missing = [text for text in _GONE if f"KeyError('{text}')" not in source]
    if missing:
        raise RuntimeError(f"python-engineio's _get_socket changed: no KeyError {missing}")


def answer_closed_sessions(eio_server):
    """Wrap this engine.io server's `handle_request` (idempotent): a request whose
    session is closed or gone gets 400, whatever the async mode and timing."""
    check_patchable(type(eio_server))
    handle = eio_server.handle_request
    if getattr(handle, "answers_closed", False):
        return

    def handle_request(environ, start_response):
        try:
            return handle(environ, start_response)
        except KeyError as e:
            if e.args[:1] not in tuple((text,) for text in _GONE):
                raise                   # someone else's KeyError: a bug, not this
            eio_server.logger.info("request for a closed session: %s", e.args[0])
            r = eio_server._bad_request(f"{e.args[0]}")
            start_response(r["status"], r["headers"] + eio_server._cors_headers(environ))
            return [r["response"]]

    handle_request.answers_closed = True
    eio_server.handle_request = handle_request
