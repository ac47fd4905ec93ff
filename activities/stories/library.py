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
"""

D, P, C, A = "descriptive", "perspective", "directive", "affirmative"

_STORIES = [
    ("first-visit", "My first visit to the therapist", [
        (["child", "house"], [(D, "Today I am going to meet a therapist."),
                              (D, "A therapist is a grown-up who helps children with feelings.")]),
        (["laptop", "smile"], [(D, "Sometimes we meet in a room, and sometimes we meet on a screen."),
                               (P, "The therapist is happy to see me.")]),
        (["puzzle", "crayon", "teddy"], [(D, "We can play, draw, build in the sand or read stories."),
                                         (P, "Many children like the toys.")]),
        (["thinking", "speech"], [(D, "The therapist may ask me how I feel."),
                                  (C, "I can answer with words, a picture or a thumbs up.")]),
        (["worried", "heart"], [(P, "Feeling a little shy or worried at first is okay."),
                                (D, "Lots of children feel that way on the first day.")]),
        (["raised-hand", "hourglass"], [(D, "If I need a break, I can tell the therapist."),
                                        (D, "The visit ends after a while.")]),
        (["family", "star"], [(D, "Then I go home with my grown-up."),
                              (A, "I did something new today.")]),
    ]),
    ("angry", "When I feel angry", [
        (["angry"], [(D, "Sometimes I feel angry."),
                     (D, "Everybody feels angry sometimes, children and grown-ups too.")]),
        (["fire", "furious"], [(D, "When I am angry, my face may get hot and my hands may squeeze tight."),
                               (P, "My body is telling me that something feels unfair.")]),
        (["balloon"], [(C, "I can take a big balloon breath in and let it out slowly."),
                       (D, "Slow breaths help my body feel calmer.")]),
        (["hourglass", "calm-corner"], [(D, "Counting to ten or going to a calm spot can help too."),
                                        (P, "My grown-ups like it when I use my calm tools.")]),
        (["speech", "woman-2"], [(D, "When my body is calm, I can use words to say what is wrong."),
                                 (P, "Then my grown-ups can understand me and help.")]),
        (["relieved", "thumbsup"], [(D, "Angry feelings get smaller and go away."),
                                    (A, "It is okay to feel angry. I can be safe with my body.")]),
    ]),
    ("worried-school", "When I feel worried at school", [
        (["school", "backpack"], [(D, "I go to school on most days."),
                                  (D, "School has teachers, friends, work and play.")]),
        (["worried"], [(D, "Sometimes I feel worried at school."),
                       (D, "My tummy may feel funny, or my thoughts may go very fast.")]),
        (["thinking", "question"], [(P, "Worry is my mind trying to keep me safe."),
                                    (D, "Often the thing I worry about turns out okay.")]),
        (["teacher", "raised-hand"], [(D, "My teacher helps children who feel worried."),
                                      (C, "I can raise my hand or go to my teacher and say, \"I feel worried.\"")]),
        (["balloon", "calm-hand"], [(C, "I can breathe slowly and trace my hand."),
                                    (D, "Many children use this trick to feel calmer.")]),
        (["girl-3", "boy-4"], [(D, "My friends sometimes feel worried too."),
                               (P, "They understand how it feels.")]),
        (["house", "happy"], [(D, "At the end of the day I go home."),
                              (A, "I can handle worried feelings, one step at a time.")]),
    ]),
    ("doctor", "Going to the doctor", [
        (["hospital", "car"], [(D, "Sometimes I go to see a doctor."),
                               (D, "Doctors help keep my body healthy.")]),
        (["chair", "book"], [(D, "First we wait in a waiting room."),
                             (D, "I can bring a book or a toy while we wait.")]),
        (["doctor", "smile"], [(D, "The doctor says hello and asks how I feel."),
                               (P, "The doctor wants to help me.")]),
        (["thermometer", "sense-hear"], [(D, "The doctor may look in my ears, listen to my heart or check my temperature."),
                                  (D, "These checks are quick.")]),
        (["syringe", "plaster"], [(D, "Sometimes a child needs a shot, and it can pinch for a moment."),
                                  (C, "I can squeeze my grown-up's hand and take a slow breath.")]),
        (["woman-4", "hug-face"], [(D, "My grown-up stays with me."),
                                   (P, "My grown-up is proud of me for being brave.")]),
        (["thumbsup", "house"], [(D, "When the visit is over, we go home."),
                                 (A, "Going to the doctor helps me stay well.")]),
    ]),
    ("bedtime", "Bedtime", [
        (["moon", "house"], [(D, "When it gets dark, it is nearly bedtime."),
                             (D, "Sleep helps my body and my brain grow.")]),
        (["bathtub", "droplet"], [(D, "Before bed I have a bath or wash my face."),
                                  (D, "I put on my pyjamas.")]),
        (["book", "woman-1"], [(D, "Then we read a story together."),
                               (P, "Many children like a quiet story before sleep.")]),
        (["bed", "teddy"], [(D, "I get into my bed with my teddy."),
                            (D, "The lights go low and the house gets quiet.")]),
        (["sleepy", "balloon"], [(C, "I can close my eyes and breathe slowly."),
                                 (P, "My body starts to feel heavy and sleepy.")]),
        (["zzz", "star"], [(D, "My grown-ups are close by while I sleep."),
                           (A, "Morning will come, and I will be rested.")]),
    ]),
    ("friend", "Making a friend", [
        (["girl-2", "boy-1"], [(D, "A friend is someone I like to play and talk with."),
                               (P, "Most children would like to have friends.")]),
        (["football", "puzzle"], [(D, "Friends often like some of the same games."),
                                  (D, "I can look for a child who is playing something I like.")]),
        (["smile", "raised-hand"], [(C, "I can smile and say, \"Hi, can I play too?\""),
                                    (P, "Other children like it when someone asks nicely.")]),
        (["thinking", "speech"], [(D, "Sometimes the other child says yes."),
                                  (D, "Sometimes they want to play alone for now, and that is okay.")]),
        (["handshake", "heart"], [(D, "Friends take turns, share and listen to each other."),
                                  (P, "Friends feel happy when we are kind.")]),
        (["hugging", "sparkles"], [(D, "Making a friend can take a little time."),
                                   (A, "I am a good friend to have.")]),
    ]),
    ("turns", "Taking turns", [
        (["girl-1", "boy-2", "puzzle"], [(D, "Sometimes two children want the same toy or game."),
                                         (D, "Taking turns means one person plays, then the other.")]),
        (["hourglass"], [(D, "While I wait for my turn, the other child is playing."),
                         (P, "Waiting can feel long and hard.")]),
        (["balloon", "thinking"], [(C, "While I wait, I can take slow breaths or watch the game."),
                                   (D, "My turn is coming.")]),
        (["thumbsup", "happy"], [(D, "Then it is my turn!"),
                                 (P, "The other child waits for me, just like I waited.")]),
        (["handshake", "heart"], [(D, "Taking turns makes games fair."),
                                  (P, "Children like to play with friends who take turns.")]),
        (["trophy", "star"], [(A, "I am learning to take turns, and that is a big skill.")]),
    ]),
    ("calm-body", "Calming my body", [
        (["child", "heart"], [(D, "My body sends me signals about my feelings."),
                              (D, "A fast heart or tight hands can mean big feelings.")]),
        (["meditation"], [(D, "There are ways to help my body feel calm."),
                          (P, "Calm bodies make it easier to think.")]),
        (["balloon"], [(C, "I can breathe in like I am filling a balloon, and breathe out slowly."),
                       (D, "Each slow breath tells my body it is safe.")]),
        (["calm-hand"], [(D, "Tracing my fingers while I breathe is another trick."),
                         (D, "Up the finger is a breath in, down the finger is a breath out.")]),
        (["sense-see", "sense-hear"], [(D, "Noticing five things I see and three things I hear helps too."),
                                       (P, "My mind comes back to right here and right now.")]),
        (["teddy", "hug-face"], [(D, "A tight squeeze of a pillow or a hug can help my muscles relax."),
                                 (P, "My grown-ups are happy to help me calm down.")]),
        (["relieved", "rainbow"], [(A, "I know how to help my body feel calm.")]),
    ]),
]

# Task-analysis checklists: (id, title, [(picture id, step text), ...]).
_TASKS = [
    ("morning", "Getting ready in the morning", [
        ("alarm-clock", "Wake up"), ("toilet", "Use the toilet"), ("soap", "Wash hands and face"),
        ("t-shirt", "Get dressed"), ("breakfast", "Eat breakfast"), ("toothbrush", "Brush teeth"),
        ("backpack", "Pack my bag"), ("shoe", "Put on shoes"),
    ]),
    ("handwashing", "Washing my hands", [
        ("tap", "Turn on the water"), ("splash", "Wet my hands"),
        ("soap", "Add soap"), ("palms", "Rub hands, count to 20"),
        ("splash", "Rinse"), ("tap", "Turn off the water"), ("paper-towel", "Dry my hands"),
    ]),
    ("bedtime-routine", "Getting ready for bed", [
        ("bathtub", "Bath time"), ("sleepy", "Put on pyjamas"), ("toothbrush", "Brush teeth"),
        ("toilet", "Use the toilet"), ("book", "Read a story"), ("bed", "Into bed"),
    ]),
]


def sentences(story_id):
    """[(page number, type, sentence)] of a ready story, for the ratio rule."""
    for sid, _, pages in _STORIES:
        if sid == story_id:
            return [(i, kind, s) for i, (_, sents) in enumerate(pages) for kind, s in sents]
    raise KeyError(story_id)


def stories():
    """{id: {"id", "title", "pages": [{"pics", "text"}], "ready": True}} in library order."""
    return {sid: {"id": sid, "title": title, "ready": True,
                  "pages": [{"pics": list(pics), "text": " ".join(s for _, s in sents)}
                            for pics, sents in pages]}
            for sid, title, pages in _STORIES}


def tasks():
    """{id: {"id", "title", "steps": [{"pic", "text"}]}} in library order."""
    return {tid: {"id": tid, "title": title,
                  "steps": [{"pic": pic, "text": text} for pic, text in steps]}
            for tid, title, steps in _TASKS}


STORY_ORDER = [sid for sid, _, _ in _STORIES]
TASK_ORDER = [tid for tid, _, _ in _TASKS]
