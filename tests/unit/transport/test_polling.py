"""The start-up check guarding rooms/polling.py's answer to requests for a closed
long-polling session (WIRE2; the behaviour itself: tests/integration/test_polling.py)."""
import engineio
import pytest

from rooms.transport import polling


def test_WIRE2_the_installed_engineio_raises_what_the_closed_session_answer_catches():
    polling.check_patchable(engineio.Server)        # what start-up runs


def test_WIRE2_start_up_refuses_an_engineio_whose_session_lookup_changed():
    class Server:
        def _get_socket(self, sid):
            raise LookupError(sid)
    with pytest.raises(RuntimeError, match="_get_socket changed"):
        polling.check_patchable(Server)
    with pytest.raises(RuntimeError):
        polling.answer_closed_sessions(Server())


def test_WIRE2_only_the_lookup_errors_of_a_closed_session_become_400():
    """Another KeyError is a bug and stays one (raised, so it is logged)."""
    server = engineio.Server(async_mode="threading")
    answers = []

    def failing(environ, start_response):
        raise KeyError(environ["what"])
    server.handle_request = failing
    polling.answer_closed_sessions(server)
    body = server.handle_request({"what": "Session is disconnected", "REQUEST_METHOD": "POST"},
                                 lambda status, headers: answers.append(status))
    assert answers == ["400 BAD REQUEST"] and b"Session is disconnected" in body[0]
    with pytest.raises(KeyError):
        server.handle_request({"what": "x", "REQUEST_METHOD": "POST"}, lambda status, headers: None)
