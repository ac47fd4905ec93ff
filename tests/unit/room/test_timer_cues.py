"""A timer a child meets (the schedule's step timer, the calm corner's) is said when it
starts and when it runs out (issue 14): a tone and, with a local voice of the reader's
language, a few words; the picture is the shell's. Run under node (cues.js) with a fake
speechSynthesis and sessionStorage: each is said once per run of the timer — not at
every re-render, not again after a reconnect or a reload — never to a screen that
arrives long after, and never on the therapist's screen."""
import json

from activities.contract.i18n import Catalogs
from rooms.web import i18n
from tests.support import run_node

SCRIPT = r"""
import {setLanguage} from "./i18n.js";
import {Cues, TimerCue, TIMER_WINDOW_S, cuePicture} from "./cues.js";
let text = "";
for await (const chunk of process.stdin) text += chunk;
const input = JSON.parse(text);
const spoken = [];
const tones = [];
globalThis.document = {addEventListener() {}, body: {dataset: {}}};
globalThis.SpeechSynthesisUtterance = class { constructor(t) { this.text = t; } };
globalThis.window = {speechSynthesis: {getVoices: () => [{lang: "en-GB", localService: true},
                                                       {lang: "es-419", localService: true}],
                                       cancel() {}, speak: (u) => spoken.push([u.text, u.lang])}};
// One tab's sessionStorage: kept across a reload, not across tabs.
const storage = () => {
  const m = new Map();
  return {getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v))};
};
const screen = (store, enabled = true) => {
  const cues = new Cues(enabled);
  cues.tone = (notes) => tones.push(notes.length);
  const given = [];
  const say = (kind, opts) => { given.push(kind); cues.give(kind, opts); };
  return {cues, given, watch: new TimerCue("schedule", say, store)};
};
const out = {window: TIMER_WINDOW_S, pictures: [cuePicture("timer_running"), cuePicture("timer_over"),
                                                cuePicture("waiting")]};
for (const lang of ["en", "es"]) {
  setLanguage(lang === "en" ? null : input.i18n);
  spoken.length = 0;
  tones.length = 0;
  const tab = storage();
  const a = screen(tab);
  // A 10 s timer, re-rendered every 250 ms from its start to after its end.
  for (let ran = 0; ran <= 12; ran += 0.25) a.watch.see("st-1/1000.5", ran, 10);
  const firstRun = [...a.given];
  // A reconnect: the same page sees the state again.
  a.watch.see("st-1/1000.5", 10.5, 10);
  // A reload: a new page in the same tab, the timer ran out 1 s ago.
  const b = screen(tab);
  b.watch.see("st-1/1000.5", 11, 10);
  // Started again: a new run is said again.
  a.watch.see("st-1/1030.0", 0.1, 10);
  a.watch.see("st-1/1030.0", 10.02, 10);
  // Another device joins late: a timer that ran out long ago, one that began long ago.
  const late = screen(storage());
  late.watch.see("st-1/1030.0", 40, 10);
  late.watch.see("st-2/1100.0", 30, 60);
  // Not known yet (no clock), or no timer.
  late.watch.see("st-2/1100.0", null, 60);
  late.watch.see(null, 1, 60);
  // The therapist's screen: nothing said, nothing sounded.
  const host = screen(storage(), false);
  host.watch.see("st-9/2000.0", 0.5, 10);
  host.watch.see("st-9/2000.0", 10.5, 10);
  // After the calm chime: the words, no second tone.
  const calm = screen(storage());
  calm.watch.see("3000.0", 60.1, 60, {tone: false});
  out[lang] = {
    first_run: firstRun, reconnect_and_reload: b.given, second_run: a.given.slice(firstRun.length),
    late: late.given, host: host.given, host_cue: host.cues.count,
    calm: calm.given, calm_tones: tones.length,
    body: document.body.dataset.cue, spoken: [...spoken],
  };
}
console.log(JSON.stringify(out));
"""


def run(tmp_path):
    (tmp_path / "package.json").write_text(json.dumps({"type": "module"}))
    cats = Catalogs([(folder, domain) for domain, folder, _ in i18n.domains()])
    payload = {"i18n": {"lang": "es", "messages": cats.translator("es").client}}
    return run_node(tmp_path, {name: f"room/{name}" for name in ("cues.js", "i18n.js")}, SCRIPT, payload)


def test_a_timer_is_said_once_when_it_starts_and_once_when_it_runs_out(tmp_path):
    out = run(tmp_path)
    assert out["window"] == 5
    # A picture of its own for each (ids of the picture set), none for the others.
    assert out["pictures"] == ["calm-timer", "bell", None]
    for lang in ("en", "es"):
        got = out[lang]
        assert got["first_run"] == ["timer_running", "timer_over"], lang
        assert got["reconnect_and_reload"] == [], lang
        assert got["second_run"] == ["timer_running", "timer_over"], lang
        assert got["late"] == [], lang
        # The therapist's watcher fires, but the cue says nothing there.
        assert got["host"] == ["timer_running", "timer_over"] and got["host_cue"] == 0, lang
        assert got["calm"] == ["timer_over"], lang
        # Tones: two runs × (start, end) on the child's screen; none for the host or the calm end.
        assert got["calm_tones"] == 4, lang
        assert got["body"] == "timer_over", lang
    assert out["en"]["spoken"] == [["The timer is on.", "en-GB"], ["Time is up!", "en-GB"]] * 2 + [
        ["Time is up!", "en-GB"]]
    assert out["es"]["spoken"] == [["¡Empieza el tiempo!", "es-419"], ["¡Se acabó el tiempo!", "es-419"]] * 2 + [
        ["¡Se acabó el tiempo!", "es-419"]]


ACTIVITIES = r"""
import * as schedule from "./schedule/schedule.js";
import * as calm from "./calm/calm.js";
let text = "";
for await (const chunk of process.stdin) text += chunk;
const input = JSON.parse(text);
const given = [];
const app = (name) => ({cue: (kind, opts) => given.push([name, kind, (opts && opts.tone) ?? null])});
let now = 1000;
const clock = {nowS: () => now};
const out = {};

// The schedule, never on screen here (unmounted): its clock is the one of a past mount.
const sc = schedule.create({config: input.schedule}, app("schedule"));
sc.clock = clock;
sc.apply({t: "step.add", d: {id: "a", pos: 0, pic: "hourglass", text: "", secs: 10}});
sc.apply({t: "step.add", d: {id: "b", pos: 1, pic: "bath", text: "", secs: 10}});
sc.apply({t: "timer.start", d: {step: "a", at: 1000}});
now = 1003; sc.watchTimer(); sc.watchTimer();
now = 1010.1; sc.watchTimer(); sc.watchTimer();
// A snapshot after a reconnect, the same timer in it.
sc.reset(JSON.parse(JSON.stringify(sc.state)));
out.schedule = given.splice(0);
// A step ticked done before its time is up rings no bell.
now = 1020; sc.apply({t: "timer.start", d: {step: "b", at: 1020}});
sc.apply({t: "step.done", d: {id: "b", done: true}});
now = 1031; sc.watchTimer();
out.schedule_done_early = given.splice(0);
clearTimeout(sc.timerWake);

// The calm corner's timer: started, paused, resumed, run out (the chime cannot sound here).
const cm = calm.create({config: input.calm}, app("calm"));
cm.clock = clock;
now = 2000;
cm.apply({t: "timer.start", d: {minutes: 1, at: 2000}});
now = 2010; cm.apply({t: "timer.pause", d: {at: 2010}});
now = 2020; cm.apply({t: "timer.resume", d: {at: 2020}});
now = 2070.05; cm.scheduleChime(); cm.scheduleChime();
out.calm = given.splice(0);
clearTimeout(cm.chimeTimer);
console.log(JSON.stringify(out));
"""


def test_the_schedule_and_the_calm_corner_say_their_timers_mounted_or_not(tmp_path):
    from activities import calm, schedule
    (tmp_path / "package.json").write_text(json.dumps({"type": "module"}))
    for folder in ("room", "schedule", "calm"):
        (tmp_path / folder).mkdir()
    modules = {f"room/{n}": f"room/{n}" for n in ("cues.js", "i18n.js", "ui.js", "util.js", "icons.js",
                                                  "clock.js", "uploads.js")}
    modules.update({f"schedule/{n}": f"schedule/{n}" for n in ("schedule.js", "model.js")})
    modules.update({f"calm/{n}": f"calm/{n}" for n in ("calm.js", "model.js", "phase.js", "sound.js", "visuals.js")})
    out = run_node(tmp_path, modules, ACTIVITIES,
                   {"schedule": schedule.client_config(), "calm": calm.client_config()})
    assert out["schedule"] == [["schedule", "timer_running", None], ["schedule", "timer_over", None]]
    assert out["schedule_done_early"] == [["schedule", "timer_running", None]]
    # Once per run: a pause and a resume are not a new start.
    assert out["calm"] == [["calm", "timer_running", True], ["calm", "timer_over", True]]
