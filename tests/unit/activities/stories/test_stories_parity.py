"""The browser's stories reducer (static/canvas/stories/model.js) and the server's
(activities/stories/__init__.py) give the same state after every op, inverses included, when
node runs the browser module on the same ops (as for the canvas and sand tray)."""
import json
import shutil

import pytest

from activities import stories
from tests.support import run_node, with_undo

UP = "upload:" + "u" * 22
T0 = 1_700_000_000.0

OPS = [
    ("open", {"story": "angry", "page": 0}),
    ("page", {"page": 2}),
    ("page", {"page": 99}),                                   # stale: no such page
    ("story.copy", {"id": "mine", "from": "angry"}),
    ("story.create", {"id": "new", "title": "<b>New</b> & one"}),
    # Languages (issue 16): a copy of a ready story in the copier's language, a new story
    # in the writer's, a copy of a room story in that story's own; a story's language changed.
    ("story.copy", {"id": "es1", "from": "bedtime", "lang": "es"}),
    ("story.create", {"id": "es2", "title": "Mi cuento", "lang": "es"}),
    ("story.copy", {"id": "es3", "from": "es1", "lang": "en"}),
    ("story.lang", {"id": "new", "lang": "es"}),
    ("story.lang", {"id": "new", "lang": "es"}),                # stale: already Spanish
    ("page.text", {"id": "es1", "page": 0, "text": "Ya casi es hora de dormir."}),
    ("story.title", {"id": "mine", "title": "Our angry story"}),
    ("page.text", {"id": "mine", "page": 1, "text": "Line one\nline two"}),
    ("page.pics", {"id": "mine", "page": 0, "pics": [UP, "owl"]}),
    ("page.add", {"id": "mine", "page": 2, "pics": ["star"], "text": "added"}),
    ("page.move", {"id": "mine", "from": 0, "to": 3}),
    ("page.remove", {"id": "mine", "page": 1}),
    ("open", {"story": "mine", "page": 3}),
    ("page.remove", {"id": "mine", "page": 3}),
    ("task.open", {"task": "morning"}),
    ("task.tick", {"task": "morning", "step": 0, "done": True, "at": T0}),
    ("task.tick", {"task": "morning", "step": 2, "done": True, "at": T0 + 1}),
    ("task.prompt", {"task": "morning", "step": 0, "level": "verbal", "at": T0 + 2}),
    ("task.prompt", {"task": "morning", "step": 0, "level": None, "at": T0 + 3}),
    ("task.reset", {"task": "morning"}),
    ("close", {}),
    ("open", {"story": "new", "page": 0}),
    ("story.delete", {"id": "new"}),                          # the open one: undo reopens it
    ("story.delete", {"id": "mine"}),
    ("story.delete", {"id": "gone"}),                         # stale: no such story
]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_browser_reducer_gives_the_same_states_as_the_server(tmp_path):
    script = (
        "import {apply, initialState} from './model.mjs';\n"
        "import {readFileSync} from 'node:fs';\n"
        "const {cfg, ops} = JSON.parse(readFileSync(0, 'utf8'));\n"
        "let s = initialState(cfg); const out = [s];\n"
        "for (const [t, d] of ops) { s = apply(s, cfg, t, d); out.push(s); }\n"
        "process.stdout.write(JSON.stringify(out));\n")
    ops = with_undo(stories, OPS)
    assert len(ops) - len(OPS) > 15                              # inverses
    from activities.contract.i18n import Catalogs, catalog_dir
    # A Spanish reader's screen: the copies come out the same as on the server anyway.
    es = Catalogs([(catalog_dir(stories.__file__), "stories")]).translator("es")
    cfg = json.loads(json.dumps(stories.client_config(es)))
    js = run_node(tmp_path, {"model.mjs": "stories/model.js"}, script, {"cfg": cfg, "ops": ops})
    s = stories.initial_state()
    assert js[0] == json.loads(json.dumps(s))
    for k, ((t, d), js_state) in enumerate(zip(ops, js[1:])):
        s, _ = stories.apply(s, t, d)
        assert js_state == json.loads(json.dumps(s)), (k, t, d)
    assert len(js) == len(ops) + 1
    assert s == stories.initial_state()


def test_copies_keep_their_language():
    s = stories.initial_state()
    for t, d in OPS[:9]:
        s, _ = stories.apply(s, t, d if t == "page" else stories.validate(t, d))
    own = s["stories"]
    assert own["mine"]["lang"] == "en" and own["new"]["lang"] == "es"
    assert own["es1"]["lang"] == "es" and own["es1"]["title"] == "La hora de dormir"
    assert own["es3"]["lang"] == "es" and own["es3"]["pages"] == own["es1"]["pages"]
    assert len(own["es1"]["pages"]) == len(stories.READY["bedtime"]["pages"])
