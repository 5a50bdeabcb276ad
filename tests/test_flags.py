"""Complaint flags and need statements: cues, priority, need cues/statements, grouping."""

from __future__ import annotations

import numpy as np
import pytest

from voiceminer.flags import Cue, find_cues, group_needs, need_cues, need_has_subject, need_statement, prioritise


def kinds(text: str) -> list[tuple[str, str]]:
    return [(c.kind, c.phrase) for c in find_cues(text)]


def has(text: str, kind: str) -> bool:
    return any(c.kind == kind for c in find_cues(text))


# --- cues -------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "I'm cancelling my subscription.", "Can you cancel my account please", "Please close my account.",
    "Switching to Ocado next week.", "Will be switching suppliers.", "I'm moving over to Sainsburys.",
    "Taking my business elsewhere.", "Never ordering again.", "I will never order from you again!",
    "This is the last time I use you.", "I'm done with you.", "If this happens again I'm going to cancel.",
    "Seriously considering cancelling.", "You have lost a loyal customer.", "I won\u2019t be ordering again",
    "I had no choice but to cancel my subscription",
])
def test_churn_positives(text):
    assert has(text, "churn"), find_cues(text)


@pytest.mark.parametrize("text", [
    "The flight was cancelled.", "They cancelled my order without telling me.", "You cancelled my subscription!",
    "My order was cancelled by you", "I am not cancelling my subscription, just annoyed.",
    "I have no intention of switching to another provider.", "I'd never switch to Tesco.",
    "I\u2019m not cancelling my subscription", "The last time I ordered it was fine.",
    "I'm moving to Leeds next month.", "I tried switching to dark mode.", "I don't want to cancel",
])
def test_churn_negatives(text):
    assert not has(text, "churn"), find_cues(text)


def test_cancelled_order_is_weak_churn_and_subscription_is_strong():
    weak = find_cues("I cancelled my order because it was late")
    strong = find_cues("I cancelled my subscription because it was late")
    assert [(c.kind, c.strength) for c in weak] == [("churn", "weak")]
    assert [(c.kind, c.strength) for c in strong] == [("churn", "strong")]


@pytest.mark.parametrize("text,kind", [
    ("URGENT: need this fixed today", "urgency"), ("I've been waiting 3 weeks for a refund.", "urgency"),
    ("This is the third time I've called.", "urgency"), ("No response to my emails.", "urgency"),
    ("Nobody has got back to me.", "urgency"), ("Please escalate this.", "urgency"),
    ("I need it by tomorrow.", "urgency"),
    ("My son had an allergic reaction.", "safety"), ("We all got food poisoning.", "safety"),
    ("I was sick after eating the chicken.", "safety"), ("The charger caught fire.", "safety"),
    ("Smoke coming out of the toaster.", "safety"), ("Sparks flew from the plug.", "safety"),
    ("Found glass in my salad.", "safety"), ("The bread was mouldy.", "safety"),
    ("This toy is a choking hazard.", "safety"), ("They sent expired medication.", "safety"),
    ("I burnt my hand on the handle.", "safety"), ("I can't believe I got food poisoning.", "safety"),
    ("I'm speaking to my lawyer.", "legal"), ("I will sue you.", "legal"),
    ("Reporting you to trading standards.", "legal"), ("I'll raise a chargeback.", "legal"),
    ("This is a GDPR breach.", "legal"), ("Contacting the ombudsman.", "legal"),
    ("I know my consumer rights.", "legal"), ("Fraudulent charges on my card.", "legal"),
    ("I won't hesitate to take legal action", "legal"),
    ("My elderly mother waited outside.", "vulnerability"), ("I'm disabled and the ramp was blocked.", "vulnerability"),
    ("I'm pregnant and couldn't lift the box.", "vulnerability"), ("My baby's formula was missing.", "vulnerability"),
    ("I'm a carer for my husband.", "vulnerability"), ("I have a medical condition.", "vulnerability"),
])
def test_cue_positives(text, kind):
    assert has(text, kind), find_cues(text)


@pytest.mark.parametrize("text,kind", [
    ("I ordered it today and it came today.", "urgency"), ("Nothing urgent, just a suggestion.", "urgency"),
    ("Not urgent.", "urgency"), ("Thankfully nobody was hurt.", "safety"), ("No injuries, but scary.", "safety"),
    ("The pizza was burnt.", "safety"), ("Smoked salmon was lovely.", "safety"), ("Non-smoking room was great.", "safety"),
    ("there's no sign of mould", "safety"), ("Sue from the help desk was great.", "legal"),
    ("I'm not going to take legal action.", "legal"), ("The feature was disabled.", "vulnerability"),
    ("Baby spinach was wilted.", "vulnerability"), ("The delivery was late but the driver was lovely.", "urgency"),
])
def test_cue_negatives(text, kind):
    assert not has(text, kind), find_cues(text)


@pytest.mark.parametrize("text", [
    "Third time asking. My baby had an allergic reaction; my solicitor will be in touch.",
    "I\u2019m cancelling my subscription and switching to Ocado, I've been waiting 3 weeks!",
    "Reporting you to trading standards. Smoke came out of it.",
])
def test_spans_are_the_phrases(text):
    cues = find_cues(text)
    assert cues
    for c in cues:
        assert text[c.span[0]:c.span[1]] == c.phrase
    assert [c.span for c in cues] == sorted(c.span for c in cues)


def test_cue_phrases_and_order():
    assert kinds("Third time asking. My baby had an allergic reaction; my solicitor will be in touch.") == [
        ("urgency", "Third time"), ("vulnerability", "baby"), ("safety", "allergic reaction"), ("legal", "solicitor")]
    assert kinds("I'm cancelling my subscription and switching to Ocado.") == [
        ("churn", "cancelling my subscription"), ("churn", "switching to Ocado")]
    assert find_cues("") == []


# --- priority ---------------------------------------------------------------------------

def test_safety_or_legal_is_high_even_without_complaint():
    p = prioritise(0.1, 0.0, find_cues("My son got food poisoning."))
    assert p.level == "high" and p.reasons == ["safety cue: 'food poisoning'"]
    assert prioritise(0.6, -0.4, find_cues("I'm calling my lawyer")).level == "high"


def test_churn_with_complaint_is_high_and_reasons_read_well():
    p = prioritise(0.9, -0.82, find_cues("Switching to Ocado."), rating=1, rating_scale=5)
    assert p.level == "high"
    assert p.reasons == ["churn risk: 'Switching to Ocado'", "complaint (0.90)", "strongly negative (-0.82)",
                         "1/5 rating"]
    assert prioritise(0.1, 0.0, find_cues("How do I cancel my subscription?")).level == "medium"


def test_weak_churn_and_urgency_are_medium_and_aggravated_urgency_is_high():
    assert prioritise(0.8, -0.3, find_cues("I cancelled my order because it was late")).level == "medium"
    assert prioritise(0.8, -0.3, find_cues("Still waiting for my refund.")).level == "medium"
    assert prioritise(0.8, -0.7, find_cues("Still waiting for my refund.")).level == "high"
    p = prioritise(0.8, -0.2, find_cues("Still waiting, my elderly mum has no heating."))
    assert p.level == "high" and "vulnerable customer: 'elderly'" in p.reasons


def test_negative_or_lowest_rating_complaint_is_medium_plain_complaint_low():
    assert prioritise(0.7, -0.65, []).level == "medium"
    p = prioritise(0.7, -0.2, [], rating=0, rating_scale=10)
    assert p.level == "medium" and "0/10 rating" in p.reasons
    assert prioritise(0.7, -0.2, [], rating=2, rating_scale=5).level == "low"
    assert prioritise(0.7, -0.2, [], rating=1).reasons[-1] == "1/5 rating"  # scale guessed
    assert prioritise(0.7, -0.2, []).reasons == ["complaint (0.70)"]


def test_no_complaint_no_cues_is_low():
    p = prioritise(0.1, 0.6, [], rating=5, rating_scale=5)
    assert (p.level, p.reasons) == ("low", ["no complaint"])
    assert prioritise(0.2, 0.0, find_cues("Please deliver by tomorrow")).reasons[-1] == "no complaint"


def test_scores_follow_levels_and_inputs_are_checked():
    high = prioritise(0.9, -0.9, find_cues("Caught fire"))
    med = prioritise(0.9, -0.9, [])
    low = prioritise(0.0, 1.0, [])
    assert 0.7 <= high.score <= 1.0 and 0.4 <= med.score < 0.7 and 0.0 <= low.score < 0.4
    assert prioritise(0.95, -0.9, []).score > prioritise(0.55, -0.6, []).score
    assert prioritise(0.9, -0.9, [Cue("safety", (0, 4), "fire")]).level == "high"
    with pytest.raises(ValueError):
        prioritise(1.5, 0.0, [])
    with pytest.raises(ValueError):
        prioritise(0.5, -2.0, [])


# --- needs ------------------------------------------------------------------------------

@pytest.mark.parametrize("text,statement", [
    ("I wish I could pick a delivery slot", "pick a delivery slot"),
    ("Please add evening delivery windows", "add evening delivery windows"),
    ("why can't I choose when my order arrives?", "choose when my order arrives"),
    ("It would be great if you could add a dark mode.", "add dark mode"),
    ("Why is there no dark mode?", "add dark mode"),
    ("It would be nice if the app showed the driver's location.", "show the driver's location"),
    ("There's no way to track my order once it ships.", "track my order once it ships"),
    ("The app should allow me to pause my subscription.", "pause my subscription"),
    ("I would love to see more vegan options!", "add more vegan options"),
    ("Can you add Apple Pay please?", "add Apple Pay"),
    ("I need to be able to change my password.", "change my password"),
    ("If only there were more slots at weekends.", "add more slots at weekends"),
    ("Please let me change my delivery day.", "change my delivery day"),
    ("I wish you wouldn\u2019t send so many emails.", "not send so many emails"),
    ("Please consider adding a gluten free range.", "add gluten free range"),
    ("The app doesn't let me edit my order.", "edit my order"),
    ("I wish the app was faster.", "make the app faster"),
    ("Evening delivery slots would be great.", "add evening delivery slots"),  # no cue: fallback
    ("Would love an option to pick an evening slot, even if it cost a bit extra.", "pick an evening slot"),
    ("It would make such a difference if I could book a Saturday morning delivery.",
     "book a Saturday morning delivery"),
    ("It'll make a huge difference if you add Apple Pay", "add Apple Pay"),
    ("It would be great if the app worked even if I'm offline.", "work even if I'm offline"),  # no comma: kept
])
def test_need_statement(text, statement):
    assert need_statement(text) == statement


@pytest.mark.parametrize("text,explicit,named", [
    ("Please fix.", True, False),
    ("Can you look into this?", True, False),
    ("Please sort this out asap", True, False),
    ("Milk leaked all over the kit, everything was soaked.", False, False),  # head-only: no noun in "soak"
    ("I wish I could pick a delivery slot", True, True),
    ("Please add more vegan options", True, True),
    ("Evening delivery slots would be great.", False, True),
    ("The app doesn't let me edit my order.", True, True),
])
def test_need_has_subject(text, explicit, named):
    assert need_has_subject(need_statement(text), explicit) is named, need_statement(text)


def test_need_statement_is_deterministic():
    text = "Honestly, it would be so much easier if I could just reorder with one click."
    assert need_statement(text) == "reorder with one click"
    assert need_statement(text.upper().lower().capitalize()) == "reorder with one click"


def test_need_cues_spans():
    text = "I wish I could pick a slot. Why can't I pay by card? Missing feature: export."
    assert [text[s:e] for s, e in need_cues(text)] == ["I wish", "Why can't I", "Missing feature:"]
    for t in ("I should have read the reviews.", "Please let me know when it ships.", "Great service, thanks!"):
        assert need_cues(t) == [], t
    assert need_cues("I need it by tomorrow") == []
    # saying something is no need of the service (demo: "I need to get it all off my chest, so bear with me")
    assert need_cues("I have had enough and I need to get it all off my chest.") == []
    assert need_cues("I need to vent.") == []
    assert need_cues("I need to be able to choose my delivery time") != []
    # a statement stops where a new clause with its own subject starts; a list of noun phrases does not
    assert need_statement("Please update my card details, the form on the site keeps rejecting it.") == \
        "update my card details"
    assert need_statement("Please add a way to pick the day, the time and the driver.") == \
        "add way to pick the day, the time and the driver"
    # a sentence-opening "Would love" drops its "I" (the cue starts past a leading mark); elsewhere it needs one
    for t in ("Would love dark mode.", "- Would love dark mode.", '"Would love dark mode'):
        assert [t[s:e] for s, e in need_cues(t)] == ["Would love"], t
    for t in ("The driver would love to come earlier.", "That made a big difference if you ask me.",
              "It would make a big difference if you ask me.", "I'd make a big difference if I could.",
              "Would make a huge difference."):
        assert need_cues(t) == [], t


def test_group_needs_tfidf_is_deterministic_and_labelled():
    statements = ["pick a delivery slot", "choose a delivery slot", "add dark mode", "add a dark mode option",
                  "add more vegan options", "add vegan options", "pay with Apple Pay", "add Apple Pay"]
    groups = group_needs(statements)
    assert groups == group_needs(list(statements))
    assert sorted(sorted(g.members) for g in groups) == [[0, 1], [2, 3], [4, 5], [6, 7]]
    for g in groups:
        assert g.size == len(g.members) and g.label in [statements[i] for i in g.members]
    assert group_needs([]) == [] and group_needs(["x"])[0].members == [0]


def test_need_distance_of_two_statements_ignores_the_others():
    """A need keeps its group when unrelated needs come and go: no weighting fitted on the run's set."""
    from voiceminer.flags import need_distances

    pair = ["pick a delivery slot", "choose my delivery time"]
    others = ["add dark mode", "reach a human quickly"] + [f"add delivery option {i}" for i in range(30)]
    alone = need_distances(pair)[0, 1]
    crowded = need_distances(pair + others)[0, 1]
    assert 0 < alone < 1 and abs(alone - crowded) < 1e-9
    groups = group_needs(pair + ["add dark mode", "add a dark mode option"])
    assert [sorted(g.members) for g in group_needs(pair + ["add dark mode", "add a dark mode option"] + others[1:2])
            ][:2] == [sorted(g.members) for g in groups][:2]


def test_group_needs_with_vectors():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(2, 16))
    statements = ["pick a delivery slot", "pick a delivery slot", "add dark mode", "add a dark mode",
                  "pick a delivery slot", "x"]
    # words and sentence vectors both count: the 5th shares the 1st's words but not its meaning
    vectors = np.vstack([base[0], base[0] * 3 + 0.01, base[1], base[1] + 0.01, -base[0], np.zeros(16)])
    groups = group_needs(statements, vectors)
    assert sorted(g.members for g in groups) == [[0, 1], [2, 3], [4], [5]]
    assert groups == group_needs(list(statements), vectors.copy())
    assert sorted(g.members for g in group_needs(statements)) == [[0, 1, 4], [2, 3], [5]]  # words alone
    with pytest.raises(ValueError):
        group_needs(["a"], vectors)


# ---- sarcasm ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, marker", [
    ("Great, another late delivery 🙄", "🙄"),
    ("Yeah right, best airline ever", "Yeah right"),
    ("Thanks for nothing", "Thanks for nothing"),
    ("Oh wonderful, my order is late again.", "Oh wonderful"),
    ("Just what I needed, a broken screen on day one.", "Just what I needed"),
    ("Perfect, stuck on hold for an hour", "Perfect"),
    ("Best customer service ever said no one ever", "said no one ever"),
    ("Great service, fast delivery!", None),
    ("Great job sorting out the late delivery", None),         # praise inside the sentence
    ("Thanks for sorting out my delayed order so quickly!", None),
    ("Perfect, arrived on time.", None),                         # interjection without a problem
    ("The food was great 😍", None),
])
def test_sarcasm_marker(text, marker):
    from voiceminer.flags.sarcasm import sarcasm_marker

    assert sarcasm_marker(text) == marker
