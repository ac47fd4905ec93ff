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

/** Looser forms of a typed word: without a plural's -s / -es, and with the other
 *  gender's ending ("enojado" finds "cara enojada", "perros" finds "perro"). */
function looser(part) {
  const stems = [part];
  if (part.length > 3 && part.endsWith("es")) stems.push(part.slice(0, -2));
  if (part.length > 2 && part.endsWith("s")) stems.push(part.slice(0, -1));
  const out = new Set(stems);
  for (const w of stems) {
    if (w.length > 3 && /[oa]$/.test(w)) out.add(w.slice(0, -1) + (w.endsWith("o") ? "a" : "o"));
  }
  out.delete(part);
  return [...out].filter((w) => w.length >= 2);
}

/** How well one typed word matches a word list: 3 a whole word, 2 the start of one,
 *  1 the start of one in a looser form, 0 not at all. */
function score(list, part, loose) {
  let best = 0;
  for (const w of list) {
    if (w === part) return 3;
    if (w.startsWith(part)) best = 2;
    else if (!best && loose.some((l) => w.startsWith(l))) best = 1;
  }
  return best;
}

/** Figures matching every typed word: those found in the reader's words first, then
 *  those found only with the English words too; each group best match first (whole
 *  words before starts of words before looser forms), shelf order otherwise. */
export function searchFigures(figures, query) {
  const parts = fold(query).split(/\s+/).filter(Boolean).map((p) => [p, looser(p)]);
  if (!parts.length) return [];
  const first = [], then = [];
  for (const f of figures) {
    let own = 0, any = 0, ownAll = true;
    for (const [p, loose] of parts) {
      const a = score(f.words, p, loose);
      const b = a ? a : score(f.other, p, loose);
      if (!b) { any = -1; break; }
      if (!a) ownAll = false;
      own += a;
      any += b;
    }
    if (any < 0) continue;
    if (ownAll) first.push([own, f]);
    else then.push([any, f]);
  }
  const order = (list) => list.map((x, i) => [...x, i]).sort((x, y) => y[0] - x[0] || x[2] - y[2]).map((x) => x[1]);
  return order(first).concat(order(then));
}
