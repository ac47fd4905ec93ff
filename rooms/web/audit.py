"""Writing and checking the security audit log (AUDIT1–AUDIT3).

`record(kind, target)` is the one call each security event makes (sign-in, password,
two-step, rooms, invites, records, exports): it works out who did it (the signed-in
therapist, "anonymous" on a failed sign-in, "cli" for a `flask` command) and from which
address, and appends a row to the hash chain (rooms/store/audit_store.py). The chain
lives in the store, so every process appends to the same one.

`flask --app app verify-audit` walks the chain and exits 1 naming the first broken row.
"""
import sys

import click
from flask import current_app, has_request_context, request
from flask_login import current_user

from rooms.store import audit_store

# What each kind means on the page (and in SECURITY.md's audit controls row).
LABELS = {
    "sign-in": "Signed in",
    "sign-in-failed": "Failed sign-in",
    "sign-out": "Signed out everywhere",
    "sign-in-ended": "A sign-in was ended",
    "sign-ins-ended": "Other sign-ins were ended",
    "password-changed": "Password changed",
    "password-reset": "Password reset by link",
    "password-reset-link": "Password reset link made (command line)",
    "two-step-on": "Two-step sign-in turned on",
    "two-step-off": "Two-step sign-in turned off",
    "recovery-codes-new": "New recovery codes",
    "recovery-code-used": "Signed in with a recovery code",
    "room-created": "Room created",
    "room-deleted": "Room deleted",
    "invite-new": "New invite link",
    "invite-revoked": "Invite link switched off",
    "therapist-invited": "Therapist invited",
    "therapist-created": "Therapist account created",
    "record-view": "Session record viewed",
    "record-export": "Session record exported",
    "record-delete": "Session record deleted",
    "export-data": "All data exported (command line)",
    "import-data": "Data imported (command line)",
}


ACTORS = {"anonymous": "Not signed in", "cli": "Command line", "system": "Playroom"}


def actor_label(storage, me):
    """actor -> what the page says: "You", another therapist's email, or ACTORS."""
    def label(actor):
        if actor == f"therapist:{me}":
            return "You"
        if actor.startswith("therapist:"):
            rec = storage.get_therapist(int(actor.split(":", 1)[1]))
            return rec["email"] if rec else actor
        return ACTORS.get(actor, actor)
    return label


def _storage():
    return current_app.extensions["playroom"].storage


def _actor():
    if not has_request_context():
        return "cli"
    if current_user and current_user.is_authenticated and hasattr(current_user, "email"):
        return f"therapist:{current_user.id}"
    return "anonymous"


def record(kind, target="", therapist_id=None, actor=None, storage=None):
    """Append one security event. `therapist_id`: whose log shows it (default: the
    signed-in therapist's)."""
    actor = actor or _actor()
    if therapist_id is None and actor.startswith("therapist:"):
        therapist_id = int(actor.split(":", 1)[1])
    address = request.remote_addr if has_request_context() else None
    ev = audit_store.event(kind, target, actor=actor, address=address, therapist_id=therapist_id)
    return (storage or _storage()).append_security_event(ev)


def verify(storage):
    """(rows, None) when the whole chain holds, else (first broken seq, why)."""
    return audit_store.verify(storage.security_chain())


def init_app(app):
    @app.cli.command("verify-audit")
    def verify_audit():
        """Check the security audit log's hash chain (AUDIT2); exit 1 at the first broken row."""
        storage = app.extensions["playroom"].storage
        rows = storage.security_chain()
        where, why = audit_store.verify(rows)
        if why:
            click.echo(f"BROKEN at row {where}: {why}", err=True)
            sys.exit(1)
        last = rows[-1]["hash"] if rows else audit_store.GENESIS
        click.echo(f"OK: {where} rows, the chain holds. Last hash {last}")
