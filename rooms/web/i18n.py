"""Languages in the web layer (issue 16): which language each person sees, the Jinja
i18n extension, and the catalogs' extract / update / compile commands.

Whose language a request gets (`lang()`), first that applies:
  0. `?lang=` on this very request (a link to a page in a language; the pseudo-locale),
  1. a language the view chose for this page (`use_lang`: a guest's room page),
  2. the signed-in therapist's account language,
  3. a guest's choice for the invite they came through (`session["langs"][invite]`),
  4. the language picked on any page (`?lang=es`, kept in `session["lang"]`),
  5. the browser's Accept-Language, else English.

Commands (Makefile's `i18n` targets; `compile` runs at set-up):
    python -m rooms.web.i18n extract   # catalogs from the sources, every language updated
    python -m rooms.web.i18n compile   # .po -> .mo
"""
import os
import sys

from flask import current_app, g, request, session
from flask_login import current_user

from activities.contract.i18n import (DEFAULT, LANGUAGES, PSEUDO, Catalogs, best_match,
                                      catalog_dir, supported)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = catalog_dir(__file__)          # rooms/web/translations


def domains(registry_names=None):
    """Every catalog of the app: (domain, translations folder, [(method, glob)])."""
    if registry_names is None:
        # The commands run without an app: every activity folder (one per activity,
        # tests/unit/test_architecture.py), as the registry lists them.
        base = os.path.join(ROOT, "activities")
        registry_names = sorted(n for n in os.listdir(base) if n != "contract"
                                and os.path.exists(os.path.join(base, n, "__init__.py")))
    out = [
        ("site", HERE, [("jinja2", "templates/**/*.html"), ("python", "rooms/**/*.py"),
                        ("python", "app.py")]),
        ("room", HERE, [("javascript", "static/canvas/room/**/*.js")]),
        ("contract", os.path.join(ROOT, "activities", "contract", "translations"),
         [("python", "activities/contract/**/*.py")]),
    ]
    for name in registry_names:
        out.append((name, os.path.join(ROOT, "activities", name, "translations"),
                    [("python", f"activities/{name}/**/*.py"),
                     ("javascript", f"static/canvas/{name}/**/*.js")]))
    return out


KEYWORDS = {
    # Python: gettext names, the translator's methods (tr.gettext ...), N_ marks.
    "python": {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
               "N_": None},
    # Jinja: the i18n extension's callables.
    "jinja2": {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)},
    # Browser: static/canvas/room/i18n.js.
    "javascript": {"t": None, "tn": (1, 2), "tp": ((1, "c"), 2), "N_": None},
}

METHODS = {"python": "python", "javascript": "javascript",
           "jinja2": "jinja2.ext:babel_extract"}
OPTIONS = {"javascript": {"parse_template_string": True},
           "jinja2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}


# ---------------------------------------------------------------- per request

def init_app(app):
    """Catalogs for every domain, the Jinja i18n extension bound to the request's
    translator, and `?lang=` remembered."""
    names = app.extensions["playroom"].registry.names()
    catalogs = Catalogs([(folder, domain) for domain, folder, _ in domains(names)])
    app.extensions["playroom_i18n"] = catalogs
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translator().jinja_gettext(s),
        ngettext=lambda s, p, n: translator().jinja_ngettext(s, p, n),
        pgettext=lambda c, s: translator().jinja_pgettext(c, s),
        newstyle=True)

    @app.before_request
    def _pick():
        choice = supported(request.args.get("lang"))
        if choice and choice != session.get("lang"):
            session["lang"] = choice

    @app.context_processor
    def _inject():
        return {"page_lang": lang_tag(lang()), "languages": LANGUAGES, "current_lang": lang()}


def catalogs():
    return current_app.extensions["playroom_i18n"]


def use_lang(code):
    """This page is shown in `code` (a guest's room page: their invite's language)."""
    g.lang = supported(code) or DEFAULT


def account_lang():
    """The signed-in therapist's account language, or None."""
    if not current_user.is_authenticated:
        return None
    getter = getattr(current_app.extensions["playroom"].storage, "get_language", None)
    return supported(getter(current_user.id)) if getter else None


def invite_lang(invite_id):
    """What a guest chose for the invite they came through, or None."""
    return supported(session.get("langs", {}).get(str(invite_id)))


def remember_invite_lang(invite_id, code):
    langs = dict(session.get("langs", {}))
    langs[str(invite_id)] = code
    session["langs"] = langs


def lang():
    asked = supported(request.args.get("lang"))   # this page, asked for by its address
    if asked:
        return asked
    if "lang" in g:
        return g.lang
    # Decided once per request: every message a page says asks (an account lookup each
    # time would be a store round trip per string).
    if "lang_found" not in g:
        g.lang_found = (account_lang() or supported(session.get("lang"))
                        or best_match(request.accept_languages))
    return g.lang_found


def translator(code=None):
    return catalogs().translator(code or lang())


def lang_tag(code):
    """The BCP 47 tag for <html lang> (the pseudo-locale is English underneath)."""
    return "en" if code == PSEUDO else code


def client_i18n(code=None):
    """What the room page's modules need: the language and their messages."""
    code = code or lang()
    return {"lang": lang_tag(code), "messages": translator(code).client}


# ---------------------------------------------------------------- commands

def extract(domain, sources):
    """A fresh catalog of `domain` from its sources (Babel's extractors)."""
    import glob

    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_file

    cat = Catalog(project="Playroom", domain=domain, charset="utf-8")
    for method, pattern in sources:
        for path in sorted(glob.glob(os.path.join(ROOT, pattern), recursive=True)):
            if "/translations/" in path:
                continue
            rel = os.path.relpath(path, ROOT)
            for lineno, message, comments, context in extract_from_file(
                    METHODS[method], path, keywords=KEYWORDS[method],
                    comment_tags=("Translators:",), options=OPTIONS.get(method), strip_comment_tags=True):
                cat.add(message, None, [(rel, lineno)], auto_comments=comments, context=context)
    return cat


FIXED_DATE = __import__("datetime").datetime(2026, 12, 7, tzinfo=__import__("datetime").timezone.utc)


def update_all(names=None):
    """Extract every domain and update each language's .po (new ids added empty,
    obsolete ones dropped). Returns {domain: message count}."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    counts = {}
    for domain, folder, sources in domains(names):
        template = extract(domain, sources)
        counts[domain] = len(template)
        for code in LANGUAGES:
            if code == DEFAULT:
                continue
            path = os.path.join(folder, code, "LC_MESSAGES", f"{domain}.po")
            if os.path.exists(path):
                with open(path, "rb") as f:
                    cat = read_po(f, locale=code, domain=domain)
            elif not len(template):
                continue
            else:
                cat = Catalog(locale=code, domain=domain, project="Playroom", version="1",
                              charset="utf-8", fuzzy=False, last_translator="Playroom",
                              language_team=LANGUAGES[code], creation_date=FIXED_DATE,
                              revision_date=FIXED_DATE)
            template.creation_date = cat.creation_date     # no churn in the header
            cat.update(template, no_fuzzy_matching=True)
            cat.obsolete.clear()
            os.makedirs(os.path.dirname(path), exist_ok=True)
            # Without line numbers: a message moving in its file changes no catalog.
            with open(path, "wb") as f:
                write_po(f, cat, width=100, sort_output=False, omit_header=False,
                         include_previous=False, include_lineno=False)
    return counts


def compile_all(names=None):
    """Every .po to its .mo (what the server loads). Returns the .mo paths written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for domain, folder, _ in domains(names):
        for code in LANGUAGES:
            path = os.path.join(folder, code, "LC_MESSAGES", f"{domain}.po")
            if not os.path.exists(path):
                continue
            with open(path, "rb") as f:
                cat = read_po(f, locale=code, domain=domain)
            mo = path[:-3] + ".mo"
            with open(mo, "wb") as f:
                write_mo(f, cat, use_fuzzy=False)
            written.append(mo)
    return written


def main(argv):
    if argv[1:] == ["extract"]:
        for domain, n in update_all().items():
            print(f"{domain}: {n} messages")
    elif argv[1:] == ["compile"]:
        print(f"compiled {len(compile_all())} catalogs")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
