"""The room shell's browser modules speak the reader's language (issue 16), run under
node with the messages the room page hands a Spanish reader (client_i18n): a refusal's
toast, a plural, and the cue a child hears, said by a Spanish voice on the device (and
not at all by an English one, nor English words by a Spanish one: the tone and the
picture still say it)."""
import json
import os

from activities.contract.i18n import Catalogs
from rooms.web import i18n
from tests.support import run_node

STUB = "export function io() { return null; }\n"

SCRIPT = r"""
import {setLanguage, tn} from "./i18n.js";
import {friendly} from "./connection.js";
import {Cues, localVoice} from "./cues.js";
let text = "";
for await (const chunk of process.stdin) text += chunk;
const input = JSON.parse(text);
const spoken = [];
globalThis.document = {addEventListener() {}, body: {dataset: {}}};
globalThis.SpeechSynthesisUtterance = class { constructor(t) { this.text = t; } };
const device = (voices) => {
  globalThis.window = {speechSynthesis: {getVoices: () => voices, cancel() {},
                                         speak: (u) => spoken.push([u.text, u.lang])}};
};
const out = {};
for (const lang of ["en", "es"]) {
  setLanguage(lang === "en" ? null : input.i18n);
  device([{lang: "en-US", localService: true}, {lang: "es-MX", localService: true}]);
  spoken.length = 0;
  const cues = new Cues(true);
  cues.tone = () => {};
  cues.give("waiting");
  cues.give("your_turn");
  out[lang] = {
    private_time: friendly("private_time", "private"),
    unknown_op: friendly("unknown_op", "bad op name"),
    activity_reason: friendly("full", "the tray is full"),
    unknown_reason: friendly("invalid", "no such page: p9"),
    conflict_reason: friendly("conflict", "a step with that id exists"),
    one: tn("{n} guest waiting", "{n} guests waiting", 1),
    three: tn("{n} guest waiting", "{n} guests waiting", 3),
    spoken: [...spoken],
  };
}
// A Spanish reader on a device with only an English voice hears the tone, not English
// sounds read out of Spanish words.
setLanguage(input.i18n);
device([{lang: "en-US", localService: true}]);
spoken.length = 0;
new Cues(true).give("waiting");
out.es_without_a_spanish_voice = [...spoken];
// Nor does an English reader on a device whose only local voice is Spanish (its English
// one sends the text away) hear English read by the Spanish voice.
setLanguage(null);
device([{lang: "es-MX", localService: true}, {lang: "en-US", localService: false}]);
spoken.length = 0;
new Cues(true).give("waiting");
out.en_without_an_english_voice = [...spoken];
out.voice_for_en = localVoice("en");
// A voice named with an underscore (some Android devices) and a region is still Spanish.
device([{lang: "en-US", localService: true}, {lang: "es_US", localService: true}]);
out.voice_for_es = localVoice("es");
console.log(JSON.stringify(out));
"""


def run(tmp_path):
    stub = tmp_path / "node_modules" / "socket.io-client"
    os.makedirs(stub)
    (stub / "package.json").write_text(json.dumps(
        {"name": "socket.io-client", "type": "module", "exports": "./index.js"}))
    (stub / "index.js").write_text(STUB)
    (tmp_path / "package.json").write_text(json.dumps({"type": "module"}))
    modules = {name: f"room/{name}" for name in ("connection.js", "cues.js", "i18n.js", "util.js", "wire.js")}
    cats = Catalogs([(folder, domain) for domain, folder, _ in i18n.domains()])
    payload = {"i18n": {"lang": "es", "messages": cats.translator("es").client}}
    return run_node(tmp_path, modules, SCRIPT, payload)


def test_the_room_shell_speaks_spanish_to_a_spanish_reader_and_english_to_the_rest(tmp_path):
    out = run(tmp_path)
    assert out["en"] == {
        "private_time": "Private time: that was not kept.",
        "unknown_op": "Something did not work.",
        "activity_reason": "the tray is full",
        "unknown_reason": "no such page: p9",
        "conflict_reason": "a step with that id exists",
        "one": "1 guest waiting", "three": "3 guests waiting",
        "spoken": [["Please wait. Your therapist will let you in soon.", "en-US"], ["Your turn!", "en-US"]],
    }
    assert out["es"] == {
        "private_time": "Tiempo a solas: eso no se guardó.",
        "unknown_op": "Algo no funcionó.",
        # An activity's own refusal, in the reader's language when its catalog has it.
        "activity_reason": "la bandeja está llena",
        # One the catalogs do not have: a plain sentence in Spanish, not English.
        "unknown_reason": "Algo no funcionó.",
        "conflict_reason": "Alguien acaba de cambiar eso. Prueba otra vez.",
        "one": "1 invitado esperando", "three": "3 invitados esperando",
        "spoken": [["Espera, por favor. Tu terapeuta te dejará entrar muy pronto.", "es-MX"],
                   ["¡Te toca!", "es-MX"]],
    }
    assert out["es_without_a_spanish_voice"] == []
    # Never a voice of another language in its place (it used to fall back to the first).
    assert out["en_without_an_english_voice"] == []
    assert out["voice_for_en"] is None
    assert out["voice_for_es"] == {"lang": "es_US", "localService": True}
