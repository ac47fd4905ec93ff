"""The ready social stories and task-analysis checklists every room starts with.

Written for this project in the social-story style (Carol Gray): mostly descriptive
sentences (what happens) and perspective sentences (what people think and feel), a
few gently worded directive sentences ("I can ..."), and affirmative ones that
reassure. Every sentence carries its type, so a test checks the rule: descriptive and
perspective sentences outnumber directive ones at least 2:1, and each story stays
under 10 pages.

Markup: a page is (picture ids, [(type, sentence), ...]) with 1-3 ids from the
picture set (rooms/assets/pictures.py) and type one of D (descriptive), P (perspective),
C (directive, "coaching") and A (affirmative). `stories()` turns it into the plain
page form the activity uses ({"pics", "text"}); `sentences()` keeps the labels.

Languages (issue 16): titles, sentences and steps are marked with N_() and written in
Spanish in the catalog (activities/stories/translations), sentence for sentence with the
same type, so a page has the same pictures in every language and people reading
together in different languages turn the same pages. `stories(tr)` and `tasks(tr)` give
them in a reader's language; `ready_in(lang)` in a supported language, from this
activity's own catalog (what a copy of a ready story starts from, the same on every
screen whoever reads it).
"""
import functools

from activities.contract.i18n import ENGLISH, LANGUAGES, N_, Catalogs, catalog_dir

D, P, C, A = "descriptive", "perspective", "directive", "affirmative"

_STORIES = [
    # Translators: a social story (Carol Gray) for Spanish-speaking children, not word-for-word;
    # its sentences are descriptive (what happens) unless a note says otherwise.
    ("first-visit", N_("My first visit to the therapist"), [
        (["child", "house"], [(D, N_("Today I am going to meet a therapist.")),
                              (D, N_("A therapist is a grown-up who helps children with feelings."))]),
        (["laptop", "smile"], [(D, N_("Sometimes we meet in a room, and sometimes we meet on a screen.")),
                               # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                               (P, N_("The therapist is happy to see me."))]),
        (["puzzle", "crayon", "teddy"], [(D, N_("We can play, draw, build in the sand or read stories.")),
                                         # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                                         (P, N_("Many children like the toys."))]),
        (["thinking", "speech"], [(D, N_("The therapist may ask me how I feel.")),
                                  # Translators: directive sentence (social story): gently worded, first person, "Puedo…", never "debo".
                                  (C, N_("I can answer with words, a picture or a thumbs up."))]),
        # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
        (["worried", "heart"], [(P, N_("Feeling a little shy or worried at first is okay.")),
                                (D, N_("Lots of children feel that way on the first day."))]),
        (["raised-hand", "hourglass"], [(D, N_("If I need a break, I can tell the therapist.")),
                                        (D, N_("The visit ends after a while."))]),
        (["family", "star"], [(D, N_("Then I go home with my grown-up.")),
                              # Translators: affirmative sentence (social story): reassuring, first person.
                              (A, N_("I did something new today."))]),
    ]),
    # Translators: a social story (Carol Gray) for Spanish-speaking children, not word-for-word;
    # its sentences are descriptive (what happens) unless a note says otherwise.
    ("angry", N_("When I feel angry"), [
        (["angry"], [(D, N_("Sometimes I feel angry.")),
                     (D, N_("Everybody feels angry sometimes, children and grown-ups too."))]),
        (["fire", "furious"], [(D, N_("When I am angry, my face may get hot and my hands may squeeze tight.")),
                               # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                               (P, N_("My body is telling me that something feels unfair."))]),
        # Translators: directive sentence (social story): gently worded, first person, "Puedo…", never "debo".
        (["balloon"], [(C, N_("I can take a big balloon breath in and let it out slowly.")),
                       (D, N_("Slow breaths help my body feel calmer."))]),
        (["hourglass", "calm-corner"], [(D, N_("Counting to ten or going to a calm spot can help too.")),
                                        # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                                        (P, N_("My grown-ups like it when I use my calm tools."))]),
        (["speech", "woman-2"], [(D, N_("When my body is calm, I can use words to say what is wrong.")),
                                 # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                                 (P, N_("Then my grown-ups can understand me and help."))]),
        (["relieved", "thumbsup"], [(D, N_("Angry feelings get smaller and go away.")),
                                    # Translators: affirmative sentence (social story): reassuring, first person.
                                    (A, N_("It is okay to feel angry. I can be safe with my body."))]),
    ]),
    # Translators: a social story (Carol Gray) for Spanish-speaking children, not word-for-word;
    # its sentences are descriptive (what happens) unless a note says otherwise.
    ("worried-school", N_("When I feel worried at school"), [
        (["school", "backpack"], [(D, N_("I go to school on most days.")),
                                  (D, N_("School has teachers, friends, work and play."))]),
        (["worried"], [(D, N_("Sometimes I feel worried at school.")),
                       (D, N_("My tummy may feel funny, or my thoughts may go very fast."))]),
        # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
        (["thinking", "question"], [(P, N_("Worry is my mind trying to keep me safe.")),
                                    (D, N_("Often the thing I worry about turns out okay."))]),
        (["teacher", "raised-hand"], [(D, N_("My teacher helps children who feel worried.")),
                                      # Translators: directive sentence (social story): gently worded, first person, "Puedo…", never "debo".
                                      (C, N_("I can raise my hand or go to my teacher and say, \"I feel worried.\""))]),
        # Translators: directive sentence (social story): gently worded, first person, "Puedo…", never "debo".
        (["balloon", "calm-hand"], [(C, N_("I can breathe slowly and trace my hand.")),
                                    (D, N_("Many children use this trick to feel calmer."))]),
        (["girl-3", "boy-4"], [(D, N_("My friends sometimes feel worried too.")),
                               # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                               (P, N_("They understand how it feels."))]),
        (["house", "happy"], [(D, N_("At the end of the day I go home.")),
                              # Translators: affirmative sentence (social story): reassuring, first person.
                              (A, N_("I can handle worried feelings, one step at a time."))]),
    ]),
    # Translators: a social story (Carol Gray) for Spanish-speaking children, not word-for-word;
    # its sentences are descriptive (what happens) unless a note says otherwise.
    ("doctor", N_("Going to the doctor"), [
        (["hospital", "car"], [(D, N_("Sometimes I go to see a doctor.")),
                               (D, N_("Doctors help keep my body healthy."))]),
        (["chair", "book"], [(D, N_("First we wait in a waiting room.")),
                             (D, N_("I can bring a book or a toy while we wait."))]),
        (["doctor", "smile"], [(D, N_("The doctor says hello and asks how I feel.")),
                               # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                               (P, N_("The doctor wants to help me."))]),
        (["thermometer", "sense-hear"], [(D, N_("The doctor may look in my ears, listen to my heart or check my temperature.")),
                                  (D, N_("These checks are quick."))]),
        (["syringe", "plaster"], [(D, N_("Sometimes a child needs a shot, and it can pinch for a moment.")),
                                  # Translators: directive sentence (social story): gently worded, first person, "Puedo…", never "debo".
                                  (C, N_("I can squeeze my grown-up's hand and take a slow breath."))]),
        (["woman-4", "hug-face"], [(D, N_("My grown-up stays with me.")),
                                   # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                                   (P, N_("My grown-up is proud of me for being brave."))]),
        (["thumbsup", "house"], [(D, N_("When the visit is over, we go home.")),
                                 # Translators: affirmative sentence (social story): reassuring, first person.
                                 (A, N_("Going to the doctor helps me stay well."))]),
    ]),
    # Translators: a social story (Carol Gray) for Spanish-speaking children, not word-for-word;
    # its sentences are descriptive (what happens) unless a note says otherwise.
    ("bedtime", N_("Bedtime"), [
        (["moon", "house"], [(D, N_("When it gets dark, it is nearly bedtime.")),
                             (D, N_("Sleep helps my body and my brain grow."))]),
        (["bathtub", "droplet"], [(D, N_("Before bed I have a bath or wash my face.")),
                                  (D, N_("I put on my pyjamas."))]),
        (["book", "woman-1"], [(D, N_("Then we read a story together.")),
                               # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                               (P, N_("Many children like a quiet story before sleep."))]),
        (["bed", "teddy"], [(D, N_("I get into my bed with my teddy.")),
                            (D, N_("The lights go low and the house gets quiet."))]),
        # Translators: directive sentence (social story): gently worded, first person, "Puedo…", never "debo".
        (["sleepy", "balloon"], [(C, N_("I can close my eyes and breathe slowly.")),
                                 # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                                 (P, N_("My body starts to feel heavy and sleepy."))]),
        (["zzz", "star"], [(D, N_("My grown-ups are close by while I sleep.")),
                           # Translators: affirmative sentence (social story): reassuring, first person.
                           (A, N_("Morning will come, and I will be rested."))]),
    ]),
    # Translators: a social story (Carol Gray) for Spanish-speaking children, not word-for-word;
    # its sentences are descriptive (what happens) unless a note says otherwise.
    ("friend", N_("Making a friend"), [
        (["girl-2", "boy-1"], [(D, N_("A friend is someone I like to play and talk with.")),
                               # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                               (P, N_("Most children would like to have friends."))]),
        (["football", "puzzle"], [(D, N_("Friends often like some of the same games.")),
                                  (D, N_("I can look for a child who is playing something I like."))]),
        # Translators: directive sentence (social story): gently worded, first person, "Puedo…", never "debo".
        (["smile", "raised-hand"], [(C, N_("I can smile and say, \"Hi, can I play too?\"")),
                                    # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                                    (P, N_("Other children like it when someone asks nicely."))]),
        (["thinking", "speech"], [(D, N_("Sometimes the other child says yes.")),
                                  (D, N_("Sometimes they want to play alone for now, and that is okay."))]),
        (["handshake", "heart"], [(D, N_("Friends take turns, share and listen to each other.")),
                                  # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                                  (P, N_("Friends feel happy when we are kind."))]),
        (["hugging", "sparkles"], [(D, N_("Making a friend can take a little time.")),
                                   # Translators: affirmative sentence (social story): reassuring, first person.
                                   (A, N_("I am a good friend to have."))]),
    ]),
    # Translators: a social story (Carol Gray) for Spanish-speaking children, not word-for-word;
    # its sentences are descriptive (what happens) unless a note says otherwise.
    ("turns", N_("Taking turns"), [
        (["girl-1", "boy-2", "puzzle"], [(D, N_("Sometimes two children want the same toy or game.")),
                                         (D, N_("Taking turns means one person plays, then the other."))]),
        (["hourglass"], [(D, N_("While I wait for my turn, the other child is playing.")),
                         # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                         (P, N_("Waiting can feel long and hard."))]),
        # Translators: directive sentence (social story): gently worded, first person, "Puedo…", never "debo".
        (["balloon", "thinking"], [(C, N_("While I wait, I can take slow breaths or watch the game.")),
                                   (D, N_("My turn is coming."))]),
        (["thumbsup", "happy"], [(D, N_("Then it is my turn!")),
                                 # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                                 (P, N_("The other child waits for me, just like I waited."))]),
        (["handshake", "heart"], [(D, N_("Taking turns makes games fair.")),
                                  # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                                  (P, N_("Children like to play with friends who take turns."))]),
        # Translators: affirmative sentence (social story): reassuring, first person.
        (["trophy", "star"], [(A, N_("I am learning to take turns, and that is a big skill."))]),
    ]),
    # Translators: a social story (Carol Gray) for Spanish-speaking children, not word-for-word;
    # its sentences are descriptive (what happens) unless a note says otherwise.
    ("calm-body", N_("Calming my body"), [
        (["child", "heart"], [(D, N_("My body sends me signals about my feelings.")),
                              (D, N_("A fast heart or tight hands can mean big feelings."))]),
        (["meditation"], [(D, N_("There are ways to help my body feel calm.")),
                          # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                          (P, N_("Calm bodies make it easier to think."))]),
        # Translators: directive sentence (social story): gently worded, first person, "Puedo…", never "debo".
        (["balloon"], [(C, N_("I can breathe in like I am filling a balloon, and breathe out slowly.")),
                       (D, N_("Each slow breath tells my body it is safe."))]),
        (["calm-hand"], [(D, N_("Tracing my fingers while I breathe is another trick.")),
                         (D, N_("Up the finger is a breath in, down the finger is a breath out."))]),
        (["sense-see", "sense-hear"], [(D, N_("Noticing five things I see and three things I hear helps too.")),
                                       # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                                       (P, N_("My mind comes back to right here and right now."))]),
        (["teddy", "hug-face"], [(D, N_("A tight squeeze of a pillow or a hug can help my muscles relax.")),
                                 # Translators: perspective sentence (social story): what people think or feel ("muchos niños", not "todos").
                                 (P, N_("My grown-ups are happy to help me calm down."))]),
        # Translators: affirmative sentence (social story): reassuring, first person.
        (["relieved", "rainbow"], [(A, N_("I know how to help my body feel calm."))]),
    ]),
]

# Task-analysis checklists: (id, title, [(picture id, step text), ...]).
_TASKS = [
    # Translators: a checklist the child ticks off; steps are short first-person actions ("Lavarme las manos").
    ("morning", N_("Getting ready in the morning"), [
        ("alarm-clock", N_("Wake up")), ("toilet", N_("Use the toilet")), ("soap", N_("Wash hands and face")),
        ("t-shirt", N_("Get dressed")), ("breakfast", N_("Eat breakfast")), ("toothbrush", N_("Brush teeth")),
        ("backpack", N_("Pack my bag")), ("shoe", N_("Put on shoes")),
    ]),
    # Translators: a checklist the child ticks off; steps are short first-person actions ("Lavarme las manos").
    ("handwashing", N_("Washing my hands"), [
        ("tap", N_("Turn on the water")), ("splash", N_("Wet my hands")),
        ("soap", N_("Add soap")), ("palms", N_("Rub hands, count to 20")),
        ("splash", N_("Rinse")), ("tap", N_("Turn off the water")), ("paper-towel", N_("Dry my hands")),
    ]),
    # Translators: a checklist the child ticks off; steps are short first-person actions ("Lavarme las manos").
    ("bedtime-routine", N_("Getting ready for bed"), [
        ("bathtub", N_("Bath time")), ("sleepy", N_("Put on pyjamas")), ("toothbrush", N_("Brush teeth")),
        ("toilet", N_("Use the toilet")), ("book", N_("Read a story")), ("bed", N_("Into bed")),
    ]),
]


def sentences(story_id):
    """[(page number, type, sentence)] of a ready story, for the ratio rule."""
    for sid, _, pages in _STORIES:
        if sid == story_id:
            return [(i, kind, s) for i, (_, sents) in enumerate(pages) for kind, s in sents]
    raise KeyError(story_id)


def stories(tr=ENGLISH):
    """{id: {"id", "title", "pages": [{"pics", "text"}], "ready": True}} in library order,
    in `tr`'s language."""
    g = tr.gettext
    return {sid: {"id": sid, "title": g(title), "ready": True,
                  "pages": [{"pics": list(pics), "text": " ".join(g(s) for _, s in sents)}
                            for pics, sents in pages]}
            for sid, title, pages in _STORIES}


def tasks(tr=ENGLISH):
    """{id: {"id", "title", "steps": [{"pic", "text"}]}} in library order, in `tr`'s language."""
    return {tid: {"id": tid, "title": tr.gettext(title),
                  "steps": [{"pic": pic, "text": tr.gettext(text)} for pic, text in steps]}
            for tid, title, steps in _TASKS}


_CATALOG = Catalogs([(catalog_dir(__file__), "stories")])


@functools.lru_cache(maxsize=None)
def _ready_in(lang):
    return stories(_CATALOG.translator(lang))


def ready_in(lang):
    """The ready stories in `lang` (one of LANGUAGES; anything else: English). A fresh
    copy: callers may keep parts of it."""
    import copy
    return copy.deepcopy(_ready_in(lang if lang in LANGUAGES else "en"))


STORY_ORDER = [sid for sid, _, _ in _STORIES]
TASK_ORDER = [tid for tid, _, _ in _TASKS]
