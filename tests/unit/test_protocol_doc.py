"""docs/PROTOCOL.md must match the code: every event, error code, op type and limit
the code defines is documented, and every rule id a test cites exists."""
import os
import re

import pytest

from activities.registry import build_registry
from activities.contract import protocol
from tests.support import ROOT

def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


DOC = read(os.path.join(ROOT, "docs", "PROTOCOL.md"))


def constants(prefix):
    return {k: v for k, v in vars(protocol).items() if k.startswith(prefix) and isinstance(v, str)}


@pytest.mark.parametrize("name,value", sorted(constants("EV_").items()))
def test_every_event_is_documented(name, value):
    assert f"`{value}`" in DOC, f"{name}={value!r} missing from docs/PROTOCOL.md"


@pytest.mark.parametrize("name,value", sorted(constants("E_").items()))
def test_every_error_code_is_documented(name, value):
    assert f"`{value}`" in DOC, f"{name}={value!r} missing from docs/PROTOCOL.md"


def test_every_op_type_is_documented():
    for act in build_registry().modules.values():
        assert f"`{act.NAME}`" in DOC
        for t in act.OPS:
            assert f"`{t}`" in DOC, f"{act.NAME} op {t} missing from docs/PROTOCOL.md"
        for k in act.EPHEMERAL:
            assert f"`{k}`" in DOC


def test_documented_numbers_match_limits():
    assert f"version {protocol.PROTOCOL_VERSION}" in DOC
    assert f"{protocol.LIMITS['op_bytes'] // 1024} KiB" in DOC
    assert f"{protocol.LIMITS['presence_grace_s']}-second" in DOC
    assert f"{protocol.LIMITS['max_replay_ops']} ops" in DOC
    assert f"{int(protocol.LIMITS['op_rate'])}/s" in DOC and f"{int(protocol.LIMITS['eph_rate'])}/s" in DOC


def test_rule_ids_cited_by_tests_exist():
    rules = set(re.findall(r"\*\*([A-Z]+\d)\*\*", DOC))
    cited = set()
    for base, _, files in os.walk(os.path.join(ROOT, "tests")):
        for f in files:
            if f.endswith(".py"):
                text = read(os.path.join(base, f))
                cited |= set(re.findall(r"def test_([A-Z]+\d)_", text))
    assert cited <= rules, f"tests cite undefined rules: {sorted(cited - rules)}"
