"""Record retention: each therapist chooses to keep session records for N days or
forever; records that ended longer ago than that are deleted — and nothing else.

Run by `flask --app app retention` and by a background task every
RETENTION_INTERVAL_MINUTES (app.py). Every deletion is written to the therapist's
audit log.
"""
import logging
import time

from rooms.store import audit_store

log = logging.getLogger("playroom.retention")

# What the settings page offers (days); None keeps records until deleted by hand.
CHOICES = (None, 7, 30, 90, 180, 365, 730, 2555)
MAX_DAYS = 3650


def apply_retention(storage, now=None):
    """Delete every record older than its therapist's setting. Returns how many."""
    now = time.time() if now is None else now
    deleted = 0
    for therapist_id, days in storage.retention_settings():
        if days is None or days < 1:
            continue
        for record_id in storage.records_ended_before(therapist_id, now - days * 86400):
            if storage.delete_record(record_id):
                deleted += 1
                storage.add_audit(therapist_id, "retention",
                                  f"Deleted automatically: older than {days} days",
                                  record_id=record_id)
                storage.append_security_event(audit_store.event(      # AUDIT1
                    "record-delete", f"record {record_id}: older than {days} days",
                    actor="system", therapist_id=therapist_id))
    if deleted:
        log.info("retention: deleted %d session record(s)", deleted)
    return deleted


def retention_loop(storage, sleep, interval_s, first_delay_s=60):
    """The periodic task: run once shortly after start, then every `interval_s`.
    `sleep` is the async mode's (socketio.sleep), so this never blocks a server.
    A failing run is logged and retried next time; the loop never ends the server."""
    sleep(min(first_delay_s, interval_s))
    while True:
        try:
            apply_retention(storage)
        except Exception:
            log.exception("retention run failed; retrying in %d s", interval_s)
        sleep(interval_s)
