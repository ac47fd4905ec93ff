"""Languages (issue 16): the catalogs match the sources, Spanish is complete, and no
English reaches a person without a catalog entry."""
import glob
import os
import re

import pytest
from babel.messages.pofile import read_po

from activities.contract.i18n import LANGUAGES, PSEUDO, Catalogs, pseudo
from rooms.web import i18n
from tests.i18n_scan import js_literals, template_literals
from tests.support import ROOT

DOMAINS = i18n.domains()
OTHER = [code for code in LANGUAGES if code != "en"]

# Files whose strings are not in the catalogs yet (issue 16 is landing in parts): the
# scan below skips them. This list only shrinks; an empty list is the part 4.
NOT_YET = {
}


def rel(path):
    return os.path.relpath(path, ROOT)


def po(folder, code, domain):
    path = os.path.join(folder, code, "LC_MESSAGES", f"{domain}.po")
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return read_po(f, locale=code, domain=domain)


@pytest.mark.parametrize("domain,folder,sources", DOMAINS, ids=[d[0] for d in DOMAINS])
@pytest.mark.parametrize("code", OTHER)
def test_each_catalog_holds_exactly_the_messages_of_its_sources(domain, folder, sources, code):
    """A message marked in the code but missing from a language's catalog (or one left
    behind after its source went) fails here: run `make i18n` and translate."""
    wanted = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in i18n.extract(domain, sources) if m.id}
    cat = po(folder, code, domain)
    have = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in cat if m.id} if cat else set()
    missing = sorted(wanted - have, key=str)
    extra = sorted(have - wanted, key=str)
    assert not missing, f"{domain} ({code}): not in the catalog (run `make i18n`): {missing[:20]}"
    assert not extra, f"{domain} ({code}): in the catalog but no longer in the code: {extra[:20]}"


PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")


@pytest.mark.parametrize("domain,folder,sources", DOMAINS, ids=[d[0] for d in DOMAINS])
@pytest.mark.parametrize("code", OTHER)
def test_every_message_is_translated_with_its_placeholders(domain, folder, sources, code):
    cat = po(folder, code, domain)
    if cat is None:
        return
    problems = []
    for m in cat:
        if not m.id:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        if m.fuzzy or not all(s and s.strip() for s in strings):
            problems.append(f"untranslated{' (fuzzy)' if m.fuzzy else ''}: {ids[0]!r}")
            continue
        want = set(PLACEHOLDER.findall(" ".join(ids)))
        for s in strings:
            got = set(PLACEHOLDER.findall(s))
            # A plural form may leave the count out ("one sticker"), nothing else.
            if got - want or (want - got) - {"{n}", "%(num)s"}:
                problems.append(f"placeholders differ: {ids[0]!r} -> {s!r}")
    assert not problems, f"{domain} ({code}):\n" + "\n".join(problems[:40])


TEMPLATES = sorted(glob.glob(os.path.join(ROOT, "templates", "*.html")))
MODULES = sorted(glob.glob(os.path.join(ROOT, "static", "canvas", "*", "*.js")))


@pytest.mark.parametrize("path", [p for p in TEMPLATES if rel(p) not in NOT_YET], ids=rel)
def test_templates_say_nothing_outside_the_catalogs(path):
    with open(path, encoding="utf-8") as f:
        found = template_literals(f.read())
    assert not found, f"{rel(path)}: English outside _(): " + "; ".join(
        f"line {n} {where}: {text!r}" for n, where, text in found[:15])


@pytest.mark.parametrize("path", [p for p in MODULES if rel(p) not in NOT_YET], ids=rel)
def test_browser_modules_say_nothing_outside_the_catalogs(path):
    with open(path, encoding="utf-8") as f:
        found = js_literals(f.read())
    assert not found, f"{rel(path)}: English outside t(): " + "; ".join(
        f"line {n}: {text!r}" for n, text in found[:15])


def test_the_commands_see_every_activity_of_the_registry():
    from activities.registry import build_registry
    assert {d[0] for d in DOMAINS} == {"site", "room", "contract", *build_registry().names()}


def test_the_not_yet_list_names_real_files():
    assert all(os.path.exists(os.path.join(ROOT, p)) for p in NOT_YET), NOT_YET


# ---------------------------------------------------------------- the scanners fail

def test_an_english_literal_added_to_a_template_is_found():
    assert template_literals('<p>{{ _("Hello") }}</p><button title="{{ _(\'Undo\') }}"></button>') == []
    found = template_literals('<p>{{ _("Hello") }}</p>\n<p>Good bye</p><img alt="A cat" src="x">')
    assert [(n, where) for n, where, _ in found] == [(2, "text"), (2, "<img alt>")]
    assert template_literals("<p>{% if x %}{{ y }}{% endif %} — 3</p><script>var a='Hi there';</script>") == []


def test_an_english_literal_added_to_a_module_is_found():
    ok = 'el("button", {class: "st-x icon", "aria-label": t("Clear search")}, t("Undo"));\n' \
         'if (e.key === "Enter") go(); import {x} from "./y.js"; tn("{n} star", "{n} stars", n);\n' \
         'const LABELS = [N_("Happy"), N_("Sad")]; console.warn("Could not load");\n'
    assert js_literals(ok) == []
    bad = 'el("button", {"aria-label": "Clear search"}, "Undo");\nshow(`Waiting for ${name}…`);\n' \
          'say("you can draw now!");\n'
    assert [n for n, _ in js_literals(bad)] == [1, 1, 2, 3]


# ---------------------------------------------------------------- translators

def test_the_pseudo_locale_is_longer_accented_and_keeps_placeholders():
    assert pseudo("Send {name} home") .startswith("Šéñd {name} hömé")
    assert len(pseudo("Undo")) > len("Undo")
    assert "%(therapist)s" in pseudo("%(therapist)s is waiting")


def test_a_missing_language_falls_back_to_english_and_english_needs_no_client_messages():
    cats = Catalogs([(d[1], d[0]) for d in DOMAINS])
    assert cats.translator("xx").lang == "en"
    assert cats.translator("en").client == {}
    assert cats.translator("en").gettext("Pick your picture") == "Pick your picture"
    assert cats.translator(PSEUDO).gettext("Undo") == pseudo("Undo")


@pytest.mark.parametrize("code", OTHER)
def test_a_message_says_the_same_in_every_catalog(code):
    """A person's translator merges every domain, so one message (and context) with two
    translations would show whichever catalog loads last: give it one translation, or a
    context (pgettext) when the meanings differ."""
    seen, problems = {}, []
    for domain, folder, _ in DOMAINS:
        cat = po(folder, code, domain)
        for m in cat or ():
            if not m.id:
                continue
            key = (m.context, m.id if isinstance(m.id, str) else tuple(m.id))
            value = m.string if isinstance(m.string, str) else tuple(m.string)
            if key in seen and seen[key][1] != value:
                problems.append(f"{key}: {seen[key][0]} says {seen[key][1]!r}, {domain} says {value!r}")
            seen.setdefault(key, (domain, value))
    assert not problems, "\n".join(problems)
