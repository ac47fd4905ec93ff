"""Trends over weeks (issue 17, part 4): the series the room page charts, computed
from what storage holds. Pure: no storage, no Flask; rooms/web/records.py reads the
records and the check-in state and rooms/records/charts.py draws the result.

Two series:

- check-ins per session: the last "start" and the last "end" answer of every recorded
  session (a changed answer replaces the old one in the check-in state, so the state's
  entries are the answers that stand), the "during" ones, and home check-ins
  (moment HOME; the seam for the home pack of issue 17 part 3: an entry with
  that moment counts towards the next session, or a trailing "since the last
  session" column when no session follows it yet);
- task-analysis prompt levels: for every task practised, the level each step had at
  the end of each session it was practised in (the record timeline's "task.prompt"
  entries in seq order, a "task.reset" clearing the task), and how many steps were
  done independently.

Only the last LIMIT sessions are charted: more columns would not be readable on a
phone; the records list below the charts goes back further.
"""
import time

LIMIT = 10
HOME = "home"            # check-in moment of a home check-in (issue 17 part 3)
SLACK_S = 1.0            # a check-in stamped within a second of a session's edges is in it


def short_day(ts):
    """Column label: day and month, e.g. "07 Dec" (server local time, like the records)."""
    return time.strftime("%d %b", time.localtime(ts))


def recent(sessions, limit=LIMIT):
    """The last `limit` sessions (records or their summaries), oldest first."""
    return sorted(sessions, key=lambda s: s["started_at"])[-limit:]


def _within(at, session):
    return session["started_at"] - SLACK_S <= at <= session["ended_at"] + SLACK_S


def _column(session):
    return {"label": short_day(session["started_at"]), "started_at": session["started_at"],
            "ended_at": session["ended_at"], "start": None, "end": None, "during": [],
            "home": []}


# ------------------------------------------------------------------ check-ins

def checkin_series(entries, sessions, limit=LIMIT):
    """The check-in activity's entries [{value, at, moment}] and the room's records ->
    one column per recorded session (oldest first, at most `limit`):
    {label, started_at, ended_at, start, end, during: [v], home: [v]}; `start`/`end`
    the last answer of that moment or None. Home check-ins after the last session
    make a trailing column with label "since" and started_at None. Returns [] when
    no check-in falls in any column."""
    cols = [_column(s) for s in recent(sessions, limit)]
    trailing = {"label": "since", "started_at": None, "ended_at": None, "start": None,
                "end": None, "during": [], "home": []}
    for e in sorted(entries, key=lambda e: e["at"]):
        value, moment = int(e["value"]), e.get("moment")
        if moment == HOME:
            _home_column(cols, trailing, e["at"])["home"].append(value)
            continue
        col = _session_column(cols, e["at"])
        if col is None:
            continue             # outside the charted sessions (older, or not recorded)
        if moment in ("start", "end"):
            col[moment] = value
        else:
            col["during"].append(value)
    if trailing["home"]:
        cols.append(trailing)
    if not any(c["start"] or c["end"] or c["during"] or c["home"] for c in cols):
        return []
    return cols


def _session_column(cols, at):
    """The session a check-in at `at` was given in: of those whose time (with the
    slack) holds it, the last one that had started by then — back-to-back sessions
    touch within the slack."""
    found = [c for c in cols if _within(at, c)]
    started = [c for c in found if c["started_at"] <= at]
    return (started or found or [None])[-1]


def _home_column(cols, trailing, at):
    """A home check-in belongs to the first session after it ("since last session")."""
    for c in cols:
        if at <= c["ended_at"]:
            return c
    return trailing


# ------------------------------------------------------------------ prompt levels

def prompt_grids(records, practice, limit=LIMIT):
    """Full records (with timelines) and {activity: practice_tasks()} -> one grid per
    task practised, in the activity's task order:
    {activity, task, title, steps: [text], levels: [level], columns: [{label,
    started_at}], cells: [[level | None per column] per step], independent: [int per
    column]}. A column is a session (of the last `limit` sessions that set a prompt
    level for this task); a cell the step's level at the end of that session."""
    grids = {}
    for rec in sorted(records, key=lambda r: r["started_at"]):
        for key, levels in _session_levels(rec["timeline"], practice).items():
            if any(v is not None for v in levels.values()):
                grids.setdefault(key, []).append((rec, levels))
    out = []
    for act, spec in practice.items():
        for task, info in spec["tasks"].items():
            if (act, task) in grids:
                out.append(_grid(act, task, info, spec["levels"], grids[(act, task)][-limit:]))
    return out


def _session_levels(timeline, practice):
    """{(activity, task): {step: level | None}} at the end of one session's timeline."""
    found = {}
    for e in timeline:
        act, data = e.get("activity"), e.get("data") or {}
        if act not in practice or data.get("task") not in practice[act]["tasks"]:
            continue
        key = (act, data["task"])
        if e.get("kind") == "task.reset":
            found[key] = {}
        elif e.get("kind") == "task.prompt" and isinstance(data.get("step"), int):
            level = data.get("level")
            found.setdefault(key, {})[data["step"]] = \
                level if level in practice[act]["levels"] else None
    return found


def _grid(act, task, info, levels, sessions):
    steps = list(info["steps"])
    cells = [[lv.get(i) for _, lv in sessions] for i in range(len(steps))]
    independent = [sum(1 for row in cells if row[j] == levels[0]) for j in range(len(sessions))]
    return {"activity": act, "task": task, "title": info["title"], "steps": steps,
            "levels": list(levels),
            "columns": [{"label": short_day(r["started_at"]), "started_at": r["started_at"]}
                        for r, _ in sessions],
            "cells": cells, "independent": independent}
