"""Time to first full paint of a big board in Debian's Chromium (Playwright, sync API).

The room page says how many of the page's items are on the screen with
`#board[data-shown="N"]` (the server's picture of a big page counts for the items it
shows, PAINT1) and how many its own ink layer has drawn with `data-items`; a
MutationObserver installed before any page script records performance.now() (ms
since navigation start) the moment each reaches N. The first is the first full
paint; the second, when the page's own strokes have replaced the picture.
"""
import os
import shutil
import time

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

OBSERVER = """
(() => {
  const want = "%d";
  const check = () => {
    const b = document.getElementById("board");
    if (!b) return;
    if (window.__boardAt === undefined) window.__boardAt = performance.now();
    const n = b.getAttribute("data-items");
    if (n !== null) window.__itemsSeen = n;
    if (n === want && window.__inkAt === undefined) window.__inkAt = performance.now();
    if (b.getAttribute("data-shown") === want && window.__paintAt === undefined) {
      window.__paintAt = performance.now();
    }
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true, attributes: true,
                                                 attributeFilter: ["data-items", "data-shown", "id"]});
})();
"""


def chromium():
    return shutil.which("chromium") or "/usr/bin/chromium"


def measure(base_url, room_id, cookies, items, loads=3, timeout_s=30, all_cores=False):
    """Median ms from navigation start to `#board[data-items=items]`, over `loads`
    fresh browser contexts. Returns a dict; status "n/a" with a reason when the page
    or the browser cannot give the number.

    Chromium inherits the harness's core (run.py keeps the harness off the server's
    core), so it runs on one core; with all_cores it may use every core, as on a
    child's own device (the server only serves the page and the join meanwhile)."""
    if not os.path.exists(chromium()):
        return {"status": "n/a", "reason": "chromium not installed (make test-deps)"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"status": "n/a", "reason": "playwright not installed"}
    times, first_board, inks = [], [], []
    pinned = os.sched_getaffinity(0)
    if all_cores:
        # Playwright's driver starts Chromium, and both inherit the affinity the driver
        # is started with.
        os.sched_setaffinity(0, range(os.cpu_count() or 1))
    try:
        return _measure(sync_playwright, base_url, room_id, cookies, items, loads, timeout_s,
                        times, first_board, inks)
    finally:
        os.sched_setaffinity(0, pinned)


def _measure(sync_playwright, base_url, room_id, cookies, items, loads, timeout_s, times, first_board, inks):
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            for _ in range(loads):
                ctx = browser.new_context()
                try:
                    ctx.add_cookies([{"name": c.name, "value": c.value, "url": base_url} for c in cookies])
                    page = ctx.new_page()
                    page.add_init_script(OBSERVER % items)
                    page.goto(f"{base_url}/room/{room_id}", wait_until="commit", timeout=timeout_s * 1000)
                    try:
                        # (wait_for_selector, not wait_for_function: the page's CSP forbids eval)
                        page.wait_for_selector("#board", state="attached", timeout=10_000)
                    except Exception:
                        return {"status": "n/a", "reason": "the room page shows no #board yet"}
                    deadline = time.monotonic() + timeout_s
                    at = ink = None
                    while time.monotonic() < deadline:
                        at, ink = page.evaluate("[window.__paintAt, window.__inkAt]")
                        if at is not None and ink is not None:
                            break
                        seen = page.evaluate("window.__itemsSeen")
                        if seen is None and time.monotonic() > deadline - timeout_s + 10:
                            return {"status": "n/a",
                                    "reason": "#board has no data-items attribute (page not ready)"}
                        time.sleep(0.02)
                    if at is None:
                        return {"status": "n/a", "reason": f"data-items never reached {items} "
                                f"(last {page.evaluate('window.__itemsSeen')})"}
                    times.append(at)
                    inks.append(ink if ink is not None else float("nan"))
                    first_board.append(page.evaluate("window.__boardAt"))
                finally:
                    ctx.close()
        finally:
            browser.close()
    times_sorted = sorted(times)
    return {"status": "ok", "loads": len(times), "paint_ms": round(times_sorted[len(times) // 2], 1),
            "ink_ms": round(sorted(inks)[len(inks) // 2], 1),
            "first_load_ms": round(times[0], 1), "board_element_ms": round(sorted(first_board)[len(first_board) // 2], 1)}
