"""Calm corner and check-in in two browsers: the child's tablet clock is seconds off, yet
both screens breathe in the same phase (CALM1, CLK1); the timer runs out at the same
moment on both; a check-in from the child appears in the therapist's chart (FEEL1);
reduced motion pulses instead of growing; the browser's phase and clock arithmetic
equals the Python reference. Screenshots go to test-artifacts/."""
import json
import os
import random

import pytest

from activities import calm

from activities import checkin
from tests.e2e.people import Person, child_joins, therapist_creates_room
from tests.unit.activities.calm.test_calm import CASES as CALM_CASES, simulate
from tests.unit.activities.checkin.test_checkin import CASES as CHECKIN_CASES

pytestmark = pytest.mark.browser

SHIFT_MS = 6_480          # the child's tablet clock runs this far ahead (Date and performance)
TABLET = {"width": 1024, "height": 768}
DESKTOP = {"width": 1366, "height": 768}
SHIFT_CLOCK = """(() => {
  const shift = %d, dateNow = Date.now.bind(Date), perfNow = performance.now.bind(performance);
  Date.now = () => dateNow() + shift;
  performance.now = () => perfNow() + shift;
  window.__realNow = dateNow;   // for the test only: the unshifted wall clock
})();""" % SHIFT_MS

# Wait for the pacer's next frame, then read what it shows and the real time (ms).
READ_PACER = """() => new Promise((resolve) => {
  const p = document.querySelector('#pacer');
  const obs = new MutationObserver(() => {
    obs.disconnect();
    const real = (window.__realNow || Date.now)();
    resolve({phase: p.dataset.phase, progress: +p.dataset.progress, round: +p.dataset.round, real});
  });
  obs.observe(p, {attributes: true, attributeFilter: ['data-progress']});
})"""
READ_TIMER = """() => new Promise((resolve) => {
  const t = document.querySelector('#timer');
  const obs = new MutationObserver(() => {
    obs.disconnect();
    resolve({left: +t.dataset.remainingMs, real: (window.__realNow || Date.now)()});
  });
  obs.observe(t, {attributes: true, attributeFilter: ['data-remaining-ms']});
})"""


@pytest.fixture
def pair(browser, server):
    """A therapist at a desk and a child on a tablet, in one room. make(child=...) takes
    extra context options for the child's device and an init script for its page."""
    people = []

    def make(init_script=None, **child_ctx):
        t = Person(browser, server.url, viewport=DESKTOP)
        c = Person(browser, server.url, viewport=TABLET, has_touch=True, **child_ctx)
        people.extend((t, c))
        if init_script:
            c.context.add_init_script(init_script)
        child_joins(c, therapist_creates_room(t))
        t.page.click('[data-action="open-room"]')
        t.wait_connected()
        return t, c

    yield make
    for p in people:
        p.close()


def open_tab(people, name):
    for p in people:
        p.page.click(f'.tab[data-activity="{name}"]')


def position(timing, r):
    """Seconds into the run that a page showed, from its test hooks."""
    i = calm.PHASES.index(r["phase"])
    return r["round"] * sum(timing) + sum(timing[:i]) + r["progress"] * timing[i]


def test_CALM1_two_screens_with_clocks_seconds_apart_breathe_in_phase(pair, server, artifacts):
    t, c = pair(SHIFT_CLOCK)
    assert c.page.evaluate("Date.now() - window.__realNow()") >= SHIFT_MS - 5
    open_tab((t, c), "calm")
    # A one-minute timer first (it keeps running on the other cards, small)...
    t.page.click('[data-card="timer"]')
    t.page.click('[data-minutes="1"]')
    t.page.click('[data-action="timer-start"]')
    c.page.wait_for_selector('#timer[data-running="true"]', timeout=10000)
    # ... then balloon breathing.
    t.page.click('[data-card="pacer"]')
    t.page.click('[data-pattern="balloon"]')
    t.page.click('[data-action="pacer-start"]')
    for p in (t, c):
        p.page.wait_for_selector('#pacer[data-running="true"][data-synced="true"]', timeout=10000)

    # What each page computes at one real instant: its shown position, moved by the
    # real time between the two readings. Both must agree within 50 ms.
    timing = calm.PRESETS["balloon"]["timing"]
    diffs = []
    for _ in range(6):
        a, b = t.page.evaluate(READ_PACER), c.page.evaluate(READ_PACER)
        assert a["phase"] in calm.PHASES and b["phase"] in calm.PHASES
        diffs.append((position(timing, a) - position(timing, b)) - (a["real"] - b["real"]) / 1000)
    assert max(abs(d) for d in diffs) < 0.05, diffs
    c.page.wait_for_function("() => { const p = document.querySelector('#pacer').dataset;"
                             " return p.phase === 'inhale' && +p.progress > 0.6; }", timeout=15000)
    c.page.screenshot(path=os.path.join(artifacts, "calm-pacer-tablet-1024x768.png"))
    t.page.screenshot(path=os.path.join(artifacts, "calm-pacer-therapist-1366x768.png"))

    # The timer ends at the same real moment on both screens.
    t.page.click('[data-card="timer"]')
    c.page.wait_for_selector('.calm[data-card="timer"] #timer.big')
    a, b = t.page.evaluate(READ_TIMER), c.page.evaluate(READ_TIMER)
    assert abs((a["real"] + a["left"]) - (b["real"] + b["left"])) < 50, (a, b)
    assert 0 < b["left"] < 60_000
    c.page.screenshot(path=os.path.join(artifacts, "calm-timer-tablet-1024x768.png"))

    # A feelings check-in from the child shows up in the therapist's chart.
    open_tab((t, c), "checkin")
    t.page.click('[data-action="ask"][data-moment="start"]')
    c.page.wait_for_selector('#feelings[data-asked="start"]')
    c.page.click('[data-feeling="4"]')
    t.page.wait_for_selector('[data-checkin][data-value="4"][data-moment="start"]', timeout=10000)
    c.page.wait_for_selector('[data-feeling="4"][aria-checked="true"]')
    c.page.screenshot(path=os.path.join(artifacts, "checkin-tablet-1024x768.png"))
    t.page.screenshot(path=os.path.join(artifacts, "checkin-therapist-1366x768.png"))

    # A five-year-old's targets: every button on the child's screen is at least 56 px.
    small = c.page.evaluate("""() => [...document.querySelectorAll('.feel button, .calm button')]
      .filter((b) => b.offsetParent).map((b) => b.getBoundingClientRect())
      .filter((r) => r.width < 56 || r.height < 56).length""")
    assert small == 0
    for p in (t, c):
        foreign = [u for u in p.requests if not u.startswith(server.url) and not u.startswith(("data:", "blob:"))]
        assert foreign == [], foreign
        assert p.console_errors == [], p.console_errors


def _phase_cases():
    """(pacer, now) pairs that exercise every branch, from the Python reducer."""
    t0 = 1_700_000_000.25
    s = calm.initial_state()
    cases = [(s["pacer"], t0)]
    for pattern, length in (("balloon", {"rounds": 3}), ("box4", {"rounds": 2}),
                            ("478", {"minutes": 2}), ("star", {"rounds": 5})):
        run = calm.apply(s, "pacer.start", {"pattern": pattern, "rounds": None, "minutes": None,
                                            **length, "at": t0})[0]
        cycle = sum(run["pacer"]["timing"])
        for dt in (-2, 0, 0.001, 1.3, 3.999999, 4, cycle - 1e-9, cycle, cycle * 1.5, 31.7, 500):
            cases.append((run["pacer"], t0 + dt))
        paused = calm.apply(run, "pacer.pause", {"at": t0 + 2.345})[0]
        resumed = calm.apply(paused, "pacer.resume", {"at": t0 + 17.5})[0]
        cases += [(paused["pacer"], t0 + 99), (resumed["pacer"], t0 + 19.1), (resumed["pacer"], t0 + 17.5)]
    return cases


def _clock_cases():
    """Sample lists with skew and jitter; each is fed to both estimators."""
    out = []
    for seed in range(4):
        rec = Recorder()
        simulate(rec, offset_ms=[7340.0, -4200.5, 0.0, 123456.789][seed], n=12, base_ms=4,
                 jitter_ms=20, rng=random.Random(seed), drift=seed * 1e-5)
        out.append(rec.samples)
    return out


class Recorder:
    def __init__(self):
        self.samples = []

    def add(self, sent, server_now, received):
        self.samples.append([sent, server_now, received])


def test_CALM1_reduced_motion_pulses_and_the_browser_math_equals_python(pair, artifacts):
    t, c = pair(reduced_motion="reduce")
    open_tab((t, c), "calm")
    t.page.click('[data-action="pacer-start"]')
    c.page.wait_for_selector('#pacer[data-running="true"][data-reduced="true"]', timeout=10000)
    body = """() => { const b = document.querySelector('#pacer .calm-body');
      return {t: b.getAttribute('transform'), o: +b.getAttribute('opacity'),
              p: document.querySelector('#pacer').dataset.progress}; }"""
    c.page.wait_for_function("() => { const p = document.querySelector('#pacer').dataset;"
                             " return p.phase === 'inhale' && +p.progress < 0.3; }", timeout=15000)
    early = c.page.evaluate(body)
    c.page.wait_for_function("() => { const p = document.querySelector('#pacer').dataset;"
                             " return p.phase === 'inhale' && +p.progress > 0.8; }", timeout=15000)
    late = c.page.evaluate(body)
    assert early["t"] == late["t"], "with reduced motion the balloon does not grow"
    assert late["o"] > early["o"] + 0.3, "it pulses in opacity instead"
    c.page.screenshot(path=os.path.join(artifacts, "calm-pacer-reduced-motion-1024x768.png"))

    # The same arithmetic in the browser as in Python (calm/phase.js, room/clock.js).
    phases = _phase_cases()
    got = c.page.evaluate("""async (cases) => {
      const m = await import('/static/canvas/calm/phase.js');
      return cases.map(([pacer, now]) => m.pacerPhase(pacer, now));
    }""", json.loads(json.dumps(phases)))
    for (pacer, now), js in zip(phases, got):
        py = calm.pacer_phase(pacer, now)
        assert (js["phase"], js["round"], js["running"]) == (py["phase"], py["round"], py["running"]), (pacer, now)
        assert js["progress"] == py["progress"], (pacer, now)
    samples = _clock_cases()
    offsets = c.page.evaluate("""async (lists) => {
      const m = await import('/static/canvas/room/clock.js');
      return lists.map((list) => { const e = new m.ClockEstimator();
        for (const [s, n, r] of list) e.add(s, n, r); return [e.offset, e.best[0]]; });
    }""", samples)
    for list_, (offset, rtt) in zip(samples, offsets):
        est = calm.ClockEstimator()
        for s, n, r in list_:
            est.add(s, n, r)
        assert (offset, rtt) == (est.offset, est.best[0])
    # The reducers: the same new state and inverse for every op, then undone.
    cases = [[st, op_t, d] for _, st, (op_t, d) in CALM_CASES]
    js = c.page.evaluate("""async ([cases, presets]) => {
      const m = await import('/static/canvas/calm/model.js');
      return cases.map(([s, t, d]) => { const [n, inv] = m.apply(s, t, d, presets);
        return [n, inv, m.apply(n, inv[0], inv[1], presets)[0]]; });
    }""", [cases, calm.PRESETS])
    for (st, op_t, d), (new, inv, back) in zip(cases, js):
        py_new, py_inv = calm.apply(st, op_t, d)
        assert (new, inv, back) == (py_new, list(py_inv), st), op_t
    cases = [[st, op_t, d] for _, st, (op_t, d) in CHECKIN_CASES]
    js = c.page.evaluate("""async (cases) => {
      const m = await import('/static/canvas/checkin/checkin.js');
      return cases.map(([s, t, d]) => m.apply(s, t, d, 'kid'));
    }""", cases)
    for (st, op_t, d), (new, inv) in zip(cases, js):
        py_new, py_inv = checkin.apply(st, op_t, d, by="kid")
        assert (new, inv) == (py_new, list(py_inv)), op_t
    assert c.page.evaluate("""async (cfg) => (await import('/static/canvas/calm/model.js')).initialState(cfg)""",
                           calm.client_config()) == calm.initial_state()
    assert c.console_errors == [] and t.console_errors == []
