// The breathing visuals of the calm corner, one per preset family, as inline SVG
// (viewBox 400×400). Each is built once and then `render(v)` per frame with
//   v = {phase, progress, round, fill (0 empty … 1 full breath), reduced, idle, done}
// (idle: not started, shown at rest; done: all rounds breathed, the shape traced whole)
// Nothing here knows about time or the network: calm.js computes the phase.
// Reduced motion: nothing grows, shrinks or travels; the shape pulses in colour and
// opacity with the breath instead, and the part being traced is lit as a whole.
import {ease} from "./phase.js";
import {tp} from "../room/i18n.js";

const NS = "http://www.w3.org/2000/svg";
const INK = "#5b6b8c";
const TRACE = "#2f6fde";
const DOT = "#f59e0b";

function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  for (const c of children) if (c) node.append(c);
  return node;
}

const fmt = (v) => (Math.round(v * 100) / 100).toString();
const lerp = (a, b, k) => a + (b - a) * k;

/** A breathing shape's name, as the reader reads it (its picture's label for a screen reader). */
export function visualLabel(kind) {
  const names = {balloon: tp("breathing shape", "balloon"), orb: tp("breathing shape", "breathing circle"),
    box: tp("breathing shape", "box"), star: tp("breathing shape", "star"), hand: tp("breathing shape", "hand"),
    flower: tp("breathing shape", "flower and candle")};
  return names[kind] || kind;
}

function svgRoot(label) {
  return s("svg", {viewBox: "0 0 400 400", class: "calm-visual", role: "img", "aria-label": label,
    preserveAspectRatio: "xMidYMid meet"});
}

/** A polyline that can be walked by distance: at(k) gives the point k (0..1) along it. */
class Path {
  constructor(points) {
    this.pts = points;
    this.len = [0];
    for (let i = 1; i < points.length; i++) {
      const [x0, y0] = points[i - 1], [x1, y1] = points[i];
      this.len.push(this.len[i - 1] + Math.hypot(x1 - x0, y1 - y0));
    }
    this.total = this.len[this.len.length - 1] || 1;
  }

  at(k) {
    const d = Math.min(1, Math.max(0, k)) * this.total;
    let i = 1;
    while (i < this.len.length - 1 && this.len[i] < d) i++;
    const seg = this.len[i] - this.len[i - 1] || 1;
    const f = (d - this.len[i - 1]) / seg;
    const [x0, y0] = this.pts[i - 1], [x1, y1] = this.pts[i];
    return [lerp(x0, x1, f), lerp(y0, y1, f)];
  }

  /** The points from the start up to k, as an SVG points string. */
  upTo(k) {
    const d = Math.min(1, Math.max(0, k)) * this.total;
    const out = [this.pts[0]];
    for (let i = 1; i < this.pts.length && this.len[i] <= d; i++) out.push(this.pts[i]);
    out.push(this.at(k));
    return pointsAttr(out);
  }
}

function pointsAttr(pts) {
  return pts.map(([x, y]) => `${fmt(x)},${fmt(y)}`).join(" ");
}

// ------------------------------------------------------------------ balloon and orb

function balloon() {
  const root = svgRoot(visualLabel("balloon"));
  const defs = s("defs", {},
    s("radialGradient", {id: "calm-balloon-g", cx: "0.38", cy: "0.32", r: "0.75"},
      s("stop", {offset: "0", "stop-color": "#ff8a80"}),
      s("stop", {offset: "1", "stop-color": "#e53935"})));
  const glow = s("circle", {cx: 200, cy: 175, r: 150, fill: "#ffcdd2", opacity: 0});
  const string = s("path", {d: "M200 300 C 185 330, 215 355, 198 392", fill: "none", stroke: INK,
    "stroke-width": 3, "stroke-linecap": "round"});
  // The body scales about its knot, so the string stays put while the balloon grows.
  const body = s("g", {class: "calm-body"},
    s("path", {d: "M200 292 C 120 292, 90 215, 90 165 C 90 100, 140 52, 200 52 C 260 52, 310 100, 310 165 C 310 215, 280 292, 200 292 Z",
      fill: "url(#calm-balloon-g)"}),
    s("path", {d: "M190 292 L210 292 L214 304 L186 304 Z", fill: "#c62828"}),
    s("ellipse", {cx: 150, cy: 120, rx: 22, ry: 36, fill: "#fff", opacity: 0.45, transform: "rotate(-25 150 120)"}));
  root.append(defs, glow, string, body);
  return {
    root,
    render(v) {
      if (v.reduced) {
        body.setAttribute("transform", "translate(200 298) scale(0.8) translate(-200 -298)");   // i18n-ok
        body.setAttribute("opacity", fmt(0.35 + 0.65 * v.fill));
        glow.setAttribute("opacity", fmt(0.7 * v.fill));
      } else {
        const k = 0.4 + 0.6 * v.fill;
        body.setAttribute("transform", `translate(200 298) scale(${fmt(k)}) translate(-200 -298)`);
        body.setAttribute("opacity", "1");
        glow.setAttribute("opacity", "0");
      }
    },
  };
}

function orb() {
  const root = svgRoot(visualLabel("orb"));
  const defs = s("defs", {},
    s("radialGradient", {id: "calm-orb-g", cx: "0.5", cy: "0.45", r: "0.6"},
      s("stop", {offset: "0", "stop-color": "#b3e5fc"}),
      s("stop", {offset: "1", "stop-color": "#0288d1"})));
  const ring = s("circle", {cx: 200, cy: 200, r: 180, fill: "none", stroke: "#cfe3f5", "stroke-width": 4});
  const ball = s("circle", {cx: 200, cy: 200, r: 80, fill: "url(#calm-orb-g)", class: "calm-body"});
  root.append(defs, ring, ball);
  return {
    root,
    render(v) {
      ball.setAttribute("r", v.reduced ? "150" : fmt(70 + 105 * v.fill));
      ball.setAttribute("opacity", v.reduced ? fmt(0.3 + 0.7 * v.fill) : "1");
    },
  };
}

// ------------------------------------------------------------------ tracers

/** A tracer: a shape drawn faintly, the part traced so far drawn boldly, and a dot. */
function tracer(label, outline, segmentFor, litFor) {
  const root = svgRoot(label);
  const fillShape = s("polygon", {points: pointsAttr(outline), fill: "#dbeafe", opacity: 0.5});
  const base = s("polyline", {points: pointsAttr([...outline, outline[0]]), fill: "none", stroke: "#c7d2e4",
    "stroke-width": 14, "stroke-linejoin": "round", "stroke-linecap": "round"});
  const trail = s("polyline", {points: "", fill: "none", stroke: TRACE, "stroke-width": 14,
    "stroke-linejoin": "round", "stroke-linecap": "round"});
  const lit = s("polyline", {points: "", fill: "none", stroke: DOT, "stroke-width": 18,
    "stroke-linejoin": "round", "stroke-linecap": "round", opacity: 0});
  const dot = s("circle", {r: 20, fill: DOT, stroke: "#fff", "stroke-width": 5});
  root.append(fillShape, base, trail, lit, dot);
  return {
    root,
    render(v) {
      if (v.done) {
        trail.setAttribute("points", pointsAttr([...outline, outline[0]]));
        lit.setAttribute("opacity", "0");
        dot.setAttribute("opacity", "0");
        fillShape.setAttribute("opacity", "0.5");
        return;
      }
      const {done, path, k} = segmentFor(v);
      if (v.reduced) {
        // No travelling dot: the current part lights up whole and pulses with the breath.
        trail.setAttribute("points", done);
        lit.setAttribute("points", litFor ? litFor(v) : path.upTo(1));
        lit.setAttribute("opacity", v.idle ? "0" : fmt(0.35 + 0.65 * v.fill));
        fillShape.setAttribute("opacity", fmt(0.25 + 0.6 * v.fill));
        dot.setAttribute("opacity", "0");
        return;
      }
      const [x, y] = path.at(k);
      trail.setAttribute("points", done + (done ? " " : "") + path.upTo(k));
      lit.setAttribute("opacity", "0");
      fillShape.setAttribute("opacity", "0.5");
      dot.setAttribute("opacity", "1");
      dot.setAttribute("cx", fmt(x));
      dot.setAttribute("cy", fmt(y));
    },
  };
}

function box() {
  const L = 70, R = 330, T = 70, B = 330;
  const edges = {
    inhale: new Path([[L, B], [L, T]]), hold: new Path([[L, T], [R, T]]),
    exhale: new Path([[R, T], [R, B]]), hold2: new Path([[R, B], [L, B]]),
  };
  const order = ["inhale", "hold", "exhale", "hold2"];
  const corners = [[L, B], [L, T], [R, T], [R, B]];
  return tracer(visualLabel("box"), [[L, B], [L, T], [R, T], [R, B]], (v) => {
    if (v.idle || v.phase === "done") return {done: "", path: edges.inhale, k: 0};
    const i = order.indexOf(v.phase);
    return {done: i > 0 ? pointsAttr(corners.slice(0, i + 1)) : "", path: edges[v.phase], k: v.progress};
  });
}

function starPoints(cx = 200, cy = 212, ro = 175, ri = 72) {
  const outer = [], inner = [];
  for (let k = 0; k < 5; k++) {
    const a = (-90 + 72 * k) * Math.PI / 180, b = (-90 + 36 + 72 * k) * Math.PI / 180;
    outer.push([cx + ro * Math.cos(a), cy + ro * Math.sin(a)]);
    inner.push([cx + ri * Math.cos(b), cy + ri * Math.sin(b)]);
  }
  return {outer, inner};
}

function star() {
  const {outer, inner} = starPoints();
  const inn = (k) => inner[(k + 5) % 5];
  const outline = [];
  for (let k = 0; k < 5; k++) outline.push(outer[k], inner[k]);
  // Round r traces point k = r mod 5: up from the inner corner before it (breathe in),
  // hold at the tip, down to the next inner corner (breathe out).
  const segment = (v) => {
    if (v.idle || v.phase === "done") return {done: "", path: new Path([inn(-1), outer[0]]), k: 0};
    const k = v.round % 5;
    const done = [];
    for (let j = 0; j < k; j++) done.push(inn(j - 1), outer[j]);
    if (k) done.push(inn(k - 1));
    const up = new Path([inn(k - 1), outer[k]]), down = new Path([outer[k], inn(k)]);
    const doneStr = pointsAttr(done);
    if (v.phase === "inhale") return {done: doneStr, path: up, k: v.progress};
    if (v.phase === "hold") return {done: doneStr, path: up, k: 1};
    const upStr = pointsAttr([inn(k - 1), outer[k]]);
    return {done: doneStr + (doneStr ? " " : "") + upStr, path: down, k: v.phase === "exhale" ? v.progress : 1};
  };
  const lit = (v) => {
    if (v.idle || v.phase === "done") return "";
    const k = v.round % 5;
    return pointsAttr([inn(k - 1), outer[k], inn(k)]);
  };
  return tracer(visualLabel("star"), outline, segment, lit);
}

/** An open hand, palm towards you, thumb on the left: five finger outlines. */
function handFingers() {
  const fingers = [
    {x: 122, y: 268, a: -52, len: 78, w: 46},   // thumb
    {x: 152, y: 206, a: -13, len: 118, w: 42},
    {x: 198, y: 194, a: 0, len: 132, w: 42},
    {x: 243, y: 202, a: 11, len: 118, w: 40},
    {x: 282, y: 226, a: 25, len: 92, w: 36},
  ];
  return fingers.map((f) => {
    const a = f.a * Math.PI / 180;
    const dir = [Math.sin(a), -Math.cos(a)], perp = [Math.cos(a), Math.sin(a)];
    const h = f.w / 2;
    const at = (t, side) => [f.x + dir[0] * t + perp[0] * side, f.y + dir[1] * t + perp[1] * side];
    const tip = at(f.len - h, 0);
    const arc = [];
    for (let i = 0; i <= 10; i++) {
      // From the left side (phi 0) over the top (phi pi/2) to the right side (phi pi).
      const phi = (Math.PI * i) / 10;
      const side = -h * Math.cos(phi), ahead = h * Math.sin(phi);
      arc.push([tip[0] + perp[0] * side + dir[0] * ahead, tip[1] + perp[1] * side + dir[1] * ahead]);
    }
    const up = [at(0, -h), ...arc.slice(0, 6)];
    const down = [...arc.slice(5), at(0, h)];
    return {up: new Path(up), down: new Path(down), all: [at(0, -h), ...arc, at(0, h)]};
  });
}

function hand() {
  const fingers = handFingers();
  const outline = [[128, 372]];
  for (const f of fingers) outline.push(...f.all);
  outline.push([292, 300], [276, 372]);
  const segment = (v) => {
    if (v.idle || v.phase === "done") return {done: "", path: fingers[0].up, k: 0};
    const k = v.round % 5;
    const done = [];
    for (let j = 0; j < k; j++) done.push(...fingers[j].all);
    const doneStr = pointsAttr(done);
    const f = fingers[k];
    if (v.phase === "inhale") return {done: doneStr, path: f.up, k: v.progress};
    if (v.phase === "hold") return {done: doneStr, path: f.up, k: 1};
    const upStr = f.up.upTo(1);
    return {done: doneStr + (doneStr ? " " : "") + upStr, path: f.down, k: v.phase === "exhale" ? v.progress : 1};
  };
  const lit = (v) => (v.idle || v.phase === "done" ? "" : pointsAttr(fingers[v.round % 5].all));
  return tracer(visualLabel("hand"), outline, segment, lit);
}

// ------------------------------------------------------------------ flower and candle

function flower(pictures) {
  const root = svgRoot(visualLabel("flower"));
  const flowerUrl = pictures["calm-tulip"] ? pictures["calm-tulip"].url : "";
  const scent = s("g", {fill: "#f48fb1"});
  const dots = [0, 1, 2].map(() => s("circle", {r: 9, cx: 110, cy: 150}));
  scent.append(...dots);
  const flowerGlow = s("circle", {cx: 110, cy: 210, r: 100, fill: "#fce4ec", opacity: 0});
  const flowerImg = s("image", {href: flowerUrl, x: 30, y: 130, width: 160, height: 160});
  const flowerG = s("g", {}, flowerImg);
  // A candle of our own, so its flame can lean and shrink as it is blown.
  const flame = s("g", {},
    s("path", {d: "M300 150 C 280 180, 282 205, 300 212 C 318 205, 320 180, 300 150 Z", fill: "#ffb300"}),
    s("path", {d: "M300 172 C 292 190, 293 203, 300 207 C 307 203, 308 190, 300 172 Z", fill: "#fff59d"}));
  const candle = s("g", {},
    s("rect", {x: 270, y: 214, width: 60, height: 140, rx: 8, fill: "#90caf9"}),
    s("rect", {x: 270, y: 214, width: 18, height: 140, rx: 8, fill: "#fff", opacity: 0.35}),
    s("line", {x1: 300, y1: 214, x2: 300, y2: 204, stroke: "#37474f", "stroke-width": 4}),
    s("ellipse", {cx: 300, cy: 356, rx: 52, ry: 10, fill: "#b0bec5"}));
  const wind = s("g", {stroke: "#90a4ae", "stroke-width": 6, "stroke-linecap": "round", fill: "none"},
    s("path", {d: "M0 -18 h44"}), s("path", {d: "M10 0 h54"}), s("path", {d: "M0 18 h40"}));
  const candleG = s("g", {}, candle, flame);
  root.append(flowerGlow, scent, flowerG, candleG, wind);
  return {
    root,
    render(v) {
      const inhaling = v.phase === "inhale" || v.phase === "hold";
      const exhaling = v.phase === "exhale";
      flowerG.setAttribute("opacity", v.idle || inhaling ? "1" : "0.45");
      candleG.setAttribute("opacity", v.idle || exhaling || v.phase === "hold2" ? "1" : "0.45");
      if (v.reduced) {
        flowerG.removeAttribute("transform");
        flame.removeAttribute("transform");
        flowerGlow.setAttribute("opacity", inhaling ? fmt(0.9 * v.fill) : "0");
        flame.setAttribute("opacity", exhaling ? fmt(0.3 + 0.7 * v.fill) : "1");
        scent.setAttribute("opacity", "0");
        wind.setAttribute("opacity", "0");
        return;
      }
      flowerGlow.setAttribute("opacity", "0");
      flame.setAttribute("opacity", "1");
      const k = 1 + 0.15 * (inhaling ? v.fill : 0);
      flowerG.setAttribute("transform", `translate(110 290) scale(${fmt(k)}) translate(-110 -290)`);
      // Scent rises from the flower while breathing in.
      scent.setAttribute("opacity", v.phase === "inhale" ? fmt(1 - v.progress * 0.6) : "0");
      dots.forEach((d, i) => {
        const p = (v.progress + i / 3) % 1;
        d.setAttribute("cx", fmt(110 + Math.sin(p * 6 + i) * 18));
        d.setAttribute("cy", fmt(150 - p * 110));
      });
      // Blowing out: the flame leans away and shrinks; it is back for the next breath.
      const b = exhaling ? ease(v.progress) : 0;
      flame.setAttribute("transform",
        `translate(300 212) skewX(${fmt(-32 * b)}) scale(${fmt(1 - 0.3 * b)} ${fmt(1 - 0.55 * b)}) translate(-300 -212)`);   // i18n-ok
      wind.setAttribute("opacity", exhaling ? fmt(0.9 - 0.5 * v.progress) : "0");
      wind.setAttribute("transform", `translate(${fmt(150 + 60 * v.progress)} 180)`);   // i18n-ok
    },
  };
}

const BUILDERS = {balloon, orb, box, star, hand, flower};

/** Build the visual `kind` (see VISUALS in activities/calm/__init__.py). */
export function makeVisual(kind, pictures) {
  return (BUILDERS[kind] || balloon)(pictures);
}
