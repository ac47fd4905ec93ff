// The therapist's crisis card (issue 15 part 7, SAFE2): where the child is this
// session, the emergency contact, and the practice's crisis lines, at the top of the
// room panel (one tap: "Room"). Fetched from and saved to /rooms/<id>/safety over
// HTTP, never through the room's socket: no guest's socket ever carries it.
import {N_, t} from "./i18n.js";
import {el} from "./util.js";

const FIELDS = [
  {key: "location", label: N_("Where is the child right now?"), max: 200,
    hint: N_("e.g. home, 12 Oak St, Springfield"), auto: "off"},
  {key: "contact_name", label: N_("Emergency contact"), max: 80, hint: N_("name"), auto: "off"},
  {key: "contact_phone", label: N_("Their phone"), max: 40, hint: N_("phone number"), auto: "off", type: "tel"},
];

/** The crisis card and its form; `el` is a section kept across panel renders. */
export class SafetyCard {
  constructor(url) {
    this.url = url;
    this.data = null;
    this.csrf = "";
    this.el = el("section", {class: "ctl-safety", "aria-label": t("Safety this session"),
      dataset: {safety: "card"}});
    this.render();
  }

  /** Reads this session's details (each time the panel opens: another tab may have saved). */
  async load() {
    try {
      const r = await fetch(this.url, {credentials: "same-origin", headers: {Accept: "application/json"}});
      if (r.ok) { this.data = await r.json(); this.csrf = this.data.csrf; }
    } catch { /* offline: the card keeps what it showed */ }
    this.render();
  }

  async save(form, status) {
    const body = {};
    for (const f of FIELDS) body[f.key] = form.elements[f.key].value;
    status.textContent = t("Saving…");
    try {
      const r = await fetch(this.url, {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": this.csrf}, body: JSON.stringify(body)});
      const answer = await r.json();
      if (!r.ok) { status.textContent = answer.message || t("Not saved."); return; }
      this.data = answer; this.csrf = answer.csrf;
      this.render();
      this.el.querySelector("[data-safety=status]").textContent = t("Saved for this session.");
    } catch {
      status.textContent = t("Not saved: the connection is down. Try again.");
    }
  }

  render() {
    const d = this.data || {};
    const missing = t("Not recorded yet");
    const phone = d.contact_phone
      ? el("a", {href: `tel:${d.contact_phone.replace(/[^0-9+]/g, "")}`}, d.contact_phone) : null;
    const status = el("p", {class: "ctl-note", role: "status", dataset: {safety: "status"}});
    const form = el("form", {class: "safety-form", onsubmit: (e) => { e.preventDefault(); this.save(form, status); }},
      ...FIELDS.map((f) => el("label", {}, el("span", {}, t(f.label)),
        el("input", {name: f.key, type: f.type || "text", maxlength: f.max, placeholder: t(f.hint),
          autocomplete: f.auto, value: d[f.key] || "", dataset: {safety: f.key}}))),
      el("button", {class: "btn-ok", type: "submit", dataset: {action: "save-safety"}}, t("Save")),
      status);
    this.el.replaceChildren(
      el("h3", {}, t("Safety this session")),
      el("dl", {class: "safety-card", dataset: {safety: "shown"}},
        el("dt", {}, t("Child is at")), el("dd", {}, d.location || missing),
        el("dt", {}, t("Emergency contact")),
        el("dd", {}, d.contact_name || (phone ? "" : missing), phone ? " " : "", phone),
        ...(d.parent_location ? [el("dt", {}, t("Parent says")),
          el("dd", {dataset: {safety: "parent"}}, d.parent_location)] : [])),
      el("h3", {}, t("Crisis lines")),
      el("ul", {class: "safety-lines", dataset: {safety: "lines"}},
        ...(d.crisis_lines || []).map((line) => el("li", {}, line))),
      form);
  }
}
