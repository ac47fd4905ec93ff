// The therapist's story editor (a side panel next to the page being read): title,
// page text, the page's pictures (1-3 from the picture set, searched by name), add /
// remove / move pages. Every change is one op with an inverse (undo works). Text is
// sent when the field loses focus or Enter is pressed, not per keystroke, and is only
// ever put into inputs and text nodes.
//
// Test hooks: .st-editor [name="title"], [name="text"], [data-action="add-page"|
// "remove-page"|"move-left"|"move-right"|"done-editing"], picker [data-pick=id],
// chosen pictures [data-chosen=id]; [data-action="upload"] and its file input
// input[type=file][data-action="upload-file"]; .st-upload-status (plain words).
//
// "Upload picture" sends a file from the device to the server, which checks and cleans
// it (rooms/assets/uploads.py); the picture then appears first in the picker ("upload:<id>")
// and is added to the page.
//
// Languages (issue 16): a room's own story is written in one language (st.lang, the
// writer's when it was made; [name="lang"] changes it). The title and text fields say
// so (lang="…": the browser's spelling check and a screen reader use it); the story is
// never machine-translated.
import {t, tn} from "../room/i18n.js";
import {storyLang} from "./model.js";
import {button, calmIcon} from "../room/ui.js";
import {icon} from "../room/icons.js";
import {pictureOf} from "../room/uploads.js";
import {Drafts, el, picture} from "../room/util.js";

const PICKER_MAX = 60;

export class StoryEditor {
  constructor(activity) {
    this.a = activity;
    this.query = "";
    this.status = "";          // what the last upload did, in plain words
    this.statusKind = "";      // "", "busy", "error", "ok"
    this.busy = false;
    this.drafts = new Drafts();   // typed, not yet sent: survives a rebuild of the panel
  }

  get limits() {
    return this.a.cfg.limits;
  }

  render(st, i) {
    const a = this.a;
    const page = st.pages[i];
    const lim = this.limits;
    const lang = storyLang(st);
    const title = el("input", {name: "title", class: "st-input", maxlength: lim.title_chars,
      "aria-label": t("Story title"), lang});
    title.value = st.title;
    const sendTitle = () => {
      const v = title.value.trim();
      if (v && v !== st.title && v.length <= lim.title_chars) a.submit("story.title", {id: st.id, title: v});
      else title.value = st.title;
    };
    title.addEventListener("change", sendTitle);
    this.drafts.keep(title, `title:${st.id}`, st.title);
    const text = el("textarea", {name: "text", class: "st-input", rows: 4, maxlength: lim.text_chars,
      "aria-label": t("Page text"), lang});
    text.value = page.text;
    this.drafts.keep(text, `text:${st.id}:${i}`, page.text);
    const counted = () => t("{count} / {max}", {count: text.value.length, max: lim.text_chars});
    const count = el("span", {class: "st-count"}, counted());
    text.addEventListener("input", () => { count.textContent = counted(); });
    const languages = a.cfg.languages || {};   // each named in itself (LANGUAGES)
    const langSelect = el("select", {name: "lang", class: "st-input"},
      Object.entries(languages).map(([code, name]) => el("option", {value: code, lang: code}, name)));
    langSelect.value = lang;
    langSelect.addEventListener("change", () => {
      if (langSelect.value !== lang) a.submit("story.lang", {id: st.id, lang: langSelect.value});
    });
    text.addEventListener("change", () => {
      if (text.value !== page.text && text.value.length <= lim.text_chars) {
        a.submit("page.text", {id: st.id, page: i, text: text.value});
      }
    });
    const chosen = el("div", {class: "st-chosen"}, page.pics.map((p, k) => button({class: "st-chip",
      dataset: {chosen: p}, title: t("Take this picture away"), disabled: page.pics.length <= 1,
      onclick: () => a.submit("page.pics", {id: st.id, page: i, pics: page.pics.filter((_, j) => j !== k)})},
    a.pic(p, "st-chip-pic"), icon("close"))));
    const n = st.pages.length;
    const tools = el("div", {class: "st-edit-tools"},
      button({class: "st-btn", dataset: {action: "move-left"}, title: t("Move page earlier"), disabled: i === 0,
        onclick: () => this.move(st, i, i - 1)}, calmIcon("back")),
      button({class: "st-btn", dataset: {action: "move-right"}, title: t("Move page later"), disabled: i >= n - 1,
        onclick: () => this.move(st, i, i + 1)}, calmIcon("next")),
      button({class: "st-btn", dataset: {action: "add-page"}, title: t("Add a page after this one"),
        disabled: n >= lim.pages, onclick: () => this.addPage(st, i)}, icon("plus")),
      button({class: "st-btn", dataset: {action: "remove-page"}, title: t("Remove this page"),
        disabled: n <= 1, onclick: () => a.submit("page.remove", {id: st.id, page: i})}, icon("trash")));
    const search = el("input", {class: "st-input", type: "search", placeholder: t("Find a picture"),
      "aria-label": t("Find a picture")});
    search.value = this.query;
    const grid = el("div", {class: "st-picker"});
    const fill = () => {
      const q = search.value.trim().toLowerCase();
      this.query = search.value;
      const own = q ? [] : (a.uploads?.items || []).map((u) => button({class: "st-pick st-pick-own",
        dataset: {pick: u.ref}, title: t("Our picture"), onclick: () => this.pick(st, i, u.ref)},
      pictureOf(a.ctx, a.cfg, u.ref, "st-pick-pic", t("our picture"), true)));
      const hits = Object.entries(a.ctx.pictures)
        .filter(([id, p]) => !q || id.includes(q) || (p.label || "").toLowerCase().includes(q))
        .slice(0, PICKER_MAX);
      grid.replaceChildren(...own, ...hits.map(([id, p]) => button({class: "st-pick", dataset: {pick: id},
        title: p.label || id, onclick: () => this.pick(st, i, id)}, picture(a.ctx.pictures, id, "st-pick-pic", p.label || id))));
    };
    search.addEventListener("input", fill);
    fill();
    if (a.uploads && a.uploads.items === null) a.uploads.list().then(() => { if (grid.isConnected) fill(); });
    const status = el("p", {class: "st-upload-status" + (this.statusKind ? ` ${this.statusKind}` : ""),
      role: this.statusKind === "error" ? "alert" : "status", "aria-live": "polite"}, this.status);
    const file = el("input", {type: "file", accept: "image/*", class: "st-file", tabindex: "-1",
      "aria-hidden": "true", dataset: {action: "upload-file"}});
    file.addEventListener("change", () => {
      const f = file.files && file.files[0];
      file.value = "";
      if (f) this.upload(st.id, f);
    });
    const uploadBtn = button({class: "st-btn", dataset: {action: "upload"}, disabled: this.busy || !a.uploads,
      title: t("Upload a picture from this device"), onclick: () => file.click()},
    calmIcon("plus"), el("span", {}, this.busy ? t("Uploading…") : t("Upload picture")));
    return el("aside", {class: "st-editor", "aria-label": t("Edit story")},
      el("div", {class: "st-edit-head"}, el("strong", {}, t("Page {page} of {pages}", {page: i + 1, pages: n})),
        button({class: "st-btn", dataset: {action: "done-editing"},
          onclick: () => { a.editing = null; a.refresh(); }}, calmIcon("check"), el("span", {}, t("Done")))),
      el("label", {class: "st-label"}, t("Title"), title),
      el("label", {class: "st-label"}, t("Language of this story"), langSelect),
      el("label", {class: "st-label"}, t("Text on this page"), text, count),
      tools,
      el("div", {class: "st-label"}, tn("Pictures (up to {n}; tap one below to add or swap)",
        "Pictures (up to {n}; tap one below to add or swap)", lim.pics)),
      chosen, el("div", {class: "st-find"}, search, uploadBtn, file), status, grid);
  }

  setStatus(text, kind = "") {
    this.status = text;
    this.statusKind = kind;
    const node = this.a.root?.querySelector(".st-upload-status");
    if (node) {
      node.textContent = text;
      node.className = "st-upload-status" + (kind ? ` ${kind}` : "");
      node.setAttribute("role", kind === "error" ? "alert" : "status");
    }
  }

  /** Send a picture; when it is in, put it on the page being edited. */
  async upload(storyId, f) {
    const a = this.a;
    if (this.busy || !a.uploads) return;
    this.busy = true;
    this.setStatus(t("Sending the picture…"), "busy");
    a.sig = null;
    a.refresh();
    try {
      const up = await a.uploads.send(f, (text) => this.setStatus(text, "busy"));
      this.busy = false;
      this.setStatus(t("Your picture is in. It is on this page now."), "ok");
      const st = a.state.stories[storyId];
      if (st && a.state.open.story === storyId) this.pick(st, Math.min(a.state.open.page, st.pages.length - 1), up.ref);
    } catch (err) {
      this.busy = false;
      this.setStatus(err && err.message ? err.message : t("The picture could not be saved."), "error");
    }
    a.sig = null;
    a.refresh();
  }

  move(st, from, to) {
    this.a.submit("page.move", {id: st.id, from, to});
    this.a.submit("page", {page: to});
  }

  addPage(st, i) {
    this.a.submit("page.add", {id: st.id, page: i + 1, pics: ["star"], text: ""});
    this.a.submit("page", {page: i + 1});
  }

  /** Add the picture to the page, or (when full) swap the last one for it. */
  pick(st, i, id) {
    const pics = st.pages[i].pics.slice();
    if (pics.includes(id)) return;
    if (pics.length < this.limits.pics) pics.push(id);
    else pics[pics.length - 1] = id;
    this.a.submit("page.pics", {id: st.id, page: i, pics});
  }
}
