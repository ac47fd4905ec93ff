// The therapist's story editor (a side panel next to the page being read): title,
// page text, the page's pictures (1-3 from the picture set, searched by name), add /
// remove / move pages. Every change is one op with an inverse (undo works). Text is
// sent when the field loses focus or Enter is pressed, not per keystroke, and is only
// ever put into inputs and text nodes.
//
// Test hooks: .st-editor [name="title"], [name="text"], [data-action="add-page"|
// "remove-page"|"move-left"|"move-right"|"done-editing"], picker [data-pick=id],
// chosen pictures [data-chosen=id].
import {button, calmIcon} from "./calm-ui.js";
import {icon} from "./icons.js";
import {el, picture} from "./util.js";

const PICKER_MAX = 60;

export class StoryEditor {
  constructor(activity) {
    this.a = activity;
    this.query = "";
  }

  get limits() {
    return this.a.cfg.limits;
  }

  render(st, i) {
    const a = this.a;
    const page = st.pages[i];
    const lim = this.limits;
    const title = el("input", {name: "title", class: "st-input", maxlength: lim.title_chars,
      "aria-label": "Story title"});
    title.value = st.title;
    const sendTitle = () => {
      const v = title.value.trim();
      if (v && v !== st.title && v.length <= lim.title_chars) a.submit("story.title", {id: st.id, title: v});
      else title.value = st.title;
    };
    title.addEventListener("change", sendTitle);
    const text = el("textarea", {name: "text", class: "st-input", rows: 4, maxlength: lim.text_chars,
      "aria-label": "Page text"});
    text.value = page.text;
    const count = el("span", {class: "st-count"}, `${page.text.length} / ${lim.text_chars}`);
    text.addEventListener("input", () => { count.textContent = `${text.value.length} / ${lim.text_chars}`; });
    text.addEventListener("change", () => {
      if (text.value !== page.text && text.value.length <= lim.text_chars) {
        a.submit("page.text", {id: st.id, page: i, text: text.value});
      }
    });
    const chosen = el("div", {class: "st-chosen"}, page.pics.map((p, k) => button({class: "st-chip",
      dataset: {chosen: p}, title: "Take this picture away", disabled: page.pics.length <= 1,
      onclick: () => a.submit("page.pics", {id: st.id, page: i, pics: page.pics.filter((_, j) => j !== k)})},
    a.pic(p, "st-chip-pic"), icon("close"))));
    const n = st.pages.length;
    const tools = el("div", {class: "st-edit-tools"},
      button({class: "st-btn", dataset: {action: "move-left"}, title: "Move page earlier", disabled: i === 0,
        onclick: () => this.move(st, i, i - 1)}, calmIcon("back")),
      button({class: "st-btn", dataset: {action: "move-right"}, title: "Move page later", disabled: i >= n - 1,
        onclick: () => this.move(st, i, i + 1)}, calmIcon("next")),
      button({class: "st-btn", dataset: {action: "add-page"}, title: "Add a page after this one",
        disabled: n >= lim.pages, onclick: () => this.addPage(st, i)}, icon("plus")),
      button({class: "st-btn", dataset: {action: "remove-page"}, title: "Remove this page",
        disabled: n <= 1, onclick: () => a.submit("page.remove", {id: st.id, page: i})}, icon("trash")));
    const search = el("input", {class: "st-input", type: "search", placeholder: "Find a picture",
      "aria-label": "Find a picture"});
    search.value = this.query;
    const grid = el("div", {class: "st-picker"});
    const fill = () => {
      const q = search.value.trim().toLowerCase();
      this.query = search.value;
      const hits = Object.entries(a.ctx.pictures)
        .filter(([id, p]) => !q || id.includes(q) || (p.label || "").toLowerCase().includes(q))
        .slice(0, PICKER_MAX);
      grid.replaceChildren(...hits.map(([id, p]) => button({class: "st-pick", dataset: {pick: id},
        title: p.label || id, onclick: () => this.pick(st, i, id)}, picture(a.ctx.pictures, id, "st-pick-pic", p.label || id))));
    };
    search.addEventListener("input", fill);
    fill();
    return el("aside", {class: "st-editor", "aria-label": "Edit story"},
      el("div", {class: "st-edit-head"}, el("strong", {}, `Page ${i + 1} of ${n}`),
        button({class: "st-btn", dataset: {action: "done-editing"},
          onclick: () => { a.editing = null; a.refresh(); }}, calmIcon("check"), el("span", {}, "Done"))),
      el("label", {class: "st-label"}, "Title", title),
      el("label", {class: "st-label"}, "Text on this page", text, count),
      tools,
      el("div", {class: "st-label"}, `Pictures (up to ${lim.pics}; tap one below to add or swap)`),
      chosen, search, grid);
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
