// Paints the sand surface (a string of height digits) the way the server renderer
// does (activities/sandtray/__init__.py: level_colour, _sand_image): heights upscaled
// bilinearly, softened by a box blur of one cell, coloured by a height table
// (water below 0.5, wet sand, darker low sand, lighter high sand) and lit from the
// top left. Pictures drawn from the same state look the same on screen and in the
// exported PNG.

const UP = 4;          // picture pixels per grid cell (scaled smoothly to the screen)
const GRAIN_TILE = 96;
const GRAIN = 5;       // ± brightness of the sand's grain (as on the server)

/** A fixed grain texture from a seeded generator (mulberry32). */
function grainTile() {
  let a = 7;
  const out = new Int8Array(GRAIN_TILE * GRAIN_TILE);
  for (let i = 0; i < out.length; i++) {
    a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = Math.round(r * (2 * GRAIN)) - GRAIN;
  }
  return out;
}

function rgb(hex) {
  return [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
}

/** Colour of height v (a float 0..max) for a theme; mirrors level_colour(). */
export function levelColour(theme, v, grid) {
  const sand = rgb(theme.sand), water = rgb(theme.water);
  if (v < 0.5) return water.map((c) => Math.round(c * (0.78 + 0.44 * v)));
  if (v < 1) return sand.map((c) => Math.round(c * 0.74));
  const t = (v - grid.start) / (grid.max_level - grid.start);
  if (t < 0) return sand.map((c) => Math.round(c * (1 + 0.09 * t * (grid.start - 1))));
  return sand.map((c) => Math.round(c + (255 - c) * 0.5 * t));
}

export function cssColour([r, g, b]) {
  return `rgb(${r}, ${g}, ${b})`;  // i18n-ok
}

export class SandPainter {
  constructor(grid) {
    this.grid = grid;
    this.w = grid.w * UP;
    this.h = grid.h * UP;
    this.canvas = document.createElement("canvas");
    this.canvas.width = this.w;
    this.canvas.height = this.h;
    this.g = this.canvas.getContext("2d");
    this.image = this.g.createImageData(this.w, this.h);
    this.heights = new Float32Array(this.w * this.h);
    this.tmp = new Float32Array(this.w * this.h);
    this.luts = new Map();
    this.key = null;
    this.grain = grainTile();
  }

  lut(theme) {
    const k = theme.sand + theme.water;
    let lut = this.luts.get(k);
    if (!lut) {
      lut = new Uint8Array(256 * 3);
      for (let i = 0; i < 256; i++) {
        const c = levelColour(theme, Math.min(this.grid.max_level, i / 28), this.grid);
        lut.set(c, i * 3);
      }
      this.luts.set(k, lut);
    }
    return lut;
  }

  /** The sand picture (a canvas of grid × UP pixels) for `sand` in `theme`. */
  paint(sand, theme) {
    const key = theme.sand + theme.water + sand;
    if (key === this.key) return this.canvas;
    this.key = key;
    const {w: GW, h: GH} = this.grid;
    const W = this.w, H = this.h, hs = this.heights;
    // Bilinear upscale of the cell heights (cell centres at (k + 0.5) × UP).
    for (let py = 0; py < H; py++) {
      let gy = (py + 0.5) / UP - 0.5;
      gy = gy < 0 ? 0 : gy > GH - 1 ? GH - 1 : gy;
      const y0 = Math.floor(gy), y1 = Math.min(GH - 1, y0 + 1), fy = gy - y0;
      for (let px = 0; px < W; px++) {
        let gx = (px + 0.5) / UP - 0.5;
        gx = gx < 0 ? 0 : gx > GW - 1 ? GW - 1 : gx;
        const x0 = Math.floor(gx), x1 = Math.min(GW - 1, x0 + 1), fx = gx - x0;
        const a = sand.charCodeAt(y0 * GW + x0) - 48, b = sand.charCodeAt(y0 * GW + x1) - 48;
        const c = sand.charCodeAt(y1 * GW + x0) - 48, d = sand.charCodeAt(y1 * GW + x1) - 48;
        hs[py * W + px] = (a + (b - a) * fx) * (1 - fy) + (c + (d - c) * fx) * fy;
      }
    }
    boxBlur(hs, this.tmp, W, H, UP);
    const lut = this.lut(theme);
    const data = this.image.data;
    for (let py = 0; py < H; py++) {
      const ya = Math.max(0, py - UP), yb = Math.min(H - 1, py + UP);
      for (let px = 0; px < W; px++) {
        const i = py * W + px;
        const v = hs[i];
        const k = Math.max(0, Math.min(255, Math.round(v * 28))) * 3;
        // Light from the top left: compare with the surface one cell up-left / down-right.
        const shade = 12 * (hs[ya * W + Math.max(0, px - UP)] - hs[yb * W + Math.min(W - 1, px + UP)]) +
          this.grain[(py % GRAIN_TILE) * GRAIN_TILE + (px % GRAIN_TILE)];
        const o = i * 4;
        data[o] = lut[k] + shade;
        data[o + 1] = lut[k + 1] + shade;
        data[o + 2] = lut[k + 2] + shade;
        data[o + 3] = 255;
      }
    }
    this.g.putImageData(this.image, 0, 0);
    return this.canvas;
  }
}

/** In-place separable box blur of radius r (pixels; fractional: edge-weighted). */
function boxBlur(a, tmp, W, H, r) {
  const whole = Math.floor(r), frac = r - whole, norm = 1 / (2 * r + 1);
  const pass = (src, dst, len, count, stride, step) => {
    for (let n = 0; n < count; n++) {
      const base = n * stride;
      for (let k = 0; k < len; k++) {
        let sum = 0;
        for (let j = -whole; j <= whole; j++) {
          const q = Math.min(len - 1, Math.max(0, k + j));
          sum += src[base + q * step];
        }
        if (frac) {
          sum += frac * (src[base + Math.max(0, k - whole - 1) * step] +
            src[base + Math.min(len - 1, k + whole + 1) * step]);
        }
        dst[base + k * step] = sum * norm;
      }
    }
  };
  pass(a, tmp, W, H, W, 1);
  pass(tmp, a, H, W, 1, W);
}
