"""Failed sign-ins slow the guesser down without locking the owner out (AUTH6).

Failures are counted in storage (every process sees them) under three keys:
`ip:<address>`, `email:<email>` and `pair:<address> <email>`. Over its limit within
LOGIN_WINDOW_MINUTES a key imposes a back-off: LOGIN_BACKOFF_SECONDS after the
latest failure, doubling with every further failure, at most the window. While a
back-off holds, the attempt is answered HTTP 429 with Retry-After and the password
is not checked (nor counted).

- An address over LOGIN_MAX_FAILURES_PER_ADDRESS waits, whatever email it tries.
- An account over LOGIN_MAX_FAILURES holds back only the addresses that have failed
  on it in the window; an address that has not (the owner's own device elsewhere) is
  checked as usual, so a guesser cannot lock the owner out. A wrong password from
  such an address makes it one that has failed.
- A successful sign-in clears the account's and that address's pair count.

Back-off is computed from the stored failure times alone: with n failures in the
window and limit L, the wait is base·2^(n−L), and it holds while any failure lies
within that wait.
"""
import math
import time

from flask import current_app

from rooms.web.i18n import translator


def _cfg(key):
    return current_app.config[key]


def keys(address, email=None):
    """[(key, limit, applies)] for an attempt; `applies` says whether the key can hold
    this attempt back."""
    out = [(f"ip:{address}", _cfg("LOGIN_MAX_FAILURES_PER_ADDRESS"), True)]
    if email is not None:
        pair = f"pair:{address} {email}"
        out.append((f"email:{email}", _cfg("LOGIN_MAX_FAILURES"), None))
        out.append((pair, _cfg("LOGIN_MAX_FAILURES"), True))
    return out


def wait_seconds(storage, address, email=None, now=None):
    """Seconds this attempt must still wait (0: check the password)."""
    now = time.time() if now is None else now
    window = _cfg("LOGIN_WINDOW_MINUTES") * 60
    attempt = keys(address, email)
    waits = [_wait(storage, k, limit, now, window) for k, limit, applies in attempt if applies]
    if email is not None:
        pair = attempt[2][0]
        account_wait = _wait(storage, attempt[1][0], attempt[1][1], now, window)
        if account_wait and storage.count_login_failures(pair, now - window):
            waits.append(account_wait)
    return max(waits, default=0)


def _wait(storage, key, limit, now, window):
    n = storage.count_login_failures(key, now - window)
    if n < limit:
        return 0
    backoff = min(_cfg("LOGIN_BACKOFF_SECONDS") * 2 ** min(n - limit, 30), window)
    if storage.count_login_failures(key, now - backoff) == 0:
        return 0
    return math.ceil(backoff)


def failed(storage, address, email=None):
    for key, _, _ in keys(address, email):
        storage.add_login_failure(key)


def succeeded(storage, address, email):
    storage.clear_login_failures(f"email:{email}")
    storage.clear_login_failures(f"pair:{address} {email}")


def message(seconds):
    """What the sign-in form says, in the reader's language (issue 16)."""
    tr = translator()
    if seconds < 120:
        return tr.ngettext("Too many sign-in attempts. For your safety, please wait {n} second "
                           "and try again.",
                           "Too many sign-in attempts. For your safety, please wait {n} seconds "
                           "and try again.", seconds)
    return tr.ngettext("Too many sign-in attempts. For your safety, please wait {n} minute "
                       "and try again.",
                       "Too many sign-in attempts. For your safety, please wait {n} minutes "
                       "and try again.", math.ceil(seconds / 60))
