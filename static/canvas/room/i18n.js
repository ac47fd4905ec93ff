// Languages (issue 16): the browser's half of the message catalogs.
//
// The page's configuration carries `i18n: {lang, messages}` (rooms/web/i18n.py:
// client_i18n): the messages of the reader's language that the browser modules say,
// plural forms keyed by CLDR category. A message with no entry (English, or one not
// yet translated) is its own source text. Placeholders are named: t("Hello {name}",
// {name}). `python -m rooms.web.i18n extract` finds t(), tn() and tp() calls here and
// in every activity's modules.

let lang = "en";
let messages = {};
let plurals = new Intl.PluralRules("en");

export function setLanguage(cfg) {
  lang = (cfg && cfg.lang) || "en";
  messages = (cfg && cfg.messages) || {};
  plurals = new Intl.PluralRules(lang);
}

// The room page's configuration, read as this module loads (before any module that
// says something is evaluated); in node (model tests) there is none: English.
if (typeof document !== "undefined") {
  const node = document.getElementById("playroom-config");
  if (node) setLanguage(JSON.parse(node.textContent).i18n);
}

export function language() {
  return lang;
}

function fill(text, params) {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, key) => (key in params ? String(params[key]) : whole));
}

// A message in the reader's language.
export function t(msgid, params) {
  const s = messages[msgid];
  return fill(typeof s === "string" ? s : msgid, params);
}

// A message with a count: tn("{n} sticker", "{n} stickers", n).
export function tn(singular, plural, n, params) {
  const forms = messages[singular];
  const cat = plurals.select(n);
  const text = forms && typeof forms === "object" ? (forms[cat] ?? forms.other)
    : (cat === "one" ? singular : plural);
  return fill(text, {n, ...params});
}

// A message whose meaning needs a context: tp("button", "Open").
export function tp(context, msgid, params) {
  const s = messages[`${context}\u0004${msgid}`];
  return fill(typeof s === "string" ? s : msgid, params);
}

// Mark a string for extraction where it is data; translate it with t() when shown.
export function N_(msgid) {
  return msgid;
}

// Numbers and times in the reader's language.
export function formatNumber(n, options) {
  return new Intl.NumberFormat(lang, options).format(n);
}

export function formatTime(date, options = {hour: "numeric", minute: "2-digit"}) {
  return new Intl.DateTimeFormat(lang, options).format(date);
}
