// Stories reducer: a line-by-line mirror of apply() in activities/stories/__init__.py, so every
// screen applies the same sequenced ops to the same state. Pure: never mutates.

export function blankProgress(cfg, task) {
  const n = cfg.tasks[task].steps.length;
  return {done: Array(n).fill(false), prompts: Array(n).fill(null)};
}

/** The language a room's own story is written in (stored before issue 16: English). */
export function storyLang(st) {
  return (st && st.lang) || "en";
}

export function initialState(cfg) {
  const progress = {};
  for (const t of Object.keys(cfg.tasks)) progress[t] = blankProgress(cfg, t);
  return {view: "shelf", open: {story: null, page: 0}, task: null, stories: {}, progress};
}

/** A story by id: the room's own first, then a ready one; null when unknown. */
export function story(state, cfg, id) {
  if (id === null || id === undefined) return null;
  if (Object.prototype.hasOwnProperty.call(state.stories, id)) return state.stories[id];
  return Object.prototype.hasOwnProperty.call(cfg.ready, id) ? cfg.ready[id] : null;
}

const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function view(s) {
  return {view: s.view, open: s.open, task: s.task};
}

function setView(s, v) {
  return eq(view(s), v) ? s : {...s, ...v};
}

function putStory(s, id, next) {
  const old = s.stories[id];
  if (eq(old ?? null, next)) return s;
  const stories = {...s.stories};
  if (next === null) delete stories[id];
  else stories[id] = next;
  const out = {...s, stories};
  if (s.open.story === id) {
    if (next === null) {
      out.view = s.view === "story" ? "shelf" : s.view;
      out.open = {story: null, page: 0};
    } else if (s.open.page >= next.pages.length) {
      out.open = {story: id, page: next.pages.length - 1};
    }
  }
  return out;
}

function editPage(s, id, i, key, value) {
  const st = s.stories[id];
  if (!st || i >= st.pages.length) return s;
  const pages = st.pages.slice();
  pages[i] = {...pages[i], [key]: value};
  return putStory(s, id, {...st, pages});
}

function pagesOp(s, t, d, maxPages) {
  const st = s.stories[d.id];
  if (!st) return s;
  const pages = st.pages.slice();
  const n = pages.length;
  if (t === "page.add") {
    if (d.page > n || n >= maxPages) return s;
    pages.splice(d.page, 0, {pics: d.pics.slice(), text: d.text});
  } else if (t === "page.remove") {
    if (d.page >= n || n <= 1) return s;
    pages.splice(d.page, 1);
  } else {
    if (Math.max(d.from, d.to) >= n || d.from === d.to) return s;
    const [p] = pages.splice(d.from, 1);
    pages.splice(d.to, 0, p);
  }
  return putStory(s, d.id, {...st, pages});
}

function taskOp(s, cfg, t, d) {
  const task = d.task;
  if (!cfg.tasks[task]) return s;
  const old = s.progress[task] || blankProgress(cfg, task);
  let next;
  if (t === "task.reset") next = blankProgress(cfg, task);
  else if (t === "task.restore") next = d.progress;
  else {
    const [key, field] = t === "task.tick" ? ["done", "done"] : ["prompts", "level"];
    if (d.step >= old[key].length || old[key][d.step] === d[field]) return s;
    const values = old[key].slice();
    values[d.step] = d[field];
    next = {...old, [key]: values};
  }
  if (eq(old, next)) return s;
  return {...s, progress: {...s.progress, [task]: next}};
}

export function apply(s, cfg, t, d) {
  switch (t) {
    case "open":
      return setView(s, {view: "story", open: {story: d.story, page: d.page ?? 0}, task: s.task});
    case "page": {
      const st = story(s, cfg, s.open.story);
      if (!st || d.page >= st.pages.length) return s;
      return setView(s, {...view(s), open: {...s.open, page: d.page}});
    }
    case "close":
      return setView(s, {...view(s), view: "shelf"});
    case "task.open":
      return setView(s, {...view(s), view: "task", task: d.task});
    case "view.restore":
      return setView(s, {view: d.view, open: d.open, task: d.task});
    case "task.tick": case "task.prompt": case "task.reset": case "task.restore":
      return taskOp(s, cfg, t, d);
    case "story.copy": {
      // A room story keeps its own language; a ready one is copied in the op's
      // (cfg.copies: its texts in every language, whatever this screen reads).
      const own = Object.prototype.hasOwnProperty.call(s.stories, d.from) ? s.stories[d.from] : null;
      const lang = own ? storyLang(own) : (d.lang ?? "en");
      let src = own;
      if (!own) {
        const ready = story(s, cfg, d.from);
        const texts = cfg.copies?.[lang]?.[d.from];
        src = ready && texts ? {title: texts.title, pages: ready.pages.map((p, k) => ({pics: p.pics, text: texts.texts[k]}))} : null;
      }
      if (!src || s.stories[d.id]) return s;
      return putStory(s, d.id, {id: d.id, title: src.title, from: d.from, lang,
        pages: src.pages.map((p) => ({pics: p.pics.slice(), text: p.text}))});
    }
    case "story.create":
      if (s.stories[d.id]) return s;
      return putStory(s, d.id, {id: d.id, title: d.title, from: null, lang: d.lang ?? "en",
        pages: [{pics: ["book"], text: ""}]});
    case "story.lang": {
      const st = s.stories[d.id];
      return st && storyLang(st) !== d.lang ? putStory(s, d.id, {...st, lang: d.lang}) : s;
    }
    case "story.delete":
      return putStory(s, d.id, null);
    case "story.put": {
      const out = putStory(s, d.id, d.story);
      // An undone delete or shortening also puts back the view it closed.
      return d.view ? {...out, view: d.view.view, open: d.view.open, task: d.view.task} : out;
    }
    case "story.title": {
      const st = s.stories[d.id];
      return st ? putStory(s, d.id, {...st, title: d.title}) : s;
    }
    case "page.text":
      return editPage(s, d.id, d.page, "text", d.text);
    case "page.pics":
      return editPage(s, d.id, d.page, "pics", d.pics.slice());
    case "page.add": case "page.remove": case "page.move":
      return pagesOp(s, t, d, cfg.limits.pages);
    default:
      throw new Error(`unknown stories op ${t}`);
  }
}
