"""Home practice (issue 17 part 3): the browser's model (static/canvas/home/model.js)
and its Python twin (activities.home.progress) read a pack's log the same way, so the
page a family sees and the therapist's record agree on what was done."""
import json
import shutil

import pytest

from activities.home import progress
from tests.support import run_node

PACK = {
    "id": "p1a2b3", "at": 1765100000.0, "lang": "en",
    "items": [
        {"id": "i0", "kind": "story", "title": "Going to the dentist", "lang": "en",
         "pages": [{"text": "We go in the car.", "pics": [{"src": "/pictures/car.svg", "alt": "car"}]},
                   {"text": "The dentist says hello.\nShe counts my teeth.", "pics": []},
                   {"text": "All done!", "pics": [{"src": "/pictures/star.svg", "alt": "star"}]}]},
        {"id": "i1", "kind": "steps", "title": "Morning",
         "steps": [{"text": "Brush teeth", "pic": {"src": "/pictures/toothbrush.svg", "alt": "toothbrush"}},
                   {"text": "", "pic": {"src": "/pictures/t-shirt.svg", "alt": "t-shirt"}},
                   {"text": "Breakfast", "pic": None},
                   {"text": "Shoes on", "pic": {"src": "/pictures/shoe.svg", "alt": "shoe"}}]},
        {"id": "i2", "kind": "breathe", "title": "Balloon", "visual": "balloon",
         "timing": [4, 0, 6, 0], "rounds": 5},
        {"id": "i3", "kind": "checkin", "title": "How do you feel?",
         "faces": [{"value": v, "pic": {"src": f"/pictures/feel-{v}.svg", "alt": w}, "color": c, "word": w}
                   for v, w, c in [(1, "very upset", "#e53935"), (2, "upset", "#fb8c00"),
                                   (3, "okay", "#fdd835"), (4, "good", "#7cb342"),
                                   (5, "very good", "#43a047")]]},
    ],
}

LOG = [
    # valid
    {"item": "i1", "what": "step", "step": 0, "done": True},
    {"item": "i1", "what": "step", "step": 2, "done": True},
    {"item": "i1", "what": "step", "step": 2, "done": False},     # ticked, then unticked
    {"item": "i1", "what": "step", "step": 3, "done": True},
    {"item": "i0", "what": "read", "page": 0},
    {"item": "i0", "what": "read", "page": 1},
    {"item": "i0", "what": "read", "page": 0},                    # read back: the highest stays
    {"item": "i2", "what": "breathe", "rounds": 3},
    {"item": "i2", "what": "breathe", "rounds": 2},
    {"item": "i3", "what": "checkin", "value": 2},
    {"item": "i3", "what": "checkin", "value": 4},                # changed: the last counts
    # stale: items of an older pack
    {"item": "i9", "what": "step", "step": 1, "done": True},
    {"item": "i7", "what": "read", "page": 2},
    {"item": "i8", "what": "checkin", "value": 1},
    # out of range
    {"item": "i1", "what": "step", "step": 4, "done": True},
    {"item": "i1", "what": "step", "step": -1, "done": True},
    {"item": "i0", "what": "read", "page": 3},
    {"item": "i0", "what": "read", "page": -2},
    # an action of another kind of item (an id reused by a changed pack)
    {"item": "i0", "what": "step", "step": 1, "done": True},
    {"item": "i1", "what": "checkin", "value": 5},
]

EXPECTED = {
    "steps": {"i1": [True, False, False, True]},
    "read": {"i0": 1},
    "rounds": {"i2": 5},
    "feeling": {"i3": 4},
}

SCRIPT = (
    "import {progress} from './model.mjs';\n"
    "import {readFileSync} from 'node:fs';\n"
    "const {pack, logs} = JSON.parse(readFileSync(0, 'utf8'));\n"
    "process.stdout.write(JSON.stringify(logs.map((log) => progress(pack, log))));\n")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_browser_model_reads_the_log_like_the_server(tmp_path):
    """model.js under node gives the same progress as activities.home.progress for the
    whole log and for every prefix of it (each entry applied in turn)."""
    logs = [LOG[:n] for n in range(len(LOG) + 1)]
    js = run_node(tmp_path, {"model.mjs": "home/model.js"}, SCRIPT, {"pack": PACK, "logs": logs})
    assert len(js) == len(logs)
    for log, js_prog in zip(logs, js):
        assert js_prog == json.loads(json.dumps(progress(PACK, log))), log[-1:] or "empty log"
    assert js[-1] == EXPECTED
    assert js[0] == {"steps": {"i1": [False] * 4}, "read": {"i0": -1}, "rounds": {"i2": 0},
                     "feeling": {"i3": None}}


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_a_pack_with_some_kinds_only_has_keys_for_those(tmp_path):
    pack = {"id": "p2", "items": [PACK["items"][1], PACK["items"][3]]}
    js = run_node(tmp_path, {"model.mjs": "home/model.js"}, SCRIPT, {"pack": pack, "logs": [LOG]})
    assert js[0] == json.loads(json.dumps(progress(pack, LOG)))
    assert js[0] == {"steps": {"i1": [True, False, False, True]}, "read": {}, "rounds": {},
                     "feeling": {"i3": 4}}
