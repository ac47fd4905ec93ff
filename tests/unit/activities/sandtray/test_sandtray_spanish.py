"""Issue 16: the sand tray and its shelf in Spanish. Figure names, categories and
search words reach a Spanish reader; the shelf's search (static/canvas/sandtray/
search.js, run by node) finds figures by Spanish words, accents or not, with the
English words as a fallback."""
import json
import shutil

import pytest

from activities import sandtray as st
from activities.contract import pictures
from activities.contract.i18n import ENGLISH, Catalogs
from rooms.web import i18n
from tests.support import run_node

ES = Catalogs([(folder, domain) for domain, folder, _ in i18n.domains()]).translator("es")


def rows(tr):
    return {row[0]: row for row in st.client_config(tr)["figures"]}


def test_the_shelf_names_figures_and_shelves_in_spanish():
    cfg = st.client_config(ES)
    figs = rows(ES)
    assert figs["dog-body"][1] == "perro" and figs["cat-body"][1] == "gato" and figs["tree"][1] == "árbol"
    assert figs["lion"][1] == "león" and figs["house"][1] == "casa"
    assert [c["title"] for c in cfg["categories"]][:3] == [
        "Personas y familias", "Mascotas y animales de granja", "Animales salvajes"]
    # A person in a skin tone: the name pattern is a translated format, not English glue.
    assert figs["girl-5"][1] == "niña (tono de piel oscuro)"
    assert figs["grandma-1"][1] == "abuela (tono de piel claro)"
    # Spanish words to search, then the English words the Spanish ones do not repeat.
    assert {"perrito", "cachorro", "mascota"} <= set(figs["dog-body"][3].split())
    assert {"dog", "puppy"} <= set(figs["dog-body"][4].split())
    assert len(json.dumps(cfg)) < 100_000                 # part of every Spanish room page


def test_english_readers_get_the_english_shelf_unchanged():
    figs = rows(ENGLISH)
    assert figs["dog-body"] == ["dog-body", "dog", "pets", "dog pet puppy"]
    assert figs["girl-5"][1] == "girl (dark skin)" and "skin" in figs["girl-5"][3].split()
    assert st.client_config()["categories"][0]["title"] == "People and families"


def test_every_figure_has_its_own_spanish_name_and_search_words():
    untranslated = []
    for fid, f in pictures.FIGURES.items():
        name, words = pictures.figure_name(f, ES), pictures.figure_words(f, ES)
        if name == f["name"] and name not in ("panda", "koala", "robot", "doctor", "taxi", "tractor", "hotel",
                                              "hospital", "radio", "pizza", "cactus", "ninja", "coral",
                                              "tornado", "llama", "mosquito", "Om", "Kaaba", "Khanda",
                                              "hamsa", "yin yang"):
            untranslated.append(fid)
        if set(words) <= set(f["tags"]):
            untranslated.append(f"{fid} (words)")
    assert untranslated == []


def test_picture_labels_speak_the_readers_language():
    labels = pictures.client_config(ES)
    assert labels["dog"]["label"] == "perro" and labels["owl"]["label"] == "búho"
    assert labels["feel-1"]["label"] == "muy mal" and labels["sandtray"]["label"] == "bandeja de arena"
    assert labels["boy-3"]["label"] == "niño (tono de piel medio)"
    assert pictures.client_config()["boy-3"]["label"] == "boy (medium skin)"


def test_the_title_reasons_and_record_lines_are_in_the_catalog():
    assert ES.gettext(st.TITLE) == "Bandeja de arena"
    assert ES.gettext(st.BOUND.reason).startswith("La bandeja de arena está llena")
    ops = [{"kind": "do", "seq": k, "ts": 100 + k, "by": "kid", "t": t, "d": d} for k, (t, d) in enumerate([
        ("place", {"id": "a", "fig": "dog-body"}), ("place", {"id": "b", "fig": "cat-body"}),
        ("sand", {}), ("place", {"id": "c", "fig": "tree"}),
        ("tray.new", {"id": "t2"}), ("place", {"id": "d", "fig": "tree"})])]
    ops[-1]["by"] = "mum"
    es = [e["text"] for e in st.record_entries(ops, tr=ES)]
    assert es == ["colocó 3 figuras y le dio forma a la arena en la bandeja de arena",
                  "empezó una bandeja de arena nueva",
                  "colocó 1 figura en la bandeja de arena"]
    en = [e["text"] for e in st.record_entries(ops)]
    assert en == ["placed 3 figures and shaped the sand in the sand tray", "started a fresh sand tray",
                  "placed 1 figure in the sand tray"]


# Spanish word a child or parent types -> a figure it must find.
PAIRS = [
    ("perro", "dog-body"), ("perrito", "dog-body"), ("perros", "dog-body"), ("gato", "cat-body"),
    ("michi", "cat-body"), ("árbol", "tree"), ("arbol", "tree"), ("leon", "lion"), ("león", "lion"),
    ("casa", "house"), ("abuela", "grandma-1"), ("abuelita", "grandma-3"), ("abuelo", "grandpa-5"),
    ("mamá", "woman-2"), ("mama", "mum-girl"), ("papá", "dad-boy"), ("bebé", "baby-4"),
    ("niña", "girl-1"), ("nino", "boy-2"), ("familia", "family"), ("caballo", "horse"),
    ("tiburón", "shark"), ("serpiente", "snake"), ("víbora", "snake"), ("dragón", "dragon"),
    ("escuela", "school"), ("carro", "car"), ("camion", "fire-engine"), ("bomberos", "fire-engine"),
    ("mariposa", "butterfly"), ("corazon", "heart"), ("fantasma", "ghost"), ("puente", "bridge"),
    ("triste", "crying"), ("enojado", "angry"), ("miedo", "scared"), ("iglesia", "church"),
    ("oso de peluche", "teddy"), ("ratón", "mouse"), ("pájaro", "dove"), ("flores", "bouquet"),
    ("piel oscuro", "girl-5"),
]


def search(tmp_path, tr, queries):
    script = (
        "import {indexFigures, searchFigures} from './search.mjs';\n"
        "import {readFileSync} from 'node:fs';\n"
        "const {figures, queries} = JSON.parse(readFileSync(0, 'utf8'));\n"
        "const index = indexFigures(figures);\n"
        "process.stdout.write(JSON.stringify(queries.map((q) => searchFigures(index, q).map((f) => f.id))));\n")
    return dict(zip(queries, run_node(tmp_path, {"search.mjs": "sandtray/search.js"}, script,
                                      {"figures": st.client_config(tr)["figures"], "queries": queries})))


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_searching_the_shelf_for_spanish_words_finds_the_right_figures(tmp_path):
    assert len(PAIRS) >= 20
    found = search(tmp_path, ES, [q for q, _ in PAIRS] + ["dog", "grandma", "zzzqqq", "perro gato"])
    missing = [(q, fid) for q, fid in PAIRS if fid not in found[q]]
    assert missing == []
    # Accents and case do not matter: the same figures either way.
    assert found["arbol"] == found["árbol"] and found["leon"] == found["león"]
    assert found["perro"][0] == "dog-body"
    # English still finds them (a bilingual family), and nonsense finds nothing.
    assert "dog-body" in found["dog"] and "grandma-2" in found["grandma"]
    assert found["zzzqqq"] == [] and found["perro gato"] == []


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_spanish_matches_come_before_english_only_ones(tmp_path):
    """"pan" is bread in Spanish and the start of "panda" and "pants" in English: a
    Spanish reader sees the bread first."""
    found = search(tmp_path, ES, ["pan", "Perro", "  gato  "])
    assert found["pan"][0] == "bread"
    assert found["Perro"][0] == "dog-body" and found["  gato  "][0] == "cat-body"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_english_shelf_still_searches_english(tmp_path):
    found = search(tmp_path, ENGLISH, ["dog", "grandma", "perro", "tree"])
    assert found["dog"][0] == "dog-body" and "grandma-1" in found["grandma"]
    assert found["perro"] == [] and "tree" in found["tree"]


def test_refusals_a_person_reads_reach_the_browser_catalog_and_the_record_caption_is_spanish():
    assert ES.client["the tray is full"] == "la bandeja está llena"
    assert ES.client["Find a figure by name"] == "Buscar una figura por nombre"
    s, _ = st.apply(st.initial_state(), "place", {"id": "a", "fig": "dog-body", "x": 10, "y": 10, "rot": 0,
                                                  "scale": 1, "flip": False}, by="kid")
    assert st.record_pictures(s, ES) == [("current", "La bandeja de arena al final de la sesión")]
    assert st.record_pictures(s) == [("current", "Sand tray at the end of the session")]
