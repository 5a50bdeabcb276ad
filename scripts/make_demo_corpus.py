#!/usr/bin/env python3
"""Deterministic generator for the VoiceMiner demo corpus ("Hearth & Harvest").

Hearth & Harvest is an invented online grocery / meal-kit delivery service
(app + website, courier home delivery, "Harvest+" and "Standard" plans,
segments: meal kits, fresh produce, pantry, household; regions North, South,
East, West).  This script writes four customer-feedback exports covering 14
ISO weeks (Mon 2026-08-03 .. Sun 2026-11-08; week 1 starts 2026-08-03, week 14
starts 2026-11-02), plus ``truth.json`` and ``README.md``::

    reviews_site.csv       UTF-8 with BOM, comma, RFC-4180 quoting
    app_reviews.tsv        UTF-16 (LE + BOM), tab separated
    nps_survey.csv         cp1252, semicolon, day-first dates
    support_tickets.jsonl  UTF-8 JSON lines

Planted patterns (exact numbers are computed and written to truth.json):

1. Complaint spike with a root cause: late-delivery complaints jump to ~4x
   their background weekly volume in week 9 (2026-09-28 .. 2026-10-04) and
   ~2x in week 10, back to normal from week 11.  Cause: the switch to the
   courier "ParcelDash" at the start of week 9.  Most spike comments name the
   cause ("since you switched to ParcelDash", "the new courier", ...); no
   comment outside weeks 9-10 mentions ParcelDash or a new courier.  Region
   North is over-represented among the ParcelDash complaints.
2. Growing unmet need: requests to choose / schedule / reschedule a delivery
   time slot grow linearly from ~1% of comments (week 1) to ~10% (week 14),
   explicit ("I wish I could pick a delivery slot") and implicit ("I'm at work
   until 6 so daytime-only delivery is useless to me").
3. Fading theme: app login problems are ~7% of comments in weeks 1-4, fall
   after the app 4.2 fix in week 5, and are at most 1 per week from week 7.
4. Promise never mentioned: "100% plastic-free packaging".  No text mentions
   packaging, plastic, recycling, eco, sustainability, ... (asserted below over
   every produced text field, case-insensitively).
5. Promise raised and going badly: the "price match guarantee" is mentioned
   in ~2% of comments every week, mostly negatively; Harvest+ customers are
   over-represented.
6. Drivers: detractors / 1-2 star reviews are mainly delivery problems and
   price; promoters mostly mention freshness and friendly drivers.

Deliberate messiness (bad dates, empty texts, duplicates, out-of-range
scores, malformed JSON lines, hostile / formula-injection text, emoji,
a ~3,000 character rant, non-English comments) is documented with exact
counts in README.md and truth.json.

Usage:  python scripts/make_demo_corpus.py [--out corpora/demo]

At scale (for the bounded-memory run, scripts/bench_scale.py)::

    python scripts/make_demo_corpus.py --comments 1000000 [--out /tmp/somewhere]

writes N valid unique comments (plus a few exact duplicates and rejects, counted in
``scale.json``) as UTF-8 CSV and JSONL parts of 100,000 rows under ``<out>/exports``, streamed
(memory stays flat). Each block of ~3,650 comments is one run of the demo's generator with its
own seed (same 14 weeks, themes and planted patterns), ids made unique per block. The output
goes to a new temporary folder unless --out names one, and never into the repository.

Only the standard library is used; the output is byte-identical between runs
(random.Random(20260803), no wall-clock, explicit encodings / line endings).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import random
import re
import string
from collections import Counter, defaultdict

SEED = 20260803
START = dt.date(2026, 8, 3)
N_WEEKS = 14
SPIKE_WEEK = 9
AFTERSHOCK_WEEK = 10
APP_FIX_WEEK = 5
SOURCES = ("reviews", "app", "nps", "tickets")
SOURCE_SHARE = {"reviews": 0.355, "app": 0.19, "nps": 0.245, "tickets": 0.21}
REGIONS = ("North", "South", "East", "West")
PLANS = ("Harvest+", "Standard")
CATEGORIES = ("Meal kits", "Fresh produce", "Pantry", "Household")

# ---------------------------------------------------------------------------
# Forbidden vocabulary (planted pattern 4: plastic-free promise never raised)
# ---------------------------------------------------------------------------
FORBIDDEN_SUBSTRINGS = [
    "packag", "plastic", "recycl", "eco", "sustainab", "environment", "carbon",
    "green", "waste", "cardboard", "polystyrene", "styrofoam", "biodegrad",
    "compost", "landfill", "planet", "wrapping", "wrapper", "packing", "packed",
]
FORBIDDEN_WORDS = [
    "box", "boxes", "bag", "bags", "packet", "packets", "pack", "packs",
    "container", "containers", "tray", "trays", "foil", "jar", "jars",
    "bottle", "bottles", "carton", "cartons", "tub", "tubs", "sachet",
    "sachets", "tin", "tins", "wrap", "wrapped", "label", "labels",
    "labelled", "bin", "bins", "insulated", "insulation", "crate", "crates",
]
_FORBIDDEN_WORD_RE = re.compile(r"\b(" + "|".join(FORBIDDEN_WORDS) + r")\b", re.I)


def forbidden_hits(text: str) -> list[str]:
    low = text.lower()
    hits = [s for s in FORBIDDEN_SUBSTRINGS if s in low]
    hits += [m.group(0) for m in _FORBIDDEN_WORD_RE.finditer(text)]
    return hits


# ---------------------------------------------------------------------------
# Slot vocabularies
# ---------------------------------------------------------------------------
ITEMS = {
    "Meal kits": ["chicken katsu kit", "veggie lasagne kit", "salmon teriyaki kit",
                  "lamb tagine kit", "mushroom risotto kit", "beef burrito bowl kit",
                  "halloumi fajita kit", "pad thai kit", "chickpea curry kit",
                  "pork ramen kit"],
    "Fresh produce": ["strawberries", "avocados", "bananas", "spinach", "tomatoes",
                      "broccoli", "raspberries", "peaches", "mushrooms", "apples",
                      "free-range eggs", "semi-skimmed milk", "Greek yoghurt",
                      "sourdough loaf", "chicken thighs", "salmon fillets"],
    "Pantry": ["pasta", "basmati rice", "olive oil", "chopped tomatoes", "granola",
               "coffee beans", "plain flour", "peanut butter", "porridge oats",
               "honey", "stock cubes", "soy sauce"],
    "Household": ["washing-up liquid", "toilet roll", "kitchen roll",
                  "dishwasher tablets", "laundry liquid", "sponges", "hand soap",
                  "tea towels", "light bulbs"],
}
KITS = ITEMS["Meal kits"]
PRODUCE = ["strawberries", "avocados", "tomatoes", "bananas", "peaches", "pears",
           "mushrooms", "courgettes", "apples", "plums", "nectarines", "raspberries",
           "carrots", "peppers", "blueberries", "grapes"]
DAIRY = ["milk", "yoghurt", "cream", "cheese", "butter", "hummus"]
DRIVERS = ["Sam", "Priya", "Tomasz", "José", "Aisha", "Dave", "Renée", "Callum",
           "Niamh", "Begoña", "Kwame", "Mo", "Chloé", "Gary", "Ioana"]
AGENTS = ["Hannah", "Ravi", "Olu", "Zoë", "Marta", "Liam", "Jess", "Andrés"]
STORES = ["ValueMart", "QuickBasket", "FarmFresh Direct", "the big supermarket in town",
          "GrocerGo", "Pantry Plus"]
TOWNS = ["Ashby Marsh", "Kelderton", "Little Brayford", "Northwick", "Hollin Bridge",
         "Skelby", "Marrowfield"]
FIRST_NAMES = ["Sarah", "James", "Aoife", "Mohammed", "Emma", "Tom", "Leah", "Raj",
               "Katie", "Dan", "Fatima", "Chris", "Gemma", "Pete", "Lucy", "Adebayo",
               "Megan", "Joe", "Ana", "Rob"]
EMO_NEG = ["😡", "🙄", "😤", "👎", "😞", "🤬", "😒"]
EMO_POS = ["😊", "👍", "🙌", "🥕", "❤️", "😋", "🍓", "⭐"]


class Slots(dict):
    """format_map mapping that draws slot values lazily (deterministic order)."""

    def __init__(self, rng: random.Random, category: str, source: str):
        super().__init__()
        self.rng = rng
        self.category = category
        self.category_locked = False
        self.source = source

    def _lock(self, cat):
        if not self.category_locked:
            self.category = cat
            self.category_locked = True

    def __missing__(self, key):
        r = self.rng
        if key == "item":
            self.category_locked = True
            v = r.choice(ITEMS[self.category])
        elif key == "item2":
            v = r.choice([i for i in ITEMS[self.category] if i != self.get("item")])
        elif key == "kit":
            self._lock("Meal kits")
            v = r.choice(KITS)
        elif key in ("produce", "produce_cap"):
            self._lock("Fresh produce")
            base = self["produce"] if key == "produce_cap" else r.choice(PRODUCE)
            v = base[0].upper() + base[1:] if key == "produce_cap" else base
        elif key == "dairy":
            self._lock("Fresh produce")
            v = r.choice(DAIRY)
        elif key == "household":
            self._lock("Household")
            v = r.choice(ITEMS["Household"])
        elif key == "pantry":
            self._lock("Pantry")
            v = r.choice(ITEMS["Pantry"])
        elif key == "hours":
            v = r.choice(["2", "3", "two", "three", "4", "nearly 3", "over 2"])
        elif key == "mins":
            v = str(r.choice([35, 40, 45, 50, 55, 70, 80, 90]))
        elif key == "time":
            v = r.choice(["8pm", "9:30pm", "7.45pm", "after 10pm", "quarter to nine",
                          "6pm", "half 8", "nearly 11pm", "3pm", "lunchtime"])
        elif key == "win":
            v = r.choice(["10-11am", "2-3pm", "4-5pm", "6-7pm", "12-1", "9-10am"])
        elif key == "driver":
            v = r.choice(DRIVERS)
        elif key == "agent":
            v = r.choice(AGENTS)
        elif key == "days":
            v = r.choice(["2", "3", "4", "5", "three", "five", "ten"])
        elif key == "p":
            v = r.choice(["1.20", "2.50", "3", "4.75", "6", "12", "18.40", "0.80"])
        elif key == "store":
            v = r.choice(STORES)
        elif key == "months":
            v = str(r.choice([3, 6, 8, 12, 18, 20]))
        elif key == "town":
            v = r.choice(TOWNS)
        elif key == "eneg":
            v = r.choice(EMO_NEG) if self.source != "nps" else ""
        elif key == "epos":
            v = r.choice(EMO_POS) if self.source != "nps" else ""
        else:
            raise KeyError(key)
        self[key] = v
        return v


# ---------------------------------------------------------------------------
# Templates.  polarity: -2 strong negative, -1 mild negative, 0 neutral, 1 positive
# A template starting with "[H+]" is only used for Harvest+ customers.
# ---------------------------------------------------------------------------
T = {}

T["late"] = (-2, [
    "My order turned up {hours} hours late. I'd planned my whole day around it.",
    "Delivery was late again. The 1-hour window is pretty meaningless at this point.",
    "great, another late delivery {eneg}",
    "Waited in all morning and the van didn't show until {time}. My window was {win}.",
    "Food arrived {mins} minutes after the window ended and the frozen stuff was half thawed.",
    "Late. Again. Third time this month.",
    "The delivery window said {win} but it came at {time}. No text, no call, nothing.",
    "Order was late so the {kit} ended up being dinner at 9pm.",
    "Promised within my 1-hour window, actually arrived {hours} hours later. Not what you advertise.",
    "Wow, love waiting around all day for a late delivery, really the highlight of my week.",
    "My shopping was late and the ice cream had melted into soup.",
    "Had guests coming and the delivery was {mins} mins late, so I had to run to the shop anyway.",
    "Delivery came really late last night, {time}. Kids were long in bed by then.",
    "Why is it so hard to turn up on time? {mins} minutes late with no apology.",
    "Late delivery, {hours} hours outside my window, and the tracking just said 'on its way' the whole time.",
    "Another late one. Starting to think the 1-hour window is a typo for 1-day window.",
    "The {item} I needed for tonight arrived way too late to use.",
])

T["cause"] = (-2, [
    "Since you switched to ParcelDash every single delivery has been late.",
    "The new courier is a disaster. My order came {hours} hours after the window.",
    "Ever since the courier change my deliveries are all over the place, {mins} minutes late today.",
    "ParcelDash driver couldn't find the address and rang me from the wrong street. Food arrived {hours} hours late.",
    "Arrived {hours} hours after the window because of the new delivery company. Bring back the old drivers!",
    "Whoever ParcelDash are, they can't read a map. Late twice this week.",
    "What happened to your old drivers? The new lot turned up at {time} when my window was {win}.",
    "ParcelDash van came at {time}, {hours} hours late, and the driver just shrugged.",
    "Don't know why Hearth & Harvest moved to ParcelDash but deliveries have gone downhill fast. Late again.",
    "The tracking said ParcelDash had my order 'out for delivery' for {hours} hours. It got here long after my window.",
    "New delivery partner = late deliveries. Simple as that.",
    "Used to get my order bang on time, now with this ParcelDash lot it's always late {eneg}",
    "My order was late again, I assume because of the courier switch. The {item} was warm by the time it came.",
    "Driver from the new courier company got lost twice and my {kit} turned up after 9pm.",
    "Never had a late order in two years until the change to ParcelDash. Now three in a row.",
    "great, ParcelDash strikes again, {mins} minutes late {eneg}",
    "The new courier left me waiting until {time}. Your old drivers were never this late.",
    "Late AGAIN since the switch to ParcelDash. Their drivers clearly don't know the area.",
    "ParcelDash said 'delivered' at 2pm, food actually turned up at {time}. Late and they lied about it.",
    "Honestly the courier change has ruined the service, my shopping was {hours} hours late.",
])

T["slot_explicit"] = (0, [
    "I wish I could pick a delivery slot instead of just getting whatever time you give me.",
    "Please add evening delivery windows!",
    "Why can't I choose when my order arrives?",
    "Would be great if I could reschedule from the app.",
    "Any chance of weekend deliveries? Weekdays are really hard for me.",
    "Love the food but I really need to be able to choose my delivery time.",
    "Let us pick a time window at checkout, every other grocery service does.",
    "Can you add a way to move my delivery to another day in the app? I had to email to change it.",
    "Please please add a 6-9pm delivery option.",
    "Only wish: choosing the delivery day and time myself.",
    "It would make such a difference if I could book a Saturday morning delivery.",
    "Is there really no way to change the delivery time once the order's placed?",
    "Give us delivery slots to choose from and you'd get five stars from me.",
    "Would love an option to pick an evening slot, even if it cost a bit extra.",
    "Please let me reschedule my delivery when plans change, it's such a basic feature.",
])

T["slot_implicit"] = (-1, [
    "I'm at work until 6 so daytime-only delivery is useless to me.",
    "Had to take a morning off just to wait for the van.",
    "The deliveries always come while I'm at work, so my neighbour ends up taking them in.",
    "Shift worker here, the times you deliver just don't work for me at all.",
    "I keep missing deliveries because they come in the middle of the afternoon when I'm on the school run.",
    "Ended up working from home just so I'd be in for my delivery.",
    "With two jobs I'm never in during the day, which makes this service pretty hard to use.",
    "Every delivery lands right when I'm out at the gym. I never get a say in when it comes.",
    "Had to cancel plans on Saturday because the delivery could come any time and I had no way to move it.",
    "Daytime deliveries only? Some of us have jobs.",
])

T["login"] = (-2, [
    "Can't log in. Keeps saying my password is wrong even after resetting it.",
    "Password reset email never arrives, checked spam and everything.",
    "The app logs me out every time I close it.",
    "Stuck on the login screen since the last update.",
    "Couldn't sign in to the app for {days} days so I missed editing my order.",
    "Login is broken on Android, it just spins forever.",
    "Every time I open the app I have to log in again, and half the time it doesn't accept my password.",
    "Tried to log in to skip a week and got 'something went wrong' over and over.",
    "Requested three password resets, none came through.",
    "Locked out of my account and support couldn't help me get back in.",
    "Had to log in about five times today, the app keeps kicking me out.",
    "cant log in on the app OR the website. what is going on",
    "Keeps logging me out halfway through my shop and I lose everything in the basket.",
    "The login code you text me never arrives so I can't get into my account.",
])

T["pm_neg"] = (-2, [
    "They refused to price match {item} even though {store} had it for £{p} less.",
    "Price match guarantee is a joke.",
    'Asked for a price match with a screenshot and was told it "didn\'t qualify". What\'s the point of the guarantee then?',
    "The so-called price match guarantee: sent proof {store} was cheaper, got nothing back.",
    "Tried to claim the price match three times now, rejected every time with a different excuse.",
    "Price match only applies if it's the exact same brand, same size, same day, same moon phase apparently.",
    "You advertise a price match guarantee but the claim form never works.",
    "I signed up partly for the price match promise and it has never once worked for me.",
    "Price matching? Don't bother. Support just copy-pastes a refusal.",
    "[H+]As a paying Harvest+ member I'd expect the price match guarantee to actually be honoured.",
    "[H+]Harvest+ is supposed to include the price match guarantee. Three refusals so far.",
    "Price match refused because {store} is 'not an approved retailer'. Since when?",
    "Great, a price match guarantee that matches nothing {eneg}",
])

T["pm_pos"] = (1, [
    "Price match actually worked for me, got £{p} back on my {item}. Nice.",
    "Was sceptical about the price match guarantee but they matched {store} without any fuss.",
    "Used the price match twice now, quick and easy.",
    "[H+]Harvest+ price match sorted within a day, credit straight on my account.",
])

T["quality_neg"] = (-2, [
    "The {produce} were mouldy within a day.",
    "{produce_cap} arrived looking tired and bruised, not what I'd call fresh.",
    "Use-by date on the {dairy} was the next day. Not great when I'd planned it for Sunday lunch.",
    "The {kit} had wilted herbs and a sad looking onion.",
    "Quality has really dropped lately, the {produce} tasted of nothing.",
    "Chicken in my {kit} smelled off, I didn't risk it.",
    "The {produce} were rock hard and never ripened.",
    "Disappointed with the freshness this week, the salad leaves were slimy.",
    "Bread was stale on arrival.",
    "Meat quality is hit and miss. This week's mince was grey.",
    "For the price I expect better than soft, spotty {produce}.",
    "{produce_cap} went furry two days after delivery. Not fresh at all.",
])

T["quality_pos"] = (1, [
    "Really fresh {produce}, better than the supermarket.",
    "The {produce} were perfect, ripe and lasted all week.",
    "Freshest {produce} I've had in ages.",
    "Quality is consistently excellent, the veg actually tastes like veg.",
    "Everything was super fresh and the {kit} was delicious.",
    "Loved how fresh everything was, even the herbs.",
    "The meat is top quality, you can tell the difference.",
    "Fruit and veg always arrive in great condition.",
    "{produce_cap} were so fresh, lasted way longer than the shop ones.",
    "So fresh! The {produce} this week were the best yet {epos}",
])

T["damaged"] = (-2, [
    "Eggs arrived smashed, yolk all over the {produce}.",
    "The yoghurt had split open and leaked over everything.",
    "My {produce} were crushed under the potatoes.",
    "Bread was squashed flat, looked like someone sat on it.",
    "Half my order was damaged, {produce} bruised and the milk had leaked.",
    "Dented, squashed, leaking. Not a great delivery.",
    "The wine glasses I ordered arrived in pieces.",
    "Frozen items had defrosted and the {dairy} was warm.",
    "Someone clearly dropped my order, the eggs were all cracked.",
    "{produce_cap} turned to mush in transit.",
    "Milk leaked all over the {item}, everything was soaked.",
])

T["wrong_missing"] = (-2, [
    "Missing the {item} I ordered, and I still got charged for it.",
    "Got someone else's shopping entirely. Nothing I ordered was there.",
    "No {item} in my delivery, which was the main thing I needed.",
    "The {kit} was missing the sauce, so dinner was a bit of a guess.",
    "Ordered {item}, received {item2}. Not the same thing.",
    "Two items missing again this week.",
    "My meal kit came without the recipe card and half the spices.",
    "Wrong {kit} delivered, I'm vegetarian and got the meat one.",
    "A whole chunk of my order never arrived, about £{p} worth.",
    "Checked the receipt and three things weren't there.",
    "Where is my {item}?? It's on the receipt but not in my kitchen.",
])

T["driver_pos"] = (1, [
    "Our driver {driver} is always so friendly, a real highlight.",
    "Driver was lovely and carried everything up three flights of stairs.",
    "Big shout out to {driver} who delivered today, so polite and helpful.",
    "The delivery drivers are always cheerful and careful with the food.",
    "Friendly driver, fresh food, no complaints.",
    "{driver} the driver even remembered our dog's name {epos}",
    "Really nice driver, phoned ahead and put the cold stuff straight in my fridge when I asked.",
    "Drivers are polite and always smiling, makes a difference.",
    "{driver} is the nicest delivery driver we've ever had.",
])

T["driver_neg"] = (-2, [
    "Driver threw my shopping on the doorstep and left without knocking.",
    "The driver was rude when I asked him to bring it to the door.",
    "Found my order left outside in the rain, no knock, no note.",
    "Driver parked across my drive and was on his phone the whole time.",
    "Delivery guy was really abrupt and basically dumped everything in the hallway.",
    "Left my delivery with a neighbour I've never met without asking.",
    "The driver refused to carry it up the stairs even though I'd added a note about my bad back.",
    "Driver was smoking while handing me my food. Not nice.",
    'Driver told me "not my problem" when I pointed out the eggs were broken.',
])

T["support_pos"] = (1, [
    "{agent} on the chat was brilliant, sorted my refund in minutes.",
    "Customer service were really kind when my order went wrong.",
    "Support team are genuinely helpful, not a script in sight.",
    "Rang about a missing item and they couldn't have been nicer.",
    "Shout out to {agent} in customer service, so patient with me.",
    "Had an issue, support fixed it straight away and gave me a credit. That's how it should be.",
    "Friendly helpful support, exactly as advertised.",
    "Really impressed with how support handled my complaint.",
])

T["support_neg"] = (-2, [
    "The support agent was condescending and kept cutting me off.",
    "Customer service just read from a script and didn't listen.",
    "Support basically told me it was my fault the food went off.",
    "'Friendly, helpful support' my foot. The agent was rude and hung up.",
    "Got a very snippy reply from customer service when I asked a simple question.",
    "Support closed my ticket without actually solving anything.",
    "I've had more empathy from a vending machine than your support team.",
    "Agent said they'd call back. They didn't.",
])

T["support_wait"] = (-1, [
    "Waited {mins} minutes on the chat before anyone replied.",
    "'Support in under 2 minutes' - I've been on hold for {mins} minutes.",
    "Took {days} days to get a reply to my email.",
    "Phone line just rings and rings, then cuts off.",
    "Support used to be quick, now it's a {mins} minute queue every time.",
    "Sat in a chat queue at position 47 for ages.",
    "No response to my complaint after a week.",
    "The chatbot goes round in circles and there's no way to reach a human quickly.",
])

T["price_neg"] = (-2, [
    "Prices have crept up again, this is getting really expensive.",
    "Way too pricey for what you get, the portions in the {kit} are tiny.",
    "£{p} for a few {produce}? Come on.",
    "Used to be good value, now I can get the same for much less at {store}.",
    "Delivery fee on top of the higher prices makes it hard to justify.",
    "Love the food but I can't keep paying these prices.",
    "[H+]Harvest+ fee went up and I honestly don't see what I'm getting for it.",
    "Expensive. The {kit} works out at nearly £{p} a portion.",
    "Price of basics like milk and bread is ridiculous here.",
    "Not worth the money anymore.",
    "The weekly total keeps going up even though I order the same stuff.",
    "Overpriced. Simple as that.",
])

T["price_pos"] = (1, [
    "Good value for the quality, especially the meal kits.",
    "[H+]Harvest+ pays for itself with the free delivery.",
    "Honestly cheaper than I expected and no impulse buys.",
    "Fair prices and the offers are decent.",
    "For what you get, the {kit} is great value.",
    "Saves me money compared to takeaways, and the food is better.",
])

T["billing"] = (-2, [
    "Charged twice for the same order, still waiting on the refund.",
    "[H+]I cancelled my Harvest+ and got billed again anyway.",
    "Refund for the missing {item} never showed up in my account.",
    "Promised a refund {days} days ago, nothing yet.",
    "My card was charged £{p} more than the order total.",
    "Got a refund as a voucher when I asked for money back.",
    "Billing is a mess, three different amounts on my statement for one order.",
    "Still haven't received the credit I was promised for the damaged items.",
    "[H+]Why was I charged a delivery fee when I'm on Harvest+?",
    "Subscription renewed without any warning and took £{p}.",
])

T["substitutions"] = (-1, [
    "They substituted {item} with {item2}. Not even close.",
    "Substitutions are getting ridiculous, asked for no subs and still got them.",
    "Got oat milk instead of semi-skimmed with no warning.",
    "Returned the {item} through the app, refund took ages.",
    "The sub for my {item} was something I'd never eat, and the returns process is a faff.",
    "Every week there's a weird substitution. Just leave it out if you don't have it!",
    "Tried to return faulty {household} and was told returns only count within 24 hours.",
    "The substitutions are usually decent to be fair, but this week's was bizarre.",
])

T["app_neg"] = (-1, [
    "App crashes every time I try to add something to my basket.",
    "Search in the app is useless, typed 'milk' and got candles.",
    "Checkout button does nothing half the time.",
    "The website is so slow, takes ages to load each page.",
    "Can't find where to skip a week in the app, it's buried somewhere.",
    "App keeps forgetting my saved favourites.",
    "Editing an order on the website is really fiddly.",
    "The latest layout is confusing, everything moved around.",
    "App froze at payment and I didn't know if the order went through.",
    "Promo codes won't apply in the app but work on the website?",
])

T["app_pos"] = (1, [
    "App is really easy to use, ordering takes two minutes.",
    "Love the app, the recipes section is great.",
    "Smooth app, quick checkout, no issues.",
    "Website and app both work nicely, easy to edit my order.",
    "Really like that the app remembers my usual shop.",
    "Nice clean app, much better than other grocery ones I've tried.",
])

T["communication"] = (-1, [
    "No notification when the order was on its way.",
    "You send me about five marketing emails a day but not one about my delivery.",
    "Order confirmation email never came, had to check the app to see if it went through.",
    "Nobody told me items were out of stock until the food arrived.",
    "Push notifications are constant and mostly useless.",
    "Would be nice to get a heads up when there's a substitution.",
    "Unsubscribed from your emails twice and they keep coming.",
    "Got an email saying my order was cancelled, then it turned up anyway. Confusing.",
])

T["cleanliness"] = (-1, [
    "Recipe card had the wrong instructions for my {kit}.",
    "Veg was covered in mud, took ages to clean.",
    "Driver tracked mud all through my hallway.",
    "Small thing, but the receipt was someone else's.",
    "The spices in the kit were mixed up, nearly put chilli in the kids' dinner.",
    "Sticky mess on the bottom of everything from something that spilled.",
    "Ingredients for two recipes were all jumbled together, no idea what went with what.",
    "Found a hair in my salad. Gross.",
    "The van looked filthy inside when the driver opened it.",
    "Attention to detail is slipping, the allergy note on my account was ignored.",
])

T["praise"] = (1, [
    "Brilliant service, been using it for {months} months and love it.",
    "Hearth & Harvest makes my week so much easier.",
    "Five stars, wouldn't shop anywhere else now.",
    "Everything just works. Order, food turns up, we eat well.",
    "Great service overall, told all my friends about it.",
    "Such a lifesaver with a newborn in the house.",
    "Really happy with Hearth & Harvest so far {epos}",
    "Best grocery delivery I've used.",
    "Consistently good, no complaints at all.",
])

T["mealkit_pos"] = (1, [
    "The {kit} was delicious, recipe was easy to follow.",
    "Meal kits have got us cooking again, the kids love the {kit}.",
    "Tried the {kit} last night, restaurant quality.",
    "Recipes are creative without being complicated.",
    "Great variety of meal kits, never get bored.",
    "Portions are generous and the {kit} was a hit.",
])

T["mealkit_neg"] = (-1, [
    "Same recipes over and over, getting bored.",
    "The {kit} was bland, needed way more seasoning.",
    "Recipe said 30 minutes, took over an hour.",
    "Portions in the {kit} wouldn't feed a toddler.",
    "The {kit} looked nothing like the photo.",
])

T["delivery_pos"] = (1, [
    "Delivery arrived right on time, as promised.",
    "Always on time, never had an issue with delivery.",
    "Quick and easy delivery, everything in perfect condition.",
    "Order turned up early and everything was cold that should be cold.",
    "Smooth delivery as usual, no complaints.",
])

T["question"] = (0, [
    "[H+]How do I pause my Harvest+ subscription while I'm on holiday?",
    "Can I change the email address on my account?",
    "Is it possible to switch from Harvest+ to Standard mid-month?",
    "Do you deliver to {town}?",
    "How do I add another delivery address?",
    "I'd like to update my card details, where do I do that?",
    "Can you tell me if the {kit} contains nuts?",
    "How do I cancel my subscription?",
    "Can I add items to an order after it's been placed?",
    "Where can I find my invoice for last month?",
])

TRACKED = {"late", "cause", "slot_explicit", "slot_implicit", "login", "pm_neg", "pm_pos"}

# secondary clauses that add mixed sentiment without touching tracked topics
SECONDARY_NEG = [
    "Only downside is the price.", "App could be better though.",
    "Wish the portions were a bit bigger.", "Bit pricey but worth it.",
    "Substitutions can be hit and miss.", "Too many marketing emails though.",
]
CLOSERS = {
    -2: ["Not happy.", "Really disappointed.", "Sort it out please.", "Thinking of cancelling.",
         "Not good enough.", "Fix this.", "Come on, Hearth & Harvest.", "Last chance.", "Ugh.",
         "Very poor.", "Not impressed at all."],
    -1: ["Bit annoying.", "Please fix.", "Not ideal.", "Could do better.", "Meh."],
    0: ["Thanks.", "Cheers.", "Thanks in advance."],
    "slot": ["Otherwise great.", "Otherwise I love the service.", "Would make a huge difference.",
             "Thanks.", "Just a thought!"],
    1: ["Keep it up!", "Thanks!", "Very happy.", "Thank you Hearth & Harvest!",
        "Will keep ordering.", "10/10.", "Love it."],
}

TITLES = {
    "late": ["Late again", "Late delivery", "Not on time", "Where's my food?", "Missed the window"],
    "cause": ["ParcelDash is awful", "New courier = late", "Courier change ruined it",
              "Bring back the old drivers", "Late since the switch"],
    "slot_explicit": ["Need delivery slots", "Let me choose a time", "Evening deliveries please",
                      "One feature request", "Great but..."],
    "slot_implicit": ["Delivery times don't work", "Never in when it comes", "Awkward times"],
    "login": ["Can't log in", "Login broken", "Keeps logging me out", "Locked out"],
    "pm_neg": ["Price match?", "Price match refused", "Fake guarantee", "So much for price match"],
    "pm_pos": ["Price match worked", "Fair play"],
    -2: ["Disappointed", "Not impressed", "Poor", "Sort it out", "Going downhill", "Awful",
         "Very unhappy", "Never again"],
    -1: ["Could be better", "Meh", "A few issues", "Not great", "Hmm"],
    0: ["Question", "OK", "Mixed", "Fine I guess"],
    1: ["Love it", "Great service", "Brilliant", "Fresh and tasty", "5 stars", "Lovely",
        "Really good", "Happy customer"],
}

SUBJECTS = {
    "late": ["Late delivery", "Order arrived late", "Delivery outside my window", "Where is my order?"],
    "cause": ["Late delivery - ParcelDash", "New courier problems", "ParcelDash late again",
              "Complaint about new delivery company"],
    "slot_explicit": ["Delivery time request", "Can I choose a delivery time?",
                      "Evening delivery?", "Reschedule delivery"],
    "slot_implicit": ["Delivery times", "Missed delivery", "Not home during the day"],
    "login": ["Can't log in", "Password reset not working", "Login issue", "Locked out of account"],
    "pm_neg": ["Price match claim", "Price match refused", "Price match guarantee"],
    "pm_pos": ["Price match - thanks"],
    "quality_neg": ["Poor quality produce", "Items not fresh", "Complaint about freshness"],
    "damaged": ["Damaged items", "Items arrived broken", "Damaged delivery"],
    "wrong_missing": ["Missing items", "Wrong items delivered", "Items missing from order"],
    "driver_neg": ["Complaint about driver", "Driver behaviour"],
    "support_neg": ["Complaint about support", "Unhelpful agent"],
    "support_wait": ["No reply", "Still waiting for a response", "Chasing my complaint"],
    "price_neg": ["Prices", "Price increase"],
    "billing": ["Refund not received", "Charged twice", "Billing problem", "Incorrect charge"],
    "substitutions": ["Substitution complaint", "Return request", "Unwanted substitution"],
    "app_neg": ["App problem", "Website issue", "App crashing"],
    "communication": ["Emails", "Notifications", "No order confirmation"],
    "cleanliness": ["Quality control", "Wrong recipe card", "Complaint"],
    "question": ["Question", "Account question", "Subscription question", "Quick question"],
    "mealkit_neg": ["Meal kit feedback"],
    1: ["Thank you!", "Compliment", "Feedback", "Just wanted to say thanks"],
    "other": ["Feedback", "Complaint", "Order issue"],
}

NON_ENGLISH = [
    ("es", 1, "La fruta llegó muy fresca y el repartidor fue muy amable. ¡Gracias! Mañana pido otra vez."),
    ("es", -2, "Me faltaban dos productos del pedido y nadie me ha contestado todavía."),
    ("es", 1, "Los kits de comida están riquísimos, a mis hijos les encantan."),
    ("es", -2, "Demasiado caro para lo que es. La calidad ha bajado mucho este mes."),
    ("es", -1, "El servicio de atención al cliente tardó tres días en responder. Muy mal."),
    ("fr", 1, "Les légumes étaient très frais et le livreur très sympathique."),
    ("fr", -2, "Il manquait la moitié de ma commande et le service client ne répond pas."),
    ("fr", 1, "Très bon rapport qualité-prix, les recettes sont faciles à suivre."),
    ("fr", -2, "Les fraises étaient moisies à l'arrivée. Déçue."),
    ("fr", 1, "Service client très agréable, problème réglé en cinq minutes."),
    ("de", 1, "Das Obst war frisch und der Fahrer super freundlich."),
    ("de", -2, "Leider fehlten wieder zwei Artikel in meiner Lieferung."),
    ("de", -1, "Die Rezepte sind lecker, aber ziemlich teuer."),
    ("de", -2, "Kundenservice war unfreundlich und hat mein Problem nicht gelöst."),
    ("de", 1, "Alles bestens, schnelle Hilfe vom Support. Grüße aus Köln!"),
]

RANT_PARAGRAPHS = [
    "Right, I have held off writing this for weeks but I have finally had enough and I need to get it all off my chest, so bear with me because this is going to be long.",
    "First of all the quality. When I joined, the fruit and veg were genuinely the best I had ever had from any delivery service, and I told everyone about it. Now? The strawberries are mouldy within a day, the avocados go from rock hard to brown mush without ever passing through ripe, the salad leaves arrive slimy and the bread is stale more often than it isn't. Last week the chicken in my meal kit smelled so bad I had to air out the whole flat. I paid for that chicken. I paid for all of it.",
    "Then there are the substitutions. I have ticked 'no substitutions' on every single order and I STILL get them. Oat milk instead of whole milk (my son is allergic to oats, which is in the notes on my account, which apparently nobody reads). Sparkling water instead of still. A tiny jam doughnut instead of a sourdough loaf. A DOUGHNUT. Instead of BREAD. Who is making these decisions and are they alright?",
    "Missing items are now basically a weekly tradition. Two weeks ago it was the mince, the cheese and the eggs, which was the whole of that night's dinner. Last week it was the sauce for the meal kit, which made the meal kit a bowl of plain noodles. Every time I report it I get the same copy-pasted apology and a credit that takes a week to appear, if it appears at all. I am still waiting on two of them.",
    "And don't get me started on customer service. 'Friendly, helpful support in under 2 minutes' is written right there on your website. I have been in the chat queue for forty minutes. I have been on hold on the phone for an hour and then been cut off. I have emailed and waited five days for a reply that didn't answer my question. One agent told me it was probably my fridge that made the milk go off. My fridge is fine. My fridge is not the problem here.",
    "Billing is the cherry on top. I was charged twice for one order in August. I was told the duplicate payment would drop off in three to five working days. It did not. I was then told it had been refunded as account credit, which I never asked for. I want my money back on my card, not vouchers for a service I am rapidly losing faith in.",
    "Oh, and the app. Every time I open it there is a pop-up about a new offer I don't want, the search can't find things I bought last week, and the favourites list empties itself at random. I am not asking for much. I am asking for the food I paid for, in the condition it is sold in, and a human being who answers when something goes wrong.",
    "I honestly loved this service at the start. The recipes were fun, the kids got involved in cooking, and it felt like good value. I don't want to leave, but at this point I am paying a premium for mouldy fruit, random swaps, missing dinners and an hour on hold. Please, someone who actually runs this company, read this and fix it. Until then: one star, and I'm shopping around.",
]

HOSTILE = [
    # (source, polarity, text)
    ("reviews", 1, "Great veg this week <script>alert('x')</script>"),
    ("app", -1, "<script>alert('x')</script> app keeps crashing at checkout"),
    ("tickets", -1, "Hi, the search bar... sorry, the search field shows <script>alert('x')</script> when I type. Is the site hacked?"),
    ("reviews", 0, '=HYPERLINK("http://evil.example","click") for a free meal kit!!'),
    ("reviews", -1, "-2+3+cmd|' /C calc'!A0 lol testing your form. Meal kits are fine."),
    ("nps", 0, "+SUM(A1) just checking if this survey does anything. Service is ok."),
    ("app", -1, "@cmd /c calc   the app search is still rubbish"),
    ("tickets", 0, "=1+1 Please update my card details, the form on the site keeps rejecting it."),
    ("reviews", 1, "😍😍😍 best strawberries ever 🍓🍓🍓🥕🥦🍅 🙌🙌🙌 👏👏"),
    ("reviews", -2, "missing items AGAIN 😡😡😡👎👎👎🤬"),
    ("app", 1, "🔥🔥🔥 love this app 😋😋 🥑🍝🍋 ⭐⭐⭐⭐⭐"),
    ("app", -2, "mouldy raspberries 🤢🤢🤮🤮 👎👎"),
    ("tickets", -2, "😤😤😤 charged twice 💳💳 refund please 🙏🙏🙏"),
]

TYPO_FIXED = [("receive", "recieve"), ("definitely", "definately"), ("disappointed", "dissapointed"),
              ("really", "realy"), ("because", "becuase"), ("delicious", "delicous"),
              ("separate", "seperate"), ("until", "untill"), ("which", "wich")]
PROTECTED = {"parceldash", "price", "match", "login", "log", "slot", "slots", "late", "courier",
             "delivery", "window", "password", "reschedule", "evening", "weekend", "choose", "pick"}


# ---------------------------------------------------------------------------
# Per-comment truth (truth_comments.jsonl): what each comment is about.  Recorded
# alongside generation without drawing from the random generator, so the exports
# are the same with or without it.  "topics" are template topics (the planted one
# first, then the topic of a mixed-sentiment clause); "aspects" are what a single
# template sentence adds beyond its topic (e.g. a late delivery whose sentence
# also says nobody sent a text).  scripts/demo_theme_precision.py maps both onto
# taxonomy themes with corpora/demo/theme_truth.yaml.
# ---------------------------------------------------------------------------
STORE_SOURCE = {"reviews": "review_site", "app": "app_store", "nps": "nps_survey", "tickets": "helpdesk"}
# the preset `voiceminer` detects for each export: a comment is stored as "<preset>:<id column>"
SECONDARY_TOPIC = {
    "The food itself was great though.": "quality_pos",
    "Shame, because the {kit} was delicious.": "mealkit_pos",
    "Driver was lovely though.": "driver_pos",
    "Driver was really apologetic, not his fault.": "driver_pos",
    "To be fair, support sorted it out quickly.": "support_pos",
    "Support gave me a credit, which helped.": "support_pos",
    "The {produce} were lovely and fresh at least.": "quality_pos",
    "Only downside is the price.": "price_neg",
    "App could be better though.": "app_neg",
    "Wish the portions were a bit bigger.": "mealkit_neg",
    "Bit pricey but worth it.": "price_neg",
    "Substitutions can be hit and miss.": "substitutions",
    "Too many marketing emails though.": "communication",
}
ASPECTS = {
    # late / courier cause
    "Food arrived {mins} minutes after the window ended and the frozen stuff was half thawed.": ["spoiled_in_transit"],
    "The delivery window said {win} but it came at {time}. No text, no call, nothing.": ["no_updates"],
    "My shopping was late and the ice cream had melted into soup.": ["spoiled_in_transit"],
    "Late delivery, {hours} hours outside my window, and the tracking just said 'on its way' the whole time.": ["tracking"],
    "ParcelDash driver couldn't find the address and rang me from the wrong street. Food arrived {hours} hours late.": ["courier_conduct"],
    "Whoever ParcelDash are, they can't read a map. Late twice this week.": ["courier_conduct"],
    "ParcelDash van came at {time}, {hours} hours late, and the driver just shrugged.": ["courier_conduct"],
    "The tracking said ParcelDash had my order 'out for delivery' for {hours} hours. It got here long after my window.": ["tracking"],
    "My order was late again, I assume because of the courier switch. The {item} was warm by the time it came.": ["spoiled_in_transit"],
    "Driver from the new courier company got lost twice and my {kit} turned up after 9pm.": ["courier_conduct"],
    "Late AGAIN since the switch to ParcelDash. Their drivers clearly don't know the area.": ["courier_conduct"],
    "ParcelDash said 'delivered' at 2pm, food actually turned up at {time}. Late and they lied about it.": ["tracking"],
    # slot need
    "Love the food but I really need to be able to choose my delivery time.": ["food_praise"],
    "Would be great if I could reschedule from the app.": ["app_feature"],
    "Can you add a way to move my delivery to another day in the app? I had to email to change it.": ["app_feature"],
    "Would love an option to pick an evening slot, even if it cost a bit extra.": ["price_mention"],
    # login
    "Locked out of my account and support couldn't help me get back in.": ["support_unresolved"],
    # price match
    "Price matching? Don't bother. Support just copy-pastes a refusal.": ["support_unresolved"],
    "You advertise a price match guarantee but the claim form never works.": ["app_feature"],
    "Price match actually worked for me, got £{p} back on my {item}. Nice.": ["refund"],
    "Harvest+ price match sorted within a day, credit straight on my account.": ["refund"],
    # quality
    "The {produce} were mouldy within a day.": ["spoiled"],
    "Chicken in my {kit} smelled off, I didn't risk it.": ["spoiled"],
    "Disappointed with the freshness this week, the salad leaves were slimy.": ["spoiled"],
    "Meat quality is hit and miss. This week's mince was grey.": ["spoiled"],
    "{produce_cap} went furry two days after delivery. Not fresh at all.": ["spoiled"],
    "For the price I expect better than soft, spotty {produce}.": ["price_mention"],
    # damaged
    "Half my order was damaged, {produce} bruised and the milk had leaked.": ["spoiled_in_transit"],
    "Frozen items had defrosted and the {dairy} was warm.": ["spoiled_in_transit"],
    "{produce_cap} turned to mush in transit.": ["spoiled_in_transit"],
    # wrong / missing
    "Missing the {item} I ordered, and I still got charged for it.": ["charged"],
    "A whole chunk of my order never arrived, about £{p} worth.": ["lost"],
    # drivers
    "Friendly driver, fresh food, no complaints.": ["food_praise"],
    'Driver told me "not my problem" when I pointed out the eggs were broken.': ["damaged_goods"],
    # support
    "{agent} on the chat was brilliant, sorted my refund in minutes.": ["refund"],
    "Rang about a missing item and they couldn't have been nicer.": ["missing_goods"],
    "Had an issue, support fixed it straight away and gave me a credit. That's how it should be.": ["refund"],
    "Support basically told me it was my fault the food went off.": ["spoiled"],
    "Agent said they'd call back. They didn't.": ["broken_promise"],
    # price
    "Way too pricey for what you get, the portions in the {kit} are tiny.": ["portions"],
    "Delivery fee on top of the higher prices makes it hard to justify.": ["fees"],
    "Harvest+ fee went up and I honestly don't see what I'm getting for it.": ["membership"],
    "Love the food but I can't keep paying these prices.": ["food_praise"],
    "Harvest+ pays for itself with the free delivery.": ["membership"],
    "Saves me money compared to takeaways, and the food is better.": ["food_praise"],
    "Good value for the quality, especially the meal kits.": ["food_praise"],
    # billing
    "I cancelled my Harvest+ and got billed again anyway.": ["membership"],
    "Refund for the missing {item} never showed up in my account.": ["missing_goods"],
    "Promised a refund {days} days ago, nothing yet.": ["broken_promise"],
    "Still haven't received the credit I was promised for the damaged items.": ["damaged_goods", "broken_promise"],
    "Why was I charged a delivery fee when I'm on Harvest+?": ["membership"],
    "Subscription renewed without any warning and took £{p}.": ["membership"],
    # substitutions / returns
    "Returned the {item} through the app, refund took ages.": ["returns", "refund"],
    "The sub for my {item} was something I'd never eat, and the returns process is a faff.": ["returns"],
    "Tried to return faulty {household} and was told returns only count within 24 hours.": ["returns", "faulty"],
    "Got oat milk instead of semi-skimmed with no warning.": ["no_updates"],
    # app
    "App keeps forgetting my saved favourites.": ["account_details"],
    "Promo codes won't apply in the app but work on the website?": ["price_mention"],
    # communication
    "No notification when the order was on its way.": ["tracking"],
    "Nobody told me items were out of stock until the food arrived.": ["out_of_stock"],
    "Got an email saying my order was cancelled, then it turned up anyway. Confusing.": ["cancelled"],
    # cleanliness / attention to detail
    "Recipe card had the wrong instructions for my {kit}.": ["mistake"],
    "Veg was covered in mud, took ages to clean.": ["dirty"],
    "Driver tracked mud all through my hallway.": ["dirty", "courier_conduct"],
    "Small thing, but the receipt was someone else's.": ["mistake"],
    "The spices in the kit were mixed up, nearly put chilli in the kids' dinner.": ["mistake"],
    "Sticky mess on the bottom of everything from something that spilled.": ["dirty", "damaged_goods"],
    "Ingredients for two recipes were all jumbled together, no idea what went with what.": ["mistake"],
    "Found a hair in my salad. Gross.": ["hygiene"],
    "The van looked filthy inside when the driver opened it.": ["dirty"],
    "Attention to detail is slipping, the allergy note on my account was ignored.": ["allergy", "mistake"],
    # meal kits
    "Same recipes over and over, getting bored.": ["range"],
    "Great variety of meal kits, never get bored.": ["range"],
    "The {kit} looked nothing like the photo.": ["not_as_described"],
    "Recipe said 30 minutes, took over an hour.": ["not_as_described"],
    # delivery praise
    "Delivery arrived right on time, as promised.": ["on_time"],
    "Always on time, never had an issue with delivery.": ["on_time"],
    "Order turned up early and everything was cold that should be cold.": ["on_time"],
    "Quick and easy delivery, everything in perfect condition.": ["condition"],
    # questions
    "How do I pause my Harvest+ subscription while I'm on holiday?": ["membership"],
    "Can I change the email address on my account?": ["account_details"],
    "Is it possible to switch from Harvest+ to Standard mid-month?": ["membership"],
    "Do you deliver to {town}?": ["delivery_area"],
    "How do I add another delivery address?": ["account_details"],
    "I'd like to update my card details, where do I do that?": ["account_details", "payment"],
    "Can you tell me if the {kit} contains nuts?": ["allergy"],
    "How do I cancel my subscription?": ["membership"],
    "Can I add items to an order after it's been placed?": ["order_change"],
    "Where can I find my invoice for last month?": ["invoice"],
}
CLOSER_ASPECTS = {"Thinking of cancelling.": ["cancel_threat"]}
SPECIAL_TOPICS = {  # hand-written truth for the hostile, emoji and non-English texts and the rant
    "Great veg this week <script>alert('x')</script>": ["quality_pos"],
    "<script>alert('x')</script> app keeps crashing at checkout": ["app_neg"],
    "Hi, the search bar... sorry, the search field shows <script>alert('x')</script> when I type. Is the site hacked?": ["app_neg"],
    '=HYPERLINK("http://evil.example","click") for a free meal kit!!': [],
    "-2+3+cmd|' /C calc'!A0 lol testing your form. Meal kits are fine.": ["mealkit_pos"],
    "+SUM(A1) just checking if this survey does anything. Service is ok.": ["praise"],
    "@cmd /c calc   the app search is still rubbish": ["app_neg"],
    "=1+1 Please update my card details, the form on the site keeps rejecting it.": ["app_neg", "question"],
    "😍😍😍 best strawberries ever 🍓🍓🍓🥕🥦🍅 🙌🙌🙌 👏👏": ["quality_pos"],
    "missing items AGAIN 😡😡😡👎👎👎🤬": ["wrong_missing"],
    "🔥🔥🔥 love this app 😋😋 🥑🍝🍋 ⭐⭐⭐⭐⭐": ["app_pos"],
    "mouldy raspberries 🤢🤢🤮🤮 👎👎": ["quality_neg"],
    "😤😤😤 charged twice 💳💳 refund please 🙏🙏🙏": ["billing"],
    "La fruta llegó muy fresca y el repartidor fue muy amable. ¡Gracias! Mañana pido otra vez.": ["quality_pos", "driver_pos"],
    "Me faltaban dos productos del pedido y nadie me ha contestado todavía.": ["wrong_missing", "support_wait"],
    "Los kits de comida están riquísimos, a mis hijos les encantan.": ["mealkit_pos"],
    "Demasiado caro para lo que es. La calidad ha bajado mucho este mes.": ["price_neg", "quality_neg"],
    "El servicio de atención al cliente tardó tres días en responder. Muy mal.": ["support_wait"],
    "Les légumes étaient très frais et le livreur très sympathique.": ["quality_pos", "driver_pos"],
    "Il manquait la moitié de ma commande et le service client ne répond pas.": ["wrong_missing", "support_wait"],
    "Très bon rapport qualité-prix, les recettes sont faciles à suivre.": ["price_pos", "mealkit_pos"],
    "Les fraises étaient moisies à l'arrivée. Déçue.": ["quality_neg"],
    "Service client très agréable, problème réglé en cinq minutes.": ["support_pos"],
    "Das Obst war frisch und der Fahrer super freundlich.": ["quality_pos", "driver_pos"],
    "Leider fehlten wieder zwei Artikel in meiner Lieferung.": ["wrong_missing"],
    "Die Rezepte sind lecker, aber ziemlich teuer.": ["mealkit_pos", "price_neg"],
    "Kundenservice war unfreundlich und hat mein Problem nicht gelöst.": ["support_neg"],
    "Alles bestens, schnelle Hilfe vom Support. Grüße aus Köln!": ["support_pos"],
}
RANT_TOPICS = ["quality_neg", "substitutions", "wrong_missing", "support_wait", "support_neg", "billing",
               "app_neg", "mealkit_pos", "price_neg"]
RANT_ASPECTS = ["spoiled", "allergy", "refund"]


def check_truth_tables():
    """Every template named in ASPECTS / SECONDARY_TOPIC exists (a typo would silently drop truth)."""
    templates = {t.replace("[H+]", "") for _, temps in T.values() for t in temps}
    missing = [t for t in ASPECTS if t not in templates]
    assert not missing, missing
    clauses = set(SECONDARY_NEG) | {c for topic in T for c in secondary_pos_for(topic)}
    assert clauses == set(SECONDARY_TOPIC), clauses ^ set(SECONDARY_TOPIC)
    assert {t for _, _, t in HOSTILE} | {t for _, _, t in NON_ENGLISH} == set(SPECIAL_TOPICS)


def truth_rows(records):
    """One truth row per valid unique comment, keyed by the id the store gives it."""
    rows = []
    for r in records:
        rows.append({"id": "%s:%s" % (STORE_SOURCE[r["source"]], r["id"]), "week": r["week"],
                     "topics": r["topics"], "aspects": sorted(set(r["aspects"]))})
    rows.sort(key=lambda x: x["id"])
    return rows



# ---------------------------------------------------------------------------
# Generation helpers
# ---------------------------------------------------------------------------
def week_start(w: int) -> dt.date:
    return START + dt.timedelta(weeks=w - 1)


def week_of(d: dt.date) -> int:
    return (d - START).days // 7 + 1


def weighted(rng, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


BG_WEIGHTS = {
    "damaged": 6, "wrong_missing": 8, "price_neg": 9, "quality_neg": 5, "mealkit_neg": 2,
    "driver_neg": 3, "support_neg": 3, "support_wait": 4, "billing": 4, "substitutions": 3,
    "app_neg": 3, "communication": 3, "cleanliness": 2,
    "quality_pos": 9, "driver_pos": 8, "praise": 6, "mealkit_pos": 4, "support_pos": 3,
    "delivery_pos": 3, "price_pos": 2, "app_pos": 2, "question": 3,
}
SOURCE_MULT = {
    "reviews": {"app_neg": 0.6, "app_pos": 0.5, "question": 0.3},
    "app": {"app_neg": 4, "app_pos": 4, "communication": 2, "question": 0.5, "driver_neg": 0.6},
    "nps": {"question": 0.2, "app_neg": 0.5, "app_pos": 0.5},
    "tickets": {"question": 6, "billing": 3, "wrong_missing": 2, "damaged": 1.5,
                "substitutions": 1.5, "support_wait": 0.6, "price_neg": 0.4, "price_pos": 0,
                "quality_pos": 0.05, "driver_pos": 0.08, "praise": 0.05, "mealkit_pos": 0.05,
                "support_pos": 0.15, "delivery_pos": 0.03, "app_pos": 0.03},
}
TRACKED_SOURCE_W = {
    "late": {"reviews": .35, "app": .12, "nps": .25, "tickets": .28},
    "cause": {"reviews": .35, "app": .12, "nps": .25, "tickets": .28},
    "slot": {"reviews": .35, "app": .20, "nps": .30, "tickets": .15},
    "login": {"reviews": .15, "app": .50, "nps": .05, "tickets": .30},
    "pm": {"reviews": .40, "app": .05, "nps": .25, "tickets": .30},
}
RATING_W = {
    -2: [55, 33, 10, 2, 0], -1: [25, 40, 27, 8, 0], 0: [5, 15, 40, 30, 10], 1: [0, 1, 6, 30, 63],
    "mixneg": [15, 35, 35, 15, 0], "mixpos": [0, 3, 20, 52, 25],
}
NPS_W = {
    -2: [12, 10, 13, 15, 15, 14, 10, 5, 4, 2, 0], -1: [3, 3, 6, 8, 12, 15, 18, 15, 12, 6, 2],
    0: [1, 1, 2, 4, 6, 10, 14, 22, 20, 12, 8], 1: [0, 0, 0, 0, 1, 2, 4, 10, 18, 30, 35],
    "mixneg": [2, 3, 5, 8, 12, 16, 18, 16, 12, 6, 2], "mixpos": [0, 0, 1, 2, 4, 8, 14, 24, 24, 15, 8],
}

TOPIC_GROUP = {
    "late": "delivery", "cause": "delivery", "damaged": "delivery", "wrong_missing": "delivery",
    "driver_neg": "delivery", "delivery_pos": "delivery", "driver_pos": "friendly_driver",
    "price_neg": "price", "pm_neg": "price", "pm_pos": "price", "price_pos": "price",
    "quality_neg": "quality_freshness", "quality_pos": "quality_freshness",
    "mealkit_neg": "meal_kits", "mealkit_pos": "meal_kits",
    "support_neg": "support", "support_pos": "support", "support_wait": "support",
    "billing": "billing_refunds", "substitutions": "substitutions_returns",
    "app_neg": "app_website", "app_pos": "app_website", "login": "account_login",
    "question": "account_questions", "communication": "communication",
    "cleanliness": "cleanliness_detail", "praise": "general_praise",
    "slot_explicit": "delivery_slot_need", "slot_implicit": "delivery_slot_need",
    "special": "other",
}


def pick_template(rng, topic, plan):
    pol, temps = T[topic]
    cands = [t for t in temps if not t.startswith("[H+]") or plan == "Harvest+"]
    t = rng.choice(cands)
    return pol, t.replace("[H+]", "")


def fill(rng, template, slots):
    return template.format_map(slots)


def secondary_pos_for(topic):
    """Positive mixed-sentiment clauses that make sense after a complaint about `topic`."""
    food = ["The food itself was great though.", "Shame, because the {kit} was delicious."]
    driver = ["Driver was lovely though.", "Driver was really apologetic, not his fault."]
    support = ["To be fair, support sorted it out quickly.", "Support gave me a credit, which helped."]
    fresh = ["The {produce} were lovely and fresh at least."]
    if topic in ("late", "cause", "damaged", "wrong_missing"):
        return driver + support + food
    if topic in ("quality_neg", "mealkit_neg", "cleanliness"):
        return support + driver[:1]
    if topic in ("support_neg", "support_wait"):
        return food + fresh + driver[:1]
    if topic == "driver_neg":
        return food + support[:1]
    return food + fresh + driver[:1]


def add_typo(rng, text):
    kind = rng.random()
    if kind < 0.3:
        return text.lower()
    if kind < 0.45:
        return text.replace("'", "")
    if kind < 0.7:
        for a, b in TYPO_FIXED:
            if a in text:
                return text.replace(a, b, 1)
    words = text.split(" ")
    idx = [i for i, w in enumerate(words) if w.isalpha() and len(w) > 4
           and w.lower() not in PROTECTED and not w[0].isupper()]
    if not idx:
        return text
    i = rng.choice(idx)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    if rng.random() < 0.5:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    else:
        w = w[:j] + w[j] + w[j:]
    words[i] = w
    return " ".join(words)


def compose(rng, rec):
    """Fill rec['text'], rec['polarity'], rec['mixed'], rec['category']."""
    topic, source = rec["topic"], rec["source"]
    cat0 = rng.choices(CATEGORIES, weights=[35, 35, 18, 12])[0]
    pol, tmpl = pick_template(rng, topic, rec["plan"])
    topics, aspects = [topic], list(ASPECTS.get(tmpl, ()))
    slots = Slots(rng, cat0, source)
    core = fill(rng, tmpl, slots)
    parts = [core]
    mixed = None
    r = rng.random()
    if pol < 0 and r < 0.2 and topic not in ("login",):
        clause = rng.choice(secondary_pos_for(topic))
        parts.append(fill(rng, clause, slots))
        topics.append(SECONDARY_TOPIC[clause])
        mixed = "mixneg"
    elif pol > 0 and r < 0.15:
        clause = rng.choice(SECONDARY_NEG)
        parts.append(fill(rng, clause, slots))
        topics.append(SECONDARY_TOPIC[clause])
        mixed = "mixpos"
    elif rng.random() < 0.3:
        # a second sentence from the same topic (different variant)
        _, tmpl2 = pick_template(rng, topic, rec["plan"])
        if tmpl2 != tmpl and topic not in ("question",):
            extra = fill(rng, tmpl2, slots)
            if len(core) + len(extra) < 260:
                parts.append(extra)
                aspects += ASPECTS.get(tmpl2, ())
    if rng.random() < 0.3:
        closer = rng.choice(CLOSERS["slot" if topic.startswith("slot") and pol == 0 else pol])
        parts.append(closer)
        aspects += CLOSER_ASPECTS.get(closer, ())
    if source in ("reviews", "app") and pol != 0 and rng.random() < 0.07:
        parts[-1] = parts[-1] + " " + rng.choice(EMO_POS if pol > 0 else EMO_NEG)
    sep = " "
    if source == "reviews" and len(parts) > 1 and rng.random() < 0.12:
        sep = rng.choice(["\n", "\n\n"])
    text = sep.join(p.strip() for p in parts if p.strip())
    text = re.sub(r"[ ]{2,}", " ", text).strip()
    typo_p = {"reviews": 0.08, "app": 0.15, "nps": 0.08, "tickets": 0.06}[source]
    if rng.random() < typo_p:
        text = add_typo(rng, text)
    rec.update(text=text, polarity=pol, mixed=mixed, category=slots.category, topics=topics,
               aspects=aspects)


def score_for(rng, rec):
    key = rec["mixed"] or rec["polarity"]
    if rec["topic"] == "slot_explicit" and not rec["mixed"]:
        key = 0
    if rec["source"] in ("reviews", "app"):
        return rng.choices(range(1, 6), weights=RATING_W[key])[0]
    if rec["source"] == "nps":
        return rng.choices(range(0, 11), weights=NPS_W[key])[0]
    return None


def rand_time(rng, lo=7, hi=22):
    return dt.time(rng.randint(lo, hi - 1), rng.randrange(0, 60))


def rand_id(rng, prefix, n, alphabet):
    while True:
        s = prefix + "".join(rng.choice(alphabet) for _ in range(n))
        if not forbidden_hits(s):
            return s


# ---------------------------------------------------------------------------
# Main build
# ---------------------------------------------------------------------------
def build(rng):
    # --- weekly quotas ----------------------------------------------------
    base_n = {w: rng.randint(248, 262) for w in range(1, N_WEEKS + 1)}
    late_plain = {w: rng.randint(11, 15) for w in base_n}
    normal_weeks = [w for w in base_n if w not in (SPIKE_WEEK, AFTERSHOCK_WEEK)]
    bg_mean = sum(late_plain[w] for w in normal_weeks) / len(normal_weeks)
    cause = {w: 0 for w in base_n}
    cause[SPIKE_WEEK] = round(4 * bg_mean) - late_plain[SPIKE_WEEK]
    cause[AFTERSHOCK_WEEK] = round(2 * bg_mean) - late_plain[AFTERSHOCK_WEEK]
    slot = {w: round(base_n[w] * (1 + 9 * (w - 1) / 13) / 100) for w in base_n}
    login = {}
    tail = [1, 0, 1, 1, 0, 1, 0, 1]
    for w in base_n:
        if w <= 4:
            login[w] = round(base_n[w] * rng.uniform(0.065, 0.078))
        elif w == 5:
            login[w] = round(base_n[w] * 0.035)
        elif w == 6:
            login[w] = round(base_n[w] * 0.015)
        else:
            login[w] = tail[w - 7]
    pm = {w: round(base_n[w] * 0.02) + rng.choice([-1, 0, 0, 1]) for w in base_n}

    records = []
    for w in range(1, N_WEEKS + 1):
        tracked = (["late"] * late_plain[w] + ["cause"] * cause[w] + ["slot"] * slot[w]
                   + ["login"] * login[w] + ["pm"] * pm[w])
        src_count = Counter()
        items = []
        for t in tracked:
            s = weighted(rng, TRACKED_SOURCE_W[t])
            if t != "cause":
                src_count[s] += 1
            items.append((t, s))
        for s in SOURCES:
            n_bg = max(0, round(base_n[w] * SOURCE_SHARE[s]) - src_count[s])
            wts = {k: v * SOURCE_MULT[s].get(k, 1) for k, v in BG_WEIGHTS.items()}
            if w in (SPIKE_WEEK, AFTERSHOCK_WEEK):
                wts["delivery_pos"] *= 0.4
            for _ in range(n_bg):
                items.append((weighted(rng, wts), s))
        for t, s in items:
            rec = {"week": w, "source": s, "plan": "Harvest+" if rng.random() < 0.35 else "Standard",
                   "region": rng.choice(REGIONS), "flags": set()}
            if t == "slot":
                t = "slot_explicit" if rng.random() < 0.6 else "slot_implicit"
            if t == "pm":
                rec["plan"] = "Harvest+" if rng.random() < 0.7 else "Standard"
                t = "pm_neg" if rng.random() < 0.85 else "pm_pos"
            if t == "cause":
                rec["region"] = rng.choices(REGIONS, weights=[55, 15, 15, 15])[0]
            rec["topic"] = t
            rec["date"] = week_start(w) + dt.timedelta(days=rng.randrange(7))
            rec["time"] = rand_time(rng)
            compose(rng, rec)
            records.append(rec)

    # --- special (hostile / emoji / non-English / rant) replace background rows
    def take_background(source, exclude_weeks=()):
        cands = [r for r in records if r["source"] == source and r["topic"] not in TRACKED
                 and r["topic"] != "special" and r["week"] not in exclude_weeks]
        return rng.choice(cands)

    for source, pol, text in HOSTILE:
        r = take_background(source)
        r.update(topic="special", polarity=pol, mixed=None, text=text, topics=SPECIAL_TOPICS[text], aspects=[])
        r["flags"].add("hostile")
    ne_sources = ["nps"] * 5 + ["reviews"] * 5 + ["app"] * 3 + ["tickets"] * 2
    ne_order = list(range(len(NON_ENGLISH)))
    rng.shuffle(ne_order)
    # keep the é/ñ-rich ones in the cp1252 file: give NPS the first of each language
    nps_pick = [0, 1, 5, 6, 13]
    rest = [i for i in ne_order if i not in nps_pick]
    for source, idx in zip(ne_sources, nps_pick + rest):
        lang, pol, text = NON_ENGLISH[idx]
        r = take_background(source)
        r.update(topic="special", polarity=pol, mixed=None, text=text, lang=lang, topics=SPECIAL_TOPICS[text],
                 aspects=[])
        r["flags"].add("non_english")
    r = take_background("reviews")
    r.update(topic="special", polarity=-2, mixed=None, text="\n\n".join(RANT_PARAGRAPHS), topics=RANT_TOPICS,
             aspects=list(RANT_ASPECTS))
    r["flags"].add("rant")

    for rec in records:
        rec["score"] = score_for(rng, rec)
    check_isolation(records)
    return records, dict(base_n=base_n, late_plain=late_plain, cause=cause, slot=slot,
                         login=login, pm=pm, bg_mean=bg_mean)


ISOLATION_RULES = {
    # keyword family -> topics allowed to use it (so keyword-based tests stay clean)
    "late": (re.compile(r"\blate\b", re.I), {"late", "cause"}),
    "slot": (re.compile(r"\bslots?\b|reschedul|evening|weekend", re.I), {"slot_explicit", "slot_implicit"}),
    "price match": (re.compile(r"price match", re.I), {"pm_neg", "pm_pos"}),
    "login": (re.compile(r"log ?in|logs me out|logging me out|password|sign in|locked out", re.I), {"login"}),
    "courier": (re.compile(r"parceldash|courier", re.I), {"cause"}),
}


def check_isolation(records):
    for name, (rx, topics) in ISOLATION_RULES.items():
        for r in records:
            if r["topic"] not in topics:
                assert not rx.search(r["text"]), (name, r["topic"], r["text"])
    for r in records:
        if r["topic"] in ("pm_neg", "pm_pos"):
            assert "price match" in r["text"].lower(), r["text"]
        if r["topic"] == "cause":
            assert r["week"] in (SPIKE_WEEK, AFTERSHOCK_WEEK)


def make_extra(rng, source, flag):
    """A background (untracked) comment that is excluded from the clean set."""
    w = rng.randint(1, N_WEEKS)
    wts = {k: v * SOURCE_MULT[source].get(k, 1) for k, v in BG_WEIGHTS.items()}
    rec = {"week": w, "source": source, "plan": rng.choice(PLANS), "region": rng.choice(REGIONS),
           "flags": {flag}, "topic": weighted(rng, wts)}
    rec["date"] = week_start(w) + dt.timedelta(days=rng.randrange(7))
    rec["time"] = rand_time(rng)
    compose(rng, rec)
    rec["score"] = score_for(rng, rec)
    check_isolation([rec])
    return rec


def nps_text(rng, text):
    """Make NPS comments look like a Windows survey export (curly quotes, no emoji)."""
    out = []
    for ch in text:
        try:
            ch.encode("cp1252")
            out.append(ch)
        except UnicodeEncodeError:
            pass
    text = re.sub(r"[ ]{2,}", " ", "".join(out)).strip()
    if rng.random() < 0.45:
        text = text.replace("'", "’")
    if '"' in text:
        text = re.sub(r'"([^"]*)"', "“\\1”", text)
    if rng.random() < 0.05 and ". " in text and text.index(". ") > 25:
        text = text.replace(". ", "; ", 1)
    return text


def oneline(text):
    return re.sub(r"\s+", " ", text).strip()


TICKET_GREET = ["Hi,", "Hello,", "Hi there,", "Good morning,", "Hi team,", "Hello Hearth & Harvest,"]
TICKET_ASK = {
    -2: ["Can I get a refund please?", "Please sort this out.", "I'd like a refund for this order.",
         "Can someone call me back?", "Please advise.", "What are you going to do about it?"],
    -1: ["Please advise.", "Can you look into this?", "Any help appreciated."],
    0: ["Thanks in advance.", "Please let me know.", "Any help appreciated."],
    1: ["Please pass this on.", "Just wanted you to know."],
}
TICKET_SIGN = ["Thanks, {n}", "Cheers, {n}", "Regards,\n{n}", "{n}", "Thanks", "Many thanks"]


def ticket_fields(rng, rec):
    text = rec["text"]
    topic = rec["topic"]
    pol = rec["polarity"]
    if rec["flags"] & {"hostile", "non_english"} or not text.strip():
        desc = text
    else:
        parts = []
        if rng.random() < 0.6:
            parts.append(rng.choice(TICKET_GREET) + "\n\n")
        body = text
        if rec["channel"] == "phone":
            body = "Customer called. " + body
        if rng.random() < 0.4:
            body += " Order number HH-%06d." % rng.randint(100000, 999999)
        if rng.random() < 0.6:
            ask = rng.choice(TICKET_ASK[pol])
            body += " " + ask
            if "refund" in ask:
                rec["aspects"].append("refund_request")
        parts.append(body)
        if rng.random() < 0.5 and rec["channel"] == "email":
            parts.append("\n\n" + rng.choice(TICKET_SIGN).format(n=rng.choice(FIRST_NAMES)))
        desc = "".join(parts)
    subj_key = topic if topic in SUBJECTS else (1 if pol > 0 else "other")
    if topic == "special":
        subj_key = 1 if pol > 0 else "other"
    subject = rng.choice(SUBJECTS[subj_key])
    if topic in ("late", "cause", "wrong_missing", "billing", "damaged") and rng.random() < 0.5:
        prio = "high"
    elif topic in ("question", "slot_explicit", "pm_pos") or pol > 0:
        prio = "low"
    else:
        prio = rng.choice(["normal", "normal", "normal", "high", "low"])
    return subject, desc, prio


def title_for(rng, rec):
    if rng.random() < 0.06:
        return ""
    if rec["topic"] in TITLES:
        return rng.choice(TITLES[rec["topic"]])
    return rng.choice(TITLES[max(-2, min(1, rec["polarity"]))])


APP_VERSIONS = [(1, "4.1.2"), (3, "4.1.3"), (5, "4.2.0"), (8, "4.2.1"), (12, "4.3.0")]
DEVICES = ["Pixel 8", "Pixel 6a", "Samsung Galaxy S23", "Samsung Galaxy A54", "OnePlus 11",
           "Xiaomi Redmi Note 12", "Motorola moto g54", "Samsung Galaxy S21 FE", "Pixel 7 Pro",
           "Nothing Phone (2)", "Samsung Galaxy A14", "OPPO Find X5"]


def app_version(rng, rec):
    w = rec["week"]
    avail = [v for start, v in APP_VERSIONS if start <= w]
    if rec["topic"] == "login" and w in (5, 6):
        return "4.1.3"  # the stragglers who had not updated yet
    if len(avail) > 1 and rng.random() < 0.15:
        return avail[-2]
    return avail[-1]


def tz_offset(rng, d):
    # BST until the last Sunday of October 2026 (2026-10-25); some systems log UTC
    bst = d < dt.date(2026, 10, 25)
    if bst and rng.random() < 0.85:
        return "+01:00"
    return "+00:00"


def write_all(out_dir):
    check_truth_tables()
    rng = random.Random(SEED)
    records, quotas = build(rng)
    by_src = defaultdict(list)
    for r in records:
        by_src[r["source"]].append(r)
    for s in by_src:
        by_src[s].sort(key=lambda r: (r["date"], r["time"]))
    truth_files = {}
    os.makedirs(out_dir, exist_ok=True)
    all_texts = []

    # ---------------- reviews_site.csv -----------------------------------
    revs = by_src["reviews"]
    extras = []
    bad_dates = ["31/02/2026", "not a date", "2026-13-45", "2026-02-30", "yesterday",
                 "00/00/0000", "2026-1O-05", "N/A"]
    for bd in bad_dates:
        e = make_extra(rng, "reviews", "bad_date")
        e["date_str"] = bd
        extras.append(e)
    for blank in ["", "   ", " \n "]:
        e = make_extra(rng, "reviews", "empty")
        e["text"] = blank
        extras.append(e)
    # out-of-range ratings: applied to clean (background) rows, text stays valid
    bad_ratings = ["7", "", "7"]
    cands = [r for r in revs if r["topic"] not in TRACKED and not r["flags"]]
    for val, r in zip(bad_ratings, rng.sample(cands, len(bad_ratings))):
        r["score"] = val
        r["flags"].add("bad_score")
    rows = list(revs)
    for e in extras:
        rows.insert(rng.randrange(len(rows) + 1), e)
    for i, r in enumerate(rows, start=1):
        r["id"] = "RV-%06d" % (i + 100)
        r["title"] = title_for(rng, r)
        if rng.random() < 0.03:
            r["category"] = ""
    dup_src = rng.sample([r for r in rows if not r["flags"] & {"bad_date", "empty"}], 25)
    out_rows = list(rows)
    for d in dup_src:
        pos = out_rows.index(d)
        out_rows.insert(rng.randrange(pos + 1, len(out_rows) + 1), d)
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    wr.writerow(["review_id", "date", "rating", "title", "review_text", "product", "region", "plan"])
    for r in out_rows:
        date_s = r.get("date_str", r["date"].isoformat())
        wr.writerow([r["id"], date_s, r["score"], r["title"], r["text"], r["category"],
                     r["region"], r["plan"]])
        all_texts += [r["title"], r["text"], r["category"]]
    with open(os.path.join(out_dir, "reviews_site.csv"), "wb") as f:
        f.write(buf.getvalue().encode("utf-8-sig"))
    truth_files["reviews_site.csv"] = {
        "encoding": "utf-8-sig", "delimiter": ",", "data_records": len(out_rows),
        "bad_date_rows": len(bad_dates), "bad_date_values": bad_dates,
        "empty_text_rows": 3, "bad_score_rows": len(bad_ratings), "bad_score_values": bad_ratings,
        "exact_duplicate_rows": 25, "malformed_rows": 0,
        "valid_unique_comments": len(revs),
    }

    # ---------------- app_reviews.tsv ------------------------------------
    apps = by_src["app"]
    extras = []
    for blank in ["", " "]:
        e = make_extra(rng, "app", "empty")
        e["text"] = blank
        extras.append(e)
    rows = list(apps)
    for e in extras:
        rows.insert(rng.randrange(len(rows) + 1), e)
    alphabet = string.ascii_letters + string.digits + "-_"
    for r in rows:
        r["id"] = rand_id(rng, "gp:AOqpTO", 43, alphabet)
        r["title"] = title_for(rng, r) if rng.random() < 0.85 else ""
        r["version"] = app_version(rng, r)
        r["device"] = rng.choice(DEVICES) if rng.random() < 0.95 else ""
        r["text"] = oneline(r["text"]) if r["text"].strip() else r["text"]
    rows.sort(key=lambda r: (r["date"], r["time"]), reverse=True)
    buf = io.StringIO()
    wr = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    wr.writerow(["Review ID", "Date", "Star Rating", "Title", "Review", "App Version", "Device"])
    for r in rows:
        stamp = dt.datetime.combine(r["date"], r["time"]).strftime("%b %d, %Y %H:%M")
        assert "\t" not in r["text"] and "\n" not in r["text"]
        wr.writerow([r["id"], stamp, r["score"], r["title"], r["text"], r["version"], r["device"]])
        all_texts += [r["title"], r["text"]]
    with open(os.path.join(out_dir, "app_reviews.tsv"), "wb") as f:
        f.write(b"\xff\xfe" + buf.getvalue().encode("utf-16-le"))
    truth_files["app_reviews.tsv"] = {
        "encoding": "utf-16 (LE with BOM)", "delimiter": "\\t", "data_records": len(rows),
        "bad_date_rows": 0, "empty_text_rows": 2, "bad_score_rows": 0,
        "exact_duplicate_rows": 0, "malformed_rows": 0, "valid_unique_comments": len(apps),
    }

    # ---------------- nps_survey.csv -------------------------------------
    npss = by_src["nps"]
    for r in npss:
        r["text"] = nps_text(rng, oneline(r["text"]))
    extras = []
    nps_bad_dates = ["31/09/2026 10:00", "not a date", "45/13/2026 25:61", "00/00/0000 00:00",
                     "32/10/2026 09:00"]
    for bd in nps_bad_dates:
        e = make_extra(rng, "nps", "bad_date")
        e["text"] = nps_text(rng, oneline(e["text"]))
        e["date_str"] = bd
        extras.append(e)
    for blank in ["", "  ", ""]:
        e = make_extra(rng, "nps", "empty")
        e["text"] = blank
        extras.append(e)
    bad_nps = ["11", "-1", "ten", "11"]
    cands = [r for r in npss if r["topic"] not in TRACKED and not r["flags"]]
    for val, r in zip(bad_nps, rng.sample(cands, len(bad_nps))):
        r["score"] = val
        r["flags"].add("bad_score")
    rows = list(npss)
    for e in extras:
        rows.insert(rng.randrange(len(rows) + 1), e)
    for r in rows:
        r["id"] = rand_id(rng, "R_", 15, string.ascii_letters + string.digits)
    src_dups = rng.sample([r for r in rows if not r["flags"] & {"bad_date", "empty"}], 10)
    out_rows = [(r, None) for r in rows]
    for k, d in enumerate(src_dups):
        pos = next(i for i, (x, _) in enumerate(out_rows) if x is d)
        if k < 6:
            stamp = None  # exact duplicate
        else:  # resubmission: same id, same answer, a few minutes later the same day
            t = dt.datetime.combine(d["date"], d["time"]) + dt.timedelta(minutes=rng.randint(2, 40))
            stamp = t.strftime("%d/%m/%Y %H:%M")
        out_rows.insert(rng.randrange(pos + 1, len(out_rows) + 1), (d, stamp))
    buf = io.StringIO()
    wr = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    wr.writerow(["response_id", "submitted", "nps_score", "comment", "plan", "region"])
    for r, stamp in out_rows:
        if stamp is None:
            stamp = r.get("date_str") or dt.datetime.combine(r["date"], r["time"]).strftime(
                "%d/%m/%Y %H:%M")
        wr.writerow([r["id"], stamp, r["score"], r["text"], r["plan"], r["region"]])
        all_texts.append(r["text"])
    raw = buf.getvalue().encode("cp1252")
    try:
        raw.decode("utf-8")
        raise AssertionError("nps_survey.csv must not be valid UTF-8")
    except UnicodeDecodeError:
        pass
    with open(os.path.join(out_dir, "nps_survey.csv"), "wb") as f:
        f.write(raw)
    truth_files["nps_survey.csv"] = {
        "encoding": "cp1252", "delimiter": ";", "data_records": len(out_rows),
        "bad_date_rows": len(nps_bad_dates), "bad_date_values": nps_bad_dates,
        "empty_text_rows": 3, "bad_score_rows": len(bad_nps), "bad_score_values": bad_nps,
        "repeated_response_id_rows": 10, "exact_duplicate_rows": 6,
        "resubmitted_rows_same_id_later_timestamp": 4, "malformed_rows": 0,
        "valid_unique_comments": len(npss),
    }

    # ---------------- support_tickets.jsonl ------------------------------
    tix = by_src["tickets"]
    extras = []
    for blank in ["", "   "]:
        e = make_extra(rng, "tickets", "empty")
        e["text"] = blank
        extras.append(e)
    for _ in range(2):
        extras.append(make_extra(rng, "tickets", "missing_description"))
    for _ in range(3):
        extras.append(make_extra(rng, "tickets", "malformed"))
    rows = list(tix) + extras
    rows.sort(key=lambda r: (r["date"], r["time"]))
    lines = []
    for i, r in enumerate(rows):
        r["id"] = "T-%05d" % (10001 + i)
        r["channel"] = rng.choices(["email", "chat", "phone"], weights=[50, 35, 15])[0]
        subject, desc, prio = ticket_fields(rng, r)
        off = tz_offset(rng, r["date"])
        local = dt.datetime.combine(r["date"], r["time"])
        if off == "+00:00" and r["date"] < dt.date(2026, 10, 25):
            local -= dt.timedelta(hours=1)  # same instant, logged in UTC
        obj = {"ticket_id": r["id"], "created_at": local.strftime("%Y-%m-%dT%H:%M:00") + off,
               "subject": subject, "description": desc, "channel": r["channel"],
               "priority": prio, "customer_id": "C-%04d" % rng.randint(1000, 9999),
               "region": r["region"]}
        r["date"] = local.date()
        if "missing_description" in r["flags"]:
            del obj["description"]
        line = json.dumps(obj, ensure_ascii=False)
        if "malformed" in r["flags"]:
            line = line[: rng.randint(40, min(110, len(line) - 5))]
        lines.append(line)
        all_texts += [subject, desc]
    dup_idx = rng.sample([i for i, r in enumerate(rows) if not r["flags"]], 15)
    out_lines = list(lines)
    for i in sorted(dup_idx, reverse=True):
        out_lines.insert(i + 1 + rng.randint(0, 3), lines[i])
    with open(os.path.join(out_dir, "support_tickets.jsonl"), "wb") as f:
        f.write(("\n".join(out_lines) + "\n").encode("utf-8"))
    truth_files["support_tickets.jsonl"] = {
        "encoding": "utf-8", "delimiter": None, "data_records": len(out_lines),
        "bad_date_rows": 0, "empty_text_rows": 2, "bad_score_rows": 0,
        "exact_duplicate_rows": 15, "malformed_json_lines": 3, "missing_description_lines": 2,
        "valid_unique_comments": len(tix),
    }

    # ---------------- forbidden vocabulary check --------------------------
    for t in all_texts:
        hits = forbidden_hits(t or "")
        assert not hits, (hits, t)

    return records, quotas, truth_files


def summarize(records, quotas, truth_files):
    weeks = []
    for w in range(1, N_WEEKS + 1):
        rs = [r for r in records if r["week"] == w]
        c = Counter(r["topic"] for r in rs)
        weeks.append({
            "week": w, "start": week_start(w).isoformat(),
            "end": (week_start(w) + dt.timedelta(days=6)).isoformat(),
            "total_comments": len(rs),
            "by_source": {s: sum(1 for r in rs if r["source"] == s) for s in SOURCES},
            "late_delivery": c["late"] + c["cause"],
            "courier_cause": c["cause"],
            "delivery_slot_need": c["slot_explicit"] + c["slot_implicit"],
            "delivery_slot_need_explicit": c["slot_explicit"],
            "login_problem": c["login"],
            "price_match": c["pm_neg"] + c["pm_pos"],
            "price_match_negative": c["pm_neg"],
        })
    cause = [r for r in records if r["topic"] == "cause"]
    pmr = [r for r in records if r["topic"] in ("pm_neg", "pm_pos")]
    cause_explicit = sum(1 for r in cause if "parceldash" in r["text"].lower())
    base_region = Counter(r["region"] for r in records if r["source"] != "app")
    base_plan = Counter(r["plan"] for r in records if r["source"] in ("reviews", "nps"))

    def drivers(sel):
        g = Counter(TOPIC_GROUP.get(r["topic"], "other") for r in sel)
        n = sum(g.values())
        return {"n": n, "by_group": dict(g.most_common())}

    def score_ok(r, lo, hi):
        return isinstance(r["score"], int) and lo <= r["score"] <= hi

    nps = [r for r in records if r["source"] == "nps"]
    rev = [r for r in records if r["source"] in ("reviews", "app")]
    normal = [wk["late_delivery"] for wk in weeks if wk["week"] not in (SPIKE_WEEK, AFTERSHOCK_WEEK)]
    bg = sum(normal) / len(normal)
    total_clean = len(records)
    truth = {
        "corpus": "Hearth & Harvest demo corpus",
        "generator": "scripts/make_demo_corpus.py", "seed": SEED,
        "period": {"start": START.isoformat(), "end": (START + dt.timedelta(days=7 * N_WEEKS - 1)).isoformat(),
                   "weeks": N_WEEKS, "week_1_starts": START.isoformat()},
        "definitions": {
            "valid_unique_comments": "rows with a parseable date in the period, non-empty text, "
                                     "counted once per id (first occurrence); out-of-range "
                                     "scores are still valid comments (score becomes null); "
                                     "hostile, emoji, non-English and rant rows are valid comments",
            "per_comment_truth": "truth_comments.jsonl: one line per valid unique comment, its id as "
                                 "the store keeps it (<preset>:<id column>), its week, its topics "
                                 "(the template topic first, then that of a mixed-sentiment clause) "
                                 "and aspects (what one template sentence adds to its topic); "
                                 "theme_truth.yaml maps them onto the default taxonomy",
            "weekly_counts": "computed over valid unique comments only; a ticket counts once "
                             "(subject+description); every messy/excluded row is untracked "
                             "background text so tracked counts do not depend on cleaning",
        },
        "files": truth_files,
        "totals": {
            "data_records_all_files": sum(f["data_records"] for f in truth_files.values()),
            "valid_unique_comments": total_clean,
            "non_english_comments": sum(1 for r in records if "non_english" in r["flags"]),
            "hostile_or_formula_or_emoji_comments": sum(1 for r in records if "hostile" in r["flags"]),
            "long_rant_comments": 1,
            "long_rant_chars": max(len(r["text"]) for r in records if "rant" in r["flags"]),
        },
        "weeks": weeks,
        "patterns": {
            "complaint_spike": {
                "theme": "late delivery", "spike_week": SPIKE_WEEK, "aftershock_week": AFTERSHOCK_WEEK,
                "spike_week_start": week_start(SPIKE_WEEK).isoformat(),
                "background_weekly_mean": round(bg, 2),
                "spike_week_count": weeks[SPIKE_WEEK - 1]["late_delivery"],
                "spike_ratio": round(weeks[SPIKE_WEEK - 1]["late_delivery"] / bg, 2),
                "aftershock_week_count": weeks[AFTERSHOCK_WEEK - 1]["late_delivery"],
                "aftershock_ratio": round(weeks[AFTERSHOCK_WEEK - 1]["late_delivery"] / bg, 2),
                "root_cause": "switch of courier to ParcelDash at the start of week 9",
                "cause_entity": "ParcelDash",
                "cause_comments": len(cause),
                "cause_comments_naming_parceldash": cause_explicit,
                "cause_comments_outside_weeks_9_10": sum(1 for r in cause if r["week"] not in (9, 10)),
                "cause_comments_by_region": dict(Counter(r["region"] for r in cause).most_common()),
                "all_comments_by_region_excl_app": dict(base_region.most_common()),
            },
            "growing_unmet_need": {
                "need": "choose / schedule / reschedule a delivery time slot",
                "per_week": [wk["delivery_slot_need"] for wk in weeks],
                "share_week_1": round(weeks[0]["delivery_slot_need"] / weeks[0]["total_comments"], 4),
                "share_week_14": round(weeks[-1]["delivery_slot_need"] / weeks[-1]["total_comments"], 4),
            },
            "fading_theme": {
                "theme": "app login problems", "fix": "app version 4.2.0 released week 5 (2026-08-31)",
                "per_week": [wk["login_problem"] for wk in weeks],
                "max_per_week_from_week_7": max(wk["login_problem"] for wk in weeks[6:]),
            },
            "promise_never_mentioned": {
                "promise": "100% plastic-free packaging", "mentions": 0,
                "forbidden_substrings": FORBIDDEN_SUBSTRINGS, "forbidden_words": FORBIDDEN_WORDS,
            },
            "promise_raised_badly": {
                "promise": "price match guarantee", "mentions": len(pmr),
                "negative": sum(1 for r in pmr if r["topic"] == "pm_neg"),
                "per_week": [wk["price_match"] for wk in weeks],
                "by_plan": dict(Counter(r["plan"] for r in pmr).most_common()),
                "all_comments_by_plan_reviews_nps": dict(base_plan.most_common()),
            },
            "drivers": {
                "groups": "topic groups: " + ", ".join(sorted(set(TOPIC_GROUP.values()))),
                "nps_detractors_0_6": drivers([r for r in nps if score_ok(r, 0, 6)]),
                "nps_promoters_9_10": drivers([r for r in nps if score_ok(r, 9, 10)]),
                "reviews_1_2_stars": drivers([r for r in rev if score_ok(r, 1, 2)]),
                "reviews_5_stars": drivers([r for r in rev if score_ok(r, 5, 5)]),
            },
        },
        "promises": {
            "100% plastic-free packaging": "never mentioned (0 comments)",
            "price match guarantee": "raised ~2%/week, mostly negative",
            "delivery within your 1-hour window": "raised through late-delivery complaints",
            "friendly, helpful support in under 2 minutes": "raised through support wait/attitude comments",
        },
        "quotas_used": {k: (v if not isinstance(v, dict) else [v[w] for w in range(1, N_WEEKS + 1)])
                        for k, v in quotas.items()},
    }
    return truth


def render_readme(truth):
    f = truth["files"]
    p = truth["patterns"]
    wk = truth["weeks"]
    lines = []
    a = lines.append
    a("# Demo corpus: Hearth & Harvest")
    a("")
    a("Generated by `scripts/make_demo_corpus.py` (seed %d, stdlib only, byte-identical on every run)." % SEED)
    a("Do not edit these files by hand: change the generator and rerun "
      "`python scripts/make_demo_corpus.py --out corpora/demo`. Every number below is also in "
      "`truth.json`, which the generator computes from the rows it actually wrote.")
    a("")
    a("The four exports live in `exports/` (mine them with `voiceminer mine corpora/demo/exports`, "
      "which is what `scripts/demo.sh` runs); `truth.json` and this README sit beside that folder so "
      "they are never ingested as comments. Beside them, written by hand (not by the generator): "
      "`voiceminer.toml`, the demo's settings, `promises.yaml`, the business's promises and "
      "service standards that the report measures against what customers say, and "
      "`theme_truth.yaml`, which maps the planted topics onto the default taxonomy's themes.")
    a("")
    a("`truth_comments.jsonl` (written by the generator) holds one line per valid unique comment: "
      "its id as the store keeps it (`review_site:RV-000101`, `app_store:gp:...`, `nps_survey:R_...`, "
      "`helpdesk:T-10001`), its week, its `topics` (the template topic first, then the topic of a "
      "mixed-sentiment clause such as \"Driver was lovely though.\") and its `aspects` (what one "
      "template sentence adds to its topic, e.g. a late delivery whose sentence also says nobody sent "
      "a text). `python scripts/demo_theme_precision.py --data-dir DIR` scores the themes of a "
      "mined demo store against it.")
    a("")
    a("## The business")
    a("")
    a("**Hearth & Harvest** is an invented online grocery and meal-kit delivery service: an app "
      "(Android, versions 4.1.x to 4.3.0), a website, home delivery by courier, and two plans, "
      "**Harvest+** (subscription) and **Standard**. Segments: meal kits, fresh produce, pantry, "
      "household. Regions: North, South, East, West.")
    a("")
    a("Brand promises on its website:")
    a("")
    a("- \"100% plastic-free packaging\"")
    a("- \"price match guarantee\"")
    a("- \"delivery within your 1-hour window\"")
    a("- \"friendly, helpful support in under 2 minutes\"")
    a("")
    a("Period: 14 ISO weeks, Monday 2026-08-03 to Sunday 2026-11-08. Week 1 starts 2026-08-03, "
      "week *n* starts 2026-08-03 + 7(n-1) days, week 14 starts 2026-11-02.")
    a("")
    a("## Files")
    a("")
    a("| file | encoding | delimiter | data records | valid unique comments |")
    a("|---|---|---|---|---|")
    for name, d in f.items():
        a("| `%s` | %s | `%s` | %d | %d |" % (name, d["encoding"], d["delimiter"] or "JSON lines",
                                           d["data_records"], d["valid_unique_comments"]))
    a("| **total** | | | %d | %d |" % (truth["totals"]["data_records_all_files"],
                                       truth["totals"]["valid_unique_comments"]))
    a("")
    a("\"Data records\" are CSV records / TSV rows / JSONL lines after the header (a CSV record "
      "may span several physical lines because of quoted newlines). \"Valid unique comments\" = "
      "parseable date, non-empty text, first occurrence of the id; out-of-range scores are kept as "
      "valid comments with a null score.")
    a("")
    a("### `reviews_site.csv` (review-site export)")
    a("")
    a("UTF-8 **with BOM**, comma-delimited, CRLF record ends, RFC-4180 quoting (texts contain "
      "commas, double quotes and embedded newlines). Header: "
      "`review_id,date,rating,title,review_text,product,region,plan`. `review_id` = `RV-000101`..., "
      "`date` ISO `2026-08-03`, `rating` 1-5, `product` one of Meal kits / Fresh produce / Pantry / "
      "Household (about 3% blank), `plan` Harvest+ / Standard.")
    a("")
    d = f["reviews_site.csv"]
    a("Messy rows: %d unparseable dates (%s); %d empty/whitespace `review_text`; %d out-of-range "
      "ratings (values %s; these rows are otherwise valid); %d exact duplicate records (same id, "
      "same content, placed after the original). Also contains the ~%d-character rant, the "
      "`<script>` / `=HYPERLINK(...)` / `-2+3+cmd|...` injection texts, emoji-heavy texts and 5 "
      "non-English comments."
      % (d["bad_date_rows"], ", ".join("`%s`" % v for v in d["bad_date_values"]), d["empty_text_rows"],
         d["bad_score_rows"], ", ".join("`%s`" % (v or "blank") for v in d["bad_score_values"]),
         d["exact_duplicate_rows"], truth["totals"]["long_rant_chars"] // 100 * 100))
    a("")
    a("### `app_reviews.tsv` (app-store export)")
    a("")
    a("UTF-16 little-endian **with BOM** (Python `encoding=\"utf-16\"`), tab-delimited, LF row ends. "
      "Header: `Review ID\\tDate\\tStar Rating\\tTitle\\tReview\\tApp Version\\tDevice`. Ids look like "
      "`gp:AOqpTO...` (deterministic random), dates like `Aug 03, 2026 14:22`, rows newest first. "
      "Titles are often blank (~20%), Device blank ~5%. Review texts contain no tabs or newlines; "
      "a field containing a double quote is quoted CSV-style.")
    a("")
    a("Messy rows: %d empty/whitespace `Review`; `<script>`, `@cmd` and emoji-heavy texts; 3 non-English "
      "comments. App versions: 4.1.2 (weeks 1-2), 4.1.3 (weeks 3-4), 4.2.0 (login fix, from week 5), "
      "4.2.1 (from week 8), 4.3.0 (from week 12); ~15%% of rows still show the previous version."
      % f["app_reviews.tsv"]["empty_text_rows"])
    a("")
    a("### `nps_survey.csv` (NPS survey export)")
    a("")
    d = f["nps_survey.csv"]
    a("**cp1252** (Windows-1252; curly quotes ’ “ ” and é/ñ/ü appear, so the file is not valid "
      "UTF-8), **semicolon**-delimited, CRLF record ends. Header: "
      "`response_id;submitted;nps_score;comment;plan;region`. `response_id` = `R_` + 15 "
      "alphanumerics, `submitted` day-first `dd/mm/yyyy HH:MM` (plenty of days > 12), `nps_score` 0-10. "
      "No emoji (not encodable in cp1252). A few comments contain `;` and are quoted.")
    a("")
    a("Messy rows: %d unparseable dates (%s); %d empty/whitespace comments; %d out-of-range scores "
      "(%s; otherwise valid rows); %d extra rows repeat an existing `response_id` (%d exact "
      "duplicates + %d resubmissions with identical answer and a timestamp 2-40 minutes later the "
      "same day; dedupe on `response_id`, keep the first); `+SUM(A1)` formula text; 5 non-English "
      "comments."
      % (d["bad_date_rows"], ", ".join("`%s`" % v for v in d["bad_date_values"]), d["empty_text_rows"],
         d["bad_score_rows"], ", ".join("`%s`" % v for v in d["bad_score_values"]),
         d["repeated_response_id_rows"], d["exact_duplicate_rows"],
         d["resubmitted_rows_same_id_later_timestamp"]))
    a("")
    a("### `support_tickets.jsonl` (help-desk export)")
    a("")
    d = f["support_tickets.jsonl"]
    a("UTF-8, one JSON object per line: `ticket_id` (`T-10001`... in time order), `created_at` "
      "(ISO 8601 with offset: `+01:00` for most tickets before 2026-10-25 (BST), `+00:00` after it "
      "and for ~15% of earlier tickets logged in UTC; local times 06:00-22:00 so the calendar date "
      "never changes between offsets), `subject`, `description` (multi-line emails with greeting "
      "and sign-off; phone tickets start \"Customer called.\"), `channel` email/chat/phone, "
      "`priority` low/normal/high, `customer_id` `C-nnnn`, `region`.")
    a("")
    a("Messy lines: %d truncated lines that are not valid JSON; %d lines without a `description` "
      "key; %d empty/whitespace descriptions; %d exact duplicate lines (placed 1-4 lines after the "
      "original); `<script>`, `=1+1` and emoji-heavy texts; 2 non-English descriptions."
      % (d["malformed_json_lines"], d["missing_description_lines"], d["empty_text_rows"],
         d["exact_duplicate_rows"]))
    a("")
    a("All excluded rows (bad date, empty text, malformed, missing description) and all rows with "
      "out-of-range scores carry *untracked* background text, so the planted counts below are the "
      "same whether or not a pipeline drops them. Duplicates may copy any row, including tracked ones, "
      "so the planted counts assume de-duplication.")
    a("")
    a("## Planted patterns")
    a("")
    a("Per-week counts over valid unique comments (all four files together):")
    a("")
    a("| week | start | comments | late delivery | of which courier cause | slot need | login problem | price match |")
    a("|---|---|---|---|---|---|---|---|")
    for x in wk:
        a("| %d | %s | %d | %d | %d | %d | %d | %d |" % (
            x["week"], x["start"], x["total_comments"], x["late_delivery"], x["courier_cause"],
            x["delivery_slot_need"], x["login_problem"], x["price_match"]))
    a("")
    s = p["complaint_spike"]
    a("### 1. Complaint spike with root cause (late delivery, week 9)")
    a("")
    a("Background late-delivery complaints average %.1f per week (weeks 1-8 and 11-14). Week 9 "
      "(2026-09-28 .. 2026-10-04) has %d (%.2fx), week 10 has %d (%.2fx), week 11 is back to "
      "normal. Cause: Hearth & Harvest switched its courier to **ParcelDash** on Monday 2026-09-28. "
      "%d comments attribute the delay to the courier change (%d in week 9, %d in week 10), "
      "%d of them name ParcelDash explicitly, the rest say \"the new courier\", \"the courier "
      "change\", \"the new delivery company\", \"the new lot\", etc. No comment outside weeks 9-10 "
      "mentions ParcelDash, a new courier or a courier change, and background late-delivery comments "
      "never use the word \"courier\". The remaining late-delivery comments in weeks 9-10 are "
      "ordinary background ones without a cause. Region North is over-represented among courier-cause "
      "comments: %s (vs. all non-app comments %s)."
      % (s["background_weekly_mean"], s["spike_week_count"], s["spike_ratio"],
         s["aftershock_week_count"], s["aftershock_ratio"], s["cause_comments"],
         wk[8]["courier_cause"], wk[9]["courier_cause"], s["cause_comments_naming_parceldash"],
         json.dumps(s["cause_comments_by_region"]), json.dumps(s["all_comments_by_region_excl_app"])))
    a("")
    g = p["growing_unmet_need"]
    a("### 2. Growing unmet need: choosing a delivery time slot")
    a("")
    a("Requests to pick/schedule/reschedule a delivery time (evening or weekend slots, choose a "
      "window at checkout, reschedule in the app) grow linearly from %.1f%% of week-1 comments to "
      "%.1f%% in week 14. Per week: %s. About 60%% are explicit (\"I wish I could pick a delivery "
      "slot\", \"please add evening delivery windows\") and 40%% implicit (\"I'm at work until 6 so "
      "daytime-only delivery is useless to me\", \"had to take a morning off just to wait for the "
      "van\"); explicit per week: %s. These comments never say the delivery was late."
      % (100 * g["share_week_1"], 100 * g["share_week_14"], g["per_week"],
         [x["delivery_slot_need_explicit"] for x in wk]))
    a("")
    fthm = p["fading_theme"]
    a("### 3. Fading theme: app login problems")
    a("")
    a("\"Can't log in\", \"password reset email never arrives\", \"app logs me out\": about 7%% of "
      "comments in weeks 1-4, falling after app version 4.2.0 (week 5, 2026-08-31; the week 5-6 "
      "login complaints come from users still on 4.1.3), at most %d per week from week 7. Per week: %s."
      % (fthm["max_per_week_from_week_7"], fthm["per_week"]))
    a("")
    a("### 4. Promise never mentioned: plastic-free packaging")
    a("")
    a("Zero comments mention packaging. The generator asserts over every text field it writes "
      "(titles, texts, subjects, descriptions, product) that none contains, case-insensitively, any "
      "of the substrings %s, or any of the whole words %s. (Note that even `recommend`, `second` and "
      "`become` are avoided because they contain `eco`.)"
      % (", ".join("`%s`" % w for w in FORBIDDEN_SUBSTRINGS), ", ".join("`%s`" % w for w in FORBIDDEN_WORDS)))
    a("")
    pm = p["promise_raised_badly"]
    a("### 5. Promise raised and going badly: price match guarantee")
    a("")
    a("%d comments mention the price match (every one contains the words \"price match\"), "
      "%d of them negative (\"they refused to price match\", \"price match guarantee is a joke\"). "
      "Per week: %s (about 2%% of comments, steady). Harvest+ customers dominate: %s, while "
      "Harvest+ is about a third of review/NPS rows overall (%s)."
      % (pm["mentions"], pm["negative"], pm["per_week"], json.dumps(pm["by_plan"]),
         json.dumps(pm["all_comments_by_plan_reviews_nps"])))
    a("")
    dr = p["drivers"]
    a("### 6. Drivers of scores")
    a("")
    a("Scores are drawn from each comment's polarity (mixed comments such as \"delivery was late "
      "but the driver was lovely\" land in the middle). Topic groups of the primary theme:")
    a("")
    for key, label in [("nps_detractors_0_6", "NPS detractors (0-6)"),
                       ("nps_promoters_9_10", "NPS promoters (9-10)"),
                       ("reviews_1_2_stars", "site + app reviews, 1-2 stars"),
                       ("reviews_5_stars", "site + app reviews, 5 stars")]:
        top = list(dr[key]["by_group"].items())[:5]
        a("- %s, n=%d: %s" % (label, dr[key]["n"], ", ".join("%s %d" % t for t in top)))
    a("")
    a("Detractors and 1-2 star reviews are explained mainly by delivery (late, damaged, "
      "wrong/missing items, driver conduct) and price; promoters mostly praise freshness and "
      "friendly drivers.")
    a("")
    a("## Other content")
    a("")
    a("- Background themes at normal rates: quality/freshness, delivery damaged / wrong or missing "
      "items / driver conduct, support attitude, support waiting, price & value, billing & refunds, "
      "substitutions & returns, account questions, app/website usability (not login), "
      "communication (notifications, emails), cleanliness/attention to detail, meal kits, praise.")
    a("- Texts are built from 5-20 paraphrase templates per theme with slots (products, times, "
      "driver and agent names, competitors), optional mixed-sentiment clauses, closers, "
      "sarcasm (\"great, another late delivery\"), emoji (not in the cp1252 file) and light typos "
      "(~6-15% of texts: lower-casing, dropped apostrophes, swapped letters, common misspellings; "
      "keywords such as ParcelDash / price match / login are never mangled).")
    a("- %d non-English comments (Spanish, French, German): 5 NPS, 5 site reviews, 3 app reviews, "
      "2 tickets." % truth["totals"]["non_english_comments"])
    a("- %d hostile/odd texts stored verbatim: `<script>alert('x')</script>` (3), spreadsheet "
      "formula starts `=HYPERLINK(\"http://evil.example\",\"click\")`, `-2+3+cmd|...`, `+SUM(A1)`, "
      "`@cmd`, `=1+1` (5), emoji-heavy (5); plus one %d-character multi-paragraph rant in "
      "`reviews_site.csv`." % (truth["totals"]["hostile_or_formula_or_emoji_comments"],
                               truth["totals"]["long_rant_chars"]))
    a("")
    return "\n".join(lines) + "\n"


SCALE_ROWS_PER_FILE = 100_000
SCALE_DUPLICATE_EVERY = 500  # every 500th comment is written twice (an exact duplicate row)
SCALE_EMPTY_EVERY = 1000  # ... and every 1000th is followed by a row with an empty text (a reject)


class _Parts:
    """Numbered output files of at most SCALE_ROWS_PER_FILE data rows each, with a header per file."""

    def __init__(self, folder, stem, suffix, header=None):
        self.folder, self.stem, self.suffix, self.header = folder, stem, suffix, header
        self.fh, self.rows, self.files = None, 0, 0

    def write(self, line):
        if self.fh is None or self.rows >= SCALE_ROWS_PER_FILE:
            self.close()
            self.files += 1
            name = os.path.join(self.folder, "%s_%03d%s" % (self.stem, self.files, self.suffix))
            self.fh = open(name, "w", encoding="utf-8", newline="")
            self.rows = 0
            if self.header:
                self.fh.write(self.header)
        self.fh.write(line)
        self.rows += 1

    def close(self):
        if self.fh is not None:
            self.fh.close()
            self.fh = None


def _csv_line(fields):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(fields)
    return buf.getvalue()


def write_scale(out_dir, n_comments):
    """Write ``n_comments`` valid unique comments (see the module docs); returns the counts."""
    exports = os.path.join(out_dir, "exports")
    os.makedirs(exports, exist_ok=True)
    reviews = _Parts(exports, "scale_reviews", ".csv",
                     _csv_line(["review_id", "date", "rating", "title", "review_text", "product", "region", "plan"]))
    tickets = _Parts(exports, "scale_tickets", ".jsonl")
    counts = Counter()
    block = 0
    while counts["valid_unique_comments"] < n_comments:
        block += 1
        rng = random.Random(SEED + block)
        records, _ = build(rng)
        for i, rec in enumerate(records):
            if counts["valid_unique_comments"] >= n_comments:
                break
            if not rec["text"].strip():
                continue
            if rec["source"] == "tickets":
                rec["channel"] = rng.choices(["email", "chat", "phone"], weights=[50, 35, 15])[0]
                subject, desc, prio = ticket_fields(rng, rec)
                obj = {"ticket_id": "T-S%d-%d" % (block, i),
                       "created_at": dt.datetime.combine(rec["date"], rec["time"]).strftime("%Y-%m-%dT%H:%M:00+00:00"),
                       "subject": subject, "description": desc, "channel": rec["channel"], "priority": prio,
                       "customer_id": "C-%04d" % rng.randint(1000, 9999), "region": rec["region"]}
                parts, line = tickets, json.dumps(obj, ensure_ascii=False) + "\n"
                empty = json.dumps({**obj, "ticket_id": obj["ticket_id"] + "-E", "description": ""}) + "\n"
            else:
                score = rec["score"] if rec["source"] != "nps" else max(1, min(5, round(rec["score"] / 2)))
                fields = ["RV-S%d-%d" % (block, i), rec["date"].isoformat(), score, title_for(rng, rec), rec["text"],
                          rec["category"], rec["region"], rec["plan"]]
                parts, line = reviews, _csv_line(fields)
                empty = _csv_line([fields[0] + "-E", fields[1], score, "", "", "", rec["region"], rec["plan"]])
            parts.write(line)
            counts["valid_unique_comments"] += 1
            counts["data_rows"] += 1
            n = counts["valid_unique_comments"]
            if n % SCALE_DUPLICATE_EVERY == 0:
                parts.write(line)
                counts["exact_duplicate_rows"] += 1
                counts["data_rows"] += 1
            if n % SCALE_EMPTY_EVERY == 0:
                parts.write(empty)
                counts["empty_text_rows"] += 1
                counts["data_rows"] += 1
    reviews.close()
    tickets.close()
    out = dict(counts, blocks=block, files=reviews.files + tickets.files, weeks=N_WEEKS)
    with open(os.path.join(out_dir, "scale.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(out, indent=1, sort_keys=True) + "\n")
    return out


def _inside_repo(path):
    repo = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    target = os.path.realpath(path)
    return target == repo or target.startswith(repo + os.sep)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=None, help="output folder (default: corpora/demo; with --comments a new "
                                                "temporary folder)")
    ap.add_argument("--comments", "--scale", type=int, default=None, metavar="N",
                    help="write N valid unique comments at scale (streamed CSV/JSONL parts) instead of the demo")
    args = ap.parse_args(argv)
    if args.comments is not None:
        if args.comments < 1:
            ap.error("--comments must be at least 1")
        import tempfile

        out = args.out or tempfile.mkdtemp(prefix="vm-scale-")
        if _inside_repo(out):
            ap.error("--comments writes a big corpus: give an --out outside the repository (%s)" % out)
        counts = write_scale(out, args.comments)
        print("wrote %s: %d valid unique comments, %d data rows (%d duplicates, %d empty texts) in %d files" % (
            os.path.join(out, "exports"), counts["valid_unique_comments"], counts["data_rows"],
            counts["exact_duplicate_rows"], counts["empty_text_rows"], counts["files"]))
        return
    args.out = args.out or os.path.join("corpora", "demo")
    exports = os.path.join(args.out, "exports")  # only the exports: a folder `voiceminer mine` can read whole
    os.makedirs(exports, exist_ok=True)
    records, quotas, truth_files = write_all(exports)
    truth = summarize(records, quotas, truth_files)
    with open(os.path.join(args.out, "truth_comments.jsonl"), "wb") as f:
        f.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in truth_rows(records)).encode("utf-8"))
    with open(os.path.join(args.out, "truth.json"), "wb") as f:
        f.write((json.dumps(truth, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    with open(os.path.join(args.out, "README.md"), "wb") as f:
        f.write(render_readme(truth).encode("utf-8"))
    print("wrote %s: %d valid unique comments, %d data records" % (
        args.out, truth["totals"]["valid_unique_comments"], truth["totals"]["data_records_all_files"]))


if __name__ == "__main__":
    main()
