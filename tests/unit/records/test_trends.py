"""Trends over weeks (issue 17 part 4): the series computed from stored records and
check-ins (rooms/records/trends.py) and their SVG charts (rooms/records/charts.py).
Pure functions; one test builds its records from real sessions through the record
service, so the series read what the stories activity really writes."""
import xml.etree.ElementTree as ET

import pytest

from activities import stories
from activities.registry import build_registry
from rooms.records import charts, trends
from rooms.records.service import RecordService
from tests.support import ROOT
from tests.unit.record_session import Session

DAY = 86400.0
W0 = 1_750_000_000.0
SVG = "{http://www.w3.org/2000/svg}"
PRACTICE = {"stories": stories.practice_tasks()}


def session(k, minutes=50):
    """The k-th weekly session (a record summary)."""
    start = W0 + 7 * DAY * k
    return {"id": f"r{k}", "started_at": start, "ended_at": start + 60 * minutes}


def checkin(k, minute, value, moment):
    return {"id": f"c{k}-{minute}", "value": value, "at": W0 + 7 * DAY * k + 60 * minute,
            "moment": moment}


def prompt(step, level, task="handwashing", kind="task.prompt"):
    return {"activity": "stories", "kind": kind, "data": {"task": task, "step": step, "level": level}}


# ====================================================================== check-ins

def test_checkins_per_session_start_and_end_oldest_first():
    sessions = [session(2), session(0), session(1)]          # storage lists newest first
    entries = [checkin(0, 1, 2, "start"), checkin(0, 45, 4, "end"),
               checkin(1, 2, 3, "start"), checkin(1, 20, 1, "any"), checkin(1, 21, 2, "any"),
               checkin(2, 48, 5, "end")]
    cols = trends.checkin_series(entries, sessions)
    assert [(c["start"], c["end"], c["during"]) for c in cols] == \
        [(2, 4, []), (3, None, [1, 2]), (None, 5, [])]
    assert [c["started_at"] for c in cols] == [W0, W0 + 7 * DAY, W0 + 14 * DAY]
    assert cols[0]["label"] == trends.short_day(W0)


def test_checkins_outside_the_charted_sessions_are_left_out_and_the_last_answer_stands():
    sessions = [session(k) for k in range(12)]
    entries = [checkin(0, 1, 1, "start"),                     # older than the last 10 sessions
               checkin(5, 1, 2, "start"), checkin(5, 3, 4, "start"),   # two starts: the last
               checkin(5, 200, 5, "end")]                     # after the session: not in it
    cols = trends.checkin_series(entries, sessions)
    assert len(cols) == trends.LIMIT and cols[0]["started_at"] == session(2)["started_at"]
    assert [(c["start"], c["end"]) for c in cols if c["start"] or c["end"]] == [(4, None)]


def test_back_to_back_sessions_each_keep_their_own_checkins():
    """A session that starts the moment the last one ended (within the second of
    slack around each): a check-in belongs to the one that had started."""
    a = {"started_at": W0, "ended_at": W0 + 10.0}
    b = {"started_at": W0 + 10.2, "ended_at": W0 + 20.0}
    entries = [{"value": 2, "at": W0 + 1, "moment": "start"}, {"value": 3, "at": W0 + 9.9, "moment": "end"},
               {"value": 4, "at": W0 + 10.4, "moment": "start"}, {"value": 5, "at": W0 + 19, "moment": "end"}]
    assert [(c["start"], c["end"]) for c in trends.checkin_series(entries, [b, a])] == [(2, 3), (4, 5)]


def test_no_checkins_in_any_session_means_no_chart():
    assert trends.checkin_series([checkin(9, 1, 3, "start")], [session(0)]) == []
    assert trends.checkin_series([], []) == []


def test_home_checkins_count_towards_the_next_session_or_since_the_last():
    """The seam for home practice (part 3): moment "home" between two sessions goes to
    the later one; after the last session, to a trailing column."""
    sessions = [session(0), session(1)]
    entries = [checkin(0, 1, 3, "start"), checkin(0, 60 * 24 * 2, 4, "home"),
               checkin(0, 60 * 24 * 3, 5, "home"), checkin(1, 60 * 24, 2, "home")]
    cols = trends.checkin_series(entries, sessions)
    assert [c["home"] for c in cols] == [[], [4, 5], [2]]
    assert cols[-1]["started_at"] is None and cols[-1]["label"] == "since"


# ====================================================================== prompt levels

def test_prompt_levels_per_step_across_sessions_with_the_last_level_of_each_session():
    records = [
        {"started_at": W0 + 7 * DAY, "timeline": [prompt(0, "verbal"), prompt(0, "independent"),
                                                  prompt(3, "gestural")]},
        {"started_at": W0, "timeline": [prompt(0, "physical"), prompt(1, "model"),
                                        prompt(0, "verbal", task="morning")]},
        {"started_at": W0 + 14 * DAY, "timeline": [prompt(1, "independent"), prompt(0, "independent")]},
    ]
    grids = trends.prompt_grids(records, PRACTICE)
    assert [g["task"] for g in grids] == ["morning", "handwashing"]   # the library's order
    hw = grids[1]
    assert hw["title"] == "Washing my hands" and hw["steps"][3] == "Rub hands, count to 20"
    assert [c["started_at"] for c in hw["columns"]] == [W0, W0 + 7 * DAY, W0 + 14 * DAY]
    assert hw["cells"][0] == ["physical", "independent", "independent"]
    assert hw["cells"][1] == ["model", None, "independent"]
    assert hw["cells"][3] == [None, "gestural", None]
    assert hw["independent"] == [0, 1, 2]
    assert grids[0]["columns"] == [{"label": trends.short_day(W0), "started_at": W0}]


def test_a_reset_clears_the_task_and_a_cleared_level_is_empty():
    records = [{"started_at": W0, "timeline": [
        prompt(0, "verbal"), {"activity": "stories", "kind": "task.reset", "data": {"task": "handwashing"}},
        prompt(1, "model"), prompt(2, "gestural"), prompt(2, None)]}]
    (grid,) = trends.prompt_grids(records, PRACTICE)
    assert [row[0] for row in grid["cells"][:3]] == [None, "model", None]


def test_sessions_without_a_level_are_not_columns_and_only_the_last_ten_are():
    records = [{"started_at": W0 + k * DAY, "timeline": [prompt(0, "verbal")] if k % 2 else
                [{"activity": "stories", "kind": "task.tick", "data": {"task": "handwashing",
                                                                       "step": 0, "done": True}}]}
               for k in range(30)]
    (grid,) = trends.prompt_grids(records, PRACTICE)
    assert [c["started_at"] for c in grid["columns"]] == [W0 + k * DAY for k in range(11, 30, 2)]
    assert trends.prompt_grids([{"started_at": W0, "timeline": []}], PRACTICE) == []


def test_series_from_real_records_of_three_sessions(storage, room_id):
    """Three sessions played through the stories and check-in reducers and written as
    records by the record service: the series are read from what storage holds."""
    registry = build_registry()
    th = f"th-{storage.get_room(room_id)['therapist_id']}"
    service = RecordService(storage, registry, ROOT)
    s = Session(storage, room_id, registry)
    plan = [(2, 3, "physical", "verbal"), (3, 4, "verbal", "gestural"), (4, 5, "independent", "independent")]
    for k, (start, end, step0, step1) in enumerate(plan):
        t0 = W0 + 7 * DAY * k
        first = s.op(th, "room", "session", {"state": "start"}, at=t0)
        s.op(th, "checkin", "checkin", {"id": f"s{k}", "value": start, "moment": "start"}, at=t0 + 10)
        s.op(th, "stories", "task.prompt", {"task": "bedtime-routine", "step": 0, "level": step0}, at=t0 + 20)
        s.op(th, "stories", "task.prompt", {"task": "bedtime-routine", "step": 1, "level": step1}, at=t0 + 30)
        s.op(th, "checkin", "checkin", {"id": f"e{k}", "value": end, "moment": "end"}, at=t0 + 3000)
        last = s.op(th, "room", "session", {"state": "end"}, at=t0 + 3100)
        assert service.close_session(room_id, first, last, s.states) is not None
    summaries = storage.list_records(room_id)
    cols = trends.checkin_series(s.states["checkin"]["entries"], summaries)
    assert [(c["start"], c["end"]) for c in cols] == [(2, 3), (3, 4), (4, 5)]
    full = [storage.get_record(r["id"]) for r in trends.recent(summaries)]
    (grid,) = trends.prompt_grids(full, {"stories": stories.practice_tasks()})
    assert grid["title"] == "Getting ready for bed"
    assert grid["cells"][:2] == [["physical", "verbal", "independent"],
                                 ["verbal", "gestural", "independent"]]
    assert grid["independent"] == [0, 0, 2]


# ====================================================================== the SVG

def parse(markup):
    return ET.fromstring(str(markup))


def texts(svg):
    return [t for el in svg.iter() for t in (el.text,) if t and t.strip()]


@pytest.fixture
def three_sessions():
    return trends.checkin_series(
        [checkin(0, 1, 2, "start"), checkin(0, 45, 4, "end"), checkin(1, 1, 3, "start"),
         checkin(2, 1, 5, "start"), checkin(2, 45, 1, "end")],
        [session(0), session(1), session(2)])


def test_checkin_chart_says_every_value_in_words_and_draws_a_point_for_each(three_sessions):
    svg = parse(charts.checkin_chart(three_sessions))
    assert svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "Check-ins over the last 3 sessions" in title.text
    day = trends.short_day(W0)
    assert f"session of {day}: start 2 of 5 (upset); end 4 of 5 (good)" in desc.text
    assert "start 3 of 5 (okay)" in desc.text and "end 1 of 5 (very upset)" in desc.text
    start = [c for c in svg.iter(f"{SVG}circle") if c.get("fill") == charts.SERIES["start"]]
    end = [r for r in svg.iter(f"{SVG}rect") if r.get("fill") == charts.SERIES["end"]]
    assert len(start) == 3 + 1 and len(end) == 2 + 1              # + the legend's
    # start answers 2, 3, 5: higher answers sit higher (smaller y)
    ys = [float(c.get("cy")) for c in start[1:]]
    assert ys[0] > ys[1] > ys[2]
    # the end line breaks where the middle session has no end answer
    dashed = [ln for ln in svg.iter(f"{SVG}line") if ln.get("stroke") == charts.SERIES["end"]]
    assert dashed == []
    solid = [ln for ln in svg.iter(f"{SVG}line") if ln.get("stroke") == charts.SERIES["start"]]
    assert len(solid) == 2
    assert day.split()[0] in texts(svg)


def test_checkin_chart_scales_to_its_columns_and_names_home_checkins():
    cols = trends.checkin_series([checkin(0, 1, 3, "start"), checkin(0, 60 * 30, 4, "home")],
                                 [session(0)])
    svg = parse(charts.checkin_chart(cols))
    assert "since the last session: 1 at home" in svg.find(f"{SVG}desc").text
    assert "home" in texts(svg)
    w = [float(v) for v in svg.get("viewBox").split()][2]
    assert w == float(svg.get("width")) and w < 390            # two columns fit a phone unscaled


def test_prompt_chart_letters_every_cell_and_escapes_the_title():
    grid = {"title": "Mine <b>&</b>", "steps": ["Wake up", "Wash"], "levels": list(stories.PROMPT_LEVELS),
            "columns": [{"label": "01 Jun", "started_at": W0}, {"label": "08 Jun", "started_at": W0 + 7 * DAY}],
            "cells": [["verbal", "independent"], [None, "physical"]], "independent": [0, 1]}
    markup = str(charts.prompt_chart(grid, "p0"))
    assert "<b>" not in markup and "Mine &lt;b&gt;&amp;&lt;/b&gt;" in markup
    svg = parse(markup)
    assert svg.find(f"{SVG}title").text == "Prompt levels per step: Mine <b>&</b>"
    desc = svg.find(f"{SVG}desc").text
    assert "Step 1, Wake up: 01 Jun verbal, 08 Jun independent." in desc
    assert "Step 2, Wash: 08 Jun physical." in desc
    assert "01 Jun: 0 of 2, 08 Jun: 1 of 2" in desc
    words = texts(svg)
    # one letter per filled cell, plus one per level in the legend
    assert (words.count("V"), words.count("I"), words.count("P"), words.count("M")) == (2, 2, 2, 1)
    assert {"0/2", "1/2"} <= set(words) and set(stories.PROMPT_LEVELS) <= set(words)
    # no script, no link to anywhere: it is inline in a page with a strict CSP
    assert not any(el.tag in (f"{SVG}script", f"{SVG}a", f"{SVG}image") for el in svg.iter())

