"""The base of the account forms, in the reader's language (issue 16).

Labels and the messages given to validators are English catalog ids, marked with N_()
where the form is defined and translated where a template shows them
(templates/_form.html: the `tr` filter, `f.label.text|tr`, `e|tr`); a message that carries a value is
translated when it is made, with `_()` below. The built-in validators' own messages
("This field is required.") come from WTForms' catalogs in the reader's language
(Flask-WTF would need Flask-Babel for that).
"""
import flask_wtf
from wtforms.i18n import get_builtin_gnu_translations

from rooms.web import i18n

_WTFORMS = {}


def _(message, **params):
    """`message` in the reader's language: the request's translator."""
    return i18n.translator().gettext(message, **params)


class FlaskForm(flask_wtf.FlaskForm):
    class Meta:
        def get_translations(self, form):
            code = i18n.lang()
            if code not in _WTFORMS:
                _WTFORMS[code] = get_builtin_gnu_translations([code])
            return _WTFORMS[code]


def translated(message):
    """Template filter `tr`: a catalog id known only when the page is drawn (a form
    label, a validator's message, a log label) in the reader's language, as plain text:
    unlike Jinja's `_()` it is escaped like any value and never %-formatted, so a message
    that quotes what someone typed stays text."""
    return i18n.translator().gettext(str(message))
