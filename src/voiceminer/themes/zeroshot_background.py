"""Generic customer sentences that zero-shot themes calibrate every theme against.

A taxonomy written as labels and descriptions only has no labelled data to set its
thresholds on. Instead, :class:`~voiceminer.themes.zeroshot.ZeroShotThemes` scores each
theme on these sentences and reads a sentence's score for the theme as a z-score against
that distribution: a theme whose description is close to everything ("Service: how we
were served") needs a higher cosine to fire than a specific one ("Battery: battery life
and charging"), and the same threshold means the same thing for every theme.

The sentences were written for VoiceMiner, not taken from any corpus it is measured on:
short comments such as customers of many kinds of business write (shops, deliveries,
restaurants, travel, hotels, telecoms, banks, insurers, utilities, software, devices,
healthcare, gyms, schools, streaming), on many topics and with none, so that no one
theme's subject dominates. Changing them changes the calibration: the zero-shot stage's
version includes their hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = ["GENERIC_SENTENCES", "TOPIC_FREE_SENTENCES", "generic_sha256", "phrases_sha256"]

TOPIC_FREE_SENTENCES: tuple[str, ...] = (
    # thanks, greetings, verdicts, filler: no theme at all
    "Thank you so much!",
    "Thanks for your help.",
    "Hi there,",
    "Kind regards",
    "Not good enough.",
    "Very disappointed.",
    "Terrible.",
    "Awful experience.",
    "Great, love it!",
    "Brilliant, five stars.",
    "Keep up the good work.",
    "Would recommend.",
    "Never again.",
    "Please sort this out.",
    "What are you going to do about it?",
    "Can someone call me back?",
    "Order number 123456.",
    "See attached.",
    "Ok.",
    "No comment.",
    "N/A",
    "As always.",
    "I have been a customer for ten years.",
    "I'm writing to let you know what happened.",
    "This is the third time this year.",
    "My husband and I went on Saturday.",
    "We will definitely be back.",
    "I don't usually write reviews but here goes.",
    "Honestly I expected better.",
    "Overall a good experience.",
    "It was fine, nothing special.",
    "Just wow.",
    "Why is this so hard?",
    "Still waiting.",
    "Happy customer here.",
    "Nothing to add.",
)

GENERIC_SENTENCES: tuple[str, ...] = (
    # shops and online orders
    "I ordered a jacket and it came in the wrong size.",
    "The checkout page kept crashing when I tried to pay.",
    "Great selection and the prices were fair.",
    "My order was marked as delivered but nothing arrived.",
    "The parcel came two days early, well packed.",
    "I returned the shoes three weeks ago and still have no refund.",
    "The staff in the store were really helpful.",
    "Couldn't find anyone to help me on the shop floor.",
    "The website is confusing and the search never finds anything.",
    "I was charged twice for the same order.",
    "The discount code didn't work at checkout.",
    "The item looks nothing like the picture.",
    "Quality has gone downhill over the last year.",
    "Everything I ordered was in stock and arrived together.",
    "The tracking link hasn't updated in five days.",
    "The courier left the box in the rain.",
    "The return label was easy to print.",
    "Half of my order was missing.",
    # food delivery and groceries
    "The driver was friendly and on time.",
    "My groceries were substituted with things I didn't want.",
    "The eggs were broken when the bag arrived.",
    "The app says my food is ready but the restaurant hasn't started it.",
    "The delivery fee is more than the meal.",
    "Fresh vegetables and good quality meat every week.",
    "The bread was stale and the milk was out of date.",
    "I waited an hour and a half for a pizza.",
    "The delivery slot I wanted was never available.",
    # restaurants and cafes
    "The pasta was delicious and the portions were generous.",
    "Our waiter forgot our drinks twice.",
    "Lovely little place with a cosy atmosphere.",
    "It was far too loud to have a conversation.",
    "A bit pricey for what you get.",
    "We had to wait forty minutes for a table even with a booking.",
    "The coffee here is the best in town.",
    "The menu has plenty of vegetarian options.",
    "The toilets were filthy.",
    "The manager came over to apologise.",
    "Parking nearby is impossible.",
    # airlines, trains and travel
    "My flight was delayed by three hours with no explanation.",
    "The train was cancelled and there was no replacement bus.",
    "The cabin crew were lovely.",
    "My suitcase didn't arrive with me.",
    "The seats had no legroom at all.",
    "Check-in took forever because only one desk was open.",
    "I couldn't change my booking online.",
    "The bus driver didn't stop at my stop.",
    "The ticket machine only takes cash.",
    "The flight was smooth and we landed early.",
    "Nobody at the gate could tell us anything.",
    "The car rental desk tried to sell me insurance I didn't need.",
    "The rental car was dirty and had a scratch on the door.",
    # hotels
    "The room was spotless and the bed was comfortable.",
    "The shower was cold every morning.",
    "Reception upgraded us for free.",
    "The wifi in the room barely worked.",
    "Breakfast was included and really good.",
    "Our room overlooked a building site.",
    "Check-out was quick and easy.",
    "The pool was closed for the whole stay.",
    # telecoms and internet
    "My broadband drops out every evening.",
    "I've been on hold for over an hour.",
    "The engineer didn't turn up for the appointment.",
    "My bill went up without any warning.",
    "There's no signal in my house.",
    "Switching to this network was easy.",
    "I was promised a callback that never came.",
    "The contract terms were not explained to me.",
    "Roaming charges were ridiculous.",
    "The new phone arrived with a cracked screen.",
    # banks, insurers, utilities
    "My card was blocked while I was abroad.",
    "The transfer took a week to go through.",
    "The mobile banking app is easy to use.",
    "They closed my local branch.",
    "My claim was rejected without a reason.",
    "The claims handler was very understanding.",
    "Renewal price doubled from last year.",
    "The meter reading on my bill is wrong.",
    "I was cut off even though I had paid.",
    "Paying by direct debit is simple.",
    "The interest rate is better than anywhere else.",
    "I had to send the same documents three times.",
    # software, apps and subscriptions
    "The app crashes every time I open it.",
    "The latest update deleted all my settings.",
    "I can't log in since I reset my password.",
    "It would be great to have a dark mode.",
    "Cancelling the subscription was far too hard.",
    "The free trial turned into a paid plan without warning.",
    "Syncing between my phone and laptop works perfectly.",
    "The export feature is missing.",
    "It uses too much battery in the background.",
    "The interface is clean and simple.",
    "Support answered my ticket within an hour.",
    "The chatbot just goes round in circles.",
    "Please add an option to pick the language.",
    "It's slow to load on older phones.",
    "My data was lost after the sync failed.",
    # devices and electronics
    "The headphones stopped charging after a month.",
    "The screen is bright and sharp.",
    "The keyboard feels cheap.",
    "It overheats when I play games.",
    "Setup took five minutes.",
    "The instructions were useless.",
    "The speaker sound is tinny.",
    "The warranty repair took six weeks.",
    "The camera takes great photos in low light.",
    "The charger broke and a new one costs a fortune.",
    "The printer jams every other page.",
    "The washing machine leaks.",
    # healthcare, gyms, schools, services
    "I couldn't get an appointment for three weeks.",
    "The nurse was kind and explained everything.",
    "The waiting room was packed.",
    "The prescription was ready when I arrived.",
    "The gym is always too crowded after work.",
    "The changing rooms need a proper clean.",
    "The trainer really knows what he's doing.",
    "They charged me after I cancelled my membership.",
    "The course materials were out of date.",
    "The teacher gives useful feedback.",
    "The plumber fixed it in no time.",
    "The builders left a mess behind.",
    "The quote was much higher than the final invoice said.",
    # streaming and entertainment
    "The stream keeps buffering.",
    "There's nothing new to watch this month.",
    "The concert tickets sold out in seconds.",
    "The seats at the cinema were comfortable.",
    "Subtitles are out of sync.",
    # people and contact, any business
    "The lady on the phone sorted it out in minutes.",
    "Nobody replied to my email.",
    "I was passed between four departments.",
    "The staff were rude when I asked for help.",
    "He went above and beyond to help me.",
    "I still haven't heard back about my complaint.",
    "The live chat closed before I got an answer.",
    "I had to explain my problem again every time.",
    "They kept their promise and called me back.",
    "No one seems to take responsibility.",
    # money, value and policies
    "Good value for money.",
    "Hidden fees everywhere.",
    "The refund came back the next day.",
    "They wouldn't honour the price on the label.",
    "The loyalty points expired without notice.",
    "The terms changed and nobody told us.",
    "Free returns made it an easy decision.",
    # safety, accessibility, environment
    "There was no ramp for wheelchairs.",
    "The packaging is far too much plastic.",
    "The food had a hair in it.",
    "The staff didn't wear masks.",
    "The lift was out of order again.",
) + TOPIC_FREE_SENTENCES


def phrases_sha256(phrases: Sequence[str]) -> str:
    """Hash of a list of phrases, in order (the zero-shot stage's version holds those its themes depend on)."""
    return hashlib.sha256("\n".join(phrases).encode("utf-8")).hexdigest()


def generic_sha256() -> str:
    """Hash of :data:`GENERIC_SENTENCES` (part of the zero-shot stage's version)."""
    return phrases_sha256(GENERIC_SENTENCES)
