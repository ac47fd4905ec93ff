// The therapist runs the room (CTL1-CTL8): the waiting-room strip, the room panel
// (who may do what, lock, automatic admission, private child time, people, end),
// and what a guest sees instead of the room while waiting or paused.
// It knows activities only by config.activities' name/title/icon.
import {icon} from "./icons.js";
import {N_, formatNumber, t, tn} from "./i18n.js";
import {SafetyCard} from "./safety.js";
import {el, picture} from "./util.js";

// Tables of messages are marked with N_() and said with t() when shown (the
// reader's language is known by then).
const ROLE_LABEL = {therapist: N_("Therapist"), child: N_("Child"), parent: N_("Parent")};

/** A role's name in the reader's language (an unknown role shows as it is). */
export function roleLabel(role) {
  return ROLE_LABEL[role] ? t(ROLE_LABEL[role]) : role;
}

/** A sentence with {name} in it, the name in bold: [text, <b>name</b>, text]. */
function withName(text, name) {
  const i = text.indexOf("{name}");
  return i < 0 ? [text] : [text.slice(0, i), el("b", {}, name), text.slice(i + "{name}".length)];
}

const KNOCK_TTL_MS = 15000;   // a guest who stops knocking has left the waiting room

const SWITCHES = [
  {key: "auto_admit", label: N_("Let guests in without waiting"),
    help: N_("Off: you let each guest in from the waiting room.")},
  {key: "lock", label: N_("Lock the room"), help: N_("Nobody new comes in, not even automatically.")},
  {key: "private", label: N_("Private time with the child"),
    help: N_("The parent waits on a calm screen and sees nothing until you switch this off.")},
];

/** The therapist's controls. `run(action, body)` sends a `control` event. */
export class HostControls {
  constructor(shell, {run, confirm, toast}) {
    this.shell = shell;
    this.run = run;
    this.confirm = confirm;
    this.toast = toast;
    this.settings = {};
    this.people = [];
    this.waiting = new Map();   // pid -> {person, seen}
    const pics = shell.config.pictures;
    this.strip = el("div", {class: "lobby-strip", hidden: true, role: "region",
      "aria-label": t("Waiting room"), "aria-live": "polite"});
    this.badge = el("span", {class: "badge", hidden: true});
    this.button = el("button", {class: "bar-btn room-btn", type: "button", title: t("Room controls"),
      "aria-label": t("Room controls"), "aria-haspopup": "dialog", dataset: {action: "room-panel"},
      onclick: () => this.open()}, picture(pics, "key", "bar-btn-pic"), el("span", {}, t("Room")), this.badge);
    this.panel = el("aside", {class: "room-panel", hidden: true, role: "dialog",
      "aria-label": t("Room controls")});
    this.sweep = setInterval(() => this.expireKnocks(), 2000);
    // SAFE2: the crisis card heads the panel (kept across renders, loaded on open).
    this.safety = shell.config.urls.safety ? new SafetyCard(shell.config.urls.safety) : null;
  }

  // ------------------------------------------------------------ waiting room
  knock(person) {
    const fresh = !this.waiting.has(person.id);
    this.waiting.set(person.id, {person, seen: Date.now()});
    if (fresh) this.toast(t("{name} is waiting to come in.", {name: person.name}));
    this.renderStrip();
  }

  expireKnocks() {
    let changed = false;
    for (const [id, w] of this.waiting) {
      if (Date.now() - w.seen > KNOCK_TTL_MS) { this.waiting.delete(id); changed = true; }
    }
    if (changed) this.renderStrip();
  }

  renderStrip() {
    const pics = this.shell.config.pictures;
    const rows = [...this.waiting.values()].map(({person: p}) => el("div", {class: "lobby-row",
      dataset: {waiting: p.id}},
      picture(pics, p.avatar, "person-pic"),
      el("span", {class: "lobby-text"}, ...withName(t("{name} ({role}) is waiting", {role: roleLabel(p.role)}), p.name)),
      el("button", {class: "btn-ok", type: "button", dataset: {action: "admit"},
        onclick: () => this.admit(p.id)}, t("Let in")),
      el("button", {class: "btn-quiet", type: "button", dataset: {action: "deny"},
        onclick: () => this.deny(p)}, t("Not today"))));
    this.strip.replaceChildren(...rows);
    this.strip.hidden = rows.length === 0;
    this.badge.hidden = rows.length === 0;
    this.badge.textContent = formatNumber(rows.length);
    this.badge.title = tn("{n} guest waiting", "{n} guests waiting", rows.length);
  }

  async admit(pid) {
    const ack = await this.run("admit", {pid});
    if (ack && ack.ok) { this.waiting.delete(pid); this.renderStrip(); }
  }

  async deny(p) {
    if (!await this.confirm(t("Turn {name} away for this session?", {name: p.name}),
      {yes: t("Turn away"), no: t("Keep waiting")})) return;
    const ack = await this.run("remove", {pid: p.id});
    if (ack && ack.ok) { this.waiting.delete(p.id); this.renderStrip(); }
  }

  // ------------------------------------------------------------ the room panel
  setSettings(s) {
    this.settings = s;
    if (!this.panel.hidden) this.renderPanel();
  }

  setPeople(list) {
    this.people = list;
    for (const p of list) if (p.online) this.waiting.delete(p.id);
    this.renderStrip();
    if (!this.panel.hidden) this.renderPanel();
  }

  open() {
    this.renderPanel();
    this.safety?.load();
    this.panel.hidden = false;
    this.panel.querySelector("button")?.focus();
  }

  close() {
    this.panel.hidden = true;
    this.button.focus();
  }

  setting(key, value) {
    return this.run("settings", {changes: {[key]: value}});
  }

  renderPanel() {
    const s = this.settings;
    const acts = this.shell.config.activities;
    // What a permission is about: an activity (its title comes translated in the
    // config) or switching activities.
    const labels = {switch: t("switch activity")};
    for (const a of acts) labels[a.name] = a.title;
    const sw = (key, label, help, checked, onchange) => el("label", {class: "ctl-switch"},
      el("input", {type: "checkbox", dataset: {setting: key}, checked: Boolean(checked),
        onchange: (e) => onchange(e.target.checked)}),
      el("span", {class: "ctl-label"}, el("b", {}, label), help ? el("small", {}, help) : null));
    const roles = ["child", "parent"];
    const master = {child: "child_may_draw", parent: "parent_may_play"};
    const perms = s.perms || {};
    const cell = (role, key) => el("td", {}, el("input", {type: "checkbox",
      "aria-label": t("{role}: {what}", {role: roleLabel(role), what: labels[key] || key}),
      dataset: {perm: `${role}.${key}`},
      checked: Boolean(perms[role] && perms[role][key]),
      onchange: (e) => this.run("settings", {changes: {perms: {[role]: {[key]: e.target.checked}}}})}));
    const table = el("table", {class: "ctl-perms"},
      el("thead", {}, el("tr", {}, el("th", {}, t("May…")), ...roles.map((r) => el("th", {}, roleLabel(r))))),
      el("tbody", {},
        el("tr", {class: "master"}, el("th", {}, t("play at all")), ...roles.map((r) => el("td", {},
          el("input", {type: "checkbox", "aria-label": t("{role} may play", {role: roleLabel(r)}),
            dataset: {setting: master[r]}, checked: Boolean(s[master[r]]),
            onchange: (e) => this.setting(master[r], e.target.checked)})))),
        ...acts.map((a) => el("tr", {}, el("th", {}, a.title), ...roles.map((r) => cell(r, a.name)))),
        el("tr", {}, el("th", {}, labels.switch), ...roles.map((r) => cell(r, "switch")))));
    const guests = this.people.filter((p) => p.role !== "therapist");
    const peopleList = el("ul", {class: "ctl-people"}, ...guests.map((p) => el("li", {
      dataset: {participant: p.id}},
      picture(this.shell.config.pictures, p.avatar, "person-pic"),
      el("span", {class: "ctl-person"}, p.name, " ", el("small", {}, p.online ? roleLabel(p.role)
        : t("{role}, away", {role: roleLabel(p.role)}))),
      el("button", {class: "btn-quiet", type: "button", dataset: {action: "remove"},
        onclick: () => this.remove(p)}, t("Remove…")))));
    this.panel.replaceChildren(
      el("header", {class: "ctl-head"}, el("h2", {}, t("Room")),
        el("button", {class: "ctl-close", type: "button", "aria-label": t("Close"), onclick: () => this.close()},
          icon("close"))),
      this.safety?.el,
      el("section", {}, ...SWITCHES.map((w) => sw(w.key, t(w.label), t(w.help), s[w.key],
        (v) => this.setting(w.key, v)))),
      el("section", {}, el("h3", {}, t("Who may do what")), table,
        el("p", {class: "ctl-note"}, t("With “Follow me” on, everyone sees what you show."))),
      el("section", {}, el("h3", {}, t("People")),
        guests.length ? peopleList : el("p", {class: "ctl-note"}, t("No guests yet."))),
      el("section", {class: "ctl-end"},
        el("button", {class: "btn-end", type: "button", dataset: {action: "end-session"},
          onclick: () => this.end()}, t("End session"))));
  }

  async remove(p) {
    const revoke = el("input", {type: "checkbox", dataset: {action: "revoke"}});
    const ok = await this.confirm(el("span", {}, t("Remove {name} from this session?", {name: p.name}),
      el("label", {class: "ctl-revoke"}, revoke, " ", t("Also switch off their link"))),
    {yes: t("Remove"), no: t("Cancel")});
    if (ok) await this.run("remove", {pid: p.id, revoke: revoke.checked});
  }

  async end() {
    if (!await this.confirm(t("End the session for everyone?"), {yes: t("End session"), no: t("Not yet")})) return;
    const ack = await this.run("end");
    if (ack && ack.ok) {
      this.close();
      const url = this.shell.config.urls.record;
      if (url && ack.record_first_seq) this.showRecordLink(url.replace("{first}", String(ack.record_first_seq)));
      else this.toast(t("The session has ended. Its record is saved."));
    }
  }

  /** Issue 17: after "End session", a way to the record just written (a new tab, so
   * the room stays open for the next session). */
  showRecordLink(href) {
    const card = el("div", {class: "modal", role: "dialog", "aria-label": t("Session ended")});
    const close = () => card.remove();
    card.append(el("div", {class: "modal-card"},
      el("p", {class: "modal-q"}, t("The session has ended.")),
      el("div", {class: "modal-row"},
        el("a", {class: "big-btn", href, target: "_blank", rel: "noopener", dataset: {action: "open-record"},
          onclick: () => setTimeout(close, 0)}, t("Open its record")),
        el("button", {class: "big-btn no", type: "button", dataset: {action: "close-record-link"},
          onclick: close}, t("Close")))));
    document.body.append(card);
  }
}

const GUEST_SCREENS = {
  waiting: {pic: "hourglass", title: N_("Your therapist will let you in soon."),
    text: N_("You can wait here. The room opens by itself.")},
  private_time: {pic: "teddy", title: N_("Private time"),
    text: N_("Your child is having some private time with the therapist. This screen will open the room again by itself.")},
  frozen: {pic: "turtle", title: N_("Let’s pause for a moment."),
    text: N_("Your therapist paused the room. You can keep watching.")},
};

/** What a guest sees instead of (or over) the room; each change is also a cue
 *  (a tone, the local voice) for a child who cannot read (issue 14). */
export class GuestScreen {
  constructor(config, cues) {
    this.config = config;
    this.cues = cues;
    this.el = el("div", {class: "guest-screen", hidden: true, role: "status", "aria-live": "polite"});
    this.state = null;
  }

  /** kind: null | "waiting" | "private_time" | "frozen" */
  show(kind) {
    if (kind === this.state) return;
    const was = this.state;
    this.state = kind;
    document.body.dataset.screen = kind || "";
    if (!kind) {
      this.el.hidden = true;
      this.el.replaceChildren();
      if (was === "waiting" || was === "private_time") this.welcome();
      else if (was) this.cues?.give("back");
      return;
    }
    this.cues?.give(kind);
    const s = GUEST_SCREENS[kind];
    this.el.className = "guest-screen screen-" + kind;
    this.el.replaceChildren(el("div", {class: "guest-card"},
      picture(this.config.pictures, s.pic, "guest-pic"),
      el("h1", {}, t(s.title)), el("p", {}, t(s.text)),
      kind === "frozen" ? null : el("div", {class: "guest-dots", "aria-hidden": "true"},
        el("span"), el("span"), el("span")),
      // The room's own Leave is under this screen; waiting need not trap anyone.
      kind === "frozen" ? null : el("a", {class: "guest-leave", href: this.config.urls.leave,
        dataset: {action: "leave"}}, picture(this.config.pictures, "door", "guest-leave-pic"), t("Leave"))));
    this.el.hidden = false;
  }

  /** Let in (a waving hand) or your turn (a thumbs up): a big picture for a moment
   *  (it never takes a tap: pointer-events none). */
  welcome(pic = "hello", cue = "let_in") {
    this.flash(pic, cue);
  }

  /** Cue `cue` with a big picture for a moment (a welcome, a timer's start or end). */
  flash(pic, cue, opts) {
    this.cues?.give(cue, opts);
    const card = el("div", {class: "guest-welcome", "aria-hidden": "true", dataset: {cue}},
      picture(this.config.pictures, pic, "guest-pic"));
    document.body.append(card);
    setTimeout(() => card.remove(), 1800);
  }
}
