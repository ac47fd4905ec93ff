"""The stroke points validator (contract.flat_points) first checks a whole list with
built-ins (sum, min, max); its answer — the list back, or the reason naming the first
bad number — must be the one a check of each number in turn gives."""
import math
import random

import pytest

from activities import contract
from activities.contract import Invalid, flat_points

BOUNDS = ((0, 1600), (0, 1000), (0, 1))


@pytest.fixture
def one_by_one(monkeypatch):
    """The reference: flat_points with its check of the whole list taken away, so
    each number is looked at in turn (the validator as it was before that check)."""
    def check(v, **kw):
        with monkeypatch.context() as m:
            m.setattr(contract, "_all_good", lambda *a: False)
            return flat_points(v, **kw)
    return check


def answer(fn, v):
    try:
        out = fn(v, stride=3, max_points=500, bounds=BOUNDS, name="pts")
        assert out is v
        return "ok"
    except Invalid as e:
        return str(e)


ODD = [math.nan, math.inf, -math.inf, True, False, None, "1", 10 ** 400, -(10 ** 400), 1e308,
       -1e308, -1e-9, 1600.0000001, 1000.5, 1.01, -0.0, 0, 1, 1600, 1000, [1], {"x": 1}]


def _good(rnd, n):
    v = []
    for _ in range(n):
        v += [rnd.choice([rnd.randint(0, 1600), round(rnd.uniform(0, 1600), 1)]),
              round(rnd.uniform(0, 1000), 1), rnd.choice([0, 1, 0.5, round(rnd.random(), 2)])]
    return v


def test_a_good_stroke_is_accepted_and_returned_as_is():
    assert answer(flat_points, _good(random.Random(3), 480)) == "ok"
    edges = [0, 0, 0, 1600, 1000, 1, 0.0, 1000.0, 1.0]
    assert flat_points(edges, stride=3, max_points=3, bounds=BOUNDS) is edges


@pytest.mark.parametrize("seed", range(40))
def test_every_answer_is_the_one_a_check_of_each_number_gives(seed, one_by_one):
    rnd = random.Random(seed)
    for _ in range(200):
        v = _good(rnd, rnd.randint(1, 30))
        for _ in range(rnd.choice([0, 0, 1, 1, 2, 3])):
            v[rnd.randrange(len(v))] = rnd.choice(ODD)
        assert answer(flat_points, v) == answer(one_by_one, v), v


@pytest.mark.parametrize("v", [None, [], [1, 2], {"0": 1}, "123", [0.5] * 3 * 501, [True] * 3,
                               [0.5, math.nan, 0.5], [1e308, 1e308, 0.5] * 2, [1, 1, 10 ** 400]])
def test_odd_lists_get_the_reason_they_always_got(v, one_by_one):
    assert answer(flat_points, v) == answer(one_by_one, v) != "ok"
