"""Finds English a person would read that is not a catalog message (issue 16 part 4).

Templates: text between tags and the attributes a person reads or hears (title, alt,
placeholder, aria-label, aria-description, value of buttons, content of a description
meta), once every Jinja expression, statement and comment is taken out.
JavaScript: string and template literals that look like words for people (a capital
followed by small letters, or words with a space and sentence punctuation), outside
t(), tn(), tp() and N_() calls, console.* lines and lines ending in `// i18n-ok`.

Python strings are not scanned (too many are not for people): the catalogs' own test
checks that every marked message has a translation; the end-to-end Spanish run checks
what reaches a guest's screen.
"""
import re
import warnings
from html.parser import HTMLParser

JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
WORDS = re.compile(r"[A-Za-zÀ-ÿ]{2,}")
READ_ATTRS = {"title", "alt", "placeholder", "aria-label", "aria-description", "aria-roledescription"}
# Words that are the same in every language: the product's name, units, key names.
SAME_EVERYWHERE = {"Playroom", "PNG", "PDF", "ZIP", "QR", "OK", "TOTP", "px", "ms"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        a = dict(attrs)
        for k, v in attrs:
            if v and (k in READ_ATTRS or (k == "value" and a.get("type") in ("submit", "button"))
                      or (k == "content" and a.get("name") == "description")):
                self._check(v, f"<{tag} {k}>")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self._check(data, "text")

    def _check(self, text, where):
        words = [w for w in WORDS.findall(text) if w not in SAME_EVERYWHERE]
        if words:
            self.found.append((self.getpos()[0], where, text.strip()[:60]))


def template_literals(source):
    """[(line, where, text)] of unmarked text in a Jinja template."""
    # A block that only names CSS classes is not read.
    source = re.sub(r"{%-?\s*block \w+_class\s*-?%}.*?{%-?\s*endblock\s*-?%}",
                    lambda m: re.sub(r"[^\n]", " ", m.group(0)), source, flags=re.S)
    # Keep line numbers: replace each Jinja block with spaces and its newlines.
    cleaned = JINJA.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), source)
    p = _Text()
    p.feed(cleaned)
    p.close()
    return p.found


MARKERS = {"t", "tn", "tp", "N_"}
_LOOKS_READ = re.compile(r"^[A-ZÀ-Ý][a-zà-ÿ]")
_SENTENCE = re.compile(r"[A-Za-z]{2,}[\s\S]*\s[\s\S]*[A-Za-z]")
_PUNCT = re.compile(r"[?!…’,.;—]|\.\.\.")
# Key names, input types and other names the browser defines.
_API = {"Enter", "Escape", "Tab", "Backspace", "Delete", "Space", "ArrowLeft", "ArrowRight",
        "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown", "Shift", "Control", "Alt",
        "Meta", "Spacebar", "Esc", "Unidentified", "Dead", "Process", "AbortError",
        "NotAllowedError", "NotSupportedError", "SecurityError", "InvalidStateError",
        "QuotaExceededError", "TypeError", "Error", "Content-Type", "Accept", "Authorization",
        "Image", "Promise", "Math", "Object", "Arial", "Helvetica"}


def _looks_read(text):
    """Is a literal's text words for people (not a class, key, id, URL, CSS, selector)?"""
    if not WORDS.search(text) or text in _API or text in SAME_EVERYWHERE:
        return False
    if re.search(r"[{}<>/\\=#@]|^\.|^--|\$\{|:\s*\w+\(|^\w+:\S", text) and not _PUNCT.search(text):
        return False
    if _LOOKS_READ.match(text):
        return True
    return bool(_SENTENCE.search(text) and _PUNCT.search(text))


def js_literals(source):
    """[(line, text)] of string literals in a browser module that read as words for
    people and are not inside t(), tn(), tp() or N_()."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from babel.messages.jslexer import tokenize   # the extractor's own lexer
        tokens = list(tokenize(source, template_string=True))
    lines = source.split("\n")
    stack, prev, found = [], None, []
    for tok in tokens:
        if tok.type == "operator" and tok.value in ("(", "[", "{"):
            stack.append(prev.value if (tok.value == "(" and prev is not None and prev.type == "name") else None)
        elif tok.type == "operator" and tok.value in (")", "]", "}"):
            if stack:
                stack.pop()
        elif tok.type in ("string", "template_string"):
            inside = any(name in MARKERS for name in stack[-1:])
            line = lines[tok.lineno - 1] if tok.lineno - 1 < len(lines) else ""
            text = tok.value[1:-1]
            if (not inside and "console." not in line and not line.rstrip().endswith("// i18n-ok")
                    and _looks_read(text)):
                found.append((tok.lineno, text[:60]))
        prev = tok
    return found
