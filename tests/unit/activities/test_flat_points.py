"""The stroke points validator (contract.flat_points) first checks a whole list with
built-ins (sum, min, max); its answer — the list back, or the reason naming the first
bad number — must be the one a check of each number in turn gives."""
import math
import random

import pytest

from activities.contract import Invalid, flat_points

BOUNDS = ((0, 1600), (0, 1000), (0, 1))


def one_by_one(v, *, stride, max_points, bounds, name="points"):
    """The reference: each number in turn (the validator before the check with built-ins)."""
    if not isinstance(v, list):
        raise Invalid(f"{name} must be a list")
    n = len(v)
    if n == 0 or n % stride:
        raise Invalid(f"{name} must hold a multiple of {stride} numbers")
    if n // stride > max_points:
        raise Invalid(f"{name}: at most {max_points} points")
    for i, x in enumerate(v):
        if type(x) is not int and type(x) is not float:
            raise Invalid(f"{name} must hold only numbers")
        lo, hi = bounds[i % stride]
        if not (lo <= x <= hi) or (type(x) is float and not math.isfinite(x)):
            raise Invalid(f"{name}[{i}] out of range")
    return v


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
def test_every_answer_is_the_one_a_check_of_each_number_gives(seed):
    rnd = random.Random(seed)
    for _ in range(200):
        v = _good(rnd, rnd.randint(1, 30))
        for _ in range(rnd.choice([0, 0, 1, 1, 2, 3])):
            v[rnd.randrange(len(v))] = rnd.choice(ODD)
        assert answer(flat_points, v) == answer(one_by_one, v), v


@pytest.mark.parametrize("v", [None, [], [1, 2], {"0": 1}, "123", [0.5] * 3 * 501, [True] * 3,
                               [0.5, math.nan, 0.5], [1e308, 1e308, 0.5] * 2, [1, 1, 10 ** 400]])
def test_odd_lists_get_the_reason_they_always_got(v):
    assert answer(flat_points, v) == answer(one_by_one, v) != "ok"
