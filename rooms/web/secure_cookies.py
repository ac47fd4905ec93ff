"""Cookies marked `Secure` by themselves when the request came over HTTPS (issue 15).

`PLAYROOM_SECURE_COOKIES=1` still forces the flag, but a deployment that forgot it
behind an HTTPS proxy would send the session cookie (a therapist's sign-in, a guest's
room) without it, so a single plain-HTTP request could leak it. Behind the proxy
(`PLAYROOM_BEHIND_PROXY=1`) ProxyFix turns `X-Forwarded-Proto: https` into the
request's scheme, and this session interface marks the cookie `Secure` whenever that
scheme is https. Without BEHIND_PROXY the header is ignored (nothing to spoof: it
could only add the flag).
"""
from flask import has_request_context, request
from flask.sessions import SecureCookieSessionInterface


class AutoSecureSessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app):
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)
