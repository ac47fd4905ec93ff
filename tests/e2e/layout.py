"""The layout guard's checks (issue 14 part 5), run inside a page.

Why in the page: what a person can reach is decided by the browser's own layout and
hit testing (`document.elementFromPoint`), not by guessing from CSS. Each check returns
a list of human-readable problems, so one failing test names every element at fault.
"""
import os

from tests.support import ROOT, wait_for

AXE_JS = os.path.join(ROOT, "node_modules", "axe-core", "axe.min.js")

# The four form factors of the issue, plus the phone held sideways; phones and
# tablets are touch devices.
VIEWPORTS = {
    "phone-390x844": ({"width": 390, "height": 844}, True),
    "phone-844x390": ({"width": 844, "height": 390}, True),
    "tablet-768x1024": ({"width": 768, "height": 1024}, True),
    "tablet-1024x768": ({"width": 1024, "height": 768}, True),
    "laptop-1366x768": ({"width": 1366, "height": 768}, False),
}

INTERACTIVE = "button, a[href], input, select, textarea, [role=button], [tabindex]"

# Runs in the page. An element counts when it is rendered and visible; one inside
# scrolling bars or panels is first scrolled into view *within each of them* (the bar is how a phone
# reaches it), never by scrolling the page itself.
_REACH_JS = """
([selector, minTap, pageScrolls]) => {
  const root = document.documentElement;
  const vw = root.clientWidth, vh = root.clientHeight;
  const problems = [];
  const name = (e) => {
    const bits = [e.tagName.toLowerCase()];
    if (e.id) bits.push('#' + e.id);
    if (e.className && typeof e.className === 'string') bits.push('.' + e.className.trim().split(/\\s+/).join('.'));
    for (const [k, v] of Object.entries(e.dataset)) bits.push(`[data-${k}="${v}"]`);
    const label = e.getAttribute('aria-label') || e.title || (e.textContent || '').trim().slice(0, 20);
    return bits.join('') + (label ? ` "${label}"` : '');
  };
  const scrollers = (e) => {
    const out = [];
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const cs = getComputedStyle(p);
      const x = /(auto|scroll)/.test(cs.overflowX) && p.scrollWidth > p.clientWidth;
      const y = /(auto|scroll)/.test(cs.overflowY) && p.scrollHeight > p.clientHeight;
      if (x || y) out.push(p);
    }
    return out;
  };
  const bringIntoBar = (e, bar) => {
    const r = e.getBoundingClientRect(), b = bar.getBoundingClientRect();
    if (r.left < b.left) bar.scrollLeft -= b.left - r.left;
    else if (r.right > b.right) bar.scrollLeft += r.right - b.right;
    if (r.top < b.top) bar.scrollTop -= b.top - r.top;
    else if (r.bottom > b.bottom) bar.scrollTop += r.bottom - b.bottom;
  };
  const saved = [];
  for (const e of document.querySelectorAll(selector)) {
    if (!e.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) continue;
    if (getComputedStyle(e).pointerEvents === 'none' || e.closest('[inert]')) continue;
    let r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (pageScrolls) { e.scrollIntoView({block: 'nearest', inline: 'nearest'}); r = e.getBoundingClientRect(); }
    for (const bar of scrollers(e)) {   // innermost first: a list inside a scrolling panel
      saved.push([bar, bar.scrollLeft, bar.scrollTop]);
      bringIntoBar(e, bar);
      r = e.getBoundingClientRect();
    }
    const n = name(e);
    // A focusable region taller than the screen (a long table a keyboard can scroll)
    // can never fit in it: on a page that scrolls it is reachable when it spans the
    // viewport from top to bottom; its sides must still fit.
    const tall = pageScrolls && r.height > vh + 0.5 && r.top < 0.5 && r.bottom > vh - 0.5;
    const v = tall ? {left: r.left, top: 0, width: r.width, height: vh} : r;
    if (r.left < -0.5 || r.right > vw + 0.5 || (!tall && (r.top < -0.5 || r.bottom > vh + 0.5))) {
      problems.push(`outside the ${vw}x${vh} viewport: ${n} at ${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.width)}x${Math.round(r.height)}`);
    } else {
      // Its centre, and four points halfway to its corners (of its part on screen): a
      // target half hidden under its neighbour is a wrong tap for a child.
      for (const [fx, fy] of [[.5, .5], [.25, .25], [.75, .25], [.25, .75], [.75, .75]]) {
        const hit = document.elementFromPoint(v.left + v.width * fx, v.top + v.height * fy);
        if (hit && (hit === e || e.contains(hit))) continue;
        problems.push(`covered: ${n} is under ${hit ? name(hit) : 'nothing'} at ${fx},${fy} of it`);
        break;
      }
    }
    if (minTap && (r.width < minTap - 0.5 || r.height < minTap - 0.5)) {
      problems.push(`smaller than ${minTap} px to tap: ${n} is ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  for (const [bar, x, y] of saved.reverse()) { bar.scrollLeft = x; bar.scrollTop = y; }
  if (pageScrolls) window.scrollTo(0, 0);
  for (const el of [root, document.body]) {
    if (el.scrollWidth > el.clientWidth) problems.push(`horizontal overflow: ${el.tagName.toLowerCase()} is ${el.scrollWidth} px wide in ${el.clientWidth}`);
  }
  return problems;
}
"""

_AXE_RUN = """
async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter((v) => ['serious', 'critical'].includes(v.impact)).map((v) =>
    `axe ${v.impact} ${v.id}: ` + v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | ')
    + (v.nodes.length > 4 ? ` (+${v.nodes.length - 4} more)` : ''));
}
"""


def reach_problems(page, min_tap=0, selector=INTERACTIVE, page_scrolls=False):
    """Interactive elements (or those of `selector`) outside the viewport or covered,
    horizontal overflow, and (min_tap > 0) targets smaller than min_tap px. The room
    never scrolls as a page; `page_scrolls` (ordinary pages) scrolls each element
    into view first."""
    return page.evaluate(_REACH_JS, [selector, min_tap, page_scrolls])


def axe_problems(page):
    """axe-core's serious and critical violations; axe is injected from node_modules
    (the page's CSP is bypassed by the context, no request leaves 127.0.0.1)."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=AXE_JS)
    return page.evaluate(_AXE_RUN)


def settle(page):
    """The activity's stylesheet (added on its first mount) has loaded, then two
    animation frames: layout and any ResizeObserver work have run."""
    # Polled from here: a page's CSP forbids the eval that wait_for_function's polling uses.
    wait_for(lambda: page.evaluate("[...document.querySelectorAll('link[rel=stylesheet]')].every(l => l.sheet)"),
             what="the activity's stylesheet")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
