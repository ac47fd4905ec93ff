"""PAINT1 without sockets: which pages get a picture (canvas.first_picture) and how
the server keeps, shares and limits them (rooms/assets/firstpaint.py)."""
import io

from PIL import Image

from activities import canvas
from rooms.assets.firstpaint import FirstPictures, png_of
from rooms.core.offload import Offload
from tests.support import ROOT

THERAPIST, CHILD = "therapist", "child"          # views (readpolicy.visible_states)


def board(strokes, points=500, pages=1):
    """A canvas state whose first page holds `strokes` strokes of `points` points."""
    items = [{"k": "stroke", "id": f"s{i}", "by": "t", "tool": "pen", "color": "#e53935", "size": 8,
              "pts": [v for k in range(points) for v in (100 + k % 1400, 100 + i % 800, 0.5)]}
             for i in range(strokes)]
    first = {"id": "p1", "bg": "white", "n": strokes * points * 3, "items": items}
    rest = [{"id": f"p{j}", "bg": "white", "n": 0, "items": []} for j in range(2, pages + 1)]
    return {"pages": [first, *rest]}


def test_PAINT1_only_a_big_first_page_is_worth_a_picture():
    need = -(-canvas.PICTURE_FROM // (3 * 500))        # strokes that reach it
    assert canvas.first_picture(canvas.initial_state()) is None
    assert canvas.first_picture(board(need - 1)) is None
    big = board(need)
    assert canvas.first_picture(big) == {"key": "p1", "n": need, "last": f"s{need - 1}", "bg": "white"}
    # A big second page: a joiner sees the first page, which draws quickly.
    second = board(0, pages=2)
    second["pages"][1] = {**big["pages"][0], "id": "p2"}
    assert canvas.first_picture(second) is None


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


class Act:
    """An activity that wants a picture of key "k" and counts its renders."""
    def __init__(self, fail=False):
        self.renders = []
        self.fail = fail

    def first_picture(self, state):
        return {"key": "k", "v": state["v"]} if state.get("v") else None

    def render(self, state, key, assets):
        if self.fail:
            raise ValueError("broken")
        self.renders.append((state["v"], key))
        return Image.new("RGB", (4, 2), (state["v"], 0, 0))


class Registry(dict):
    pass


def service(act, **kw):
    clock = Clock()
    offload = Offload()
    ran = []

    def worker(fn, *args):
        ran.append(args[0].__name__)
        return fn(*args)
    offload.install(worker)
    return FirstPictures(Registry(a=act), offload, ROOT, clock=clock, **kw), clock, ran


def red(png):
    return Image.open(io.BytesIO(png)).getpixel((0, 0))[0]


def test_PAINT1_joiners_at_one_seq_share_one_render_made_in_a_worker():
    act = Act()
    pics, clock, ran = service(act)
    first = pics.for_snapshot("r1", 7, THERAPIST, {"a": {"v": 10}})
    again = pics.for_snapshot("r1", 7, THERAPIST, {"a": {"v": 10}})
    assert [{k: v for k, v in e.items() if k != "png"} for e in first] == [
        {"a": "a", "seq": 7, "key": "k", "v": 10}]
    assert red(first[0]["png"]) == 10 and again[0]["png"] == first[0]["png"]
    assert act.renders == [(10, "k")] and ran == ["png_of"]
    # Nothing wanted: no event at all.
    assert pics.for_snapshot("r1", 8, THERAPIST, {"a": {"v": 0}}) == []


def test_PAINT1_a_room_renders_at_most_once_per_interval_then_says_none():
    act = Act()
    pics, clock, _ = service(act, every_s=5.0)
    assert red(pics.for_snapshot("r1", 7, THERAPIST, {"a": {"v": 10}})[0]["png"]) == 10
    clock.t += 1
    soon = pics.for_snapshot("r1", 8, THERAPIST, {"a": {"v": 20}})
    assert soon[0]["png"] is None and soon[0]["seq"] == 8, "too soon: draw the strokes yourself"
    # Another room is not held back by this one.
    assert red(pics.for_snapshot("r2", 3, THERAPIST, {"a": {"v": 30}})[0]["png"]) == 30
    clock.t += 5
    assert red(pics.for_snapshot("r1", 9, THERAPIST, {"a": {"v": 40}})[0]["png"]) == 40
    assert act.renders == [(10, "k"), (30, "k"), (40, "k")]


def test_PAINT1_views_cut_per_role_get_their_own_picture():
    act = Act()
    pics, clock, _ = service(act, every_s=0)
    t = pics.for_snapshot("r1", 7, THERAPIST, {"a": {"v": 10}})
    c = pics.for_snapshot("r1", 7, CHILD, {"a": {"v": 11}})
    assert (red(t[0]["png"]), red(c[0]["png"])) == (10, 11)
    assert len(act.renders) == 2


def test_PAINT1_a_failed_render_says_none_and_the_cache_stays_bounded(caplog):
    pics, _, _ = service(Act(fail=True))
    out = pics.for_snapshot("r1", 7, THERAPIST, {"a": {"v": 10}})
    assert out[0]["png"] is None and "broken" in caplog.text
    act = Act()
    pics, clock, _ = service(act, keep=2, every_s=0)
    for room in ("r1", "r2", "r3"):
        pics.for_snapshot(room, 1, THERAPIST, {"a": {"v": 5}})
    pics.for_snapshot("r1", 1, THERAPIST, {"a": {"v": 5}})
    assert len(act.renders) == 4, "r1's picture was the oldest of three: rendered again"
    pics.forget("r1")
    assert all(at[0] != "r1" for at in pics._pictures)


def test_PAINT1_the_picture_is_the_pages_png():
    state = board(3, points=20)
    png = png_of(canvas, state, "p1", ROOT)
    img = Image.open(io.BytesIO(png))
    assert img.size == (canvas.BOARD_W, canvas.BOARD_H)
    assert img.convert("RGB").getpixel((110, 100)) == (0xe5, 0x39, 0x35)


def test_PAINT1_cached_gives_only_a_picture_made_for_that_view_at_that_seq():
    act = Act()
    pics, clock, ran = service(act, every_s=0)
    assert pics.cached("r1", 7, THERAPIST, {"a": {"v": 10}}) == [], "nothing made yet"
    pics.for_snapshot("r1", 7, THERAPIST, {"a": {"v": 10}})
    hit = pics.cached("r1", 7, THERAPIST, {"a": {"v": 10}})
    assert [(e["seq"], red(e["png"])) for e in hit] == [(7, 10)]
    assert pics.cached("r1", 8, THERAPIST, {"a": {"v": 10}}) == [], "another seq"
    assert pics.cached("r1", 7, CHILD, {"a": {"v": 10}}) == [], "another view"
    assert len(act.renders) == 1, "cached never renders"
    pics.enabled = False
    assert pics.cached("r1", 7, THERAPIST, {"a": {"v": 10}}) == []
