"""Stroke shapes for the server renderer, computed with numpy for many strokes at once.

The browser (static/canvas/canvas/draw.js) fills perfect-freehand's outline of each
stroke, with the options it passes there: the points are smoothed (streamline 0.5,
the last point kept), points within the first `size` units of the stroke and the
last 3 units are left out, each point gets the radius
size * (0.5 - thinning * (0.5 - pressure)), and the outline is the envelope of those
discs with round caps and joins. `centre_lines` computes the same points and radii;
`spans` turns the envelope into horizontal pixel spans (pixel centres inside):

* the ribbon between consecutive points is cut into pieces along which the left
  edge keeps going one way in y and so does the right edge, so each pixel row
  meets a piece in one span (no fill rule is involved: a stroke that crosses
  itself has no holes);
* the ends and the joins sharper than 35 degrees get a disc each (round caps and
  joins; gentler joins are closed by the pieces themselves).

`PaintOrder` resolves spans of opaque strokes by paint order: for every pixel it
keeps the last item that covers it, so no stroke needs an image of its own and
the picture is written once.
"""
import math
from itertools import chain

import numpy as np

STREAMLINE = 0.5                         # static/canvas/canvas/draw.js passes streamline: 0.5
_T = 0.15 + (1 - STREAMLINE) * 0.85      # perfect-freehand's interpolation factor
END_NOISE = 3.0                          # perfect-freehand drops points this close to the end
_SHARP_COS = math.cos(math.radians(35))  # joins sharper than this get a round disc
_LEVEL = 0.05                            # y steps (pixels) too small to count as a turn
MIN_PX_RADIUS = 0.5                      # every stroke is at least one pixel wide


def _padded(pts):
    """perfect-freehand's handling of 1- and 2-point strokes (getStrokePoints)."""
    n = len(pts) // 3
    if n == 1:
        x, y, p = pts
        return [x, y, p, x + 1, y + 1, p]
    if n == 2:
        x0, y0, p0, x1, y1, _ = pts
        out = [x0, y0, p0]
        for k in (1, 2, 3, 4):
            out += [x0 + (x1 - x0) * k / 4, y0 + (y1 - y0) * k / 4, 0.5]
        return out
    return pts


def _segment_cumsum(v, starts, sid):
    """Cumulative sum of v restarting at each stroke's first element. Summed in
    float64: in float32 the running total of a whole batch rounded a stroke's
    distances by where it sat in the batch (a batch size changed a few pixels)."""
    c = np.cumsum(v, dtype=np.float64)
    return (c - (c[starts] - v[starts])[sid]).astype(v.dtype)


def centre_lines(strokes, scale):
    """strokes: [(pts, size, thinning)]. Returns (x, y, r, sid, counts) in pixels:
    the smoothed points of every stroke one after the other, their radii, the
    stroke index of each point and the number of points per stroke."""
    lists = [_padded(pts) for pts, _, _ in strokes]
    n = np.fromiter(map(len, lists), np.int64, len(lists)) // 3
    flat = np.fromiter(chain.from_iterable(lists), np.float32, int(n.sum()) * 3)
    z = flat[0::3] + 1j * flat[1::3]
    pr = flat[2::3]
    size = np.array([s for _, s, _ in strokes], np.float32)
    thin = np.array([t for _, _, t in strokes], np.float32)
    S = len(strokes)
    starts = np.cumsum(n) - n
    sid = np.repeat(np.arange(S), n)
    idx = np.arange(len(z))
    ends = starts + n - 1

    # Points are taken once the interpolated ones have run `size` units from the
    # first point (perfect-freehand skips the slow start); the last is always taken.
    dist = _T * np.abs(z - z[starts][sid])
    run = _segment_cumsum(dist, starts, sid)
    keep = (idx == starts[sid]) | (idx == ends[sid]) | (run >= size[sid])
    z, pr, sid = z[keep], pr[keep], sid[keep]
    n = np.bincount(sid, minlength=S)

    # Streamline: each inner point moves a fraction _T from the previous smoothed
    # point towards its raw position; the first and the last point stay raw. The
    # recurrence q[k] = (1 - _T) q[k-1] + _T z[k] is summed by doubling (a
    # Hillis-Steele scan) over all strokes at once; the weight of a point 32 back
    # is 0.425**32 < 1e-11, so five steps reach every point that matters.
    starts = np.cumsum(n) - n
    pos = np.arange(len(z)) - starts[sid]
    q = z * np.float32(_T)
    q[starts] = z[starts]
    step = 1
    while step <= 16 and step < len(q):
        add = q[:-step] * np.float32((1 - _T) ** step)
        add[pos[step:] < step] = 0
        q[step:] += add
        step *= 2
    ends = starts + n - 1
    q[ends] = z[ends]

    # Drop repeated points and the inner points within END_NOISE of the end.
    first = np.zeros(len(q), bool)
    first[starts] = True
    seg = np.empty(len(q), np.float32)
    seg[0] = 0
    np.abs(q[1:] - q[:-1], out=seg[1:])
    seg[first] = 0
    run = _segment_cumsum(seg, starts, sid)
    keep = first | ((seg > 0) & (run[ends][sid] - run >= END_NOISE))
    keep[ends] = True
    q, pr, sid = q[keep], pr[keep], sid[keep]
    n = np.bincount(sid, minlength=S)

    t = thin[sid]
    r = np.where(t > 0, size[sid] * (0.5 - t * (0.5 - pr)), size[sid] / 2)
    r = np.maximum(np.maximum(r, 0.01) * scale, MIN_PX_RADIUS)
    return q.real * scale, q.imag * scale, r, sid, n


def _crossings(x0, y0, x1, y1, rlo, rhi, base, out):
    """For every pixel row rlo <= row < rhi of an edge, write the edge's x at the
    row's centre line into out[base + row]."""
    cnt = np.maximum(rhi - rlo, 0).astype(np.int64)
    total = int(cnt.sum())
    if not total:
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(cnt > 0, (x1 - x0) / (y1 - y0), 0)
    cs = np.cumsum(cnt) - cnt
    # x at the edge's first row, minus what the running index below adds to it
    start = x0 + (rlo + 0.5 - y0) * slope - cs * slope
    ar = np.arange(total)
    x = ar * np.repeat(slope, cnt)
    x += np.repeat(start, cnt)
    at = np.repeat(base + rlo.astype(np.int64) - cs, cnt)
    at += ar
    out[at] = x


def spans(x, y, r, sid, counts, width, height):
    """Pixel spans covering the strokes' envelopes, clipped to width x height, as
    a list of (left, length, stroke index) arrays: left = row * width + first
    column. Spans of one stroke may overlap."""
    V = len(x)
    if V == 0:
        return []
    starts = np.cumsum(counts) - counts
    ends = starts + counts - 1
    f4 = np.float32                                  # pixels: float32 is plenty
    x, y, r = x.astype(f4), y.astype(f4), r.astype(f4)
    a = np.flatnonzero(sid[:-1] == sid[1:])          # segment a -> a + 1
    dx, dy = x[a + 1] - x[a], y[a + 1] - y[a]
    ln = np.sqrt(dx * dx + dy * dy)
    ln[ln == 0] = np.inf                             # a repeated point: no direction
    ux, uy = dx / ln, dy / ln
    inx, iny, outx, outy = (np.zeros(V, f4) for _ in range(4))
    inx[a + 1], iny[a + 1] = ux, uy
    outx[a], outy[a] = ux, uy
    tx, ty = inx + outx, iny + outy
    tl = np.sqrt(tx * tx + ty * ty)
    flat = tl < 1e-6                                 # a full reversal or a lone point
    if flat.any():
        has_in = (inx != 0) | (iny != 0)
        tx = np.where(flat, np.where(has_in, inx, np.where(outx != 0, outx, 1)), tx)
        ty = np.where(flat, np.where(has_in, iny, outy), ty)
        tl = np.sqrt(tx * tx + ty * ty)
    k = r / tl
    nx, ny = -ty * k, tx * k                         # left normal, radius long
    lx, ly, rx, ry = x + nx, y + ny, x - nx, y - ny

    # Joins sharper than _SHARP_COS (and the ends, where a direction is missing).
    sharp = inx * outx + iny * outy < _SHARP_COS
    disc = sharp.copy()
    disc[starts[counts > 0]] = True
    disc[ends[counts > 0]] = True

    out = []
    if len(a):
        # Pieces: runs of segments along which the left edge keeps going one way in
        # y and the right edge one way (each edge a monotone chain), so the piece's
        # outline is y-monotone and every pixel row meets it in one span. Steps
        # under _LEVEL pixels do not count as a change of way. Sharp corners end a
        # piece too (they get a disc).
        new = np.ones(len(a), bool)
        new[1:] = a[1:] != a[:-1] + 1
        seq = np.arange(len(a))
        ways = []
        for d in (ly[a + 1] - ly[a], ry[a + 1] - ry[a]):
            way = np.where(d > _LEVEL, 1, np.where(d < -_LEVEL, -1, 0))
            way = way[np.maximum.accumulate(np.where((way != 0) | new, seq, 0))]
            new[1:] |= way[1:] != way[:-1]
            ways.append(np.where(way != 0, way, np.sign(d)))
        new[1:] |= sharp[a[1:]]
        pstart = np.flatnonzero(new)
        pend = np.r_[pstart[1:], len(a)] - 1
        pa, pb = a[pstart], a[pend] + 1
        P = len(pstart)
        piece = np.cumsum(new) - 1
        top = np.minimum.reduceat(np.minimum(np.minimum(ly[a], ly[a + 1]),
                                             np.minimum(ry[a], ry[a + 1])), pstart)
        bot = np.maximum.reduceat(np.maximum(np.maximum(ly[a], ly[a + 1]),
                                             np.maximum(ry[a], ry[a + 1])), pstart)
        r0 = np.clip(np.ceil(top - 0.5), 0, height)
        r1 = np.clip(np.ceil(bot - 0.5), 0, height)
        nrows = np.maximum(r1 - r0, 0).astype(np.int64)
        off = np.cumsum(nrows) - nrows
        total = int(nrows.sum())
        if total:
            # The piece's outline, one way round: left edges forward, the end's
            # cross-section, right edges backward, the start's cross-section. Edges
            # going down give one end of each row's span (xs[row]), edges going up
            # the other (xs[total + row]).
            pcs = np.arange(P)
            ex0 = np.concatenate((lx[a], rx[a + 1], lx[pb], rx[pa]))
            ey0 = np.concatenate((ly[a], ry[a + 1], ly[pb], ry[pa]))
            ex1 = np.concatenate((lx[a + 1], rx[a], rx[pb], lx[pa]))
            ey1 = np.concatenate((ly[a + 1], ry[a], ry[pb], ly[pa]))
            epc = np.concatenate((piece, piece, pcs, pcs))
            rlo = np.maximum(np.ceil(np.minimum(ey0, ey1) - 0.5), r0[epc])
            rhi = np.minimum(np.ceil(np.maximum(ey0, ey1) - 0.5), r1[epc])
            # A chain's edges count as going its way (a nearly level step against
            # it must not give a row a second start or end).
            ends_up = ey1[2 * len(a):] < ey0[2 * len(a):]
            goes_up = np.concatenate((ways[0] < 0, ways[1] > 0, ends_up))
            base = (off - r0.astype(np.int64))[epc] + np.where(goes_up, total, 0)
            xs = np.full(2 * total, np.nan, np.float32)
            _crossings(ex0, ey0, ex1, ey1, rlo, rhi, base, xs)
            down, up = xs[:total], xs[total:]
            rows = np.arange(total) + np.repeat(r0.astype(np.int64) - off, nrows)
            # Rows a piece's outline did not reach both ways stay NaN and are dropped.
            out.append(_pixels(rows, np.fmin(down, up), np.fmax(down, up),
                               np.repeat(sid[pa], nrows), width))

    d = np.flatnonzero(disc)
    cx, cy, cr = x[d], y[d], r[d]
    d0 = np.clip(np.ceil(cy - cr - 0.5), 0, height)
    d1 = np.clip(np.floor(cy + cr - 0.5) + 1, 0, height)
    cnt = np.maximum(d1 - d0, 0).astype(np.int64)
    if cnt.sum():
        cs = np.cumsum(cnt) - cnt
        rows = np.arange(int(cnt.sum())) + np.repeat(d0.astype(np.int64) - cs, cnt)
        c = np.repeat(cx + 1j * cy, cnt)
        h = rows + 0.5 - c.imag
        rr = np.repeat(cr, cnt)
        hw = np.sqrt(np.maximum(rr * rr - h * h, 0)).astype(np.float32)
        cxs = c.real.astype(np.float32)
        out.append(_pixels(rows, cxs - hw, cxs + hw, np.repeat(sid[d], cnt), width))
    return out


def _pixels(rows, xa, xb, ids, width):
    """Spans from x = xa to x = xb (float32, changed in place) on `rows` to
    (left, length, ids) over the pixels whose centres they hold; empty ones go."""
    xa -= 0.5
    np.ceil(xa, out=xa)
    np.maximum(xa, 0, out=xa)
    xb -= 0.5
    np.floor(xb, out=xb)
    np.minimum(xb, width - 1, out=xb)
    xb -= xa
    ok = np.flatnonzero(xb >= 0)                      # False for NaN too
    left = rows[ok] * width
    left += xa[ok].astype(np.int64)
    length = xb[ok].astype(np.int64)
    length += 1
    return left, length, ids[ok]


class PaintOrder:
    """For every pixel, the highest item number of the spans that cover it.

    A sparse table: a span of width w is two (overlapping) blocks of width
    2**min(floor(log2 w), K), at its two ends (wider spans are cut into pieces of
    at most 2**(K+1) first); each block records the item number at its left end in
    its level, and resolve() folds the levels down to single pixels."""

    K = 4
    _W = 2 << K                                   # widest span two blocks cover
    _LV = np.minimum(np.floor(np.log2(np.maximum(np.arange(_W + 1), 1))), K).astype(np.int64)
    _SECOND = np.arange(_W + 1) - (1 << _LV)      # second block's offset

    def __init__(self, width, height, items=32767):
        """items: how many item numbers there can be (0 .. items - 1)."""
        self.hw = width * height
        self.dtype = np.int16 if items <= 32767 else np.int32
        self.table = np.full((self.K + 1, self.hw), -1, self.dtype)
        self._lvl = self._LV * self.hw

    def add(self, left, length, item):
        """Spans (flat index of the first pixel, length) painted by item numbers."""
        item = item.astype(self.dtype, copy=False)
        wide = np.flatnonzero(length > self._W)
        if len(wide):
            # A wide span (a few percent of them) keeps its first _W pixels here;
            # the rest is cut into pieces of at most _W added on their own
            # (concatenating them with all the others cost a copy of every array).
            wl, wn = left[wide] + self._W, length[wide] - self._W
            n = (wn + self._W - 1) // self._W
            cs = np.cumsum(n) - n
            j = np.arange(int(n.sum())) - np.repeat(cs, n)
            start = np.repeat(wl, n) + j * self._W
            end = np.repeat(wl + wn, n)
            self._add(start, np.minimum(end - start, self._W), np.repeat(item[wide], n))
            length = length.copy()
            length[wide] = self._W
        self._add(left, length, item)

    def _add(self, left, length, item):
        flat = self.table.reshape(-1)
        at = left + self._lvl[length]
        np.maximum.at(flat, at, item)
        np.maximum.at(flat, at + self._SECOND[length], item)

    def resolve(self):
        """The item number covering each pixel last (-1: none), as a flat array."""
        t = self.table
        for k in range(self.K, 0, -1):
            h = 1 << (k - 1)
            np.maximum(t[k - 1], t[k], out=t[k - 1])
            np.maximum(t[k - 1][h:], t[k][:-h], out=t[k - 1][h:])
        top = t[0].copy()
        self.table = None
        return top
