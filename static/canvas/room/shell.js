// The room shell: top bar (room name, activity tabs, people, therapist toggles,
// connection pill), toasts, a confirm dialog and the full-screen goodbye message.
// It knows nothing about any activity beyond config.activities' name/title/icon.
import {icon} from "./icons.js";
import {GuestScreen, HostControls, roleLabel} from "./controls.js";
import {Cues, cuePicture} from "./cues.js";
import {N_, t} from "./i18n.js";
import {el, picture} from "./util.js";

// Tables of messages are marked with N_() and said with t() when shown (the
// reader's language is known by then).
const CONN_LABEL = {connected: N_("Connected"), reconnecting: N_("Reconnecting…"), closed: N_("Offline")};
// Issue 14: the connection state said by a picture too (a slow snail, a cloud).
const CONN_PICTURE = {reconnecting: "snail", closed: "cloud"};
// The therapist's quick switches in the top bar; the rest is in the room panel.
const TOGGLES = [
  {key: "freeze", label: N_("Pause guests")},
  {key: "follow", label: N_("Follow me")},
];
const GOODBYE = {
  session_ended: [N_("The session has ended."), N_("Thank you for playing today!")],
  revoked: [N_("This link is switched off."), N_("Please ask your therapist for a new link.")],
  removed: [N_("See you next time!"), N_("Your therapist has closed your visit for today.")],
  not_authenticated: [N_("Let’s get you back in."), N_("Please open your invite link again.")],
  version_mismatch: [N_("Playroom was updated."), N_("Please close this tab and open the link again.")],
  rate_limited: [N_("We paused the connection."), N_("Please reload the page to keep playing.")],
};

export class Shell {
  constructor(config, {onSwitch, onSetting, onControl}) {
    this.config = config;
    this.onSwitch = onSwitch;
    this.onSetting = onSetting;
    this.onControl = onControl;
    this.settings = {};
    this.build();
  }

  build() {
    const {config} = this;
    const pics = config.pictures;
    this.tabs = el("nav", {class: "bar-tabs", role: "tablist", "aria-label": t("Activities")});
    for (const a of config.activities) {
      const b = el("button", {
        class: "tab", role: "tab", type: "button", title: a.title, "aria-label": a.title,
        dataset: {activity: a.name}, onclick: () => this.onSwitch(a.name),
      }, picture(pics, a.icon, "tab-pic"), el("span", {class: "tab-title"}, a.title));
      this.tabs.append(b);
    }
    this.people = el("ul", {class: "bar-people", "aria-label": t("People in the room")});
    this.toggles = el("div", {class: "bar-toggles"});
    if (config.me.role === "therapist") {
      for (const sw of TOGGLES) {
        const b = el("button", {
          class: "toggle", type: "button", role: "switch", "aria-checked": "false",
          dataset: {setting: sw.key},
          onclick: () => this.onSetting(sw.key, !this.settings[sw.key]),
        }, el("span", {class: "toggle-track"}, el("span", {class: "toggle-knob"})),
        el("span", {class: "toggle-label"}, t(sw.label)));
        this.toggles.append(b);
      }
    }
    this.host = null;
    if (config.me.role === "therapist") {
      this.host = new HostControls(this, {
        run: (action, body) => this.onControl(action, body),
        confirm: (q, o) => this.confirm(q, o), toast: (text) => this.toast(text)});
      this.toggles.append(this.host.button);
    }
    this.cues = new Cues(config.me.role !== "therapist");
    this.guest = new GuestScreen(config, this.cues);
    this.pill = el("span", {class: "pill", role: "status", "aria-live": "polite"});
    const leave = el("a", {class: "leave", href: config.urls.leave, title: t("Leave the room"),
      "aria-label": t("Leave the room"), onclick: (e) => this.confirmLeave(e)}, icon("leave"));
    this.bar = el("header", {class: "bar" + (config.me.role === "therapist" ? " host" : "")},
      el("div", {class: "bar-room"}, picture(pics, "palette", "bar-logo"),
        el("span", {class: "bar-name", title: config.room.name}, config.room.name)),
      this.tabs, this.people, this.toggles, this.pill, leave);
    this.stage = el("main", {class: "stage", id: "stage"});
    this.toasts = el("div", {class: "toasts", role: "status", "aria-live": "polite"});
    this.modal = el("div", {class: "modal", hidden: true, role: "dialog", "aria-modal": "true"});
    this.fatalEl = el("div", {class: "fatal", hidden: true, role: "alert"});
    this.root = el("div", {class: "app"}, this.bar, this.stage);
    if (this.host) this.bar.after(this.host.strip);
    document.body.append(this.root, this.guest.el, ...(this.host ? [this.host.panel] : []),
      this.toasts, this.modal, this.fatalEl);
    this.setConn("reconnecting");
    this.setPresence([{...config.me, online: true}]);
  }

  setActive(name) {
    for (const b of this.tabs.children) {
      const on = b.dataset.activity === name;
      b.classList.toggle("on", on);
      b.setAttribute("aria-selected", String(on));
    }
    // One activity needs no switcher; keep the tab row for when there are more.
    this.tabs.hidden = this.tabs.children.length < 2;
  }

  /** Guests may not switch while the therapist leads (follow-me) or when their
   *  role may not switch; the tabs then only show where everyone is. */
  setTabsLocked(locked) {
    this.tabs.classList.toggle("locked", locked);
    for (const b of this.tabs.children) b.disabled = locked && !b.classList.contains("on");
  }

  setConn(state) {
    const was = this.pill.dataset.state;
    this.pill.dataset.state = state;
    const pic = CONN_PICTURE[state];
    this.pill.replaceChildren(...(pic ? [picture(this.config.pictures, pic, "pill-pic", "")] : []),
      CONN_LABEL[state] ? t(CONN_LABEL[state]) : state);
    // A connection that was up and drops (or comes back) is worth a cue; the first
    // connect is not.
    if (was === "connected" && state !== "connected") this.cues.give("reconnecting");
    if (state === "connected" && this.everConnected && was !== "connected") this.cues.give("back");
    if (state === "connected") this.everConnected = true;
  }

  setPresence(list) {
    if (this.host) this.host.setPeople(list);
    const pics = this.config.pictures;
    const order = {therapist: 0, child: 1, parent: 2};
    const sorted = [...list].sort((a, b) => (order[a.role] ?? 3) - (order[b.role] ?? 3));
    this.people.replaceChildren(...sorted.map((p) => el("li", {
      class: "person" + (p.online ? "" : " offline") + (p.id === this.config.me.id ? " me" : ""),
      dataset: {participant: p.id, online: String(Boolean(p.online)), role: p.role},
      title: p.online ? t("{name} ({role})", {name: p.name, role: roleLabel(p.role)})
        : t("{name} ({role}, away)", {name: p.name, role: roleLabel(p.role)}),
    }, picture(pics, p.avatar, "person-pic", ""),
    el("span", {class: "person-text"},
      el("span", {class: "person-name"}, p.name),
      el("span", {class: "role role-" + p.role}, roleLabel(p.role))))));
  }

  setSettings(settings) {
    this.settings = {...settings};
    for (const b of this.toggles.children) {
      if (b.dataset.setting) b.setAttribute("aria-checked", String(Boolean(settings[b.dataset.setting])));
    }
    if (this.host) this.host.setSettings(this.settings);
  }

  /** A moment in an activity a guest is told of (issue 14): a timer started or ran
   *  out, said by its picture, a tone and the local voice. The therapist's screen
   *  stays quiet. `opts`: {tone: false} after the activity's own sound. */
  cue(kind, opts) {
    if (this.config.me.role === "therapist") return;
    this.guest.flash(cuePicture(kind), kind, opts);
  }

  toast(text, ms = 3500) {
    if (!text) return;
    // The same message twice in a row just stays up longer.
    const last = this.toasts.lastElementChild;
    if (last && last.textContent === text) {
      clearTimeout(last._timer);
      last._timer = setTimeout(() => last.remove(), ms);
      return;
    }
    const note = el("div", {class: "toast"}, text);
    this.toasts.append(note);
    while (this.toasts.children.length > 3) this.toasts.firstElementChild.remove();
    note._timer = setTimeout(() => note.remove(), ms);
  }

  /** A calm yes/no question with big picture buttons. Resolves true for yes. */
  confirm(question, {yes = t("Yes"), no = t("No")} = {}) {
    return new Promise((resolve) => {
      const done = (v) => {
        this.modal.hidden = true;
        this.modal.replaceChildren();
        document.removeEventListener("keydown", onKey);
        resolve(v);
      };
      const onKey = (e) => { if (e.key === "Escape") done(false); };
      const yesB = el("button", {class: "big-btn yes", type: "button", dataset: {action: "confirm-yes"},
        onclick: () => done(true)}, icon("check"), el("span", {}, yes));
      const noB = el("button", {class: "big-btn no", type: "button", dataset: {action: "confirm-no"},
        onclick: () => done(false)}, icon("cross"), el("span", {}, no));
      this.modal.replaceChildren(el("div", {class: "modal-card"},
        el("p", {class: "modal-q"}, question), el("div", {class: "modal-row"}, noB, yesB)));
      this.modal.hidden = false;
      this.modal.onclick = (e) => { if (e.target === this.modal) done(false); };
      document.addEventListener("keydown", onKey);
      noB.focus();
    });
  }

  async confirmLeave(e) {
    e.preventDefault();
    if (await this.confirm(t("Leave the room?"), {yes: t("Leave"), no: t("Stay")})) location.href = this.config.urls.leave;
  }

  /** Full-screen, friendly goodbye; the connection has stopped for good. */
  fatal(code, reason) {
    const signedOut = code === "not_authenticated" && this.config.me.role === "therapist";   // AUTH7
    const known = signedOut ? [N_("You were signed out."), N_("Please sign in again.")] : GOODBYE[code];
    // A code the shell does not know keeps the server's own reason, if it gave one.
    const [title, text] = known ? known.map((m) => t(m))
      : [t("The connection was closed."), reason || t("Please open your link again.")];
    this.fatalEl.replaceChildren(el("div", {class: "fatal-card"},
      picture(this.config.pictures, ["session_ended", "removed"].includes(code) ? "rainbow" : "cloud", "fatal-pic"),
      el("h1", {}, title),
      el("p", {}, text),
      el("a", {class: "big-btn", href: this.config.urls.leave}, t("OK"))));
    this.fatalEl.hidden = false;
    document.body.dataset.fatal = code || "closed";
    this.cues.give("goodbye");
  }
}
