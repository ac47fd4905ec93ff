"""Longer words never break the room (issue 16 part 4): the layout guard over every
activity for the child and the therapist on a phone and a portrait tablet, in the
pseudo-locale (every message about 40% longer and accented, activities.contract.i18n
.pseudo): nothing overflows sideways, nothing is cut off or covered, the child's
targets stay ≥ 48 px."""
import os

import pytest

from activities.contract.i18n import PSEUDO
from tests.e2e.layout import VIEWPORTS, reach_problems
from tests.e2e.test_layout import ACTIVITIES, CHILD_TAP_PX, SHOTS, LayoutRoom, show
from tests.support import DEFAULT_MODE, ServerProcess

pytestmark = pytest.mark.browser


class PseudoRoom(LayoutRoom):
    """The layout room with everyone reading the pseudo-locale."""

    def _enter(self, role, touch):
        if role != "therapist":
            self.links = {**self.links, role: self.links[role].split("?")[0] + f"?lang={PSEUDO}"}
        p = super()._enter(role, touch)
        if role == "therapist":
            p.goto(f"/room/{self.room_id}?lang={PSEUDO}")
            p.wait_connected()
        assert p.page.evaluate("playroom.config.i18n.messages && Object.keys(playroom.config.i18n.messages).length") > 0
        return p


@pytest.fixture(scope="module")
def pseudo_room(browser, tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("pseudo"), mode=DEFAULT_MODE).start()
    room = PseudoRoom(browser, srv.url)
    os.makedirs(SHOTS, exist_ok=True)
    yield room
    room.close()
    srv.stop()


CASES = [(vp, role, act) for vp in ("phone-390x844", "tablet-768x1024")
         for role in ("therapist", "child") for act in ACTIVITIES]


@pytest.mark.parametrize("vp,role,activity", CASES, ids=["-".join(c) for c in CASES])
def test_longer_words_fit(pseudo_room, vp, role, activity):
    viewport, touch = VIEWPORTS[vp]
    person = pseudo_room.person(role, touch)
    show(person, activity, viewport)
    problems = reach_problems(person.page, CHILD_TAP_PX if role == "child" else 0)
    person.page.screenshot(path=os.path.join(SHOTS, f"pseudo-{vp}-{role}-{activity}.png"))
    assert problems == [], "\n".join(problems)
    assert person.console_errors == [], person.console_errors
