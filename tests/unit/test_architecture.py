"""The tree says the architecture (docs/ARCHITECTURE.md), and these checks keep it so:
the contract at the bottom imports nothing of ours, activities never import rooms/,
rooms/ reaches activities only through the contract, the sync core knows no Flask and
no sockets, packages import each other without cycles, each activity is one folder on
each side, and every path the architecture page names exists."""
import ast
import os
import re

import pytest

from activities.registry import build_registry
from tests.support import ROOT

OURS = ("rooms", "activities", "app")


def modules():
    """{dotted module name: file path} of every module of rooms/ and activities/."""
    out = {}
    for top in ("rooms", "activities"):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.endswith(".py"):
                    path = os.path.join(folder, f)
                    rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                    out[rel.removesuffix(".__init__")] = path
    return out


MODULES = modules()


def imports_of(name, path):
    """Dotted names a module imports (relative imports resolved; `from a import b`
    gives a.b when that is a module of ours, else a)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
    return {m for m in found if m.split(".")[0] in OURS}


IMPORTS = {name: imports_of(name, path) for name, path in MODULES.items()}


def within(name, package):
    return name == package or name.startswith(package + ".")


def test_contract_imports_nothing_of_ours():
    for name, deps in IMPORTS.items():
        if within(name, "activities.contract"):
            bad = [d for d in deps if not within(d, "activities.contract")]
            assert not bad, f"{name} imports {bad}"


def test_activities_never_import_rooms():
    for name, deps in IMPORTS.items():
        if within(name, "activities"):
            bad = [d for d in deps if within(d, "rooms") or d == "app"]
            assert not bad, f"{name} imports {bad}"


def test_rooms_reach_activities_only_through_the_contract():
    for name, deps in IMPORTS.items():
        if within(name, "rooms"):
            bad = [d for d in deps if within(d, "activities") and not within(d, "activities.contract")]
            assert not bad, f"{name} imports {bad}"


def test_activities_import_no_other_activity():
    """Adding or changing an activity touches no other activity."""
    names = build_registry().names()
    for name, deps in IMPORTS.items():
        own = next((a for a in names if within(name, f"activities.{a}")), None)
        if own:
            bad = [d for d in deps if any(within(d, f"activities.{a}") for a in names if a != own)]
            assert not bad, f"{name} imports {bad}"


def test_sync_core_knows_no_web_and_no_sockets():
    """rooms/core is plain Python: storage and events are handed in."""
    for name, path in MODULES.items():
        if within(name, "rooms.core"):
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read())
            third = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            third |= {n.module.split(".")[0] for n in ast.walk(tree)
                      if isinstance(n, ast.ImportFrom) and n.module and not n.level}
            assert not third & {"flask", "flask_socketio", "socketio", "engineio", "eventlet", "gevent",
                                "werkzeug"}, name
            bad = [d for d in IMPORTS[name] if within(d, "rooms") and not within(d, "rooms.core")]
            assert not bad, f"{name} imports {bad}"


def package_of(name):
    """The unit the no-cycle rule is about: rooms.<layer>, activities.<name>, or a
    top-level module of rooms/ (config, playroom)."""
    parts = name.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else name


def test_no_import_cycles_between_packages():
    graph = {}
    for name, deps in IMPORTS.items():
        for d in deps:
            a, b = package_of(name), package_of(d)
            if a != b and b in {package_of(m) for m in MODULES}:
                graph.setdefault(a, set()).add(b)
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                pytest.fail("import cycle: " + " -> ".join(path + [node, nxt]))
            if nxt not in state:
                visit(nxt, path + [node])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_every_activity_is_one_folder_on_each_side():
    for name in build_registry().names():
        assert os.path.isfile(os.path.join(ROOT, "activities", name, "__init__.py")), name
        assert os.path.isfile(os.path.join(ROOT, "static", "canvas", name, f"{name}.js")), name
    with open(os.path.join(ROOT, "static", "canvas", "room", "registry.js"), encoding="utf-8") as f:
        registry_js = f.read()
    for name in build_registry().names():
        if getattr(build_registry().get(name), "SHOWN", True):    # a tab of the room
            assert f'from "../{name}/{name}.js"' in registry_js, name
        else:                                                       # its own page (home)
            assert f'from "../{name}/{name}.js"' not in registry_js, name


def test_app_py_is_the_factory_and_the_entry_point():
    with open(os.path.join(ROOT, "app.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert defined == {"create_app", "main"}


# A path of ours in backticks, optionally with ":name" (a function, class or method).
PATH_RE = re.compile(r"`((?:rooms|activities|static|templates|tests|bench|docs)/[\w./-]+|app\.py)"
                     r"(?::([\w.]+))?`")


def test_architecture_page_names_real_files_and_functions():
    with open(os.path.join(ROOT, "docs", "ARCHITECTURE.md"), encoding="utf-8") as f:
        text = f.read()
    named = PATH_RE.findall(text)
    assert len(named) > 20
    for path, symbol in named:
        full = os.path.join(ROOT, path)
        assert os.path.exists(full), f"docs/ARCHITECTURE.md names {path}, which does not exist"
        if symbol:
            with open(full, encoding="utf-8") as f:
                source = f.read()
            last = symbol.split(".")[-1]
            pattern = (rf"(def|class|function|async function)\s+{re.escape(last)}\b|"
                       rf"^\s*(async\s+)?{re.escape(last)}\s*\(.*\)\s*\{{|\b{re.escape(last)}\s*=")
            assert re.search(pattern, source, re.M), f"{path} has no {symbol}"
