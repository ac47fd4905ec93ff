"""The server renderer's pictures (activities/canvas.render, activities/strokes): stroke
shapes like the browser's (perfect-freehand outline, round caps and joins), paint
order, eraser, highlighter and stamps. Pixels only; speed is measured in bench/."""
import math

import numpy as np
import pytest

from activities import canvas

from activities.canvas import strokes
from rooms.assets import pictures
from tests.support import ASSETS, ROOT

WHITE = (255, 255, 255)
RED = (0xe5, 0x39, 0x35)
BLUE = (0x1e, 0x40, 0xaf)
YELLOW = (0xfd, 0xd8, 0x35)


def item(i, pts, tool="pen", color="#e53935", size=8):
    return {"id": f"s{i}", "k": "stroke", "by": "t", "tool": tool, "color": color,
            "size": size, "pts": [float(v) for v in pts]}


def stamp(i, x, y, size=96, rot=0, name="star"):
    return {"id": f"st{i}", "k": "stamp", "by": "t", "stamp": name, "x": x, "y": y,
            "size": size, "rot": rot}


def line(x0, x1, y, n=80, pressure=0.5):
    """n points from (x0, y) to (x1, y); pressure a number or a function of t in 0..1."""
    pts = []
    for k in range(n):
        t = k / (n - 1)
        pts += [x0 + (x1 - x0) * t, y, pressure(t) if callable(pressure) else pressure]
    return pts


def render(*items, bg="white", scale=1.0):
    state = {"pages": [{"id": "p1", "bg": bg, "n": 0, "items": list(items)}]}
    return np.asarray(canvas.render(state, "p1", ASSETS, scale).convert("RGB"))


def inked(img, background=WHITE):
    return (img != np.array(background, np.uint8)).any(axis=2)


def column_height(img, x):
    rows = np.flatnonzero(inked(img)[:, x])
    return int(rows.max() - rows.min() + 1) if len(rows) else 0


# ====================================================================== shape

def test_pen_is_wider_where_pressure_is_higher():
    img = render(item(1, line(200, 1400, 500, pressure=lambda t: 0.05 + 0.9 * t), size=32))
    thin, mid, thick = column_height(img, 400), column_height(img, 800), column_height(img, 1200)
    assert 0 < thin < mid < thick
    # radius = size * (0.5 - thinning * (0.5 - pressure)), thinning 0.5 for the pen
    p = 0.05 + 0.9 * (1200 - 200) / 1200
    assert abs(thick - 2 * 32 * (0.5 - 0.5 * (0.5 - p))) <= 2


def test_marker_keeps_its_width_whatever_the_pressure():
    img = render(item(1, line(200, 1400, 500, pressure=lambda t: t), tool="marker", size=20))
    assert column_height(img, 400) == column_height(img, 1200) == pytest.approx(20, abs=1)


def test_stroke_ends_are_round():
    img = render(item(1, line(400, 1000, 500), tool="marker", size=40))   # radius 20
    ink = inked(img)
    assert ink[500, 1000 + 15] and ink[500, 400 - 15]       # the caps reach past the ends
    assert not ink[500 + 16, 1000 + 16]                      # a square cap would fill this
    assert not ink[500 - 16, 400 - 16]
    assert not ink[500, 1000 + 22]


def test_self_crossing_loop_has_no_hole_where_it_crosses():
    pts = []
    for k in range(200):                   # a figure eight: crosses itself at (800, 500)
        t = 2 * math.pi * k / 199
        pts += [800 + 300 * math.sin(t), 500 + 150 * math.sin(2 * t), 0.5]
    img = render(item(1, pts, size=24))
    patch = img[490:511, 790:811]
    assert (patch == np.array(RED, np.uint8)).all(axis=2).all()


def test_dot_and_two_point_strokes_are_drawn():
    img = render(item(1, [400, 400, 0.5], size=16),
                 item(2, [900, 400, 0.5, 1000, 450, 0.5], size=16))
    ink = inked(img)
    assert ink[400, 400] and ink[395, 400] and not ink[400, 420]
    assert ink[425, 950] and ink[400, 900] and ink[450, 1000]


def assert_envelope(it, thinning):
    """Every pixel whose centre lies well inside the discs along the smoothed centre
    line (radius interpolated between points) is inked, and none far outside."""
    cx, cy, cr, _, _ = strokes.centre_lines([(it["pts"], it["size"], thinning)], 1.0)
    ink = inked(render(it))
    yy, xx = np.mgrid[0:1000, 0:1600]
    px, py = xx + 0.5, yy + 0.5
    near = np.zeros(ink.shape, bool)
    far = np.ones(ink.shape, bool)
    for k in range(len(cx) - 1):           # capsules between consecutive points
        ax, ay, bx, by = cx[k], cy[k], cx[k + 1], cy[k + 1]
        m = cr[k] + cr[k + 1] + 4
        box = (slice(int(max(min(ay, by) - m, 0)), int(max(ay, by) + m)),
               slice(int(max(min(ax, bx) - m, 0)), int(max(ax, bx) + m)))
        dx, dy = bx - ax, by - ay
        t = ((px[box] - ax) * dx + (py[box] - ay) * dy) / max(dx * dx + dy * dy, 1e-9)
        t = np.clip(t, 0, 1)
        d = np.hypot(px[box] - ax - t * dx, py[box] - ay - t * dy)
        r = cr[k] + t * (cr[k + 1] - cr[k])
        near[box] |= d < r - 1.5
        far[box] &= d > r + 1.5
    assert near.sum() > 1000
    assert ink[near].all()
    assert not ink[far].any()


def test_scribble_fills_the_envelope_of_its_points_discs():
    rnd = np.random.default_rng(5)
    pts, x, y, vx, vy = [], 800.0, 500.0, 3.0, 0.0
    for k in range(300):                   # curls, loops, sharp turns, pressure changes
        vx, vy = np.clip([vx + rnd.uniform(-3, 3), vy + rnd.uniform(-3, 3)], -12, 12)
        x, y = x + vx, y + vy
        if not (100 < x < 1500):
            vx = -vx
        if not (100 < y < 900):
            vy = -vy
        pts += [x, y, 0.55 + 0.35 * math.sin(k / 7)]
    assert_envelope(item(1, pts, size=20), 0.5)


@pytest.mark.parametrize("tool,thinning", [("marker", 0.0), ("pen", 0.5)])
def test_sharp_zigzag_has_round_joins_and_no_notches(tool, thinning):
    pts = []
    for k in range(12):
        for j in range(8):                 # 8 points per leg, legs at about 100 degrees
            pts += [300 + 80 * k + 10 * j, 500 + (1 if k % 2 else -1) * (50 - 12.5 * j), 0.5]
    assert_envelope(item(1, pts, tool=tool, size=36), thinning)


@pytest.mark.parametrize("wobble", [0.03, 0.5, 2.0])
def test_nearly_level_wobbly_stroke_fills_its_envelope(wobble):
    rnd = np.random.default_rng(7)
    pts = []
    for k in range(160):                   # left to right, y wobbling, pressure jumping
        pts += [150 + 8 * k, 500 + 0.02 * k + rnd.uniform(-wobble, wobble), rnd.uniform(0.2, 0.9)]
    assert_envelope(item(1, pts, size=14), 0.5)


def test_scale_draws_the_same_picture_smaller():
    it = item(1, line(200, 1400, 500), tool="marker", size=40)
    full, half = render(it), render(it, scale=0.5)
    assert half.shape == (500, 800, 3)
    assert column_height(full, 800) == pytest.approx(40, abs=1)
    assert column_height(half, 400) == pytest.approx(20, abs=1)


def test_strokes_partly_off_the_page_are_clipped():
    img = render(item(1, [0, 0, 1, 1600, 1000, 1, 0, 1000, 1], tool="marker", size=80),
                 item(2, line(0, 1600, 999), size=40))
    assert img.shape == (1000, 1600, 3)
    assert tuple(img[0, 0]) == RED and tuple(img[999, 1599]) == RED


# ====================================================================== order, eraser, highlighter

def test_later_strokes_cover_earlier_ones():
    img = render(item(1, line(200, 1400, 500), size=24),
                 item(2, [800, 200, 0.5, 800, 800, 0.5], color="#1e40af", size=24))
    assert tuple(img[500, 800]) == BLUE and tuple(img[500, 400]) == RED
    img = render(item(2, [800, 200, 0.5, 800, 800, 0.5], color="#1e40af", size=24),
                 item(1, line(200, 1400, 500), size=24))
    assert tuple(img[500, 800]) == RED


def test_eraser_restores_the_background_and_later_ink_shows_again():
    img = render(item(1, line(200, 1400, 500), size=24),
                 item(2, line(600, 1000, 500), tool="eraser", color="#000000", size=40),
                 item(3, [800, 400, 0.5, 800, 600, 0.5], color="#1e40af", size=10))
    assert tuple(img[500, 700]) == WHITE and tuple(img[500, 400]) == RED
    assert tuple(img[500, 800]) == BLUE


def test_eraser_on_dots_shows_the_dots():
    img = render(item(1, line(200, 1400, 500), size=24),
                 item(2, line(200, 1400, 500), tool="eraser", color="#000000", size=40), bg="dots")
    empty = render(bg="dots")
    assert (img[470:531, 150:1451] == empty[470:531, 150:1451]).all()


def test_highlighter_over_red_is_a_blend_and_over_white_too():
    img = render(item(1, line(200, 1400, 500), size=24),
                 item(2, [800, 300, 0.5, 800, 700, 0.5], tool="highlighter", color="#fdd835",
                      size=24))
    a = round(255 * canvas.TOOL_STYLE["highlighter"][1])
    for under, at in ((RED, (500, 800)), (WHITE, (400, 800))):
        want = [(c * a + u * (255 - a) + 127) // 255 for c, u in zip(YELLOW, under)]
        assert np.abs(img[at].astype(int) - want).max() <= 1


def test_highlighter_crossing_itself_is_not_darker():
    pts = []
    for k in range(200):
        t = 2 * math.pi * k / 199
        pts += [800 + 300 * math.sin(t), 500 + 150 * math.sin(2 * t), 0.5]
    img = render(item(1, pts, tool="highlighter", color="#1e40af", size=24))
    crossing = tuple(img[500, 800])                       # covered twice
    once = tuple(img[500, 800 + 299])                     # the loop's far end, covered once
    assert crossing == once and crossing not in (WHITE, BLUE)


def test_opaque_stroke_over_highlighter_hides_it_and_eraser_removes_it():
    hl = item(1, line(200, 1400, 500), tool="highlighter", color="#1e40af", size=24)
    img = render(hl, item(2, [800, 300, 0.5, 800, 700, 0.5], size=24),
                 item(3, [1200, 300, 0.5, 1200, 700, 0.5], tool="eraser", color="#000000", size=24))
    assert tuple(img[500, 800]) == RED
    assert tuple(img[500, 1200]) == WHITE
    assert tuple(img[500, 400]) not in (WHITE, BLUE)


# ====================================================================== stamps

def stamp_box(img, x, y, half):
    return img[y - half:y + half, x - half:x + half]


def test_stamp_is_placed_centred_on_its_point():
    img = render(stamp(1, 400, 300, size=96))
    ink = inked(img)
    ys, xs = np.nonzero(ink)
    assert abs((xs.min() + xs.max()) / 2 - 400) <= 2 and abs((ys.min() + ys.max()) / 2 - 300) <= 2
    assert xs.max() - xs.min() <= 96 and ys.max() - ys.min() <= 96


def test_stamp_rotation_turns_the_picture_clockwise():
    flat = stamp_box(render(stamp(1, 400, 300, rot=0)), 400, 300, 48)
    turned = stamp_box(render(stamp(1, 400, 300, rot=90)), 400, 300, 48)
    assert not (flat == turned).all()
    assert (np.rot90(flat, k=-1) == turned).all()


def test_stamp_under_a_later_stroke_and_over_an_earlier_one():
    img = render(item(1, line(200, 1400, 300), color="#1e40af", size=10), stamp(2, 400, 300),
                 item(3, [400, 200, 0.5, 400, 400, 0.5], size=6))
    assert tuple(img[300, 400]) == RED                   # the later stroke is on top
    pic = np.asarray(pictures.raster(ROOT, "star", 96))
    assert pic[48, 48 - 20, 3] == 255                     # an opaque pixel of the star ...
    assert tuple(img[300, 400 - 20]) == tuple(pic[48, 48 - 20, :3])   # ... covers the blue line


# ====================================================================== the pieces

def test_paint_order_keeps_the_highest_item_for_every_pixel():
    rnd = np.random.default_rng(1)
    w, h, n = 97, 13, 400
    rows = rnd.integers(0, h, n)
    x0 = rnd.integers(0, w, n)
    length = np.minimum(rnd.integers(1, 90, n), w - x0)
    item_no = np.sort(rnd.integers(0, 1000, n))
    order = strokes.PaintOrder(w, h, 1000)
    order.add(rows * w + x0, length, item_no)
    want = np.full(w * h, -1)
    for r, a, ln, it in zip(rows, x0, length, item_no):
        s = r * w + a
        want[s:s + ln] = np.maximum(want[s:s + ln], it)
    assert (order.resolve() == want).all()


def test_batches_do_not_change_the_picture(monkeypatch):
    rnd = np.random.default_rng(2)
    items = []
    for i in range(40):
        x, y = rnd.uniform(200, 1400), rnd.uniform(200, 800)
        pts = []
        for k in range(30):
            x, y = x + rnd.uniform(-15, 15), y + rnd.uniform(-15, 15)
            pts += [x, y, rnd.uniform(0, 1)]
        tool = ("pen", "marker", "eraser", "highlighter")[i % 4]
        items.append(item(i, pts, tool=tool, color=canvas.PALETTE[i % 16],
                          size=(4, 8, 16, 32)[i % 4]))
    whole = render(*items)
    monkeypatch.setattr(canvas, "_BATCH_POINTS", 50)
    assert (render(*items) == whole).all()


def test_centre_line_follows_perfect_freehand():
    """Streamline 0.5 pulls each inner point 0.575 of the way from the previous
    smoothed point; the first and last point stay; the slow start is skipped."""
    pts = [0, 0, 0.5, 10, 0, 0.5, 10, 10, 0.5, 20, 10, 0.5, 30, 20, 0.5]
    x, y, r, _, n = strokes.centre_lines([(pts, 1, 0.5)], 1.0)
    q = [complex(0, 0)]
    for k in range(1, 4):
        q.append(q[-1] + (complex(pts[3 * k], pts[3 * k + 1]) - q[-1]) * 0.575)
    q.append(complex(30, 20))
    assert n[0] == 5
    assert np.allclose(x, [v.real for v in q], atol=1e-3)
    assert np.allclose(y, [v.imag for v in q], atol=1e-3)
    assert np.allclose(r, 0.5)          # size 1: radius 0.25 .. 0.75, at least half a pixel
