"""Social stories read together, and task-analysis checklists the child ticks off.

State (plain JSON):
    {"view": "shelf" | "story" | "task",        what everybody sees
     "open": {"story": id | None, "page": int}, the story being read and its page
     "task": id | None,                         the checklist on screen
     "stories": {id: {"id", "title", "pages": [{"pics": [id, ...], "text"}], "from"}},
                                                the room's own (edited) stories
     "progress": {task id: {"done": [bool], "prompts": [level | None]}}}

The ready stories and checklists (story_library) are not copied into the state: they
are the same for every room, reach the browser through client_config(), and a story
id names either a ready one or one of the room's own. Only the room's own stories are
edited; the therapist duplicates a ready one first (`story.copy`).

Who does what (STORY2): the therapist everything; a guest turns pages (`page`) and
ticks checklist steps (`task.tick`) while their role may play (child_may_draw /
parent_may_play); never edits, never records prompt levels.

Languages (issue 16): the ready stories and checklists reach each person in their own
language (client_config(tr)); a page keeps its pictures in every language, so people
reading together in different languages turn the same pages. A room's own story is
written by the therapist and carries its language (`lang`, one of LANGUAGES; a story
stored before it had one is English): it is shown, read aloud and printed in that
language and never machine-translated. A copy of a ready story starts in the language
the copy op names (the copier's).

Ticks and prompt levels are stamped with the server's time (CLK1), so the op log is
the session's data sheet. Page turns and what is on screen are not undoable (nobody
wants "undo" to flip the page back); edits, ticks and prompt levels are.
"""
from activities.contract import pictures

from activities.contract import uploads
from activities.contract.protocol import (E_CONFLICT, E_FULL, E_INVALID, E_NO_PAGE, E_NOTHING,
                            THERAPIST)

from activities.stories import library as story_library
from activities.contract import printable, text as person_text
from activities.contract.pdfdoc import Document
from activities.contract import (Bound, may_play, Invalid, OpSpec, Rejected, ident, integer, internal, one_of, require_dict,
                   validate_op)
from activities.contract import home as home_kinds
from activities.contract.i18n import ENGLISH, LANGUAGES, N_, PSEUDO

NAME = "stories"
TITLE = N_("Stories")
ICON = "book"

TITLE_CHARS = 60
TEXT_CHARS = 240
MAX_PAGES = 16
MAX_PICS = 3          # a page shows one picture or a small scene of up to three
MAX_STORIES = 40      # the room's own stories
VIEWS = ("shelf", "story", "task")
PROMPT_LEVELS = ("independent", "gestural", "verbal", "model", "physical")
# Translators: prompt levels of applied behaviour analysis, least help first (session record).
PROMPT_NAMES = {"independent": N_("independent"), "gestural": N_("gestural"), "verbal": N_("verbal"),
                "model": N_("model"), "physical": N_("physical")}

READY = story_library.stories()
TASKS = story_library.tasks()


# ---------------------------------------------------------------- validation

def _title(v):
    if not isinstance(v, str) or not v.strip():
        raise Invalid(f"title must be 1-{TITLE_CHARS} characters of text on one line")
    return person_text(v, TITLE_CHARS, "title").strip()


def _text(v):
    return person_text(v, TEXT_CHARS, "text", newlines=True)


def picture_ref(p):
    """A picture on a page: a catalog id ("owl") or "upload:<id>", one of the therapist's
    uploads (rooms/assets/uploads.py). The reducer stays pure, so only the format is checked
    here; the upload's owner is checked when it is uploaded and whenever it is served
    (only the room's therapist's uploads are ever sent, and to guests only while shown)."""
    return isinstance(p, str) and (p in pictures.CATALOG or uploads.parse_ref(p) is not None)


def _pics(v):
    if not isinstance(v, list) or not 1 <= len(v) <= MAX_PICS:
        raise Invalid(f"pics must list 1-{MAX_PICS} pictures")
    for p in v:
        if not picture_ref(p):
            raise Invalid("unknown picture")
    return list(v)


def _lang(d):
    """The language a story is written in (optional in an op: English before issue 16)."""
    return one_of(d.get("lang", "en"), LANGUAGES, "lang")


def _page_no(v, name="page"):
    return integer(v, 0, MAX_PAGES - 1, name)


def _open(d):
    require_dict(d, ("story",), optional=("page",))
    return {"story": ident(d["story"], "story"), "page": _page_no(d.get("page", 0))}


def _turn(d):
    require_dict(d, ("page",))
    return {"page": _page_no(d["page"])}


def _nothing(d):
    require_dict(d, ())
    return {}


def _task_open(d):
    require_dict(d, ("task",))
    return {"task": one_of(d["task"], TASKS, "task")}


def _step(d):
    return integer(d["step"], 0, 99, "step")


def _tick(d):
    require_dict(d, ("task", "step", "done"))
    if not isinstance(d["done"], bool):
        raise Invalid("done must be true or false")
    return {"task": one_of(d["task"], TASKS, "task"), "step": _step(d), "done": d["done"]}


def _prompt(d):
    require_dict(d, ("task", "step", "level"))
    level = d["level"]
    if level is not None:
        one_of(level, PROMPT_LEVELS, "level")
    return {"task": one_of(d["task"], TASKS, "task"), "step": _step(d), "level": level}


def _task_only(d):
    require_dict(d, ("task",))
    return {"task": one_of(d["task"], TASKS, "task")}


def _copy(d):
    require_dict(d, ("id", "from"), optional=("lang",))
    return {"id": ident(d["id"]), "from": ident(d["from"], "from"), "lang": _lang(d)}


def _create(d):
    require_dict(d, ("id", "title"), optional=("lang",))
    return {"id": ident(d["id"]), "title": _title(d["title"]), "lang": _lang(d)}


def _set_lang(d):
    require_dict(d, ("id", "lang"))
    return {"id": ident(d["id"]), "lang": _lang(d)}


def _id_only(d):
    require_dict(d, ("id",))
    return {"id": ident(d["id"])}


def _set_title(d):
    require_dict(d, ("id", "title"))
    return {"id": ident(d["id"]), "title": _title(d["title"])}


def _page_text(d):
    require_dict(d, ("id", "page", "text"))
    return {"id": ident(d["id"]), "page": _page_no(d["page"]), "text": _text(d["text"])}


def _page_pics(d):
    require_dict(d, ("id", "page", "pics"))
    return {"id": ident(d["id"]), "page": _page_no(d["page"]), "pics": _pics(d["pics"])}


def _page_add(d):
    require_dict(d, ("id", "page", "pics", "text"))
    return {"id": ident(d["id"]), "page": _page_no(d["page"]), "pics": _pics(d["pics"]),
            "text": _text(d["text"])}


def _page_remove(d):
    require_dict(d, ("id", "page"))
    return {"id": ident(d["id"]), "page": _page_no(d["page"])}


def _page_move(d):
    require_dict(d, ("id", "from", "to"))
    return {"id": ident(d["id"]), "from": _page_no(d["from"], "from"), "to": _page_no(d["to"], "to")}


OPS = {
    # Reading together.
    "open": OpSpec(_open, undoable=False),
    "page": OpSpec(_turn, undoable=False),
    "close": OpSpec(_nothing, undoable=False),
    # Task analysis.
    "task.open": OpSpec(_task_open, undoable=False),
    "task.tick": OpSpec(_tick, stamped=True),
    "task.prompt": OpSpec(_prompt, stamped=True),
    "task.reset": OpSpec(_task_only),
    # The therapist's editor (the room's own stories only).
    "story.copy": OpSpec(_copy),
    "story.create": OpSpec(_create),
    "story.delete": OpSpec(_id_only),
    "story.title": OpSpec(_set_title),
    "story.lang": OpSpec(_set_lang),
    "page.text": OpSpec(_page_text),
    "page.pics": OpSpec(_page_pics),
    "page.add": OpSpec(_page_add),
    "page.remove": OpSpec(_page_remove),
    "page.move": OpSpec(_page_move),
    # Produced by the server as inverses; never accepted from a client.
    "view.restore": OpSpec(internal("view"), client=False),
    "story.put": OpSpec(internal("story"), client=False),
    "task.restore": OpSpec(internal("task"), client=False),
}

EPHEMERAL = {}


def validate(t, d):
    return validate_op(OPS, t, d)


# ---------------------------------------------------------------- authorisation

GUEST_OPS = {"page", "task.tick", "history"}


def may(role, t, settings):
    """STORY2: the therapist does everything; a child or parent turns pages, ticks steps
    and undoes their own ticks while their role may play. Editing, opening stories and
    prompt levels are the therapist's."""
    if role == THERAPIST:
        return True
    return t in GUEST_OPS and may_play(settings, role, NAME)


# ---------------------------------------------------------------- reducer

def initial_state():
    return {"view": "shelf", "open": {"story": None, "page": 0}, "task": None,
            "stories": {}, "progress": {t: _blank_progress(t) for t in TASKS}}


def content(state):
    """Pages of the room's own stories (ROOM1's measure; a page's text is bounded)."""
    return sum(len(s["pages"]) for s in state["stories"].values())


# ROOM1: 40 stories of 16 pages (~0.2 MB of JSON); an undo cannot go past it.
BOUND = Bound(MAX_STORIES * MAX_PAGES, content,
              "The room's stories are full: delete a story or some pages first.")


def story(state, sid):
    """A story by id: the room's own first, then the ready ones (in English, the source
    language); None if unknown."""
    return state["stories"].get(sid) or READY.get(sid)


def story_lang(s):
    """The language a room's own story is written in (stored before issue 16: English)."""
    return s.get("lang") or "en"


def _blank_progress(task):
    n = len(TASKS[task]["steps"])
    return {"done": [False] * n, "prompts": [None] * n}


def check(state, t, d):
    """State-dependent rules for a client op that passed validate()."""
    if t == "open":
        s = story(state, d["story"])
        if s is None:
            return Rejected(E_INVALID, "no such story")
        if d["page"] >= len(s["pages"]):
            return Rejected(E_NO_PAGE, "no such page")
        return None
    if t == "page":
        s = story(state, state["open"]["story"]) if state["view"] == "story" else None
        if s is None:
            return Rejected(E_NOTHING, "no story is open")
        if d["page"] >= len(s["pages"]):
            return Rejected(E_NO_PAGE, "no such page")
        return None
    if t in ("task.tick", "task.prompt") and d["step"] >= len(TASKS[d["task"]]["steps"]):
        return Rejected(E_NO_PAGE, "no such step")
    if t == "story.copy":
        if story(state, d["from"]) is None:
            return Rejected(E_INVALID, "no such story")
    if t in ("story.copy", "story.create"):
        if d["id"] in READY or d["id"] in state["stories"]:
            return Rejected(E_CONFLICT, "a story with that id exists")
        if len(state["stories"]) >= MAX_STORIES:
            return Rejected(E_FULL, f"a room keeps at most {MAX_STORIES} stories")
        return None
    if t.startswith("story.") or t.startswith("page."):
        own = state["stories"].get(d["id"])
        if own is None:
            return Rejected(E_INVALID, "only the room's own stories can be changed: "
                                       "duplicate a ready story first")
        n = len(own["pages"])
        if t == "page.add":
            if n >= MAX_PAGES:
                return Rejected(E_FULL, f"a story has at most {MAX_PAGES} pages")
            if d["page"] > n:
                return Rejected(E_NO_PAGE, "no such page")
        elif t == "page.remove" and n <= 1:
            return Rejected(E_INVALID, "a story keeps at least one page")
        elif t == "page.move" and max(d["from"], d["to"]) >= n:
            return Rejected(E_NO_PAGE, "no such page")
        elif "page" in d and t != "page.add" and d["page"] >= n:
            return Rejected(E_NO_PAGE, "no such page")
    return None


def _view(state):
    return {"view": state["view"], "open": state["open"], "task": state["task"]}


def _set_view(state, view):
    """Replace what is on screen; the inverse puts the old view back."""
    old = _view(state)
    if old == view:
        return state, None
    return {**state, **view}, ("view.restore", old)


def _put_story(state, sid, new):
    """Set (new None: delete) a room story; the inverse puts the old one back. A
    deleted or shortened open story keeps the view valid (closed or last page)."""
    old = state["stories"].get(sid)
    if old == new:
        return state, None
    stories = dict(state["stories"])
    if new is None:
        del stories[sid]
        inverse = ("story.put", {"id": sid, "story": old})
    else:
        stories[sid] = new
        inverse = ("story.put", {"id": sid, "story": old}) if old else ("story.delete", {"id": sid})
    out = {**state, "stories": stories}
    if state["open"]["story"] == sid:
        if new is None:
            out.update({"view": "shelf" if state["view"] == "story" else state["view"],
                        "open": {"story": None, "page": 0}})
        elif state["open"]["page"] >= len(new["pages"]):
            out["open"] = {"story": sid, "page": len(new["pages"]) - 1}
        if _view(out) != _view(state):
            # Undo puts the story back where everyone was reading it.
            inverse = (inverse[0], {**inverse[1], "view": _view(state)})
    return out, inverse


def _edit_page(state, sid, i, **changes):
    s = state["stories"].get(sid)
    if s is None or i >= len(s["pages"]):
        return state, None
    pages = list(s["pages"])
    old = pages[i]
    pages[i] = {**old, **changes}
    if pages[i] == old:
        return state, None
    state, _ = _put_story(state, sid, {**s, "pages": pages})
    key = next(iter(changes))
    return state, ("page." + key, {"id": sid, "page": i, key: old[key]})


def _pages(state, t, d):
    s = state["stories"].get(d["id"])
    if s is None:
        return state, None
    pages = list(s["pages"])
    n = len(pages)
    if t == "page.add":
        if d["page"] > n or n >= MAX_PAGES:
            return state, None
        pages.insert(d["page"], {"pics": list(d["pics"]), "text": d["text"]})
        inverse = ("page.remove", {"id": d["id"], "page": d["page"]})
    elif t == "page.remove":
        if d["page"] >= n or n <= 1:
            return state, None
        old = pages.pop(d["page"])
        inverse = ("page.add", {"id": d["id"], "page": d["page"], **old})
    else:  # move
        if max(d["from"], d["to"]) >= n or d["from"] == d["to"]:
            return state, None
        pages.insert(d["to"], pages.pop(d["from"]))
        inverse = ("page.move", {"id": d["id"], "from": d["to"], "to": d["from"]})
    state, _ = _put_story(state, d["id"], {**s, "pages": pages})
    return state, inverse


def _task(state, t, d):
    task = d["task"]
    old = state["progress"].get(task) or _blank_progress(task)
    if t == "task.reset":
        new = _blank_progress(task)
        if old == new:
            return state, None
        return ({**state, "progress": {**state["progress"], task: new}},
                ("task.restore", {"task": task, "progress": old}))
    if t == "task.restore":
        new = d["progress"]
        return ({**state, "progress": {**state["progress"], task: new}},
                ("task.restore", {"task": task, "progress": old}))
    key, field = ("done", "done") if t == "task.tick" else ("prompts", "level")
    i = d["step"]
    if i >= len(old[key]) or old[key][i] == d[field]:
        return state, None
    values = list(old[key])
    values[i] = d[field]
    new = {**old, key: values}
    return ({**state, "progress": {**state["progress"], task: new}},
            (t, {"task": task, "step": i, field: old[key][i]}))


def apply(state, t, d, by=None):
    """Apply op (t, d). Returns (new_state, inverse or None). Pure."""
    if t == "open":
        return _set_view(state, {"view": "story", "open": {"story": d["story"], "page": d["page"]},
                                 "task": state["task"]})
    if t == "page":
        s = story(state, state["open"]["story"])
        if s is None or d["page"] >= len(s["pages"]):
            return state, None
        return _set_view(state, {**_view(state), "open": {**state["open"], "page": d["page"]}})
    if t == "close":
        return _set_view(state, {**_view(state), "view": "shelf"})
    if t == "task.open":
        return _set_view(state, {**_view(state), "view": "task", "task": d["task"]})
    if t == "view.restore":
        return _set_view(state, {"view": d["view"], "open": d["open"], "task": d["task"]})
    if t.startswith("task."):
        return _task(state, t, d)
    if t == "story.copy":
        # A room story keeps its own language; a ready one is copied in the op's.
        own = state["stories"].get(d["from"])
        lang = story_lang(own) if own else d.get("lang", "en")
        src = own or story_library.ready_in(lang).get(d["from"])
        if src is None or d["id"] in state["stories"]:
            return state, None
        new = {"id": d["id"], "title": src["title"], "from": d["from"], "lang": lang,
               "pages": [{"pics": list(p["pics"]), "text": p["text"]} for p in src["pages"]]}
        return _put_story(state, d["id"], new)
    if t == "story.create":
        if d["id"] in state["stories"]:
            return state, None
        return _put_story(state, d["id"], {"id": d["id"], "title": d["title"], "from": None,
                                           "lang": d.get("lang", "en"),
                                           "pages": [{"pics": ["book"], "text": ""}]})
    if t == "story.delete":
        return _put_story(state, d["id"], None)
    if t == "story.put":
        state, inverse = _put_story(state, d["id"], d["story"])
        if "view" in d:        # an undone delete or shortening: the view it closed
            state = {**state, **d["view"]}
        return state, inverse
    if t == "story.title":
        s = state["stories"].get(d["id"])
        if s is None or s["title"] == d["title"]:
            return state, None
        state, _ = _put_story(state, d["id"], {**s, "title": d["title"]})
        return state, ("story.title", {"id": d["id"], "title": s["title"]})
    if t == "story.lang":
        s = state["stories"].get(d["id"])
        if s is None or story_lang(s) == d["lang"]:
            return state, None
        state, _ = _put_story(state, d["id"], {**s, "lang": d["lang"]})
        return state, ("story.lang", {"id": d["id"], "lang": story_lang(s)})
    if t == "page.text":
        return _edit_page(state, d["id"], d["page"], text=d["text"])
    if t == "page.pics":
        return _edit_page(state, d["id"], d["page"], pics=list(d["pics"]))
    if t in ("page.add", "page.remove", "page.move"):
        return _pages(state, t, d)
    raise ValueError(f"unknown stories op {t}")


def uploads_used(state):
    """Ids of the uploads the room's own stories show: a guest may fetch exactly these."""
    return {uid for s in state["stories"].values() for page in s["pages"] for p in page["pics"]
            if (uid := uploads.parse_ref(p)) is not None}


def home_items(state, tr=ENGLISH):
    """What may go home (issue 17 part 3): every story — the room's own as written, in
    their language, the ready ones in the family's (`tr`) — and every checklist."""
    out = []
    for sid, s in state["stories"].items():
        out.append((f"story:{sid}", home_kinds.story_item(s["title"], story_lang(s), s["pages"])))
    for sid, s in story_library.stories(tr).items():
        out.append((f"story:{sid}", home_kinds.story_item(s["title"], _tag(tr), s["pages"])))
    for tid, task in story_library.tasks(tr).items():
        out.append((f"task:{tid}", home_kinds.steps_item(task["title"], task["steps"])))
    return out


def _tag(tr):
    """The BCP 47 tag of a translator's language (the pseudo-locale is English underneath)."""
    return "en" if tr.lang == PSEUDO else tr.lang


def client_config(tr=ENGLISH):
    """The library in the reader's language (`tr`), and what every screen's reducer needs
    to copy a ready story in any language (`copies`: titles and page texts per language,
    so a copy made by someone reading another language is the same on every screen)."""
    copies = {lang: {sid: {"title": s["title"], "texts": [p["text"] for p in s["pages"]]}
                     for sid, s in story_library.ready_in(lang).items()} for lang in LANGUAGES}
    return {
        "ready": story_library.stories(tr), "ready_order": list(story_library.STORY_ORDER),
        "tasks": story_library.tasks(tr), "task_order": list(story_library.TASK_ORDER),
        "copies": copies,
        "lang": _tag(tr),
        "languages": dict(LANGUAGES),
        "prompt_levels": list(PROMPT_LEVELS),
        "prompt_names": {lv: tr.gettext(name) for lv, name in PROMPT_NAMES.items()},
        "limits": {"title_chars": TITLE_CHARS, "text_chars": TEXT_CHARS, "pages": MAX_PAGES,
                   "pics": MAX_PICS, "stories": MAX_STORIES},
        # Uploaded pictures ("upload:<id>", rooms/web/uploads.py): listed and sent by the
        # therapist's editor, shown to everyone in the room through the room's URL.
        "uploads_url": "/uploads",
        "upload_pic_url": "/rooms/{room}/uploads/{id}.webp",
        "upload_thumb_url": "/rooms/{room}/uploads/{id}/thumb.webp",
        "upload_max_bytes": uploads.MAX_BYTES,
        "ops": [t for t, s in OPS.items() if s.client],
    }


# ---------------------------------------------------------------- PDF for home

PDF_TEXT_PT = 24          # story text on a page: big, for a child reading along


def _pdf_pictures(page, assets, tr):
    """[(picture, alt text)] of a page: catalog pictures as their Twemoji SVG (vector),
    uploads as the RGBA image assets.upload_image gives (None: gone, left out)."""
    out = []
    for p in page["pics"]:
        uid = uploads.parse_ref(p)
        if uid is not None:
            pic = assets.upload_image(uid, 800)
            if pic is not None:
                out.append((pic, tr.gettext("a picture")))
        elif p in pictures.CATALOG:
            out.append((assets.svg_path(p), tr.gettext(pictures.CATALOG[p][1])))
    return out


def _pdf_page(doc, s, i, assets, tr):
    """One story page: title and page number on top, the picture(s) large, the text
    big and centred below (wrapped and hyphenated, emoji as pictures)."""
    doc.add_page()
    doc.style(15, bold=True)
    doc.set_xy(doc.l_margin, 10)
    doc.inline(s["title"], 8, doc.epw - 30)
    doc.style(12, color=(90, 90, 90))
    doc.set_xy(doc.w - doc.r_margin - 30, 10)
    # Translators: the page number on a page of a story printed for home: "3 / 7".
    doc.cell(30, 8, tr.gettext("{page} / {pages}", page=i + 1, pages=len(s["pages"])), align="R")
    page = s["pages"][i]
    pics = _pdf_pictures(page, assets, tr)
    size = {1: 95, 2: 80, 3: 70}.get(len(pics), 0)
    gap = 12
    x = (doc.w - (len(pics) * size + (len(pics) - 1) * gap)) / 2
    for pic, alt in pics:
        doc.picture(pic, x, 25 + (95 - size) / 2, size, size, alt)
        x += size + gap
    doc.set_xy(doc.l_margin, 130)
    doc.text_block(page["text"], size=PDF_TEXT_PT, align="C")


def story_for(state, sid, tr=ENGLISH):
    """(story, language) as `tr`'s reader gets it: a ready story in the reader's
    language, a room's own in the language it was written in. KeyError if unknown."""
    own = state["stories"].get(sid)
    if own is not None:
        return own, story_lang(own)
    if sid in READY:
        return story_library.stories(tr)[sid], _tag(tr)
    raise KeyError(sid)


def pdf(state, sid, assets, tr=ENGLISH):
    """The story as PDF bytes (fpdf2, activities/contract/pdfdoc.py: real text, fonts embedded,
    emoji as the app's pictures), one landscape page per story page, for `tr`'s reader:
    a ready story in their language, a room's own in its own; the document's language
    says which. KeyError if no such story."""
    s, lang = story_for(state, sid, tr)
    s = printable(s)      # text stored before TEXT1 may not encode
    doc = Document(s["title"], lang=lang, orientation="L", svg_dir=assets.twemoji_dir(), running=False)
    doc.set_margins(15, 10, 15)
    for i in range(len(s["pages"])):
        _pdf_page(doc, s, i, assets, tr)
    return doc.output_bytes()


def download(state, key, fmt, ctx):
    """The activity's download (activities/contract/__init__.py): story `key` as it is now in the
    room (a ready one or the room's own copy) as "pdf", named after its title, with
    the room therapist's uploaded pictures (ctx.assets.upload_image). KeyError otherwise."""
    if fmt != "pdf":
        raise KeyError(fmt)
    data = pdf(state, key, ctx.assets, ctx.tr)
    title = story_for(state, key, ctx.tr)[0]["title"]
    safe = "".join(c for c in title if c.isalnum() or c in " -_").strip() or "story"
    return data, "application/pdf", f"{safe}.pdf"


# ---------------------------------------------------------------- trends over weeks

def practice_tasks(tr=ENGLISH):
    """What the trend charts (rooms/records/trends.py) need to name a prompt level's
    task and step across sessions: the records keep only ids and indexes, and the
    room page may not import this activity (activities/contract/__init__.py).
    Levels run from the most independent to the most help."""
    return {"levels": list(PROMPT_LEVELS),
            "tasks": {tid: {"title": t["title"], "steps": [s["text"] for s in t["steps"]]}
                      for tid, t in story_library.tasks(tr).items()}}


# ---------------------------------------------------------------- session record

def record_entries(ops, state=None, ended_at=None, tr=ENGLISH):
    """Timeline entries for the session record (activities/contract/__init__.py): each story read
    (with the pages seen), checklists opened, every tick and prompt level with its
    step (STORY3: the op log is the data sheet), resets. Undone ticks say so. Lines in
    `tr`'s language; a room's own story's title as it was written."""
    state = state or initial_state()
    out, reading = [], None
    tasks = story_library.tasks(tr)

    def title(sid):
        own = state["stories"].get(sid)
        if own is not None:
            return own["title"]
        return tr.gettext(READY[sid]["title"]) if sid in READY else str(sid)

    def finish():
        if reading is not None:
            seen, n = sorted(reading["data"]["pages"]), reading["data"]["of"]
            name = reading["data"]["title"]
            if len(seen) == 1:
                reading["text"] = (tr.gettext("read the story “{title}” (page {page} of {of})",
                                              title=name, page=seen[0] + 1, of=n) if n else
                                   tr.gettext("read the story “{title}” (page {page})", title=name, page=seen[0] + 1))
            else:
                reading["text"] = (tr.ngettext("read the story “{title}” ({n} page of {of})",
                                               "read the story “{title}” ({n} pages of {of})", len(seen),
                                               title=name, of=n) if n else
                                   tr.ngettext("read the story “{title}” ({n} page)",
                                               "read the story “{title}” ({n} pages)", len(seen), title=name))

    for op in ops:
        t, d = op["t"], op["d"]
        base = {"seq": op["seq"], "at": d.get("at", op["ts"]), "by": op["by"]}
        if t == "open":
            finish()
            s = story(state, d["story"])
            reading = {**base, "kind": "story", "data": {
                "story": d["story"], "title": title(d["story"]), "pages": {d.get("page", 0)},
                "of": len(s["pages"]) if s else None}}
            out.append(reading)
        elif t == "page" and reading is not None:
            reading["data"]["pages"].add(d["page"])
        elif t == "task.open":
            task = tasks.get(d["task"], {})
            out.append({**base, "kind": "task", "data": {"task": d["task"]},
                        "text": tr.gettext("opened the checklist “{title}”",
                                           title=task.get("title", d["task"]))})
        elif t in ("task.tick", "task.prompt"):
            task = tasks.get(d["task"], {"title": d["task"], "steps": []})
            i = d["step"]
            step = task["steps"][i]["text"] if i < len(task["steps"]) else ""
            where = {"no": i + 1, "step": step, "task": task["title"]}
            if t == "task.tick":
                text = (tr.gettext("ticked step {no} “{step}” ({task})", **where) if d["done"] else
                        tr.gettext("unticked step {no} “{step}” ({task})", **where))
                data = {"task": d["task"], "step": i, "done": d["done"]}
            else:
                level = d["level"]
                text = (tr.gettext("prompt level for step {no} “{step}”: {level} ({task})",
                                   level=tr.gettext(PROMPT_NAMES.get(level, level)), **where) if level
                        else tr.gettext("cleared the prompt level of step {no} “{step}” ({task})", **where))
                data = {"task": d["task"], "step": i, "level": level}
            if op["kind"] == "undo":
                # Translators: a session record line that was undone: "{entry} (undo)".
                text = tr.gettext("{entry} (undo)", entry=text)
            out.append({**base, "kind": t, "text": text, "data": data})
        elif t == "task.reset" and op["kind"] == "do":
            task = tasks.get(d["task"], {"title": d["task"]})
            out.append({**base, "kind": "task.reset", "data": {"task": d["task"]},
                        "text": tr.gettext("reset the checklist “{title}”", title=task["title"])})
    finish()
    for e in out:
        if e["kind"] == "story":
            e["data"]["pages"] = sorted(e["data"]["pages"])
    return out
