// Snapshots as they travel (JOIN2): the browser half of rooms/core/wire.py. A client that
// sends `sync {pack: PACK}` gets long number lists (stroke points) packed as
// {"#n": "count:lanes:base64"}; `unpack` turns them back into the very same numbers.
// Pure JS, no DOM (atob is in every browser and in node), so node tests it against
// the Python encoder.

/** The packing version this file decodes. */
export const PACK = 1;
const MARK = "#n";

/**
 * JOIN2: replace, in place, every packed number list {"#n": "count:lanes:base64"} in
 * a snapshot by the plain list it stands for (see rooms/core/wire.py). Returns `x`.
 */
export function unpack(x) {
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v !== null && typeof v === "object") x[i] = unpack(v);
    }
  } else if (x !== null && typeof x === "object") {
    const packed = x[MARK];
    if (typeof packed === "string") return unpackNumbers(packed);
    for (const k in x) {
      const v = x[k];
      if (v !== null && typeof v === "object") x[k] = unpack(v);
    }
  }
  return x;
}

/**
 * One packed list "count:lanes:base64": per lane (x, y, pressure…) a little-endian
 * int32 start q, then q's differences (int8 "b", int16 "h" or int32 "i"); each
 * number is q / 10^d, divided as on the server so it is the very same double.
 */
export function unpackNumbers(text) {
  const a = text.indexOf(":"), b = text.indexOf(":", a + 1);
  const n = Number(text.slice(0, a)), stride = (b - a - 1) / 2;
  const bin = atob(text.slice(b + 1));
  const out = new Array(n);
  let at = 0;
  for (let j = 0; j < stride; j++) {
    const s = 10 ** (text.charCodeAt(a + 1 + 2 * j) - 48), w = text[a + 2 + 2 * j];
    let q = bin.charCodeAt(at) | (bin.charCodeAt(at + 1) << 8) | (bin.charCodeAt(at + 2) << 16) |
      (bin.charCodeAt(at + 3) << 24);
    at += 4;
    out[j] = q / s;
    // One loop per width, so the hot loop has no branch on it.
    if (w === "b") {
      for (let i = j + stride; i < n; i += stride) {
        q += (bin.charCodeAt(at++) << 24) >> 24;
        out[i] = q / s;
      }
    } else if (w === "h") {
      for (let i = j + stride; i < n; i += stride) {
        q += ((bin.charCodeAt(at) | (bin.charCodeAt(at + 1) << 8)) << 16) >> 16;
        at += 2;
        out[i] = q / s;
      }
    } else {
      for (let i = j + stride; i < n; i += stride) {
        q += bin.charCodeAt(at) | (bin.charCodeAt(at + 1) << 8) | (bin.charCodeAt(at + 2) << 16) |
          (bin.charCodeAt(at + 3) << 24);
        at += 4;
        out[i] = q / s;
      }
    }
  }
  return out;
}
