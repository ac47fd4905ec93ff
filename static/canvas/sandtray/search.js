// The shelf's search (issue 16): a figure is found by the start of any word of its
// name or tags in the reader's language, and then by its English words (a bilingual
// family types either). Accents and case do not matter ("leon" finds "león", "arbol"
// finds "árbol"), nor does a plural's ending ("perros" finds the dog). Pure: node runs
// it in the unit tests (tests/unit/activities/sandtray).

/** Lower case without accents: NFD, combining marks dropped ("Árbol" -> "arbol"). */
export function fold(text) {
  return String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

function words(text) {
  return fold(text || "").split(/[\s,()]+/).filter(Boolean);
}

/** The config's rows [id, name, category, "words", "English words"?] as searchable figures. */
export function indexFigures(rows) {
  return rows.map(([id, name, cat, tags, other]) => ({id, name, cat,
    words: [...new Set([...words(name), ...words(tags)])], other: words(other)}));
}

/** The forms of a typed word to look for: itself, and without a plural's -s / -es. */
function forms(part) {
  const out = [part];
  if (part.length > 3 && part.endsWith("es")) out.push(part.slice(0, -2));
  if (part.length > 2 && part.endsWith("s")) out.push(part.slice(0, -1));
  return out;
}

function hit(list, part) {
  return forms(part).some((p) => list.some((w) => w.startsWith(p)));
}

/** Figures matching every typed word: those found in the reader's words first, then
 *  those found only with the English words too. */
export function searchFigures(figures, query) {
  const parts = fold(query).split(/\s+/).filter(Boolean);
  if (!parts.length) return [];
  const first = [], then = [];
  for (const f of figures) {
    if (parts.every((p) => hit(f.words, p))) first.push(f);
    else if (f.other.length && parts.every((p) => hit(f.words, p) || hit(f.other, p))) then.push(f);
  }
  return first.concat(then);
}
