"""The picture set: avatars, stamps and icons, served by the app and drawn by the server.

Pictures are Twemoji SVGs (graphics CC-BY 4.0, Twitter/X and contributors; the npm
package @twemoji/svg is MIT), installed from the npm registry at set-up time. Every
device shows the same picture (no emoji from the device's font) and the server
renderer rasterises the same file with resvg, so exports match the screen.

A picture id is a short, stable name; the catalog maps it to a Twemoji file. Only
ids in the catalog are ever served or accepted in ops.
"""
import io
import os
from functools import lru_cache

from PIL import Image

SOURCE = "@twemoji/svg"
CREDIT = ("Pictures: Twemoji by Twitter/X and contributors, licensed CC-BY 4.0 "
          "(https://creativecommons.org/licenses/by/4.0/).")

# id -> (Twemoji codepoint file, label a screen reader speaks)
CATALOG = {
    # avatars
    "cat": ("1f431", "cat"), "dog": ("1f436", "dog"), "fox": ("1f98a", "fox"),
    "lion": ("1f981", "lion"), "panda": ("1f43c", "panda"), "rabbit": ("1f430", "rabbit"),
    "unicorn": ("1f984", "unicorn"), "frog": ("1f438", "frog"), "owl": ("1f989", "owl"),
    "turtle": ("1f422", "turtle"), "octopus": ("1f419", "octopus"), "bear": ("1f43b", "bear"),
    "monkey": ("1f435", "monkey"), "penguin": ("1f427", "penguin"), "koala": ("1f428", "koala"),
    "tiger": ("1f42f", "tiger"),
    # stamps
    "star": ("2b50", "star"), "heart": ("2764", "heart"), "smile": ("1f60a", "smiling face"),
    "sun": ("2600", "sun"), "rainbow": ("1f308", "rainbow"), "flower": ("1f33c", "flower"),
    "butterfly": ("1f98b", "butterfly"), "dragon": ("1f409", "dragon"),
    "house": ("1f3e0", "house"), "tree": ("1f333", "tree"), "balloon": ("1f388", "balloon"),
    "rocket": ("1f680", "rocket"), "thumbsup": ("1f44d", "thumbs up"),
    "sparkles": ("2728", "sparkles"), "cloud": ("2601", "cloud"), "ladybug": ("1f41e", "ladybug"),
    # icons used by the room shell
    "palette": ("1f3a8", "drawing"), "crayon": ("1f58d", "crayon"),
    # calm corner and check-in
    "calm-corner": ("1f9d8", "calm corner"), "calm-tulip": ("1f337", "flower"),
    "calm-hand": ("1f590", "hand"), "calm-orb": ("1f535", "circle"),
    "calm-box": ("1f7e6", "box"), "calm-timer": ("23f3", "timer"),
    "calm-sound-on": ("1f50a", "sound on"), "calm-sound-off": ("1f507", "sound off"),
    "calm-well-done": ("1f31f", "well done"),
    "sense-see": ("1f440", "see"), "sense-touch": ("270b", "touch"),
    "sense-hear": ("1f442", "hear"), "sense-smell": ("1f443", "smell"),
    "sense-taste": ("1f445", "taste"),
    "feelings": ("1f321", "feelings"), "feel-1": ("1f622", "very upset"),
    "feel-2": ("1f61f", "a bit upset"), "feel-3": ("1f610", "okay"),
    "feel-4": ("1f642", "good"), "feel-5": ("1f604", "great"),
}

AVATARS = ["cat", "dog", "fox", "lion", "panda", "rabbit", "unicorn", "frog", "owl",
           "turtle", "octopus", "bear", "monkey", "penguin", "koala", "tiger"]
STAMPS = ["star", "heart", "smile", "sun", "rainbow", "flower", "butterfly", "dragon",
          "house", "tree", "balloon", "rocket", "thumbsup", "sparkles", "cloud", "ladybug"]


def svg_dir(root):
    return os.path.join(root, "node_modules", "@twemoji", "svg")


def svg_path(root, pid):
    """Path of the SVG for picture id `pid`, or None when it is not in the catalog."""
    entry = CATALOG.get(pid) if isinstance(pid, str) else None
    return os.path.join(svg_dir(root), entry[0] + ".svg") if entry else None


def url(pid):
    return f"/pictures/{pid}.svg"


def client_config():
    return {pid: {"url": url(pid), "label": label} for pid, (_, label) in CATALOG.items()}


@lru_cache(maxsize=256)
def raster(root, pid, size):
    """The picture as an RGBA image of size×size pixels (cached; callers must copy
    before drawing on it)."""
    import resvg_py  # imported lazily: only renderers need it

    path = svg_path(root, pid)
    png = resvg_py.svg_to_bytes(svg_path=path, width=size, height=size)
    with Image.open(io.BytesIO(bytes(png))) as im:
        return im.convert("RGBA")


# ====================================================================== sand tray figures
# (This region belongs to the sand tray; other picture ids are defined above.)
#
# The miniatures on the sand tray's shelf. Each figure has an id (its picture id), a
# name (spoken by screen readers, searched), tags (searched), a category (a shelf
# tab) and a licence record. All are Twemoji graphics, so all share one licence.
FIGURE_LICENCE = {
    "licence": "CC-BY-4.0",
    "url": "https://creativecommons.org/licenses/by/4.0/",
    "author": "Twitter/X and contributors (Twemoji)",
    "source": "npm @twemoji/svg 15.0.0",
}

# (id, title, icon figure), in shelf order.
FIGURE_CATEGORIES = [
    ("people", "People and families", "family"),
    ("pets", "Pets and farm animals", "dog-body"),
    ("wild", "Wild animals", "lion"),
    ("scary", "Scary creatures", "crocodile"),
    ("fantasy", "Fantasy and myth", "dragon"),
    ("buildings", "Buildings", "house"),
    ("nature", "Trees, rocks and flowers", "tree"),
    ("vehicles", "Vehicles", "car"),
    ("barriers", "Fences, bridges and barriers", "bricks"),
    ("household", "At home", "teddy"),
    ("feelings", "Feelings and symbols", "heart"),
    ("spiritual", "Spiritual", "dove"),
]

_TONES = [("1f3fb", "light"), ("1f3fc", "medium-light"), ("1f3fd", "medium"),
          ("1f3fe", "medium-dark"), ("1f3ff", "dark")]
# People in five skin tones: (id prefix, codepoint, name, tags).
_TONED = [
    ("baby", "1f476", "baby", "infant newborn little brother sister young"),
    ("girl", "1f467", "girl", "child kid daughter sister young"),
    ("boy", "1f466", "boy", "child kid son brother young"),
    ("woman", "1f469", "woman", "mum mom mother aunt adult grown-up"),
    ("man", "1f468", "man", "dad father uncle adult grown-up"),
    ("grandma", "1f475", "grandma", "old woman grandmother granny elder"),
    ("grandpa", "1f474", "grandpa", "old man grandfather grandad elder"),
]

# category -> [(id, Twemoji file, name, tags)]
_FIGURES = {
    "people": [
        ("child", "1f9d2", "child", "kid young"),
        ("person", "1f9d1", "person", "adult grown-up"),
        ("older-person", "1f9d3", "older person", "old elder grandparent"),
        ("family", "1f46a", "family", "parents children mum dad"),
        ("family-mwb", "1f468-200d-1f469-200d-1f466", "mum, dad and boy", "family parents son"),
        ("family-wwg", "1f469-200d-1f469-200d-1f467", "two mums and a girl", "family mothers daughter"),
        ("family-mmb", "1f468-200d-1f468-200d-1f466", "two dads and a boy", "family fathers son"),
        ("mum-girl", "1f469-200d-1f467", "mum and girl", "family mother daughter single parent"),
        ("dad-boy", "1f468-200d-1f466", "dad and boy", "family father son single parent"),
        ("couple", "1f491", "couple in love", "parents love heart"),
        ("holding-hands", "1f9d1-200d-1f91d-200d-1f9d1", "people holding hands", "friends together"),
        ("hugging", "1fac2", "people hugging", "hug comfort together"),
        ("pregnant", "1f930", "pregnant woman", "mother baby expecting"),
        ("breastfeeding", "1f931", "feeding a baby", "mother baby"),
        ("wheelchair-user", "1f9d1-200d-1f9bd", "person in a wheelchair", "disability"),
        ("white-cane", "1f9d1-200d-1f9af", "person with a white cane", "blind disability"),
        ("walking", "1f6b6", "person walking", "walk"),
        ("running", "1f3c3", "person running", "run away"),
        ("kneeling", "1f9ce", "person kneeling", "kneel"),
        ("standing", "1f9cd", "person standing", "stand"),
        ("police", "1f46e", "police officer", "cop help safety"),
        ("doctor", "1f9d1-200d-2695-fe0f", "doctor", "nurse health hospital"),
        ("teacher", "1f9d1-200d-1f3eb", "teacher", "school"),
        ("firefighter", "1f9d1-200d-1f692", "firefighter", "fire help"),
        ("farmer", "1f9d1-200d-1f33e", "farmer", "farm"),
        ("cook", "1f9d1-200d-1f373", "cook", "chef food"),
        ("astronaut", "1f9d1-200d-1f680", "astronaut", "space"),
        ("judge", "1f9d1-200d-2696-fe0f", "judge", "court law"),
        ("guard", "1f482", "guard", "soldier"),
        ("builder", "1f477", "builder", "construction worker"),
        ("bride", "1f470", "bride", "wedding"),
        ("sleeper", "1f6cc", "person in bed", "sleep night"),
    ],
    "pets": [
        ("dog-body", "1f415", "dog", "pet puppy"),
        ("guide-dog", "1f9ae", "guide dog", "pet help"),
        ("poodle", "1f429", "poodle", "dog pet"),
        ("cat-body", "1f408", "cat", "pet kitten"),
        ("black-cat", "1f408-200d-2b1b", "black cat", "pet"),
        ("rabbit-body", "1f407", "rabbit", "bunny pet"),
        ("hamster", "1f439", "hamster", "pet"),
        ("mouse", "1f401", "mouse", "pet"),
        ("horse", "1f40e", "horse", "pony farm"),
        ("donkey", "1facf", "donkey", "farm"),
        ("cow", "1f404", "cow", "farm"),
        ("ox", "1f402", "ox", "bull farm"),
        ("pig", "1f416", "pig", "farm"),
        ("sheep", "1f411", "sheep", "lamb farm"),
        ("goat", "1f410", "goat", "farm"),
        ("chicken", "1f414", "chicken", "hen farm bird"),
        ("rooster", "1f413", "rooster", "farm bird"),
        ("chick", "1f425", "chick", "baby bird"),
        ("hatching", "1f423", "hatching chick", "egg baby bird"),
        ("duck", "1f986", "duck", "bird pond"),
        ("goose", "1fabf", "goose", "bird farm"),
        ("turkey", "1f983", "turkey", "bird farm"),
        ("parrot", "1f99c", "parrot", "bird pet"),
        ("fish", "1f41f", "fish", "pet water"),
        ("tropical-fish", "1f420", "tropical fish", "pet water"),
        ("turtle", "1f422", "turtle", "tortoise pet"),
        ("llama", "1f999", "llama", "alpaca farm"),
        ("camel", "1f42b", "camel", "desert"),
    ],
    "wild": [
        ("lion", "1f981", "lion", "king jungle"),
        ("tiger-body", "1f405", "tiger", "jungle"),
        ("leopard", "1f406", "leopard", "jungle"),
        ("elephant", "1f418", "elephant", "jungle"),
        ("giraffe", "1f992", "giraffe", "africa"),
        ("zebra", "1f993", "zebra", "africa"),
        ("monkey-body", "1f412", "monkey", "jungle"),
        ("gorilla", "1f98d", "gorilla", "ape jungle"),
        ("orangutan", "1f9a7", "orangutan", "ape jungle"),
        ("bear", "1f43b", "bear", "forest"),
        ("polar-bear", "1f43b-200d-2744-fe0f", "polar bear", "snow ice"),
        ("panda", "1f43c", "panda", "bear"),
        ("koala", "1f428", "koala", "australia"),
        ("kangaroo", "1f998", "kangaroo", "australia"),
        ("deer", "1f98c", "deer", "forest"),
        ("moose", "1face", "moose", "forest"),
        ("rhino", "1f98f", "rhinoceros", "rhino africa"),
        ("hippo", "1f99b", "hippopotamus", "hippo africa"),
        ("fox", "1f98a", "fox", "forest"),
        ("raccoon", "1f99d", "raccoon", "forest"),
        ("hedgehog", "1f994", "hedgehog", "forest"),
        ("chipmunk", "1f43f", "chipmunk", "squirrel forest"),
        ("sloth", "1f9a5", "sloth", "slow jungle"),
        ("otter", "1f9a6", "otter", "river water"),
        ("beaver", "1f9ab", "beaver", "river"),
        ("bison", "1f9ac", "bison", "buffalo"),
        ("owl", "1f989", "owl", "bird night wise"),
        ("eagle", "1f985", "eagle", "bird"),
        ("penguin", "1f427", "penguin", "bird ice"),
        ("flamingo", "1f9a9", "flamingo", "bird"),
        ("peacock", "1f99a", "peacock", "bird"),
        ("swan", "1f9a2", "swan", "bird water"),
        ("dolphin", "1f42c", "dolphin", "sea water"),
        ("whale", "1f40b", "whale", "sea water"),
        ("seal", "1f9ad", "seal", "sea water"),
        ("butterfly", "1f98b", "butterfly", "insect"),
        ("bee", "1f41d", "bee", "insect"),
        ("ladybug", "1f41e", "ladybird", "ladybug insect"),
        ("snail", "1f40c", "snail", "slow"),
        ("frog", "1f438", "frog", "pond"),
    ],
    "scary": [
        ("crocodile", "1f40a", "crocodile", "alligator danger"),
        ("snake", "1f40d", "snake", "danger"),
        ("shark", "1f988", "shark", "sea danger"),
        ("wolf", "1f43a", "wolf", "danger forest"),
        ("boar", "1f417", "wild boar", "pig danger"),
        ("spider", "1f577", "spider", "creepy"),
        ("spider-web", "1f578", "spider web", "creepy trap"),
        ("scorpion", "1f982", "scorpion", "danger"),
        ("t-rex", "1f996", "T. rex", "dinosaur monster"),
        ("dinosaur", "1f995", "long-neck dinosaur", "sauropod"),
        ("octopus", "1f419", "octopus", "sea"),
        ("squid", "1f991", "squid", "sea"),
        ("bat", "1f987", "bat", "night"),
        ("rat", "1f400", "rat", "creepy"),
        ("mosquito", "1f99f", "mosquito", "insect bite"),
        ("cockroach", "1fab3", "cockroach", "insect creepy"),
        ("fly", "1fab0", "fly", "insect"),
        ("worm", "1fab1", "worm", "creepy"),
        ("lizard", "1f98e", "lizard", "reptile"),
        ("jellyfish", "1fabc", "jellyfish", "sea sting"),
        ("crab", "1f980", "crab", "sea pinch"),
        ("lobster", "1f99e", "lobster", "sea pinch"),
        ("germ", "1f9a0", "germ", "microbe sick virus"),
        ("crow", "1f426-200d-2b1b", "black bird", "crow raven"),
    ],
    "fantasy": [
        ("dragon", "1f409", "dragon", "monster myth"),
        ("dragon-face", "1f432", "dragon head", "monster"),
        ("unicorn", "1f984", "unicorn", "magic horse"),
        ("wizard", "1f9d9", "wizard", "mage magic witch"),
        ("fairy", "1f9da", "fairy", "magic"),
        ("vampire", "1f9db", "vampire", "monster"),
        ("mermaid", "1f9dc-200d-2640-fe0f", "mermaid", "sea myth"),
        ("merman", "1f9dc-200d-2642-fe0f", "merman", "sea myth"),
        ("elf", "1f9dd", "elf", "magic"),
        ("genie", "1f9de", "genie", "magic wish"),
        ("zombie", "1f9df", "zombie", "monster"),
        ("troll", "1f9cc", "troll", "monster"),
        ("superhero", "1f9b8", "superhero", "hero strong"),
        ("villain", "1f9b9", "villain", "bad guy"),
        ("ninja", "1f977", "ninja", "fighter"),
        ("princess", "1f478", "princess", "royal"),
        ("prince", "1f934", "prince", "royal king"),
        ("crown", "1f451", "crown", "king queen royal"),
        ("ghost", "1f47b", "ghost", "spooky"),
        ("alien", "1f47d", "alien", "space"),
        ("space-monster", "1f47e", "space monster", "alien game"),
        ("robot", "1f916", "robot", "machine"),
        ("ogre", "1f479", "ogre", "monster"),
        ("goblin", "1f47a", "goblin", "monster mask"),
        ("skull", "1f480", "skull", "death bones"),
        ("pumpkin", "1f383", "pumpkin lantern", "halloween"),
        ("clown", "1f921", "clown", "circus"),
        ("santa", "1f385", "Santa", "christmas father"),
        ("mrs-claus", "1f936", "Mrs Claus", "christmas mother"),
        ("magic-wand", "1fa84", "magic wand", "magic"),
        ("crystal-ball", "1f52e", "crystal ball", "magic future"),
        ("sword", "1f5e1", "sword", "dagger fight"),
        ("crossed-swords", "2694", "crossed swords", "fight battle"),
        ("shield", "1f6e1", "shield", "protect safe"),
        ("bow", "1f3f9", "bow and arrow", "archer"),
        ("gem", "1f48e", "treasure gem", "diamond jewel"),
    ],
    "buildings": [
        ("house", "1f3e0", "house", "home"),
        ("house-garden", "1f3e1", "house with garden", "home"),
        ("houses", "1f3d8", "houses", "neighbours village"),
        ("old-house", "1f3da", "broken house", "derelict abandoned"),
        ("hut", "1f6d6", "hut", "home"),
        ("school", "1f3eb", "school", "learn"),
        ("hospital", "1f3e5", "hospital", "doctor sick"),
        ("office", "1f3e2", "office", "work"),
        ("post-office", "1f3e3", "post office", "mail"),
        ("bank", "1f3e6", "bank", "money"),
        ("hotel", "1f3e8", "hotel", "holiday"),
        ("shop", "1f3ea", "shop", "store"),
        ("department-store", "1f3ec", "big shop", "store mall"),
        ("factory", "1f3ed", "factory", "work"),
        ("castle", "1f3f0", "castle", "king fort"),
        ("japanese-castle", "1f3ef", "tower castle", "japan fort"),
        ("stadium", "1f3df", "stadium", "sport"),
        ("tent", "26fa", "tent", "camping"),
        ("circus", "1f3aa", "circus tent", "fun"),
        ("courthouse", "1f3db", "courthouse", "classical building museum"),
        ("crane", "1f3d7", "building site", "construction crane"),
        ("tower", "1f5fc", "tower", "tall"),
        ("statue", "1f5fd", "statue", "liberty"),
        ("ferris-wheel", "1f3a1", "big wheel", "fair"),
        ("carousel", "1f3a0", "carousel", "fair horse"),
        ("roller-coaster", "1f3a2", "roller coaster", "fair"),
        ("fountain", "26f2", "fountain", "water park"),
        ("slide", "1f6dd", "playground slide", "play park"),
        ("chapel", "1f492", "wedding chapel", "church marriage"),
        ("camp", "1f3d5", "camping", "tent fire"),
        ("city", "1f3d9", "city", "town buildings"),
    ],
    "nature": [
        ("tree", "1f333", "tree", "forest"),
        ("pine", "1f332", "pine tree", "forest christmas"),
        ("palm", "1f334", "palm tree", "beach island"),
        ("cactus", "1f335", "cactus", "desert prickly"),
        ("seedling", "1f331", "seedling", "grow plant"),
        ("herb", "1f33f", "grass", "herb plant"),
        ("clover", "1f340", "four-leaf clover", "luck"),
        ("maple-leaf", "1f341", "red leaf", "autumn maple"),
        ("fallen-leaf", "1f342", "fallen leaves", "autumn"),
        ("mushroom", "1f344", "mushroom", "toadstool forest"),
        ("rock", "1faa8", "rock", "stone"),
        ("log", "1fab5", "log", "wood"),
        ("tulip", "1f337", "tulip", "flower"),
        ("rose", "1f339", "rose", "flower love"),
        ("sunflower", "1f33b", "sunflower", "flower"),
        ("hibiscus", "1f33a", "hibiscus", "flower"),
        ("flower", "1f33c", "flower", "blossom"),
        ("cherry-blossom", "1f338", "cherry blossom", "flower pink"),
        ("bouquet", "1f490", "bouquet", "flowers gift"),
        ("wilted-flower", "1f940", "wilted flower", "sad dead"),
        ("lotus", "1fab7", "lotus", "flower water"),
        ("hyacinth", "1fabb", "hyacinth", "flower"),
        ("potted-plant", "1fab4", "potted plant", "plant"),
        ("mountain", "26f0", "mountain", "hill"),
        ("snowy-mountain", "1f3d4", "snowy mountain", "cold"),
        ("volcano", "1f30b", "volcano", "eruption angry"),
        ("island", "1f3dd", "island", "beach palm"),
        ("sun", "2600", "sun", "sunny day"),
        ("moon", "1f319", "moon", "night"),
        ("star", "2b50", "star", "night"),
        ("cloud", "2601", "cloud", "weather"),
        ("rain", "1f327", "rain cloud", "weather sad"),
        ("lightning", "1f329", "thunderstorm", "lightning storm"),
        ("tornado", "1f32a", "tornado", "storm wind"),
        ("rainbow", "1f308", "rainbow", "hope"),
        ("snowflake", "2744", "snowflake", "cold winter"),
        ("fire", "1f525", "fire", "hot flame"),
        ("droplet", "1f4a7", "water drop", "tear"),
        ("wave", "1f30a", "wave", "sea water"),
        ("nest", "1faba", "nest with eggs", "bird home"),
        ("egg", "1f95a", "egg", "new"),
        ("shell", "1f41a", "shell", "beach sea"),
        ("coral", "1fab8", "coral", "sea"),
        ("snowman", "26c4", "snowman", "winter"),
        ("wheat", "1f33e", "wheat", "rice field"),
        ("apple", "1f34e", "apple", "fruit tree"),
    ],
    "vehicles": [
        ("car", "1f697", "car", "drive"),
        ("taxi", "1f695", "taxi", "car"),
        ("police-car", "1f693", "police car", "help"),
        ("ambulance", "1f691", "ambulance", "help hospital"),
        ("fire-engine", "1f692", "fire engine", "help fire truck"),
        ("bus", "1f68c", "bus", "school"),
        ("minibus", "1f690", "minibus", "van"),
        ("truck", "1f69a", "delivery truck", "lorry"),
        ("lorry", "1f69b", "lorry", "truck"),
        ("pickup", "1f6fb", "pickup truck", "car"),
        ("tractor", "1f69c", "tractor", "farm"),
        ("racing-car", "1f3ce", "racing car", "fast"),
        ("motorbike", "1f3cd", "motorbike", "motorcycle"),
        ("bicycle", "1f6b2", "bicycle", "bike"),
        ("kick-scooter", "1f6f4", "kick scooter", "scooter"),
        ("moped", "1f6f5", "moped", "scooter"),
        ("skateboard", "1f6f9", "skateboard", "skate"),
        ("train", "1f682", "steam train", "railway engine"),
        ("tram", "1f68a", "tram", "railway"),
        ("plane", "2708", "aeroplane", "airplane fly"),
        ("helicopter", "1f681", "helicopter", "fly"),
        ("rocket", "1f680", "rocket", "space"),
        ("ufo", "1f6f8", "flying saucer", "ufo alien"),
        ("sailboat", "26f5", "sailing boat", "boat sea"),
        ("speedboat", "1f6a4", "speedboat", "boat"),
        ("ship", "1f6a2", "ship", "boat sea"),
        ("canoe", "1f6f6", "canoe", "boat river"),
        ("cable-car", "1f6a0", "cable car", "mountain"),
        ("wheelchair", "1f9bd", "wheelchair", "disability"),
        ("parachute", "1fa82", "parachute", "fall fly"),
    ],
    "barriers": [
        ("bricks", "1f9f1", "brick wall", "wall fence"),
        ("barrier", "1f6a7", "barrier", "fence roadworks"),
        ("bridge", "1f309", "bridge", "river night"),
        ("foggy-bridge", "1f301", "bridge in fog", "bridge"),
        ("chains", "26d3", "chains", "locked"),
        ("door", "1f6aa", "door", "gate"),
        ("window", "1fa9f", "window", "look"),
        ("padlock", "1f512", "padlock", "locked"),
        ("unlocked", "1f513", "open padlock", "unlocked free"),
        ("key", "1f511", "key", "open"),
        ("stop-sign", "1f6d1", "stop sign", "stop"),
        ("no-entry", "26d4", "no entry", "forbidden stop"),
        ("prohibited", "1f6ab", "not allowed", "prohibited no"),
        ("traffic-light", "1f6a6", "traffic light", "stop go"),
        ("traffic-light-side", "1f6a5", "sideways traffic light", "stop go"),
        ("railway", "1f6e4", "railway track", "train"),
        ("road", "1f6e3", "road", "motorway"),
        ("warning", "26a0", "warning sign", "danger"),
        ("crossing", "1f6b8", "children crossing", "road"),
        ("flag", "1f6a9", "flag", "mark"),
        ("white-flag", "1f3f3", "white flag", "peace give up"),
        ("finish-flag", "1f3c1", "finish flag", "race"),
        ("anchor", "2693", "anchor", "ship"),
        ("ring-buoy", "1f6df", "lifebuoy", "rescue help"),
        ("ladder", "1fa9c", "ladder", "climb"),
    ],
    "household": [
        ("bed", "1f6cf", "bed", "sleep"),
        ("couch", "1f6cb", "sofa and lamp", "couch living room"),
        ("chair", "1fa91", "chair", "sit"),
        ("toilet", "1f6bd", "toilet", "bathroom"),
        ("bathtub", "1f6c1", "bath", "bathroom"),
        ("shower", "1f6bf", "shower", "bathroom"),
        ("mirror", "1fa9e", "mirror", "look"),
        ("tv", "1f4fa", "television", "tv screen"),
        ("mobile", "1f4f1", "mobile phone", "screen call"),
        ("telephone", "260e", "telephone", "call"),
        ("alarm-clock", "23f0", "alarm clock", "time morning"),
        ("teddy", "1f9f8", "teddy bear", "toy comfort"),
        ("football", "26bd", "football", "ball play"),
        ("balloon", "1f388", "balloon", "party"),
        ("gift", "1f381", "present", "gift birthday"),
        ("cake", "1f382", "birthday cake", "party"),
        ("book", "1f4d6", "book", "read"),
        ("books", "1f4da", "books", "read school"),
        ("pencil", "270f", "pencil", "write school"),
        ("scissors", "2702", "scissors", "cut"),
        ("broom", "1f9f9", "broom", "sweep clean"),
        ("basket", "1f9fa", "basket", "carry"),
        ("bucket", "1faa3", "bucket", "sand beach"),
        ("plate", "1f37d", "plate and cutlery", "dinner eat"),
        ("spoon", "1f944", "spoon", "eat"),
        ("teacup", "2615", "hot drink", "tea cup"),
        ("baby-bottle", "1f37c", "baby bottle", "milk"),
        ("pill", "1f48a", "medicine", "pill sick"),
        ("syringe", "1f489", "injection", "syringe doctor"),
        ("plaster", "1fa79", "plaster", "bandage hurt"),
        ("thermometer", "1f321", "thermometer", "fever hot"),
        ("backpack", "1f392", "school bag", "backpack"),
        ("umbrella", "2602", "umbrella", "rain"),
        ("glasses", "1f453", "glasses", "see"),
        ("ice-cream", "1f366", "ice cream", "treat"),
        ("pizza", "1f355", "pizza", "food"),
        ("bread", "1f35e", "bread", "food"),
        ("money-bag", "1f4b0", "money bag", "treasure rich"),
        ("coin", "1fa99", "coin", "money"),
        ("laptop", "1f4bb", "laptop", "computer screen"),
        ("radio", "1f4fb", "radio", "music"),
        ("guitar", "1f3b8", "guitar", "music"),
        ("drum", "1f941", "drum", "music loud"),
        ("kite", "1fa81", "kite", "toy wind"),
        ("puzzle", "1f9e9", "puzzle piece", "toy"),
        ("yo-yo", "1fa80", "yo-yo", "toy"),
        ("nesting-dolls", "1fa86", "nesting dolls", "toy family"),
        ("crayon", "1f58d", "crayon", "draw"),
        ("camera", "1f4f7", "camera", "photo"),
        ("suitcase", "1f9f3", "suitcase", "travel leave"),
        ("cart", "1f6d2", "shopping trolley", "cart shop"),
        ("bin", "1f5d1", "bin", "wastebasket rubbish"),
    ],
    "feelings": [
        ("happy", "1f600", "happy face", "glad joy"),
        ("smile", "1f60a", "smiling face", "happy"),
        ("laughing", "1f606", "laughing face", "funny happy"),
        ("in-love", "1f60d", "loving face", "love"),
        ("cool", "1f60e", "cool face", "proud"),
        ("silly", "1f61c", "silly face", "joke"),
        ("hug-face", "1f917", "hugging face", "hug warm"),
        ("thinking", "1f914", "thinking face", "wonder"),
        ("neutral", "1f610", "blank face", "neutral okay"),
        ("confused", "1f615", "confused face", "unsure"),
        ("worried", "1f61f", "worried face", "anxious"),
        ("crying", "1f622", "crying face", "sad tear"),
        ("sobbing", "1f62d", "sobbing face", "very sad cry"),
        ("pensive", "1f614", "sad face", "down lonely"),
        ("angry", "1f620", "angry face", "cross mad"),
        ("furious", "1f621", "furious face", "very angry rage"),
        ("scared", "1f628", "scared face", "afraid fear"),
        ("screaming", "1f631", "screaming face", "terrified fear"),
        ("anxious", "1f630", "anxious face", "nervous worried"),
        ("surprised", "1f62e", "surprised face", "wow"),
        ("sleepy", "1f634", "sleepy face", "tired"),
        ("unwell", "1f912", "sick face", "ill fever"),
        ("nauseated", "1f922", "queasy face", "sick"),
        ("embarrassed", "1f633", "embarrassed face", "shy"),
        ("mind-blown", "1f92f", "mind blown", "overwhelmed shocked"),
        ("zipped", "1f910", "zipped mouth", "secret quiet"),
        ("relieved", "1f60c", "relieved face", "calm"),
        ("heart", "2764", "heart", "love"),
        ("broken-heart", "1f494", "broken heart", "sad loss"),
        ("sparkles", "2728", "sparkles", "magic special"),
        ("question", "2753", "question mark", "unsure why"),
        ("exclamation", "2757", "exclamation mark", "important"),
        ("check", "2705", "tick", "yes done"),
        ("cross-mark", "274c", "cross", "no wrong"),
        ("zzz", "1f4a4", "sleeping", "zzz tired"),
        ("anger-mark", "1f4a2", "anger sign", "angry"),
        ("speech", "1f4ac", "speech bubble", "talk say"),
        ("thought", "1f4ad", "thought bubble", "think"),
        ("thumbsup", "1f44d", "thumbs up", "good yes"),
        ("thumbsdown", "1f44e", "thumbs down", "bad no"),
        ("clap", "1f44f", "clapping hands", "well done"),
        ("raised-hand", "270b", "raised hand", "stop hello"),
        ("handshake", "1f91d", "handshake", "friends agree"),
        ("eye", "1f441", "eye", "see watch"),
        ("footprints", "1f463", "footprints", "steps path"),
        ("hourglass", "231b", "hourglass", "time wait"),
        ("trophy", "1f3c6", "trophy", "win proud"),
        ("medal", "1f3c5", "medal", "win proud"),
        ("infinity", "267e", "infinity", "forever"),
    ],
    "spiritual": [
        ("church", "26ea", "church", "christian"),
        ("mosque", "1f54c", "mosque", "muslim islam"),
        ("synagogue", "1f54d", "synagogue", "jewish"),
        ("hindu-temple", "1f6d5", "Hindu temple", "hindu"),
        ("kaaba", "1f54b", "Kaaba", "muslim islam"),
        ("shinto-shrine", "26e9", "Shinto shrine", "japan"),
        ("place-of-worship", "1f6d0", "place of worship", "pray"),
        ("latin-cross", "271d", "cross", "christian"),
        ("orthodox-cross", "2626", "Orthodox cross", "christian"),
        ("star-of-david", "2721", "Star of David", "jewish"),
        ("star-crescent", "262a", "star and crescent", "muslim islam"),
        ("om", "1f549", "Om", "hindu buddhist"),
        ("dharma-wheel", "2638", "wheel of dharma", "buddhist"),
        ("menorah", "1f54e", "menorah", "jewish"),
        ("khanda", "1faaf", "Khanda", "sikh"),
        ("yin-yang", "262f", "yin yang", "balance"),
        ("peace", "262e", "peace sign", "peace"),
        ("dove", "1f54a", "dove", "peace bird"),
        ("prayer-beads", "1f4ff", "prayer beads", "pray"),
        ("praying-hands", "1f64f", "praying hands", "pray thank you please"),
        ("angel", "1f47c", "angel", "baby heaven"),
        ("halo-face", "1f607", "face with halo", "good angel"),
        ("candle", "1f56f", "candle", "light remember"),
        ("diya", "1fa94", "diya lamp", "light diwali"),
        ("hamsa", "1faac", "hamsa", "protection hand"),
        ("nazar", "1f9ff", "nazar amulet", "protection eye"),
        ("meditation", "1f9d8", "person meditating", "calm lotus"),
        ("headstone", "1faa6", "headstone", "grave death remember"),
        ("coffin", "26b0", "coffin", "death funeral"),
        ("urn", "26b1", "funeral urn", "death remember"),
        ("bell", "1f514", "bell", "ring"),
    ],
}


def _figure_table():
    """Build FIGURES: id -> {id, file, name, tags, category, licence}. Skin tones are
    generated so every toned person gets the same tag vocabulary."""
    rows = []
    for prefix, code, name, tags in _TONED:
        for k, (tone, tone_name) in enumerate(_TONES, 1):
            rows.append(("people", f"{prefix}-{k}", f"{code}-{tone}", f"{name} ({tone_name} skin)",
                         f"{tags} person people skin {tone_name}"))
    for cat, entries in _FIGURES.items():
        rows += [(cat, fid, code, name, tags) for fid, code, name, tags in entries]
    table = {}
    for cat, fid, code, name, tags in rows:
        assert fid not in table, f"figure id {fid} twice"
        words = list(dict.fromkeys(f"{name} {tags}".lower().replace("(", "").replace(")", "")
                                   .replace(",", "").split()))
        table[fid] = {"id": fid, "file": code, "name": name, "tags": words, "category": cat,
                      "licence": FIGURE_LICENCE}
    return table


FIGURES = _figure_table()
for _fid, _fig in FIGURES.items():
    # A figure id may reuse a picture id above only for the very same picture.
    assert CATALOG.get(_fid, (_fig["file"],))[0] == _fig["file"], f"picture id {_fid} clashes"
    CATALOG.setdefault(_fid, (_fig["file"], _fig["name"]))
# The sand tray's tab icon.
CATALOG.setdefault("sandtray", ("1f3d6", "sand tray"))
