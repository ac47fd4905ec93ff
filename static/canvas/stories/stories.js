// Social stories and task-analysis checklists. Browser half of activities/stories/__init__.py.
//
// Everyone sees the same view (shelf, a story page, a checklist) from the confirmed
// state; page turns and ticks are shared ops. The child turns pages with two big
// arrows and taps the text to hear it (speechSynthesis with *local* voices only, so
// no text leaves the device; no local voice means no speech; a silent switch). The
// therapist picks stories and checklists on the shelf, records prompt levels, and
// edits the room's own stories (editor.js). All user text goes in as text
// nodes or input values, never as HTML.
//
// Languages (issue 16): the ready stories and checklists come in the reader's language
// (client_config(tr)), the same pages and pictures for everyone, so a child reading
// Spanish and a therapist reading English turn pages in sync. A room's own story
// carries the language it was written in (st.lang): its title and text are marked
// lang="…" (screen readers) and read aloud in that language. Read-aloud picks a local
// voice of the text's language; with none, it stays silent rather than read one
// language with another's voice.
//
// Test hooks: .stories[data-view]; #story-page[data-story][data-page][data-pages];
// [data-action="next"|"prev"|"speak"|"silent"|"shelf"]; shelf cards
// [data-story=id] with [data-action="read"|"copy"|"edit"|"delete"|"pdf"];
// #task[data-task] steps [data-step=i][data-done]; prompt buttons [data-level];
// [data-action="undo"|"redo"] (everyone who may play: the therapist's edits and
// prompt levels, a child's own ticks; page turns are not undoable).
import {button, calmIcon, loadStyle} from "../room/ui.js";
import {icon} from "../room/icons.js";
import {language, t} from "../room/i18n.js";
import {StoryEditor} from "./editor.js";
import {apply as reduce, initialState, story, storyLang} from "./model.js";
import {UploadClient, pictureOf} from "../room/uploads.js";
import {el, randomId} from "../room/util.js";

// ABA data-sheet codes, the same in every language (the title says the level).
const LEVEL_SHORT = {independent: "I", gestural: "G", verbal: "V", model: "M", physical: "P"};

/** A local voice (no text leaves the device) speaking `lang` ("es", "en-US"), or null.
 * Prefers the region the browser prefers (es-US over es-ES for a US family). */
export function voiceFor(lang) {
  if (!("speechSynthesis" in window)) return null;
  const base = (tag) => String(tag || "").toLowerCase().replace("_", "-").split("-")[0];
  const want = base(lang);
  const voices = window.speechSynthesis.getVoices().filter((v) => v.localService === true && base(v.lang) === want);
  const norm = (tag) => String(tag || "").toLowerCase().replace("_", "-");
  for (const pref of [lang, ...(navigator.languages || [])]) {
    const hit = voices.find((v) => norm(v.lang) === norm(pref));
    if (hit) return hit;
  }
  return voices[0] || null;
}

export function create(spec, app) {
  return new StoriesActivity(spec, app);
}


class StoriesActivity {
  constructor(spec, app) {
    this.spec = spec;
    this.cfg = spec.config;
    this.app = app;
    this.state = initialState(this.cfg);
    this.ctx = null;
    this.silent = false;
    this.editing = null;       // id of the room story open in the editor (therapist)
  }

  // ================================================================ state (works unmounted)
  reset(state) {
    this.state = state && state.open && state.progress ? state : initialState(this.cfg);
    this.refresh();
  }

  /** CTL7: a story or checklist the therapist opens brings a guest here, Follow me or not. */
  summons(type) {
    return type === "open" || type === "task.open";
  }

  apply(op) {
    const next = reduce(this.state, this.cfg, op.t, op.d);
    if (next !== this.state) {
      this.state = next;
      this.refresh();
    }
  }

  ephemeral() { /* no ephemeral signals */ }

  changed(what) {
    if (this.ctx && (what === "settings" || what === "conn" || what === "pending" || what === "stacks")) this.refresh();
  }

  // ================================================================ mounting
  mount(root, ctx) {
    this.ctx = ctx;
    loadStyle("stories/stories.css");
    this.isTherapist = ctx.me.role === "therapist";
    this.root = el("div", {class: "stories", dataset: {role: ctx.me.role}});
    this.body = el("div", {class: "st-body"});
    this.root.append(this.body);
    if (this.isTherapist) {
      this.uploads = this.uploads || new UploadClient(this.cfg);
      this.editor = new StoryEditor(this);
    }
    root.append(this.root);
    this.sig = null;
    this.refresh();
  }

  unmount() {
    if ("speechSynthesis" in window) window.speechSynthesis.cancel();
    this.root?.remove();
    this.root = null;
    this.ctx = null;
    this.editor = null;
  }

  submit(type, d) {
    if (this.ctx) this.ctx.submit(type, d);
  }

  pic(id, cls = "st-pic", thumb = false) {
    return pictureOf(this.ctx, this.cfg, id, cls, "", thumb);
  }

  story(id) {
    return story(this.state, this.cfg, id);
  }

  /** May I turn pages and tick steps? The server decides too; this shapes the UI. */
  canPlay() {
    return this.ctx ? this.ctx.canDraw() : false;
  }

  // ================================================================ rendering
  refresh() {
    if (!this.root) return;
    const s = this.state;
    // Rebuild only when something shown changed (typing in the editor is not disturbed).
    const sig = JSON.stringify([s.view, s.open, s.task, s.view === "task" ? s.progress[s.task] : null,
      s.view === "shelf" || s.view === "story" ? s.stories : null, this.canPlay(), this.silent, this.editing,
      this.ctx.connected(), this.ctx.canUndo(), this.ctx.canRedo()]);
    if (sig === this.sig) return;
    this.sig = sig;
    this.root.dataset.view = s.view;
    if (s.view === "story" && this.story(s.open.story)) this.body.replaceChildren(this.renderStory(s));
    else if (s.view === "task" && this.cfg.tasks[s.task]) this.body.replaceChildren(this.renderTask(s));
    else this.body.replaceChildren(this.renderShelf());
  }

  topBar(...extra) {
    const silentBtn = button({class: "st-btn st-round", dataset: {action: "silent"},
      "aria-pressed": String(this.silent), "aria-label": this.silent ? t("Silent") : t("Sound on"),
      title: this.silent ? t("Silent: tap for sound") : t("Sound on: tap for silent"),
      onclick: () => { this.silent = !this.silent; if (this.silent) window.speechSynthesis?.cancel(); this.refresh(); }},
    this.pic(this.silent ? "calm-sound-off" : "calm-sound-on", "st-btn-pic"));
    const back = this.isTherapist ? button({class: "st-btn", dataset: {action: "shelf"}, title: t("Back to the shelf"),
      onclick: () => this.submit("close", {})}, this.pic("books", "st-btn-pic"), el("span", {}, t("Shelf"))) : null;
    return el("div", {class: "st-top"}, back, ...extra, el("span", {class: "spacer"}), ...this.historyButtons(), silentBtn);
  }

  /** Undo / redo (UNDO1): hidden for someone who may not play right now. */
  historyButtons() {
    if (!this.canPlay()) return [];
    const off = !this.ctx.connected();
    // UNDO4 (issue 14): greyed out when the server says there is nothing to take back.
    const noUndo = off || !this.ctx.canUndo(), noRedo = off || !this.ctx.canRedo();
    return [
      button({class: "st-btn st-round", dataset: {action: "undo"}, "aria-label": t("Undo"), title: t("Undo"),
        disabled: noUndo, "aria-disabled": String(noUndo), onclick: () => this.history("undo")}, icon("undo")),
      button({class: "st-btn st-round", dataset: {action: "redo"}, "aria-label": t("Redo"), title: t("Redo"),
        disabled: noRedo, "aria-disabled": String(noRedo), onclick: () => this.history("redo")}, icon("redo")),
    ];
  }

  history(action) {
    if (!this.ctx || !this.canPlay()) return;
    if (this.ctx.history(action) === null) this.ctx.toast(t("Not connected right now."));
  }

  // ---------------------------------------------------------------- shelf
  renderShelf() {
    if (!this.isTherapist) {
      return el("div", {class: "st-wait"}, this.pic("books", "st-wait-pic"),
        el("p", {class: "st-wait-text"}, t("A story is coming soon")));
    }
    const own = Object.values(this.state.stories);
    const ready = this.cfg.ready_order.map((id) => this.cfg.ready[id]);
    const tasks = this.cfg.task_order.map((id) => this.cfg.tasks[id]);
    const newBtn = button({class: "st-btn", dataset: {action: "new"}, onclick: () => this.newStory()},
      icon("plus"), el("span", {}, t("New story")));
    return el("div", {class: "story-shelf"},
      el("h2", {}, t("Our stories"), " ", newBtn, el("span", {class: "spacer"}), ...this.historyButtons()),
      own.length ? el("div", {class: "st-cards"}, own.map((s) => this.card(s, true)))
        : el("p", {class: "st-hint"}, t("Copy a ready story to change it for this child.")),
      el("h2", {}, t("Ready stories")),
      el("div", {class: "st-cards"}, ready.map((s) => this.card(s, false))),
      el("h2", {}, t("Step by step")),
      el("div", {class: "st-cards"}, tasks.map((task) => this.taskCard(task))));
  }

  card(s, mine) {
    const first = s.pages[0] || {pics: []};
    const actions = [
      button({class: "st-btn st-primary", dataset: {action: "read"}, onclick: () => this.submit("open", {story: s.id, page: 0})},
        calmIcon("play"), el("span", {}, t("Read"))),
      mine ? button({class: "st-btn", dataset: {action: "edit"}, title: t("Edit"),
        onclick: () => { this.editing = s.id; this.submit("open", {story: s.id, page: 0}); this.refresh(); }}, calmIcon("edit"))
        : button({class: "st-btn", dataset: {action: "copy"}, title: t("Copy to change it"),
          onclick: () => this.copy(s.id)}, el("span", {}, t("Copy"))),
      button({class: "st-btn", dataset: {action: "pdf"}, title: t("PDF for home"), onclick: () => this.pdf(s.id)},
        icon("download")),
      mine ? button({class: "st-btn", dataset: {action: "delete"}, title: t("Delete"),
        onclick: () => this.remove(s)}, icon("trash")) : null,
    ];
    return el("article", {class: "st-card", dataset: {story: s.id, mine: String(mine)}},
      el("div", {class: "st-card-pics"}, (first.pics || []).slice(0, 3).map((p) => this.pic(p, "st-card-pic", true))),
      el("h3", mine ? {lang: storyLang(s)} : {}, s.title), el("div", {class: "st-card-actions"}, actions));
  }

  taskCard(task) {
    return el("article", {class: "st-card", dataset: {taskCard: task.id}},
      el("div", {class: "st-card-pics"}, task.steps.slice(0, 3).map((p) => this.pic(p.pic, "st-card-pic"))),
      el("h3", {}, task.title),
      el("div", {class: "st-card-actions"},
        button({class: "st-btn st-primary", dataset: {action: "task"}, onclick: () => this.submit("task.open", {task: task.id})},
          calmIcon("check"), el("span", {}, t("Start")))));
  }

  copy(from) {
    const id = `s-${randomId(10)}`;
    // A ready story is copied in the copier's language (the texts they see).
    this.submit("story.copy", {id, from, lang: language()});
    this.ctx.toast(t("Copied: you can change it now."));
  }

  newStory() {
    const id = `s-${randomId(10)}`;
    this.submit("story.create", {id, title: t("My story"), lang: language()});
    this.editing = id;
    this.submit("open", {story: id, page: 0});
  }

  async remove(s) {
    const ok = await this.ctx.confirm(t("Delete “{title}”?", {title: s.title}), {yes: t("Delete"), no: t("Keep")});
    if (ok) this.submit("story.delete", {id: s.id});
  }

  pdf(id) {
    // The room's generic download route (rooms/web/pages.py `urls.download`, therapist only).
    const url = this.ctx.urls.download.replace("{activity}", "stories")
      .replace("{key}", encodeURIComponent(id)).replace("{fmt}", "pdf");
    const a = el("a", {href: url, download: ""});
    document.body.append(a);
    a.click();
    a.remove();
  }

  // ---------------------------------------------------------------- reading
  renderStory(s) {
    const st = this.story(s.open.story);
    const i = Math.min(s.open.page, st.pages.length - 1);
    const page = st.pages[i];
    const n = st.pages.length;
    const can = this.canPlay();
    const prev = button({class: "st-turn", dataset: {action: "prev"}, "aria-label": t("Back a page"),
      disabled: !can || i === 0, onclick: () => this.turn(i - 1)}, calmIcon("back"));
    const next = button({class: "st-turn", dataset: {action: "next"}, "aria-label": t("Next page"),
      disabled: !can || i >= n - 1, onclick: () => this.turn(i + 1)}, calmIcon("next"));
    // A room's own story is in the language it was written in; a ready one in mine.
    const own = Object.prototype.hasOwnProperty.call(this.state.stories, st.id);
    const lang = own ? storyLang(st) : language();
    const text = button({class: "st-text", dataset: {action: "speak"}, title: t("Tap to hear it"),
      onclick: () => this.speak(page.text, lang)}, el("span", {lang}, page.text));
    const dots = el("div", {class: "st-dots", "aria-hidden": "true"},
      st.pages.map((_, k) => el("span", {class: "st-dot" + (k === i ? " now" : "") + (k < i ? " done" : "")})));
    const pageEl = el("section", {id: "story-page", class: "st-page",
      dataset: {story: st.id, page: String(i), pages: String(n)}},
    el("div", {class: `st-scene n${Math.min(page.pics.length, 3)}`}, page.pics.map((p) => this.pic(p, "st-scene-pic"))),   // i18n-ok
    text);
    const title = el("h2", {class: "st-title", lang}, st.title);
    const main = el("div", {class: "st-reader"}, this.topBar(title), el("div", {class: "st-spread"}, prev, pageEl, next), dots);
    if (this.isTherapist && this.editing === st.id && this.state.stories[st.id]) {
      return el("div", {class: "st-with-editor"}, main, this.editor.render(st, i));
    }
    if (this.isTherapist && this.state.stories[st.id]) {
      main.querySelector(".st-top").insertBefore(button({class: "st-btn", dataset: {action: "edit"},
        onclick: () => { this.editing = st.id; this.refresh(); }}, calmIcon("edit"), el("span", {}, t("Edit"))),
      main.querySelector(".st-top .spacer"));   // i18n-ok
    }
    return main;
  }

  turn(page) {
    const st = this.story(this.state.open.story);
    if (!st || page < 0 || page >= st.pages.length || !this.canPlay()) return;
    window.speechSynthesis?.cancel();
    this.submit("page", {page});
  }

  /** Read `text` aloud with a local voice of its language `lang`. */
  speak(text, lang = language()) {
    if (this.silent || !text || !("speechSynthesis" in window)) return;
    const voice = voiceFor(lang);
    if (!voice) {
      this.ctx.toast(t("No voice for this language on this device."));
      return;
    }
    window.speechSynthesis.cancel();
    const u = new SpeechSynthesisUtterance(text);
    u.voice = voice;
    u.lang = voice.lang || lang;
    u.rate = 0.9;
    window.speechSynthesis.speak(u);
  }

  // ---------------------------------------------------------------- checklist
  renderTask(s) {
    const task = this.cfg.tasks[s.task];
    const prog = s.progress[s.task] || {done: [], prompts: []};
    const can = this.canPlay();
    const done = prog.done.filter(Boolean).length;
    const steps = task.steps.map((step, i) => {
      const isDone = Boolean(prog.done[i]);
      const tick = button({class: "st-step-btn", dataset: {action: "tick"}, "aria-pressed": String(isDone),
        disabled: !can, onclick: () => this.submit("task.tick", {task: s.task, step: i, done: !isDone})},
      el("span", {class: "st-step-no"}, String(i + 1)), this.pic(step.pic, "st-step-pic"),
      el("span", {class: "st-step-text"}, step.text),
      el("span", {class: "st-check"}, isDone ? calmIcon("check") : null));
      const row = el("li", {class: "st-step" + (isDone ? " done" : ""), dataset: {step: String(i), done: String(isDone)}}, tick);
      if (this.isTherapist) row.append(this.levels(s.task, i, prog.prompts[i]));
      return row;
    });
    const reset = this.isTherapist ? button({class: "st-btn", dataset: {action: "reset"}, title: t("Start again"),
      onclick: () => this.submit("task.reset", {task: s.task})}, calmIcon("reset")) : null;
    const allDone = done === task.steps.length;
    return el("div", {class: "st-reader"},
      this.topBar(el("h2", {class: "st-title"}, task.title), reset),
      el("section", {id: "task", class: "st-task", dataset: {task: s.task, done: String(done)}},
        el("ol", {class: "st-steps" + (steps.length > 6 ? " many" : "")}, steps),
        allDone ? el("div", {class: "st-all-done"}, this.pic("calm-well-done", "st-done-pic"), el("span", {}, t("All done!"))) : null));
  }

  levels(task, i, current) {
    return el("div", {class: "st-levels", role: "group", "aria-label": t("Prompt level")},
      this.cfg.prompt_levels.map((lv) => button({class: "st-level", dataset: {level: lv},
        "aria-pressed": String(current === lv), title: this.cfg.prompt_names?.[lv] || lv,
        onclick: () => this.submit("task.prompt", {task, step: i, level: current === lv ? null : lv})},
      LEVEL_SHORT[lv] || lv[0])));
  }
}
