"""People in browsers for the end-to-end tests: one `Person` is one device (a browser
context) with the URLs it requested and the console errors it logged."""
import io

from PIL import Image

RED = (0xE5, 0x39, 0x35)


class Person:
    """One browser context (one device) plus the URLs it asked for."""

    def __init__(self, browser, base, **ctx):
        self.base = base
        self.context = browser.new_context(**ctx)
        self.page = self.context.new_page()
        self.requests = []
        self.console_errors = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))

    def goto(self, url):
        self.page.goto(url if url.startswith("http") else self.base + url)

    def wait_connected(self):
        self.page.wait_for_selector('body[data-conn="connected"]', timeout=15000)

    def board_attr(self, name):
        return self.page.get_attribute("#board", f"data-{name}")

    def wait_items(self, n):
        self.page.wait_for_function(
            "n => { const b = document.querySelector('#board');"
            " return b && b.dataset.items === String(n) && b.dataset.pending === '0'; }",
            arg=n, timeout=15000)

    def board_png(self):
        return Image.open(io.BytesIO(self.page.locator("#board").screenshot())).convert("RGB")

    def draw_line(self, fx=0.3, fy=0.4, tx=0.7, ty=0.6, steps=20):
        box = self.page.locator("#board").bounding_box()
        m = self.page.mouse
        m.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        m.down()
        for i in range(1, steps + 1):
            k = i / steps
            m.move(box["x"] + box["width"] * (fx + (tx - fx) * k),
                   box["y"] + box["height"] * (fy + (ty - fy) * k))
        m.up()

    def close(self):
        self.context.close()


def count_near(img, rgb, tol=40):
    """Pixels close to colour `rgb` (the stroke) in a board screenshot."""
    r0, g0, b0 = rgb
    small = img.resize((img.width // 2, img.height // 2))
    return sum(1 for r, g, b in small.get_flattened_data()
               if abs(r - r0) < tol and abs(g - g0) < tol and abs(b - b0) < tol)


def therapist_creates_room(t, waiting_room=False):
    """Register, create a room and return its child link. The room lets guests in
    without waiting unless `waiting_room` (the dashboard's default is on)."""
    t.goto("/register")
    t.page.fill('input[name="name"]', "Dr. Rivera")
    t.page.fill('input[name="email"]', "rivera@example.org")
    t.page.fill('input[name="password"]', "a long enough password")
    t.page.fill('input[name="confirm"]', "a long enough password")
    t.page.click('button[type="submit"]')
    t.page.wait_for_url("**/dashboard")
    t.page.fill('input[name="name"]', "Sam, 7")
    t.page.set_checked('[data-field="waiting-room"]', waiting_room)
    t.page.click('[data-action="create-room"]')
    child_link = t.page.input_value('input[data-link="child"]')
    assert "/j/" in child_link
    return child_link


def child_joins(c, link):
    c.goto(link)
    c.page.click('label.avatar:has(input[value="fox"])')
    c.page.click('[data-action="join"]')
    c.page.wait_for_url("**/room/**")
    c.wait_connected()


def open_activity(people, name, selector):
    """Every person switches to activity `name` and waits for its root `selector`."""
    for p in people:
        p.page.click(f'.tab[data-activity="{name}"]')
        p.page.wait_for_selector(selector)
    return people


def big_enough(person, selector, px=56):
    """The first `selector` on person's page is at least px × px: a child can tap it."""
    box = person.page.locator(selector).first.bounding_box()
    assert box and box["width"] >= px and box["height"] >= px, (selector, box)
