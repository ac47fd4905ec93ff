// Entry point of the room page: reads the JSON config from the page, builds the
// shell, one object per activity (registry) and the connection, and wires them up.
import {Connection} from "./connection.js";
import {createActivities} from "./registry.js";
import {Shell} from "./shell.js";

const config = JSON.parse(document.getElementById("playroom-config").textContent);
const me = config.me;
let settings = {};
let mayPlayBefore = null;   // a guest's master switch as last seen (null: not yet)
let participants = new Map([[me.id, {...me, online: true}]]);
let current = null;            // name of the mounted activity
let conn = null;
let resumed = false;           // the therapist's page took up the room's shown view
let resuming = false;          // … and is doing so now (nothing to announce)

const MASTER = {child: "child_may_draw", parent: "parent_may_play"};

/** May I change `activity` right now (PERM1)? The server decides too; this only
 *  shapes the UI: the same rule as activities/contract/__init__.py may_play. */
function canDraw(activity = current) {
  if (me.role === "therapist") return true;
  if (settings.freeze || (me.role === "parent" && settings.private)) return false;
  const perms = (settings.perms || {})[me.role] || {};
  return Boolean(settings[MASTER[me.role]]) && perms[activity] !== false;
}

/** May I pick another activity myself? Not while the therapist leads. */
function maySwitch() {
  if (me.role === "therapist") return true;
  if (settings.follow) return false;
  return ((settings.perms || {})[me.role] || {}).switch !== false;
}

const shell = new Shell(config, {
  onSwitch: (name) => {
    if (!maySwitch()) return;
    mount(name);
    // CTL6: the therapist's shown activity is a room op (follow-me and the record).
    if (me.role === "therapist" && conn.synced) conn.control("view", shownView());
  },
  onSetting: async (key, value) => {
    const ok = await conn.setSetting(key, value);
    // Turning follow-me on shows everyone what the therapist shows right now.
    if (ok && key === "follow" && value && current) conn.control("view", shownView());
  },
  onControl: (action, body) => conn.control(action, body),
});

// `app.cue(kind)`: an activity tells a guest of a moment (a timer's start or end),
// mounted or not.
const activities = createActivities(config.activities, {config, cue: (kind, opts) => shell.cue(kind, opts)});

/** What the therapist shows: the activity, and its page/view when it has one. */
function shownView() {
  const a = activities.get(current);
  const view = a && a.lead ? a.lead() : null;
  return view ? {activity: current, view} : {activity: current};
}

/** CTL6: a therapist's page that (re)loads shows what the room shows (`settings.view`),
 *  instead of telling the followers to go back to the first activity and page.
 *  After the state is applied (a replay drains after the settings arrive). */
function resumeLead() {
  resumed = true;
  const v = settings.view || {};
  if (!v.activity || !activities.has(v.activity)) return;
  queueMicrotask(() => {
    resuming = true;
    try {
      mount(v.activity);
      const a = activities.get(v.activity);
      if (settings.follow && v.view && a.follow) a.follow(v.view);
    } finally {
      resuming = false;
    }
  });
}

function notify(what) {
  for (const a of activities.values()) if (a.changed) a.changed(what);
}

function makeContext(name, spec) {
  return {
    name, spec, config, me,
    pictures: config.pictures,
    urls: config.urls,
    canDraw: () => canDraw(name),
    connected: () => conn.synced,
    seq: () => conn.seq,
    pendingCount: () => conn.pendingCount,
    unconfirmed: () => conn.unconfirmed(name),
    submit: (t, d) => conn.submit(name, t, d),
    history: (action, target) => conn.history(name, action, target),
    canUndo: () => conn.canUndo(name),     // UNDO4: the server's count for me
    canRedo: () => conn.canRedo(name),
    sendEph: (item) => conn.sendEph({a: name, ...item}),
    clockSample: () => conn.clockSample(),
    participant: (id) => participants.get(id) || null,
    toast: (text) => shell.toast(text),
    confirm: (q, opts) => shell.confirm(q, opts),
    // The therapist moved within an activity (e.g. another canvas page): followers follow.
    viewChanged: () => {
      if (me.role === "therapist" && settings.follow && conn.synced && name === current && !resuming) {
        conn.control("view", shownView());
      }
    },
  };
}

/** CTL7: what the therapist asks (a check-in, a story opened) brings a guest there,
 *  Follow me or not, with a gentle cue. Live ops only: the page's first replay is
 *  history. The activity says which of its ops are asks (`summons(t)`). */
function summon(op) {
  if (me.role === "therapist" || conn.replaying || op.a === current) return;
  const a = activities.get(op.a);
  if (!a || !a.summons || !a.summons(op.t)) return;
  if ((participants.get(op.by) || {}).role !== "therapist") return;
  mount(op.a);
  document.body.dataset.summoned = op.a;
  shell.stage.classList.remove("summoned");
  void shell.stage.offsetWidth;     // restart the cue's animation
  shell.stage.classList.add("summoned");
}

function mount(name) {
  if (name === current || !activities.has(name)) return;
  if (current) activities.get(current).unmount();
  shell.stage.replaceChildren();
  current = name;
  const spec = config.activities.find((a) => a.name === name);
  activities.get(name).mount(shell.stage, makeContext(name, spec));
  shell.setActive(name);
}

conn = new Connection(config, {
  status(s) {
    document.body.dataset.conn = s;
    shell.setConn(s);
    notify("conn");
  },
  reset(states) {
    for (const [name, a] of activities) a.reset(states[name]);
  },
  op(op) {
    const a = activities.get(op.a);
    if (!a) return;
    try {
      a.apply(op);
    } catch (err) {
      // A reducer bug must not stop the ordered stream; resync fixes local state.
      console.error("Playroom: could not apply op", op, err);
    }
    summon(op);
  },
  picture(d) {
    activities.get(d.a)?.picture?.(d);
  },
  eph(by, item) {
    const a = activities.get(item && item.a) || activities.get(current);
    if (a && by !== me.id) a.ephemeral(by, item);
  },
  presence(list) {
    participants = new Map(list.map((p) => [p.id, p]));
    if (!participants.has(me.id)) participants.set(me.id, {...me, online: true});
    shell.setPresence([...participants.values()]);
    notify("presence");
  },
  settings(s) {
    settings = {...s};
    shell.setSettings(settings);
    if (me.role === "therapist" && !resumed && conn.hasState) resumeLead();
    if (me.role !== "therapist") {
      // CTL3/CTL5/CTL6: paused, private time, following the therapist.
      if (me.role === "parent" && settings.private) conn.pauseForPrivateTime();
      // Issue 14: being allowed to play ("your turn") is said by a picture and a cue.
      const mayPlay = Boolean(me.role === "child" ? settings.child_may_draw : settings.parent_may_play);
      if (mayPlay && mayPlayBefore === false) shell.guest.welcome("thumbsup", "your_turn");
      mayPlayBefore = mayPlay;
      if (!conn.waiting) shell.guest.show(settings.freeze ? "frozen" : null);
      const shown = settings.view && settings.view.activity;
      if (settings.follow && shown && activities.has(shown)) {
        mount(shown);
        const a = activities.get(shown);
        if (settings.view.view && a.follow) a.follow(settings.view.view);
      }
      shell.setTabsLocked(!maySwitch());
    }
    notify("settings");
  },
  lobby(code) {
    // Waiting to be let in, or private child time: a calm screen instead of the room.
    shell.guest.show(code || (settings.freeze ? "frozen" : null));
  },
  knock(person) {
    if (shell.host) shell.host.knock(person);
  },
  pending: () => notify("pending"),
  stacks: () => notify("stacks"),
  applied: () => notify("seq"),
  toast: (text) => shell.toast(text),
  fatal: (code, reason) => shell.fatal(code, reason),
});

// Socket events are not page loads: keep the therapist's sign-in from timing out
// for inactivity in the middle of a session.
if (config.urls.alive) {
  setInterval(() => fetch(config.urls.alive, {credentials: "same-origin"}).catch(() => {}), 5 * 60 * 1000);
}

document.body.dataset.conn = "reconnecting";
mount(config.activities.find((a) => activities.has(a.name))?.name);
conn.start();
// For debugging in the console only; nothing depends on it.
window.playroom = {config, conn, activities};
