"""The picture set's vocabulary: avatars, stamps, icons and sand tray figures.

Pure data, shared by both halves: activities validate picture ids against it and
name pictures in their client config; rooms/assets/pictures.py serves the files and
draws them for the server renderer (the `Assets` service activities receive).

Pictures are Twemoji SVGs (graphics CC-BY 4.0, Twitter/X and contributors; the npm
package @twemoji/svg is MIT), installed from the npm registry at set-up time. Every
device shows the same picture (no emoji from the device's font) and the server
renderer rasterises the same file with resvg, so exports match the screen.

A picture id is a short, stable name; the catalog maps it to a Twemoji file. Only
ids in the catalog are ever served or accepted in ops.
"""
from activities.contract.i18n import ENGLISH, N_

SOURCE = "@twemoji/svg"
CREDIT = N_("Pictures: Twemoji by Twitter/X and contributors, licensed CC-BY 4.0 "
            "(https://creativecommons.org/licenses/by/4.0/).")

# id -> (Twemoji codepoint file, label a screen reader speaks)
CATALOG = {
    # avatars
    "cat": ("1f431", N_("cat")), "dog": ("1f436", N_("dog")), "fox": ("1f98a", N_("fox")),
    "lion": ("1f981", N_("lion")), "panda": ("1f43c", N_("panda")), "rabbit": ("1f430", N_("rabbit")),
    "unicorn": ("1f984", N_("unicorn")), "frog": ("1f438", N_("frog")), "owl": ("1f989", N_("owl")),
    "turtle": ("1f422", N_("turtle")), "octopus": ("1f419", N_("octopus")), "bear": ("1f43b", N_("bear")),
    "monkey": ("1f435", N_("monkey")), "penguin": ("1f427", N_("penguin")), "koala": ("1f428", N_("koala")),
    "tiger": ("1f42f", N_("tiger")),
    # stamps
    "star": ("2b50", N_("star")), "heart": ("2764", N_("heart")), "smile": ("1f60a", N_("smiling face")),
    "sun": ("2600", N_("sun")), "rainbow": ("1f308", N_("rainbow")), "flower": ("1f33c", N_("flower")),
    "butterfly": ("1f98b", N_("butterfly")), "dragon": ("1f409", N_("dragon")),
    "house": ("1f3e0", N_("house")), "tree": ("1f333", N_("tree")), "balloon": ("1f388", N_("balloon")),
    "rocket": ("1f680", N_("rocket")), "thumbsup": ("1f44d", N_("thumbs up")),
    "sparkles": ("2728", N_("sparkles")), "cloud": ("2601", N_("cloud")), "ladybug": ("1f41e", N_("ladybug")),
    # icons used by the room shell
    "palette": ("1f3a8", N_("drawing")), "crayon": ("1f58d", N_("crayon")),
    # calm corner and check-in
    "calm-corner": ("1f9d8", N_("calm corner")), "calm-tulip": ("1f337", N_("flower")),
    "calm-hand": ("1f590", N_("hand")), "calm-orb": ("1f535", N_("circle")),
    "calm-box": ("1f7e6", N_("box")), "calm-timer": ("23f3", N_("timer")),
    "calm-sound-on": ("1f50a", N_("sound on")), "calm-sound-off": ("1f507", N_("sound off")),
    "calm-well-done": ("1f31f", N_("well done")),
    "sense-see": ("1f440", N_("see")), "sense-touch": ("270b", N_("touch")),
    "sense-hear": ("1f442", N_("hear")), "sense-smell": ("1f443", N_("smell")),
    "sense-taste": ("1f445", N_("taste")),
    "feelings": ("1f321", N_("feelings")), "feel-1": ("1f622", N_("very upset")),
    "feel-2": ("1f61f", N_("a bit upset")), "feel-3": ("1f610", N_("okay")),
    "feel-4": ("1f642", N_("good")), "feel-5": ("1f604", N_("great")),
    # daily-routine steps (checklists, schedules): each picture shows the action, so a
    # child who cannot read knows the step ("Brush teeth" is a toothbrush, not a smile)
    "toothbrush": ("1faa5", N_("toothbrush")), "t-shirt": ("1f455", N_("t-shirt")),
    "soap": ("1f9fc", N_("soap")), "tap": ("1f6b0", N_("running tap")),
    "splash": ("1f4a6", N_("water splash")), "paper-towel": ("1f9fb", N_("paper towel")),
    "shoe": ("1f45f", N_("shoe")), "palms": ("1f932", N_("hands together")),
    "breakfast": ("1f963", N_("bowl and spoon")),
    # the room's states said by a picture (waiting, let in, goodbye …)
    "hello": ("1f44b", N_("waving hand")),
}

AVATARS = ["cat", "dog", "fox", "lion", "panda", "rabbit", "unicorn", "frog", "owl",
           "turtle", "octopus", "bear", "monkey", "penguin", "koala", "tiger"]
# The therapist is always the owl, so a child knows at a glance who leads; a guest
# who picked it too would look like the therapist in the people list and on cursors.
THERAPIST_AVATAR = "owl"
GUEST_AVATARS = [a for a in AVATARS if a != THERAPIST_AVATAR]
STAMPS = ["star", "heart", "smile", "sun", "rainbow", "flower", "butterfly", "dragon",
          "house", "tree", "balloon", "rocket", "thumbsup", "sparkles", "cloud", "ladybug"]


def pgettext(context, message):
    """Mark a data string with a context for extraction (as N_ does without one); it is
    translated where it is shown, with `tr.pgettext(context, message)`."""
    return message


def url(pid):
    return f"/pictures/{pid}.svg"


def client_config(tr=ENGLISH):
    """Every picture's URL and the label a screen reader speaks, in the reader's language."""
    return {pid: {"url": url(pid), "label": label(pid, tr)} for pid in CATALOG}


# ====================================================================== sand tray figures
# (This region belongs to the sand tray; other picture ids are defined above.)
#
# The miniatures on the sand tray's shelf. Each figure has an id (its picture id), a
# name (spoken by screen readers, searched), tags (searched), a category (a shelf
# tab) and a licence record. All are Twemoji graphics, so all share one licence.
#
# Names are catalog messages (N_); each figure's tags are a message of their own,
# with the figure's id as its context (`pgettext(id, "words")`), so a translator
# writes the words a child of that language types for that very figure ("perro
# perrito cachorro mascota"), not one word list shared by every figure tagged "pet".
FIGURE_LICENCE = {
    "licence": "CC-BY-4.0",
    "url": "https://creativecommons.org/licenses/by/4.0/",
    "author": "Twitter/X and contributors (Twemoji)",
    "source": "npm @twemoji/svg 15.0.0",
}

# (id, title, icon figure), in shelf order.
FIGURE_CATEGORIES = [
    ("people", N_("People and families"), "family"),
    ("pets", N_("Pets and farm animals"), "dog-body"),
    ("wild", N_("Wild animals"), "lion"),
    ("scary", N_("Scary creatures"), "crocodile"),
    ("fantasy", N_("Fantasy and myth"), "dragon"),
    ("buildings", N_("Buildings"), "house"),
    ("nature", N_("Trees, rocks and flowers"), "tree"),
    ("vehicles", N_("Vehicles"), "car"),
    ("barriers", N_("Fences, bridges and barriers"), "bricks"),
    ("household", N_("At home"), "teddy"),
    ("feelings", N_("Feelings and symbols"), "heart"),
    ("spiritual", N_("Spiritual"), "dove"),
]

_TONES = [("1f3fb", pgettext("skin tone", "light")), ("1f3fc", pgettext("skin tone", "medium-light")),
          ("1f3fd", pgettext("skin tone", "medium")), ("1f3fe", pgettext("skin tone", "medium-dark")),
          ("1f3ff", pgettext("skin tone", "dark"))]
# Translators: a person's name in the sand tray's shelf with their skin tone, e.g.
# "girl (dark skin)"; {name} is a figure name (girl, grandpa …), {tone} a skin tone.
SKIN_NAME = N_("{name} ({tone} skin)")
# Translators: search words of every person shown in five skin tones, space-separated
# (a child types the start of any of them into the shelf's search).
SKIN_WORDS = pgettext("search words", "person people skin")
# People in five skin tones: (id prefix, codepoint, name, tags).
_TONED = [
    ("baby", "1f476", N_("baby"), pgettext("baby", "infant newborn little brother sister young")),
    ("girl", "1f467", N_("girl"), pgettext("girl", "child kid daughter sister young")),
    ("boy", "1f466", N_("boy"), pgettext("boy", "child kid son brother young")),
    ("woman", "1f469", N_("woman"), pgettext("woman", "mum mom mother aunt adult grown-up")),
    ("man", "1f468", N_("man"), pgettext("man", "dad father uncle adult grown-up")),
    ("grandma", "1f475", N_("grandma"), pgettext("grandma", "old woman grandmother granny elder")),
    ("grandpa", "1f474", N_("grandpa"), pgettext("grandpa", "old man grandfather grandad elder")),
]

# category -> [(id, Twemoji file, name, tags)]
_FIGURES = {
    "people": [
        ("child", "1f9d2", N_("child"), pgettext("child", "kid young")),
        ("person", "1f9d1", N_("person"), pgettext("person", "adult grown-up")),
        ("older-person", "1f9d3", N_("older person"), pgettext("older-person", "old elder grandparent")),
        ("family", "1f46a", N_("family"), pgettext("family", "parents children mum dad")),
        ("family-mwb", "1f468-200d-1f469-200d-1f466", N_("mum, dad and boy"), pgettext("family-mwb", "family parents son")),
        ("family-wwg", "1f469-200d-1f469-200d-1f467", N_("two mums and a girl"), pgettext("family-wwg", "family mothers daughter")),
        ("family-mmb", "1f468-200d-1f468-200d-1f466", N_("two dads and a boy"), pgettext("family-mmb", "family fathers son")),
        ("mum-girl", "1f469-200d-1f467", N_("mum and girl"), pgettext("mum-girl", "family mother daughter single parent")),
        ("dad-boy", "1f468-200d-1f466", N_("dad and boy"), pgettext("dad-boy", "family father son single parent")),
        ("couple", "1f491", N_("couple in love"), pgettext("couple", "parents love heart")),
        ("holding-hands", "1f9d1-200d-1f91d-200d-1f9d1", N_("people holding hands"), pgettext("holding-hands", "friends together")),
        ("hugging", "1fac2", N_("people hugging"), pgettext("hugging", "hug comfort together")),
        ("pregnant", "1f930", N_("pregnant woman"), pgettext("pregnant", "mother baby expecting")),
        ("breastfeeding", "1f931", N_("feeding a baby"), pgettext("breastfeeding", "mother baby")),
        ("wheelchair-user", "1f9d1-200d-1f9bd", N_("person in a wheelchair"), pgettext("wheelchair-user", "disability")),
        ("white-cane", "1f9d1-200d-1f9af", N_("person with a white cane"), pgettext("white-cane", "blind disability")),
        ("walking", "1f6b6", N_("person walking"), pgettext("walking", "walk")),
        ("running", "1f3c3", N_("person running"), pgettext("running", "run away")),
        ("kneeling", "1f9ce", N_("person kneeling"), pgettext("kneeling", "kneel")),
        ("standing", "1f9cd", N_("person standing"), pgettext("standing", "stand")),
        ("police", "1f46e", N_("police officer"), pgettext("police", "cop help safety")),
        ("doctor", "1f9d1-200d-2695-fe0f", N_("doctor"), pgettext("doctor", "nurse health hospital")),
        ("teacher", "1f9d1-200d-1f3eb", N_("teacher"), pgettext("teacher", "school")),
        ("firefighter", "1f9d1-200d-1f692", N_("firefighter"), pgettext("firefighter", "fire help")),
        ("farmer", "1f9d1-200d-1f33e", N_("farmer"), pgettext("farmer", "farm")),
        ("cook", "1f9d1-200d-1f373", N_("cook"), pgettext("cook", "chef food")),
        ("astronaut", "1f9d1-200d-1f680", N_("astronaut"), pgettext("astronaut", "space")),
        ("judge", "1f9d1-200d-2696-fe0f", N_("judge"), pgettext("judge", "court law")),
        ("guard", "1f482", N_("guard"), pgettext("guard", "soldier")),
        ("builder", "1f477", N_("builder"), pgettext("builder", "construction worker")),
        ("bride", "1f470", N_("bride"), pgettext("bride", "wedding")),
        ("sleeper", "1f6cc", N_("person in bed"), pgettext("sleeper", "sleep night")),
    ],
    "pets": [
        ("dog-body", "1f415", N_("dog"), pgettext("dog-body", "pet puppy")),
        ("guide-dog", "1f9ae", N_("guide dog"), pgettext("guide-dog", "pet help")),
        ("poodle", "1f429", N_("poodle"), pgettext("poodle", "dog pet")),
        ("cat-body", "1f408", N_("cat"), pgettext("cat-body", "pet kitten")),
        ("black-cat", "1f408-200d-2b1b", N_("black cat"), pgettext("black-cat", "pet")),
        ("rabbit-body", "1f407", N_("rabbit"), pgettext("rabbit-body", "bunny pet")),
        ("hamster", "1f439", N_("hamster"), pgettext("hamster", "pet")),
        ("mouse", "1f401", N_("mouse"), pgettext("mouse", "pet")),
        ("horse", "1f40e", N_("horse"), pgettext("horse", "pony farm")),
        ("donkey", "1facf", N_("donkey"), pgettext("donkey", "farm")),
        ("cow", "1f404", N_("cow"), pgettext("cow", "farm")),
        ("ox", "1f402", N_("ox"), pgettext("ox", "bull farm")),
        ("pig", "1f416", N_("pig"), pgettext("pig", "farm")),
        ("sheep", "1f411", N_("sheep"), pgettext("sheep", "lamb farm")),
        ("goat", "1f410", N_("goat"), pgettext("goat", "farm")),
        ("chicken", "1f414", N_("chicken"), pgettext("chicken", "hen farm bird")),
        ("rooster", "1f413", N_("rooster"), pgettext("rooster", "farm bird")),
        ("chick", "1f425", N_("chick"), pgettext("chick", "baby bird")),
        ("hatching", "1f423", N_("hatching chick"), pgettext("hatching", "egg baby bird")),
        ("duck", "1f986", N_("duck"), pgettext("duck", "bird pond")),
        ("goose", "1fabf", N_("goose"), pgettext("goose", "bird farm")),
        ("turkey", "1f983", N_("turkey"), pgettext("turkey", "bird farm")),
        ("parrot", "1f99c", N_("parrot"), pgettext("parrot", "bird pet")),
        ("fish", "1f41f", N_("fish"), pgettext("fish", "pet water")),
        ("tropical-fish", "1f420", N_("tropical fish"), pgettext("tropical-fish", "pet water")),
        ("turtle", "1f422", N_("turtle"), pgettext("turtle", "tortoise pet")),
        ("llama", "1f999", N_("llama"), pgettext("llama", "alpaca farm")),
        ("camel", "1f42b", N_("camel"), pgettext("camel", "desert")),
    ],
    "wild": [
        ("lion", "1f981", N_("lion"), pgettext("lion", "king jungle")),
        ("tiger-body", "1f405", N_("tiger"), pgettext("tiger-body", "jungle")),
        ("leopard", "1f406", N_("leopard"), pgettext("leopard", "jungle")),
        ("elephant", "1f418", N_("elephant"), pgettext("elephant", "jungle")),
        ("giraffe", "1f992", N_("giraffe"), pgettext("giraffe", "africa")),
        ("zebra", "1f993", N_("zebra"), pgettext("zebra", "africa")),
        ("monkey-body", "1f412", N_("monkey"), pgettext("monkey-body", "jungle")),
        ("gorilla", "1f98d", N_("gorilla"), pgettext("gorilla", "ape jungle")),
        ("orangutan", "1f9a7", N_("orangutan"), pgettext("orangutan", "ape jungle")),
        ("bear", "1f43b", N_("bear"), pgettext("bear", "forest")),
        ("polar-bear", "1f43b-200d-2744-fe0f", N_("polar bear"), pgettext("polar-bear", "snow ice")),
        ("panda", "1f43c", N_("panda"), pgettext("panda", "bear")),
        ("koala", "1f428", N_("koala"), pgettext("koala", "australia")),
        ("kangaroo", "1f998", N_("kangaroo"), pgettext("kangaroo", "australia")),
        ("deer", "1f98c", N_("deer"), pgettext("deer", "forest")),
        ("moose", "1face", N_("moose"), pgettext("moose", "forest")),
        ("rhino", "1f98f", N_("rhinoceros"), pgettext("rhino", "rhino africa")),
        ("hippo", "1f99b", N_("hippopotamus"), pgettext("hippo", "hippo africa")),
        ("fox", "1f98a", N_("fox"), pgettext("fox", "forest")),
        ("raccoon", "1f99d", N_("raccoon"), pgettext("raccoon", "forest")),
        ("hedgehog", "1f994", N_("hedgehog"), pgettext("hedgehog", "forest")),
        ("chipmunk", "1f43f", N_("chipmunk"), pgettext("chipmunk", "squirrel forest")),
        ("sloth", "1f9a5", N_("sloth"), pgettext("sloth", "slow jungle")),
        ("otter", "1f9a6", N_("otter"), pgettext("otter", "river water")),
        ("beaver", "1f9ab", N_("beaver"), pgettext("beaver", "river")),
        ("bison", "1f9ac", N_("bison"), pgettext("bison", "buffalo")),
        ("owl", "1f989", N_("owl"), pgettext("owl", "bird night wise")),
        ("eagle", "1f985", N_("eagle"), pgettext("eagle", "bird")),
        ("penguin", "1f427", N_("penguin"), pgettext("penguin", "bird ice")),
        ("flamingo", "1f9a9", N_("flamingo"), pgettext("flamingo", "bird")),
        ("peacock", "1f99a", N_("peacock"), pgettext("peacock", "bird")),
        ("swan", "1f9a2", N_("swan"), pgettext("swan", "bird water")),
        ("dolphin", "1f42c", N_("dolphin"), pgettext("dolphin", "sea water")),
        ("whale", "1f40b", N_("whale"), pgettext("whale", "sea water")),
        ("seal", "1f9ad", N_("seal"), pgettext("seal", "sea water")),
        ("butterfly", "1f98b", N_("butterfly"), pgettext("butterfly", "insect")),
        ("bee", "1f41d", N_("bee"), pgettext("bee", "insect")),
        ("ladybug", "1f41e", N_("ladybird"), pgettext("ladybug", "ladybug insect")),
        ("snail", "1f40c", N_("snail"), pgettext("snail", "slow")),
        ("frog", "1f438", N_("frog"), pgettext("frog", "pond")),
    ],
    "scary": [
        ("crocodile", "1f40a", N_("crocodile"), pgettext("crocodile", "alligator danger")),
        ("snake", "1f40d", N_("snake"), pgettext("snake", "danger")),
        ("shark", "1f988", N_("shark"), pgettext("shark", "sea danger")),
        ("wolf", "1f43a", N_("wolf"), pgettext("wolf", "danger forest")),
        ("boar", "1f417", N_("wild boar"), pgettext("boar", "pig danger")),
        ("spider", "1f577", N_("spider"), pgettext("spider", "creepy")),
        ("spider-web", "1f578", N_("spider web"), pgettext("spider-web", "creepy trap")),
        ("scorpion", "1f982", N_("scorpion"), pgettext("scorpion", "danger")),
        ("t-rex", "1f996", N_("T. rex"), pgettext("t-rex", "dinosaur monster")),
        ("dinosaur", "1f995", N_("long-neck dinosaur"), pgettext("dinosaur", "sauropod")),
        ("octopus", "1f419", N_("octopus"), pgettext("octopus", "sea")),
        ("squid", "1f991", N_("squid"), pgettext("squid", "sea")),
        ("bat", "1f987", N_("bat"), pgettext("bat", "night")),
        ("rat", "1f400", N_("rat"), pgettext("rat", "creepy")),
        ("mosquito", "1f99f", N_("mosquito"), pgettext("mosquito", "insect bite")),
        ("cockroach", "1fab3", N_("cockroach"), pgettext("cockroach", "insect creepy")),
        ("fly", "1fab0", N_("fly"), pgettext("fly", "insect")),
        ("worm", "1fab1", N_("worm"), pgettext("worm", "creepy")),
        ("lizard", "1f98e", N_("lizard"), pgettext("lizard", "reptile")),
        ("jellyfish", "1fabc", N_("jellyfish"), pgettext("jellyfish", "sea sting")),
        ("crab", "1f980", N_("crab"), pgettext("crab", "sea pinch")),
        ("lobster", "1f99e", N_("lobster"), pgettext("lobster", "sea pinch")),
        ("germ", "1f9a0", N_("germ"), pgettext("germ", "microbe sick virus")),
        ("crow", "1f426-200d-2b1b", N_("black bird"), pgettext("crow", "crow raven")),
    ],
    "fantasy": [
        ("dragon", "1f409", N_("dragon"), pgettext("dragon", "monster myth")),
        ("dragon-face", "1f432", N_("dragon head"), pgettext("dragon-face", "monster")),
        ("unicorn", "1f984", N_("unicorn"), pgettext("unicorn", "magic horse")),
        ("wizard", "1f9d9", N_("wizard"), pgettext("wizard", "mage magic witch")),
        ("fairy", "1f9da", N_("fairy"), pgettext("fairy", "magic")),
        ("vampire", "1f9db", N_("vampire"), pgettext("vampire", "monster")),
        ("mermaid", "1f9dc-200d-2640-fe0f", N_("mermaid"), pgettext("mermaid", "sea myth")),
        ("merman", "1f9dc-200d-2642-fe0f", N_("merman"), pgettext("merman", "sea myth")),
        ("elf", "1f9dd", N_("elf"), pgettext("elf", "magic")),
        ("genie", "1f9de", N_("genie"), pgettext("genie", "magic wish")),
        ("zombie", "1f9df", N_("zombie"), pgettext("zombie", "monster")),
        ("troll", "1f9cc", N_("troll"), pgettext("troll", "monster")),
        ("superhero", "1f9b8", N_("superhero"), pgettext("superhero", "hero strong")),
        ("villain", "1f9b9", N_("villain"), pgettext("villain", "bad guy")),
        ("ninja", "1f977", N_("ninja"), pgettext("ninja", "fighter")),
        ("princess", "1f478", N_("princess"), pgettext("princess", "royal")),
        ("prince", "1f934", N_("prince"), pgettext("prince", "royal king")),
        ("crown", "1f451", N_("crown"), pgettext("crown", "king queen royal")),
        ("ghost", "1f47b", N_("ghost"), pgettext("ghost", "spooky")),
        ("alien", "1f47d", N_("alien"), pgettext("alien", "space")),
        ("space-monster", "1f47e", N_("space monster"), pgettext("space-monster", "alien game")),
        ("robot", "1f916", N_("robot"), pgettext("robot", "machine")),
        ("ogre", "1f479", N_("ogre"), pgettext("ogre", "monster")),
        ("goblin", "1f47a", N_("goblin"), pgettext("goblin", "monster mask")),
        ("skull", "1f480", N_("skull"), pgettext("skull", "death bones")),
        ("pumpkin", "1f383", N_("pumpkin lantern"), pgettext("pumpkin", "halloween")),
        ("clown", "1f921", N_("clown"), pgettext("clown", "circus")),
        ("santa", "1f385", N_("Santa"), pgettext("santa", "christmas father")),
        ("mrs-claus", "1f936", N_("Mrs Claus"), pgettext("mrs-claus", "christmas mother")),
        ("magic-wand", "1fa84", N_("magic wand"), pgettext("magic-wand", "magic")),
        ("crystal-ball", "1f52e", N_("crystal ball"), pgettext("crystal-ball", "magic future")),
        ("sword", "1f5e1", N_("sword"), pgettext("sword", "dagger fight")),
        ("crossed-swords", "2694", N_("crossed swords"), pgettext("crossed-swords", "fight battle")),
        ("shield", "1f6e1", N_("shield"), pgettext("shield", "protect safe")),
        ("bow", "1f3f9", N_("bow and arrow"), pgettext("bow", "archer")),
        ("gem", "1f48e", N_("treasure gem"), pgettext("gem", "diamond jewel")),
    ],
    "buildings": [
        ("house", "1f3e0", N_("house"), pgettext("house", "home")),
        ("house-garden", "1f3e1", N_("house with garden"), pgettext("house-garden", "home")),
        ("houses", "1f3d8", N_("houses"), pgettext("houses", "neighbours village")),
        ("old-house", "1f3da", N_("broken house"), pgettext("old-house", "derelict abandoned")),
        ("hut", "1f6d6", N_("hut"), pgettext("hut", "home")),
        ("school", "1f3eb", N_("school"), pgettext("school", "learn")),
        ("hospital", "1f3e5", N_("hospital"), pgettext("hospital", "doctor sick")),
        ("office", "1f3e2", N_("office"), pgettext("office", "work")),
        ("post-office", "1f3e3", N_("post office"), pgettext("post-office", "mail")),
        ("bank", "1f3e6", N_("bank"), pgettext("bank", "money")),
        ("hotel", "1f3e8", N_("hotel"), pgettext("hotel", "holiday")),
        ("shop", "1f3ea", N_("shop"), pgettext("shop", "store")),
        ("department-store", "1f3ec", N_("big shop"), pgettext("department-store", "store mall")),
        ("factory", "1f3ed", N_("factory"), pgettext("factory", "work")),
        ("castle", "1f3f0", N_("castle"), pgettext("castle", "king fort")),
        ("japanese-castle", "1f3ef", N_("tower castle"), pgettext("japanese-castle", "japan fort")),
        ("stadium", "1f3df", N_("stadium"), pgettext("stadium", "sport")),
        ("tent", "26fa", N_("tent"), pgettext("tent", "camping")),
        ("circus", "1f3aa", N_("circus tent"), pgettext("circus", "fun")),
        ("courthouse", "1f3db", N_("courthouse"), pgettext("courthouse", "classical building museum")),
        ("crane", "1f3d7", N_("building site"), pgettext("crane", "construction crane")),
        ("tower", "1f5fc", N_("tower"), pgettext("tower", "tall")),
        ("statue", "1f5fd", N_("statue"), pgettext("statue", "liberty")),
        ("ferris-wheel", "1f3a1", N_("big wheel"), pgettext("ferris-wheel", "fair")),
        ("carousel", "1f3a0", N_("carousel"), pgettext("carousel", "fair horse")),
        ("roller-coaster", "1f3a2", N_("roller coaster"), pgettext("roller-coaster", "fair")),
        ("fountain", "26f2", N_("fountain"), pgettext("fountain", "water park")),
        ("slide", "1f6dd", N_("playground slide"), pgettext("slide", "play park")),
        ("chapel", "1f492", N_("wedding chapel"), pgettext("chapel", "church marriage")),
        ("camp", "1f3d5", N_("camping"), pgettext("camp", "tent fire")),
        ("city", "1f3d9", N_("city"), pgettext("city", "town buildings")),
    ],
    "nature": [
        ("tree", "1f333", N_("tree"), pgettext("tree", "forest")),
        ("pine", "1f332", N_("pine tree"), pgettext("pine", "forest christmas")),
        ("palm", "1f334", N_("palm tree"), pgettext("palm", "beach island")),
        ("cactus", "1f335", N_("cactus"), pgettext("cactus", "desert prickly")),
        ("seedling", "1f331", N_("seedling"), pgettext("seedling", "grow plant")),
        ("herb", "1f33f", N_("grass"), pgettext("herb", "herb plant")),
        ("clover", "1f340", N_("four-leaf clover"), pgettext("clover", "luck")),
        ("maple-leaf", "1f341", N_("red leaf"), pgettext("maple-leaf", "autumn maple")),
        ("fallen-leaf", "1f342", N_("fallen leaves"), pgettext("fallen-leaf", "autumn")),
        ("mushroom", "1f344", N_("mushroom"), pgettext("mushroom", "toadstool forest")),
        ("rock", "1faa8", N_("rock"), pgettext("rock", "stone")),
        ("log", "1fab5", N_("log"), pgettext("log", "wood")),
        ("tulip", "1f337", N_("tulip"), pgettext("tulip", "flower")),
        ("rose", "1f339", N_("rose"), pgettext("rose", "flower love")),
        ("sunflower", "1f33b", N_("sunflower"), pgettext("sunflower", "flower")),
        ("hibiscus", "1f33a", N_("hibiscus"), pgettext("hibiscus", "flower")),
        ("flower", "1f33c", N_("flower"), pgettext("flower", "blossom")),
        ("cherry-blossom", "1f338", N_("cherry blossom"), pgettext("cherry-blossom", "flower pink")),
        ("bouquet", "1f490", N_("bouquet"), pgettext("bouquet", "flowers gift")),
        ("wilted-flower", "1f940", N_("wilted flower"), pgettext("wilted-flower", "sad dead")),
        ("lotus", "1fab7", N_("lotus"), pgettext("lotus", "flower water")),
        ("hyacinth", "1fabb", N_("hyacinth"), pgettext("hyacinth", "flower")),
        ("potted-plant", "1fab4", N_("potted plant"), pgettext("potted-plant", "plant")),
        ("mountain", "26f0", N_("mountain"), pgettext("mountain", "hill")),
        ("snowy-mountain", "1f3d4", N_("snowy mountain"), pgettext("snowy-mountain", "cold")),
        ("volcano", "1f30b", N_("volcano"), pgettext("volcano", "eruption angry")),
        ("island", "1f3dd", N_("island"), pgettext("island", "beach palm")),
        ("sun", "2600", N_("sun"), pgettext("sun", "sunny day")),
        ("moon", "1f319", N_("moon"), pgettext("moon", "night")),
        ("star", "2b50", N_("star"), pgettext("star", "night")),
        ("cloud", "2601", N_("cloud"), pgettext("cloud", "weather")),
        ("rain", "1f327", N_("rain cloud"), pgettext("rain", "weather sad")),
        ("lightning", "1f329", N_("thunderstorm"), pgettext("lightning", "lightning storm")),
        ("tornado", "1f32a", N_("tornado"), pgettext("tornado", "storm wind")),
        ("rainbow", "1f308", N_("rainbow"), pgettext("rainbow", "hope")),
        ("snowflake", "2744", N_("snowflake"), pgettext("snowflake", "cold winter")),
        ("fire", "1f525", N_("fire"), pgettext("fire", "hot flame")),
        ("droplet", "1f4a7", N_("water drop"), pgettext("droplet", "tear")),
        ("wave", "1f30a", N_("wave"), pgettext("wave", "sea water")),
        ("nest", "1faba", N_("nest with eggs"), pgettext("nest", "bird home")),
        ("egg", "1f95a", N_("egg"), pgettext("egg", "new")),
        ("shell", "1f41a", N_("shell"), pgettext("shell", "beach sea")),
        ("coral", "1fab8", N_("coral"), pgettext("coral", "sea")),
        ("snowman", "26c4", N_("snowman"), pgettext("snowman", "winter")),
        ("wheat", "1f33e", N_("wheat"), pgettext("wheat", "rice field")),
        ("apple", "1f34e", N_("apple"), pgettext("apple", "fruit tree")),
    ],
    "vehicles": [
        ("car", "1f697", N_("car"), pgettext("car", "drive")),
        ("taxi", "1f695", N_("taxi"), pgettext("taxi", "car")),
        ("police-car", "1f693", N_("police car"), pgettext("police-car", "help")),
        ("ambulance", "1f691", N_("ambulance"), pgettext("ambulance", "help hospital")),
        ("fire-engine", "1f692", N_("fire engine"), pgettext("fire-engine", "help fire truck")),
        ("bus", "1f68c", N_("bus"), pgettext("bus", "school")),
        ("minibus", "1f690", N_("minibus"), pgettext("minibus", "van")),
        ("truck", "1f69a", N_("delivery truck"), pgettext("truck", "lorry")),
        ("lorry", "1f69b", N_("lorry"), pgettext("lorry", "truck")),
        ("pickup", "1f6fb", N_("pickup truck"), pgettext("pickup", "car")),
        ("tractor", "1f69c", N_("tractor"), pgettext("tractor", "farm")),
        ("racing-car", "1f3ce", N_("racing car"), pgettext("racing-car", "fast")),
        ("motorbike", "1f3cd", N_("motorbike"), pgettext("motorbike", "motorcycle")),
        ("bicycle", "1f6b2", N_("bicycle"), pgettext("bicycle", "bike")),
        ("kick-scooter", "1f6f4", N_("kick scooter"), pgettext("kick-scooter", "scooter")),
        ("moped", "1f6f5", N_("moped"), pgettext("moped", "scooter")),
        ("skateboard", "1f6f9", N_("skateboard"), pgettext("skateboard", "skate")),
        ("train", "1f682", N_("steam train"), pgettext("train", "railway engine")),
        ("tram", "1f68a", N_("tram"), pgettext("tram", "railway")),
        ("plane", "2708", N_("aeroplane"), pgettext("plane", "airplane fly")),
        ("helicopter", "1f681", N_("helicopter"), pgettext("helicopter", "fly")),
        ("rocket", "1f680", N_("rocket"), pgettext("rocket", "space")),
        ("ufo", "1f6f8", N_("flying saucer"), pgettext("ufo", "ufo alien")),
        ("sailboat", "26f5", N_("sailing boat"), pgettext("sailboat", "boat sea")),
        ("speedboat", "1f6a4", N_("speedboat"), pgettext("speedboat", "boat")),
        ("ship", "1f6a2", N_("ship"), pgettext("ship", "boat sea")),
        ("canoe", "1f6f6", N_("canoe"), pgettext("canoe", "boat river")),
        ("cable-car", "1f6a0", N_("cable car"), pgettext("cable-car", "mountain")),
        ("wheelchair", "1f9bd", N_("wheelchair"), pgettext("wheelchair", "disability")),
        ("parachute", "1fa82", N_("parachute"), pgettext("parachute", "fall fly")),
    ],
    "barriers": [
        ("bricks", "1f9f1", N_("brick wall"), pgettext("bricks", "wall fence")),
        ("barrier", "1f6a7", N_("barrier"), pgettext("barrier", "fence roadworks")),
        ("bridge", "1f309", N_("bridge"), pgettext("bridge", "river night")),
        ("foggy-bridge", "1f301", N_("bridge in fog"), pgettext("foggy-bridge", "bridge")),
        ("chains", "26d3", N_("chains"), pgettext("chains", "locked")),
        ("door", "1f6aa", N_("door"), pgettext("door", "gate")),
        ("window", "1fa9f", N_("window"), pgettext("window", "look")),
        ("padlock", "1f512", N_("padlock"), pgettext("padlock", "locked")),
        ("unlocked", "1f513", N_("open padlock"), pgettext("unlocked", "unlocked free")),
        ("key", "1f511", N_("key"), pgettext("key", "open")),
        ("stop-sign", "1f6d1", N_("stop sign"), pgettext("stop-sign", "stop")),
        ("no-entry", "26d4", N_("no entry"), pgettext("no-entry", "forbidden stop")),
        ("prohibited", "1f6ab", N_("not allowed"), pgettext("prohibited", "prohibited no")),
        ("traffic-light", "1f6a6", N_("traffic light"), pgettext("traffic-light", "stop go")),
        ("traffic-light-side", "1f6a5", N_("sideways traffic light"), pgettext("traffic-light-side", "stop go")),
        ("railway", "1f6e4", N_("railway track"), pgettext("railway", "train")),
        ("road", "1f6e3", N_("road"), pgettext("road", "motorway")),
        ("warning", "26a0", N_("warning sign"), pgettext("warning", "danger")),
        ("crossing", "1f6b8", N_("children crossing"), pgettext("crossing", "road")),
        ("flag", "1f6a9", N_("flag"), pgettext("flag", "mark")),
        ("white-flag", "1f3f3", N_("white flag"), pgettext("white-flag", "peace give up")),
        ("finish-flag", "1f3c1", N_("finish flag"), pgettext("finish-flag", "race")),
        ("anchor", "2693", N_("anchor"), pgettext("anchor", "ship")),
        ("ring-buoy", "1f6df", N_("lifebuoy"), pgettext("ring-buoy", "rescue help")),
        ("ladder", "1fa9c", N_("ladder"), pgettext("ladder", "climb")),
    ],
    "household": [
        ("bed", "1f6cf", N_("bed"), pgettext("bed", "sleep")),
        ("couch", "1f6cb", N_("sofa and lamp"), pgettext("couch", "couch living room")),
        ("chair", "1fa91", N_("chair"), pgettext("chair", "sit")),
        ("toilet", "1f6bd", N_("toilet"), pgettext("toilet", "bathroom")),
        ("bathtub", "1f6c1", N_("bath"), pgettext("bathtub", "bathroom")),
        ("shower", "1f6bf", N_("shower"), pgettext("shower", "bathroom")),
        ("mirror", "1fa9e", N_("mirror"), pgettext("mirror", "look")),
        ("tv", "1f4fa", N_("television"), pgettext("tv", "tv screen")),
        ("mobile", "1f4f1", N_("mobile phone"), pgettext("mobile", "screen call")),
        ("telephone", "260e", N_("telephone"), pgettext("telephone", "call")),
        ("alarm-clock", "23f0", N_("alarm clock"), pgettext("alarm-clock", "time morning")),
        ("teddy", "1f9f8", N_("teddy bear"), pgettext("teddy", "toy comfort")),
        ("football", "26bd", N_("football"), pgettext("football", "ball play")),
        ("balloon", "1f388", N_("balloon"), pgettext("balloon", "party")),
        ("gift", "1f381", N_("present"), pgettext("gift", "gift birthday")),
        ("cake", "1f382", N_("birthday cake"), pgettext("cake", "party")),
        ("book", "1f4d6", N_("book"), pgettext("book", "read")),
        ("books", "1f4da", N_("books"), pgettext("books", "read school")),
        ("pencil", "270f", N_("pencil"), pgettext("pencil", "write school")),
        ("scissors", "2702", N_("scissors"), pgettext("scissors", "cut")),
        ("broom", "1f9f9", N_("broom"), pgettext("broom", "sweep clean")),
        ("basket", "1f9fa", N_("basket"), pgettext("basket", "carry")),
        ("bucket", "1faa3", N_("bucket"), pgettext("bucket", "sand beach")),
        ("plate", "1f37d", N_("plate and cutlery"), pgettext("plate", "dinner eat")),
        ("spoon", "1f944", N_("spoon"), pgettext("spoon", "eat")),
        ("teacup", "2615", N_("hot drink"), pgettext("teacup", "tea cup")),
        ("baby-bottle", "1f37c", N_("baby bottle"), pgettext("baby-bottle", "milk")),
        ("pill", "1f48a", N_("medicine"), pgettext("pill", "pill sick")),
        ("syringe", "1f489", N_("injection"), pgettext("syringe", "syringe doctor")),
        ("plaster", "1fa79", N_("plaster"), pgettext("plaster", "bandage hurt")),
        ("thermometer", "1f321", N_("thermometer"), pgettext("thermometer", "fever hot")),
        ("backpack", "1f392", N_("school bag"), pgettext("backpack", "backpack")),
        ("umbrella", "2602", N_("umbrella"), pgettext("umbrella", "rain")),
        ("glasses", "1f453", N_("glasses"), pgettext("glasses", "see")),
        ("ice-cream", "1f366", N_("ice cream"), pgettext("ice-cream", "treat")),
        ("pizza", "1f355", N_("pizza"), pgettext("pizza", "food")),
        ("bread", "1f35e", N_("bread"), pgettext("bread", "food")),
        ("money-bag", "1f4b0", N_("money bag"), pgettext("money-bag", "treasure rich")),
        ("coin", "1fa99", N_("coin"), pgettext("coin", "money")),
        ("laptop", "1f4bb", N_("laptop"), pgettext("laptop", "computer screen")),
        ("radio", "1f4fb", N_("radio"), pgettext("radio", "music")),
        ("guitar", "1f3b8", N_("guitar"), pgettext("guitar", "music")),
        ("drum", "1f941", N_("drum"), pgettext("drum", "music loud")),
        ("kite", "1fa81", N_("kite"), pgettext("kite", "toy wind")),
        ("puzzle", "1f9e9", N_("puzzle piece"), pgettext("puzzle", "toy")),
        ("yo-yo", "1fa80", N_("yo-yo"), pgettext("yo-yo", "toy")),
        ("nesting-dolls", "1fa86", N_("nesting dolls"), pgettext("nesting-dolls", "toy family")),
        ("crayon", "1f58d", N_("crayon"), pgettext("crayon", "draw")),
        ("camera", "1f4f7", N_("camera"), pgettext("camera", "photo")),
        ("suitcase", "1f9f3", N_("suitcase"), pgettext("suitcase", "travel leave")),
        ("cart", "1f6d2", N_("shopping trolley"), pgettext("cart", "cart shop")),
        ("bin", "1f5d1", N_("bin"), pgettext("bin", "wastebasket rubbish")),
    ],
    "feelings": [
        ("happy", "1f600", N_("happy face"), pgettext("happy", "glad joy")),
        ("smile", "1f60a", N_("smiling face"), pgettext("smile", "happy")),
        ("laughing", "1f606", N_("laughing face"), pgettext("laughing", "funny happy")),
        ("in-love", "1f60d", N_("loving face"), pgettext("in-love", "love")),
        ("cool", "1f60e", N_("cool face"), pgettext("cool", "proud")),
        ("silly", "1f61c", N_("silly face"), pgettext("silly", "joke")),
        ("hug-face", "1f917", N_("hugging face"), pgettext("hug-face", "hug warm")),
        ("thinking", "1f914", N_("thinking face"), pgettext("thinking", "wonder")),
        ("neutral", "1f610", N_("blank face"), pgettext("neutral", "neutral okay")),
        ("confused", "1f615", N_("confused face"), pgettext("confused", "unsure")),
        ("worried", "1f61f", N_("worried face"), pgettext("worried", "anxious")),
        ("crying", "1f622", N_("crying face"), pgettext("crying", "sad tear")),
        ("sobbing", "1f62d", N_("sobbing face"), pgettext("sobbing", "very sad cry")),
        ("pensive", "1f614", N_("sad face"), pgettext("pensive", "down lonely")),
        ("angry", "1f620", N_("angry face"), pgettext("angry", "cross mad")),
        ("furious", "1f621", N_("furious face"), pgettext("furious", "very angry rage")),
        ("scared", "1f628", N_("scared face"), pgettext("scared", "afraid fear")),
        ("screaming", "1f631", N_("screaming face"), pgettext("screaming", "terrified fear")),
        ("anxious", "1f630", N_("anxious face"), pgettext("anxious", "nervous worried")),
        ("surprised", "1f62e", N_("surprised face"), pgettext("surprised", "wow")),
        ("sleepy", "1f634", N_("sleepy face"), pgettext("sleepy", "tired")),
        ("unwell", "1f912", N_("sick face"), pgettext("unwell", "ill fever")),
        ("nauseated", "1f922", N_("queasy face"), pgettext("nauseated", "sick")),
        ("embarrassed", "1f633", N_("embarrassed face"), pgettext("embarrassed", "shy")),
        ("mind-blown", "1f92f", N_("mind blown"), pgettext("mind-blown", "overwhelmed shocked")),
        ("zipped", "1f910", N_("zipped mouth"), pgettext("zipped", "secret quiet")),
        ("relieved", "1f60c", N_("relieved face"), pgettext("relieved", "calm")),
        ("heart", "2764", N_("heart"), pgettext("heart", "love")),
        ("broken-heart", "1f494", N_("broken heart"), pgettext("broken-heart", "sad loss")),
        ("sparkles", "2728", N_("sparkles"), pgettext("sparkles", "magic special")),
        ("question", "2753", N_("question mark"), pgettext("question", "unsure why")),
        ("exclamation", "2757", N_("exclamation mark"), pgettext("exclamation", "important")),
        ("check", "2705", N_("tick"), pgettext("check", "yes done")),
        ("cross-mark", "274c", N_("cross"), pgettext("cross-mark", "no wrong")),
        ("zzz", "1f4a4", N_("sleeping"), pgettext("zzz", "zzz tired")),
        ("anger-mark", "1f4a2", N_("anger sign"), pgettext("anger-mark", "angry")),
        ("speech", "1f4ac", N_("speech bubble"), pgettext("speech", "talk say")),
        ("thought", "1f4ad", N_("thought bubble"), pgettext("thought", "think")),
        ("thumbsup", "1f44d", N_("thumbs up"), pgettext("thumbsup", "good yes")),
        ("thumbsdown", "1f44e", N_("thumbs down"), pgettext("thumbsdown", "bad no")),
        ("clap", "1f44f", N_("clapping hands"), pgettext("clap", "well done")),
        ("raised-hand", "270b", N_("raised hand"), pgettext("raised-hand", "stop hello")),
        ("handshake", "1f91d", N_("handshake"), pgettext("handshake", "friends agree")),
        ("eye", "1f441", N_("eye"), pgettext("eye", "see watch")),
        ("footprints", "1f463", N_("footprints"), pgettext("footprints", "steps path")),
        ("hourglass", "231b", N_("hourglass"), pgettext("hourglass", "time wait")),
        ("trophy", "1f3c6", N_("trophy"), pgettext("trophy", "win proud")),
        ("medal", "1f3c5", N_("medal"), pgettext("medal", "win proud")),
        ("infinity", "267e", N_("infinity"), pgettext("infinity", "forever")),
    ],
    "spiritual": [
        ("church", "26ea", N_("church"), pgettext("church", "christian")),
        ("mosque", "1f54c", N_("mosque"), pgettext("mosque", "muslim islam")),
        ("synagogue", "1f54d", N_("synagogue"), pgettext("synagogue", "jewish")),
        ("hindu-temple", "1f6d5", N_("Hindu temple"), pgettext("hindu-temple", "hindu")),
        ("kaaba", "1f54b", N_("Kaaba"), pgettext("kaaba", "muslim islam")),
        ("shinto-shrine", "26e9", N_("Shinto shrine"), pgettext("shinto-shrine", "japan")),
        ("place-of-worship", "1f6d0", N_("place of worship"), pgettext("place-of-worship", "pray")),
        ("latin-cross", "271d", N_("cross"), pgettext("latin-cross", "christian")),
        ("orthodox-cross", "2626", N_("Orthodox cross"), pgettext("orthodox-cross", "christian")),
        ("star-of-david", "2721", N_("Star of David"), pgettext("star-of-david", "jewish")),
        ("star-crescent", "262a", N_("star and crescent"), pgettext("star-crescent", "muslim islam")),
        ("om", "1f549", N_("Om"), pgettext("om", "hindu buddhist")),
        ("dharma-wheel", "2638", N_("wheel of dharma"), pgettext("dharma-wheel", "buddhist")),
        ("menorah", "1f54e", N_("menorah"), pgettext("menorah", "jewish")),
        ("khanda", "1faaf", N_("Khanda"), pgettext("khanda", "sikh")),
        ("yin-yang", "262f", N_("yin yang"), pgettext("yin-yang", "balance")),
        ("peace", "262e", N_("peace sign"), pgettext("peace", "peace")),
        ("dove", "1f54a", N_("dove"), pgettext("dove", "peace bird")),
        ("prayer-beads", "1f4ff", N_("prayer beads"), pgettext("prayer-beads", "pray")),
        ("praying-hands", "1f64f", N_("praying hands"), pgettext("praying-hands", "pray thank you please")),
        ("angel", "1f47c", N_("angel"), pgettext("angel", "baby heaven")),
        ("halo-face", "1f607", N_("face with halo"), pgettext("halo-face", "good angel")),
        ("candle", "1f56f", N_("candle"), pgettext("candle", "light remember")),
        ("diya", "1fa94", N_("diya lamp"), pgettext("diya", "light diwali")),
        ("hamsa", "1faac", N_("hamsa"), pgettext("hamsa", "protection hand")),
        ("nazar", "1f9ff", N_("nazar amulet"), pgettext("nazar", "protection eye")),
        ("meditation", "1f9d8", N_("person meditating"), pgettext("meditation", "calm lotus")),
        ("headstone", "1faa6", N_("headstone"), pgettext("headstone", "grave death remember")),
        ("coffin", "26b0", N_("coffin"), pgettext("coffin", "death funeral")),
        ("urn", "26b1", N_("funeral urn"), pgettext("urn", "death remember")),
        ("bell", "1f514", N_("bell"), pgettext("bell", "ring")),
    ],
}


def _words(text):
    """The search words of a name or tag text: lower case, no brackets or commas."""
    return list(dict.fromkeys(text.lower().replace("(", "").replace(")", "").replace(",", "").split()))


def _figure_table():
    """Build FIGURES: id -> {id, file, name, tags, category, licence} in English (the
    source language; `figure_name` / `figure_words` give them in a reader's, from the
    catalog messages kept in "_msg": name, tags' context, tags, skin tone or None).
    Skin tones are generated so every toned person gets the same tag vocabulary."""
    rows = []
    for prefix, code, name, tags in _TONED:
        for k, (tone, tone_name) in enumerate(_TONES, 1):
            rows.append(("people", f"{prefix}-{k}", f"{code}-{tone}", name, tags, prefix, tone_name))
    for cat, entries in _FIGURES.items():
        rows += [(cat, fid, code, name, tags, fid, None) for fid, code, name, tags in entries]
    table = {}
    for cat, fid, code, name, tags, ctx, tone in rows:
        assert fid not in table, f"figure id {fid} twice"
        fig = {"id": fid, "file": code, "name": name, "tags": [], "category": cat,
               "licence": FIGURE_LICENCE, "_msg": (name, ctx, tags, tone)}
        fig["name"] = figure_name(fig)
        fig["tags"] = figure_words(fig)
        table[fid] = fig
    return table


def figure_name(fig, tr=ENGLISH):
    """A figure's name in the reader's language (what a screen reader says)."""
    name, _, _, tone = fig["_msg"]
    if tone is None:
        return tr.gettext(name)
    return tr.gettext(SKIN_NAME, name=tr.gettext(name), tone=tr.pgettext("skin tone", tone))


def figure_words(fig, tr=ENGLISH):
    """A figure's search words in the reader's language: its name's words, then its
    tags (and, for a person in a skin tone, the skin words and the tone)."""
    name, ctx, tags, tone = fig["_msg"]
    text = f"{tr.gettext(name)} {tr.pgettext(ctx, tags)}"
    if tone is not None:
        text += f" {tr.pgettext('search words', SKIN_WORDS)} {tr.pgettext('skin tone', tone)}"
    return _words(text)


def category_title(title, tr=ENGLISH):
    return tr.gettext(title)


def label(pid, tr=ENGLISH):
    """The label a screen reader speaks for picture `pid`, in the reader's language."""
    fig = FIGURES.get(pid)
    if fig is not None and CATALOG[pid][1] == fig["name"]:
        return figure_name(fig, tr)
    return tr.gettext(CATALOG[pid][1])


FIGURES = _figure_table()
for _fid, _fig in FIGURES.items():
    # A figure id may reuse a picture id above only for the very same picture.
    assert CATALOG.get(_fid, (_fig["file"],))[0] == _fig["file"], f"picture id {_fid} clashes"
    CATALOG.setdefault(_fid, (_fig["file"], _fig["name"]))
# The sand tray's tab icon.
CATALOG.setdefault("sandtray", ("1f3d6", N_("sand tray")))
