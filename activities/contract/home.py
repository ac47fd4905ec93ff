"""Home practice (issue 17 part 3): the vocabulary of what a home pack may hold.

A therapist sends a family home with a few things from the room: a story, a schedule or
checklist, a breathing pattern, a feelings check-in. Each activity says what of its
state could go home through the optional contract function

    home_items(state, tr=ENGLISH) -> [(key, item)]

where `key` is the activity's own name for the thing (unique within the activity) and
`item` one of the four kinds below, built with the functions here, its words in `tr`'s
language (the family's). The home pack (activities/home) keeps a copy of the chosen
items, so the pack stays what it was when sent whatever the room does afterwards, and
the family's page (static/canvas/home/) shows the four kinds without knowing the
activities they came from.

Kinds (plain JSON; `pic` a picture reference: a catalog id or "upload:<id>"):

    story    {"kind": "story", "title", "lang", "pages": [{"text", "pics": [pic, ...]}]}
    steps    {"kind": "steps", "title", "steps": [{"text", "pic"}]}
    breathe  {"kind": "breathe", "title", "visual", "timing": [in, hold, out, hold], "rounds"}
    checkin  {"kind": "checkin", "title", "faces": [{"value", "pic", "color", "word"}]}

`validate_item` checks an item strictly (schema and bounds; it never clamps), for an
item built here and for one a therapist's browser might send.
"""
from activities.contract import (Invalid, color, integer, is_text, one_of, require_dict,
                                 text as person_text)
from activities.contract import pictures, uploads
from activities.contract.i18n import LANGUAGES

KINDS = ("story", "steps", "breathe", "checkin")
TITLE_CHARS = 80
PAGE_CHARS = 240
STEP_CHARS = 60
WORD_CHARS = 40
MAX_PAGES = 16
MAX_PICS = 3
MAX_STEPS = 12
VISUALS = ("balloon", "orb", "box", "star", "hand", "flower")
MAX_PHASE_S = 20
MAX_ROUNDS = 30
VALUES = (1, 2, 3, 4, 5)


def picture_ref(p):
    """A catalog picture id or "upload:<id>" (as stories and schedules hold them)."""
    return isinstance(p, str) and (p in pictures.CATALOG or uploads.parse_ref(p) is not None)


def _pic(v, name="pic"):
    if not picture_ref(v):
        raise Invalid(f"{name}: unknown picture")
    return v


def _title(v):
    if not isinstance(v, str) or not v.strip():
        raise Invalid("title must be text")
    return person_text(v, TITLE_CHARS, "title").strip()


# ---------------------------------------------------------------- builders

def story_item(title, lang, pages):
    return {"kind": "story", "title": title, "lang": lang,
            "pages": [{"text": p["text"], "pics": list(p["pics"])} for p in pages]}


def steps_item(title, steps):
    return {"kind": "steps", "title": title,
            "steps": [{"text": s["text"], "pic": s["pic"]} for s in steps]}


def breathe_item(title, visual, timing, rounds):
    return {"kind": "breathe", "title": title, "visual": visual, "timing": list(timing),
            "rounds": rounds}


def checkin_item(title, faces):
    return {"kind": "checkin", "title": title,
            "faces": [{"value": f["value"], "pic": f["pic"], "color": f["color"],
                       "word": f["word"]} for f in faces]}


# ---------------------------------------------------------------- validation

def validate_item(item):
    """The item, checked (Invalid otherwise): one of KINDS with exactly its fields."""
    if not isinstance(item, dict):
        raise Invalid("an item must be an object")
    kind = one_of(item.get("kind"), KINDS, "kind")
    if kind == "story":
        require_dict(item, ("kind", "title", "lang", "pages"))
        pages = item["pages"]
        if not isinstance(pages, list) or not 1 <= len(pages) <= MAX_PAGES:
            raise Invalid(f"a story has 1-{MAX_PAGES} pages")
        out = []
        for p in pages:
            require_dict(p, ("text", "pics"))
            if not isinstance(p["pics"], list) or len(p["pics"]) > MAX_PICS:
                raise Invalid(f"a page shows at most {MAX_PICS} pictures")
            out.append({"text": person_text(p["text"], PAGE_CHARS, "text", newlines=True),
                        "pics": [_pic(x) for x in p["pics"]]})
        return story_item(_title(item["title"]), one_of(item["lang"], LANGUAGES, "lang"), out)
    if kind == "steps":
        require_dict(item, ("kind", "title", "steps"))
        steps = item["steps"]
        if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_STEPS:
            raise Invalid(f"steps: 1-{MAX_STEPS}")
        out = []
        for s in steps:
            require_dict(s, ("text", "pic"))
            out.append({"text": person_text(s["text"], STEP_CHARS, "text").strip(),
                        "pic": _pic(s["pic"])})
        return steps_item(_title(item["title"]), out)
    if kind == "breathe":
        require_dict(item, ("kind", "title", "visual", "timing", "rounds"))
        timing = item["timing"]
        if not isinstance(timing, list) or len(timing) != 4:
            raise Invalid("timing: four phases")
        timing = [integer(x, 0, MAX_PHASE_S, "timing") for x in timing]
        if timing[0] < 1 or timing[2] < 1:
            raise Invalid("breathing in and out take at least a second")
        return breathe_item(_title(item["title"]), one_of(item["visual"], VISUALS, "visual"),
                            timing, integer(item["rounds"], 1, MAX_ROUNDS, "rounds"))
    require_dict(item, ("kind", "title", "faces"))
    faces = item["faces"]
    if not isinstance(faces, list) or [f.get("value") if isinstance(f, dict) else None
                                       for f in faces] != list(VALUES):
        raise Invalid("faces: one per value 1-5, in order")
    out = []
    for f in faces:
        require_dict(f, ("value", "pic", "color", "word"))
        if not is_text(f["word"]) or len(f["word"]) > WORD_CHARS:
            raise Invalid("word must be short text")
        out.append({"value": f["value"], "pic": _pic(f["pic"]), "color": color(f["color"]),
                    "word": f["word"]})
    return checkin_item(_title(item["title"]), out)


def item_pictures(item):
    """Every picture reference an item shows (to serve and cache them)."""
    if item["kind"] == "story":
        return [p for page in item["pages"] for p in page["pics"]]
    if item["kind"] == "steps":
        return [s["pic"] for s in item["steps"]]
    if item["kind"] == "checkin":
        return [f["pic"] for f in item["faces"]]
    return []
