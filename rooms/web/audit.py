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

from activities.contract.i18n import N_
from rooms.store import audit_store
from rooms.web.i18n import translator

# What each kind means on the page (and in SECURITY.md's audit controls row); marked for
# the catalog, translated where the page shows them (templates/account_audit.html).
LABELS = {
    "sign-in": N_("Signed in"),
    "sign-in-failed": N_("Failed sign-in"),
    "sign-out": N_("Signed out everywhere"),
    "sign-in-ended": N_("A sign-in was ended"),
    "sign-ins-ended": N_("Other sign-ins were ended"),
    "password-changed": N_("Password changed"),
    "password-reset": N_("Password reset by link"),
    "password-reset-link": N_("Password reset link made (command line)"),
    "two-step-on": N_("Two-step sign-in turned on"),
    "two-step-off": N_("Two-step sign-in turned off"),
    "recovery-codes-new": N_("New recovery codes"),
    "recovery-code-used": N_("Signed in with a recovery code"),
    "room-created": N_("Room created"),
    "room-deleted": N_("Room deleted"),
    "invite-new": N_("New invite link"),
    "invite-revoked": N_("Invite link switched off"),
    "home-pack": N_("Home pack sent"),
    "therapist-invited": N_("Therapist invited"),
    "therapist-created": N_("Therapist account created"),
    "record-view": N_("Session record viewed"),
    "record-export": N_("Session record exported"),
    "record-delete": N_("Session record deleted"),
    "export-data": N_("All data exported (command line)"),
    "import-data": N_("Data imported (command line)"),
}


ACTORS = {"anonymous": N_("Not signed in"), "cli": N_("Command line"), "system": "Playroom"}


def actor_label(storage, me):
    """actor -> what the page says: "You", another therapist's email, or ACTORS."""
    def label(actor):
        tr = translator()
        if actor == f"therapist:{me}":
            return tr.gettext("You")
        if actor.startswith("therapist:"):
            rec = storage.get_therapist(int(actor.split(":", 1)[1]))
            return rec["email"] if rec else actor
        return tr.gettext(ACTORS[actor]) if actor in ACTORS else actor
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
