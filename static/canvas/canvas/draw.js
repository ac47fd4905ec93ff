// Drawing canvas items and page backgrounds onto a 2D context in board units.
//
// Callers set the context transform to board units (scale s = device px per unit).
// Strokes are perfect-freehand outlines filled as one Path2D (cached per item);
// eraser strokes use destination-out so they remove ink only. Backgrounds follow
// _draw_background in activities/canvas/__init__.py: grid lines / dots every 50 units.
import {getStroke} from "perfect-freehand";

export const BG_STEP = 50;
const GRID_COLOR = "#dbe4f0";
const DOT_COLOR = "#c3cfdf";

/** Path2D of a stroke's filled outline, in board units. */
export function strokePath(pts, size, thinning) {
  const points = [];
  for (let k = 0; k + 2 < pts.length; k += 3) points.push([pts[k], pts[k + 1], pts[k + 2]]);
  const outline = getStroke(points, {
    size, thinning, smoothing: 0.5, streamline: 0.5, simulatePressure: false, last: true,
  });
  const path = new Path2D();
  const n = outline.length;
  if (!n) return path;
  if (n < 3) {
    path.arc(points[0][0], points[0][1], Math.max(0.5, size / 2), 0, Math.PI * 2);
    return path;
  }
  // Quadratic curves through the midpoints: a smooth closed outline.
  path.moveTo((outline[0][0] + outline[1][0]) / 2, (outline[0][1] + outline[1][1]) / 2);
  for (let i = 1; i <= n; i++) {
    const a = outline[i % n], b = outline[(i + 1) % n];
    path.quadraticCurveTo(a[0], a[1], (a[0] + b[0]) / 2, (a[1] + b[1]) / 2);
  }
  path.closePath();
  return path;
}

/**
 * Caches one Path2D per (page, item id). An entry is reused only while the point
 * count is unchanged, so a live preview that grows gets a fresh path.
 */
export class PathCache {
  constructor(toolStyle) {
    this.toolStyle = toolStyle;
    this.map = new Map();
  }

  get(pageId, item) {
    const key = pageId + "/" + item.id;
    const hit = this.map.get(key);
    if (hit && hit.n === item.pts.length && hit.size === item.size && hit.tool === item.tool) return hit.path;
    const thinning = (this.toolStyle[item.tool] || [0, 1])[0];
    const path = strokePath(item.pts, item.size, thinning);
    this.map.set(key, {n: item.pts.length, size: item.size, tool: item.tool, path});
    return path;
  }

  /** Forget paths of items no longer in `state` (called on a full rebuild). */
  prune(state) {
    const live = new Set();
    for (const p of state.pages) for (const it of p.items) live.add(p.id + "/" + it.id);
    for (const key of this.map.keys()) if (!live.has(key)) this.map.delete(key);
  }
}

/** Draw one stroke (uncached path allowed) with its tool's opacity. */
export function drawStroke(ctx, item, path, toolStyle) {
  const [, alpha] = toolStyle[item.tool] || [0, 1];
  ctx.save();
  if (item.tool === "eraser") {
    ctx.globalCompositeOperation = "destination-out";
    ctx.fillStyle = "#000";
  } else {
    ctx.globalAlpha = alpha;
    ctx.fillStyle = item.color;
  }
  ctx.fill(path);
  ctx.restore();
}

/** Draw a stamp; returns false when its picture has not loaded yet. */
export function drawStamp(ctx, item, images) {
  const img = images.get(item.stamp);
  if (!img) return false;
  const half = item.size / 2;
  ctx.save();
  ctx.translate(item.x, item.y);
  if (item.rot) ctx.rotate((item.rot * Math.PI) / 180);
  ctx.drawImage(img, -half, -half, item.size, item.size);
  ctx.restore();
  return true;
}

/** Draw an item; returns false when it could not be drawn completely (picture loading). */
export function drawItem(ctx, pageId, item, paths, images, toolStyle) {
  if (item.k === "stroke") {
    drawStroke(ctx, item, paths.get(pageId, item), toolStyle);
    return true;
  }
  if (item.k === "stamp") return drawStamp(ctx, item, images);
  return true;
}

/**
 * Fill the page background onto ctx whose transform maps board units to device
 * pixels with scale `s`. Lines and dots keep at least one device pixel.
 */
export function drawBackground(ctx, bg, colors, board, s) {
  ctx.save();
  ctx.fillStyle = colors[bg] || "#ffffff";
  ctx.fillRect(0, 0, board.w, board.h);
  if (bg === "grid") {
    ctx.strokeStyle = GRID_COLOR;
    ctx.lineWidth = Math.max(1 / s, 1);
    ctx.beginPath();
    for (let x = BG_STEP; x <= board.w; x += BG_STEP) { ctx.moveTo(x, 0); ctx.lineTo(x, board.h); }
    for (let y = BG_STEP; y <= board.h; y += BG_STEP) { ctx.moveTo(0, y); ctx.lineTo(board.w, y); }
    ctx.stroke();
  } else if (bg === "dots") {
    ctx.fillStyle = DOT_COLOR;
    const r = Math.max(2, 1 / s);
    ctx.beginPath();
    for (let x = BG_STEP; x <= board.w; x += BG_STEP) {
      for (let y = BG_STEP; y <= board.h; y += BG_STEP) {
        ctx.moveTo(x + r, y);
        ctx.arc(x, y, r, 0, Math.PI * 2);
      }
    }
    ctx.fill();
  }
  ctx.restore();
}

/**
 * Pictures for stamps, loaded once. Twemoji SVGs carry only a viewBox; some browsers
 * refuse to draw such an SVG onto a canvas, so the file is fetched (same origin) and
 * given an explicit width/height before use.
 */
export class PictureCache {
  constructor(pictures, onload) {
    this.pictures = pictures;
    this.onload = onload;
    this.ready = new Map();
    this.loading = new Set();
  }

  get(id) {
    const img = this.ready.get(id);
    if (img) return img;
    this.load(id);
    return null;
  }

  load(id) {
    if (this.loading.has(id) || !this.pictures[id]) return;
    this.loading.add(id);
    fetch(this.pictures[id].url)
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(r.status))))
      .then((svg) => {
        const sized = /<svg[^>]*\swidth=/.test(svg) ? svg
          : svg.replace(/<svg\b/, '<svg width="512" height="512"');
        const url = URL.createObjectURL(new Blob([sized], {type: "image/svg+xml"}));
        const img = new Image();
        img.onload = () => { this.ready.set(id, img); this.onload(id); };
        img.onerror = () => this.loading.delete(id);
        img.src = url;
      })
      .catch(() => setTimeout(() => this.loading.delete(id), 3000));
  }
}
