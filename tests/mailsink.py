"""A real SMTP server on a free loopback port that keeps what it receives (aiosmtpd),
for the tests of mails: password reset links and therapist invitations (AUTH9, AUTH10).
Use the `smtp_sink` fixture: (sink, port); `sink.messages` are parsed email messages."""
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from tests.support import free_port


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"


@pytest.fixture
def smtp_sink():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()
