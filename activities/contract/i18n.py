"""Languages (issue 16): message catalogs, one per owner, and a translator per locale.

Every string a person reads is a gettext message in a Babel catalog. The catalogs are
kept beside the code that says them, one domain per owner, so adding an activity touches
no other activity's catalog:

    rooms/web/translations/<lang>/LC_MESSAGES/site.po      pages, e-mails, records
    rooms/web/translations/<lang>/LC_MESSAGES/room.po      the room shell (static/canvas/room)
    activities/contract/translations/<lang>/LC_MESSAGES/contract.po   pictures, PDFs
    activities/<name>/translations/<lang>/LC_MESSAGES/<name>.po        one activity, both halves

`make run` / `make test` compile them (`python -m rooms.web.i18n compile`); the
`.mo` files are build output. A `Translator` merges every domain for one locale; the
browser gets the messages its modules say (those whose source is a `.js` file) as JSON
with the rest of the page's configuration, plural forms keyed by CLDR category so
`Intl.PluralRules` picks one without evaluating gettext's plural expression.

Strings in module-level data (story texts, figure names, feelings words) are marked
with `N_()` (extraction only) and translated where they are shown, with the reader's
translator. Placeholders are named, `{name}` (str.format) in Python and JavaScript;
Jinja templates use gettext's `%(name)s` through Jinja's i18n extension.
"""
import io
import os
import threading

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

# The languages Playroom speaks, each named in itself (the picker shows these, no flags).
LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT = "en"
# The pseudo-locale of the layout guard: every message longer and accented; never offered.
PSEUDO = "en_XA"


def N_(message):
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


def supported(lang):
    """`lang` if Playroom speaks it (or it is the pseudo-locale), else None."""
    return lang if isinstance(lang, str) and (lang in LANGUAGES or lang == PSEUDO) else None


def best_match(accept):
    """The supported language a browser's Accept-Language prefers (werkzeug's
    `request.accept_languages`), or the default."""
    return accept.best_match(list(LANGUAGES), default=DEFAULT) if accept else DEFAULT


def catalog_dir(module_file):
    """The `translations` folder beside a package's `__init__.py`."""
    return os.path.join(os.path.dirname(os.path.abspath(module_file)), "translations")


def pseudo(message):
    """The pseudo-locale's form of a message: accented and about 40% longer, with its
    placeholders ({name}, %(name)s) kept, so the layout guard finds buttons too small
    for a longer language."""
    out, i = [], 0
    table = str.maketrans("aeiouAEIOUcnsyCNSY", "àéîöûÀÉÎÖÛçñšýÇÑŠÝ")
    while i < len(message):
        for open_, close in (("{", "}"), ("%(", ")s")):
            if message.startswith(open_, i):
                end = message.find(close, i)
                if end != -1:
                    out.append(message[i:end + len(close)])
                    i = end + len(close)
                    break
        else:
            out.append(message[i].translate(table))
            i += 1
    text = "".join(out)
    pad = max(1, round(len(message) * 0.4)) if message.strip() else 0
    return text + ("~" * pad if pad else "")


class _Pseudo(NullTranslations):
    def gettext(self, message):
        return pseudo(message)

    def ngettext(self, singular, plural, n):
        return pseudo(singular if n == 1 else plural)

    def pgettext(self, context, message):
        return pseudo(message)

    def npgettext(self, context, singular, plural, n):
        return pseudo(singular if n == 1 else plural)


class Translator:
    """One locale's messages from every domain. `gettext`, `ngettext`, `pgettext`
    return the English source when a catalog has no translation."""

    def __init__(self, lang, translations, client):
        self.lang = lang
        self._t = translations
        self.client = client          # {msgid: str | {category: str}} for the browser

    def gettext(self, message, **params):
        text = self._t.gettext(message)
        return text.format(**params) if params else text

    def ngettext(self, singular, plural, n, **params):
        text = self._t.ngettext(singular, plural, n)
        return text.format(n=n, **params)

    def pgettext(self, context, message, **params):
        text = self._t.pgettext(context, message)
        return text.format(**params) if params else text

    # Jinja's i18n extension (newstyle) formats %(name)s itself: raw callables.
    def jinja_gettext(self, message):
        return self._t.gettext(message)

    def jinja_ngettext(self, singular, plural, n):
        return self._t.ngettext(singular, plural, n)

    def jinja_pgettext(self, context, message):
        return self._t.pgettext(context, message)

    @property
    def locale(self):
        return Locale.parse("en" if self.lang == PSEUDO else self.lang)


# The source language itself: what code that is handed no translator speaks.
ENGLISH = Translator(DEFAULT, NullTranslations(), {})


def _load_domain(folder, lang, domain):
    """The compiled catalog (.mo, written at set-up), or the .po compiled in memory when
    the .mo is missing or older (a checkout where `make` has not run since an edit)."""
    po = os.path.join(folder, lang, "LC_MESSAGES", f"{domain}.po")
    mo = po[:-3] + ".mo"
    if not os.path.exists(po):
        return None
    if os.path.exists(mo) and os.path.getmtime(mo) >= os.path.getmtime(po):
        with open(mo, "rb") as f:
            return Translations(f, domain)
    with open(po, "rb") as f:
        catalog = read_po(f, locale=lang, domain=domain)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain)


def _categories(lang):
    """gettext plural index -> CLDR category. The indexes follow the catalog's
    Plural-Forms expression (Babel's, es: one, many, other), not the order of the CLDR
    rule's tags (es: many, one): each index is named by the category of the numbers
    that pick it."""
    import gettext

    from babel.messages.plurals import get_plural
    locale = Locale.parse(lang)
    count, expr = get_plural(locale)
    index = gettext.c2py(expr)
    tags = ["other"] * count
    named = set()
    for n in [*range(0, 1001), 10 ** 6, 2 * 10 ** 6, 10 ** 9]:
        i = index(n)
        if i not in named and 0 <= i < count:
            tags[i] = locale.plural_form(n)
            named.add(i)
    return tags


class Catalogs:
    """Every (folder, domain) pair of the app; a cached Translator per language."""

    def __init__(self, sources):
        self.sources = list(sources)      # [(translations folder, domain)]
        self._cache = {}
        self._lock = threading.Lock()

    def translator(self, lang):
        lang = supported(lang) or DEFAULT
        with self._lock:
            if lang not in self._cache:
                self._cache[lang] = self._load(lang)
            return self._cache[lang]

    def _load(self, lang):
        if lang == PSEUDO:
            return Translator(lang, _Pseudo(), self._client(lang))
        merged = None
        for folder, domain in self.sources:
            t = _load_domain(folder, lang, domain)
            if t is None:
                continue
            if merged is None:
                merged = t
            else:
                merged.merge(t)
        return Translator(lang, merged or NullTranslations(), self._client(lang))

    def _client(self, lang):
        """The browser's messages: entries of the .po files whose source is a .js file.
        English needs none (the browser falls back to the source); the pseudo-locale
        takes the message ids of the first other language's catalogs."""
        if lang == DEFAULT:
            return {}
        real = next(x for x in LANGUAGES if x != DEFAULT) if lang == PSEUDO else lang
        cats = _categories(real)
        out = {}
        for folder, domain in self.sources:
            path = os.path.join(folder, real, "LC_MESSAGES", f"{domain}.po")
            if not os.path.exists(path):
                continue
            with open(path, "rb") as f:
                catalog = read_po(f, locale=real)
            for m in catalog:
                if not m.id or not any(fn.endswith((".js", ".mjs")) for fn, _ in m.locations):
                    continue
                if m.pluralizable:
                    key = m.id[0]
                    if lang == PSEUDO:
                        value = {"one": pseudo(m.id[0]), "other": pseudo(m.id[1])}
                    elif m.fuzzy or not all(m.string):
                        continue
                    else:
                        value = {cats[i] if i < len(cats) else "other": s
                                 for i, s in enumerate(m.string)}
                else:
                    key = m.id
                    if lang == PSEUDO:
                        value = pseudo(m.id)
                    elif m.fuzzy or not m.string:
                        continue
                    else:
                        value = m.string
                out[f"{m.context}\x04{key}" if m.context else key] = value
        return out
