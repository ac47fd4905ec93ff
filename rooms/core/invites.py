"""Invite links: unguessable, stored hashed, bound to a role, expiring, revocable.

A token is 192 random bits (token_urlsafe(24)); only its SHA-256 is stored, so a
database leak does not hand out working links — which also means a link can be
shown only when it is made. "New link" revokes the old one and makes another.
"""
import hashlib
import secrets
import time

from activities.contract.protocol import GUEST_ROLES, HOME, LIMITS

TOKEN_BYTES = 24


def hash_token(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(storage, room_id, role, ttl_seconds):
    """Revoke the room's active invites for `role` and make a new one.
    Returns (token, invite record)."""
    assert role in GUEST_ROLES or role == HOME      # HOME: a home link (rooms/web/home.py)
    for inv in storage.list_invites(room_id):
        if inv["role"] == role and inv["revoked_at"] is None:
            storage.revoke_invite(inv["id"])
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invite = storage.create_invite(room_id, role, hash_token(token), time.time() + ttl_seconds)
    return token, invite


def status(invite, now=None):
    """'active', 'revoked' or 'expired'."""
    if invite["revoked_at"] is not None:
        return "revoked"
    if invite["expires_at"] <= (now or time.time()):
        return "expired"
    return "active"


def resolve(storage, token):
    """(invite, None) for a usable token, else (invite or None, reason) with reason
    one of 'unknown', 'revoked', 'expired'."""
    if not isinstance(token, str) or not 16 <= len(token) <= 64:
        return None, "unknown"
    invite = storage.find_invite(hash_token(token))
    if invite is None:
        return None, "unknown"
    st = status(invite)
    return (invite, None) if st == "active" else (invite, st)


def current(storage, room_id):
    """The latest invite per guest role and the home link (or None), for the dashboard."""
    latest = {role: None for role in GUEST_ROLES + (HOME,)}
    for inv in storage.list_invites(room_id):
        latest[inv["role"]] = inv
    return latest


def is_used_up(storage, invite):
    """True once `invite` has made as many participants as one link may (RATE5):
    a child may come back on another device, but one leaked link cannot fill a
    room with people, each with rate limits of their own. "New link" starts over."""
    made = sum(1 for p in storage.list_participants(invite["room_id"])
               if p["invite_id"] == invite["id"])
    return made >= LIMITS["invite_participants"]
