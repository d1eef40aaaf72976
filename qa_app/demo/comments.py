"""What the demo's reviewers write: short comments that say why, a few ways each.

Plain text tables for :mod:`qa_app.demo.answers`. Each reason has several wordings, so reviews do
not all read alike; ``{placeholders}`` are filled from the conversation (see ``Facts.details``).
"""

from __future__ import annotations

# Why an answer is below the top (or, for a few, why it deserves praise), by reason.
REASONS: dict[str, tuple[str, ...]] = {
    "many_messages": (
        "{messages} messages to get there: the key step got lost in the back-and-forth.",
        "Long thread ({messages} messages); give the answer first and the details after.",
        "The customer had to ask twice for the same detail over {messages} messages.",
    ),
    "long_handle": (
        "{minutes} minutes for a {topic} request; the steps came in the wrong order.",
        "Took {minutes} minutes: several replies repeated what was already said.",
    ),
    "failed_unclear": (
        "When the {topic} booking failed, the reply did not say what to do next.",
        "The failure was explained in internal terms the customer could not act on.",
    ),
    "low_csat_tone": (
        "Replies turned curt once the customer pushed back (CSAT {csat}/5).",
        "Correct but cold; with a customer this unhappy (CSAT {csat}) the tone matters.",
    ),
    "low_csat_empathy": (
        "Customer rated us {csat}/5 and their frustration was never acknowledged.",
        "A stock apology only; nothing about what this meant for the customer (CSAT {csat}).",
        "The customer said twice this was urgent; the replies did not pick that up.",
    ),
    "failed_empathy": (
        "The {topic} booking failed and the agent moved on without owning it.",
        "No acknowledgement that a failed booking is a real problem for the customer.",
    ),
    "repeat_contact": (
        "The customer is back about the same issue; say so and own it.",
        "Generic opening for a customer who already had to chase this once.",
    ),
    "wrong_confirmation": (
        "Told the customer the {topic} booking was confirmed, but the transaction had failed.",
        "Confirmed a booking that never went through; the customer would act on that.",
    ),
    "wrong_fact": (
        "Quoted a time that does not match what the system showed.",
        "The price given was not the one on the booking page.",
    ),
    "identity_missed": (
        "Account details given before the customer was verified.",
        "Booking changed on the customer's word alone; no verification first.",
    ),
    "disclosure_missed": (
        "Cancellation terms not stated before the customer confirmed.",
        "Fees mentioned only after the customer had agreed to the booking.",
    ),
    "failed_no_next_step": (
        "The {topic} booking failed and the customer left without a next step.",
        "Closed while the booking was still failing; no retry, no alternative offered.",
    ),
    "reopened_unresolved": (
        "Reopened: the fix did not hold and nothing new was tried this time.",
        "Closed as solved, but the customer had to reopen it.",
    ),
    "left_open": (
        "The customer's last question went unanswered.",
        "No confirmation that the issue was actually solved.",
    ),
    "escalated_badly": (
        "Escalated without a note of what had been checked; the next team starts over.",
        "Escalation went to the wrong queue and the customer was not told what happens next.",
    ),
    "reopened_fcr": (
        "Reopened ticket: the customer had to come back for the same issue.",
        "Second contact about this; the first one should have solved it.",
    ),
    "failed_fcr": (
        "Failed transaction: the customer will have to contact us again.",
        "The booking did not go through, so this is not solved on first contact.",
    ),
    "long_handle_fcr": (
        "A promised follow-up for something that could have been done in the chat.",
        "Missing details were not asked for, so a second contact is needed.",
    ),
    "fcr_partial": ("Only part of the request was handled; the rest needs another contact.",),
    "off_day": (
        "Fine, but a step below this agent's usual standard.",
        "Adequate; a little more care would lift it.",
    ),
}

PRAISE: dict[str, tuple[str, ...]] = {
    "clarity": ("Clear steps, answer first.", "Easy to follow from start to finish."),
    "professionalism": ("Warm and consistent throughout.", "Polished tone, even under pressure."),
    "acknowledges_situation": (
        "Picked up exactly why this mattered to the customer.",
        "Genuine and specific acknowledgement.",
    ),
    "resolved_or_escalated": (
        "Escalated with a complete note and told the customer what happens next.",
        "Right queue, full context, and a clear next step for the customer.",
    ),
}

# What the overall comment says about the main thing to work on, by reason, most serious first.
FOCUS: dict[str, str] = {
    "wrong_confirmation": "never confirm a booking the system has not confirmed",
    "wrong_fact": "check facts against the system before quoting them",
    "identity_missed": "verify the customer before touching the account",
    "failed_no_next_step": "when a booking fails, always leave the customer a next step",
    "reopened_unresolved": "make sure the fix holds before closing",
    "left_open": "confirm the issue is solved before closing",
    "escalated_badly": "escalate with a complete note and tell the customer what comes next",
    "disclosure_missed": "state terms and fees before the customer agrees",
    "low_csat_empathy": "acknowledge the customer's frustration before solving",
    "failed_empathy": "own the failure before moving on",
    "repeat_contact": "recognise a repeat contact and own it",
    "low_csat_tone": "keep the tone warm when the customer pushes back",
    "many_messages": "shorter, more structured replies",
    "long_handle": "keep the conversation moving; fewer repeated replies",
    "failed_unclear": "explain failures in words the customer can act on",
    "reopened_fcr": "solve it on the first contact",
    "failed_fcr": "solve it on the first contact",
    "long_handle_fcr": "ask for everything needed up front",
    "fcr_partial": "handle the whole request in one go",
    "off_day": "a little more care on the details",
}

OVERALL_GOOD = (
    "Solid {topic} conversation: clear, courteous and resolved.",
    "Good work. Nothing to fix here; a model answer for {topic} requests.",
    "Handled well from greeting to close.",
    "Textbook {topic} chat. Keep doing this.",
)
OVERALL_MIXED = (
    "Good overall. One thing to work on: {focus}.",
    "Mostly solid. Focus for next time: {focus}.",
    "A decent {topic} conversation; {focus}.",
)
OVERALL_POOR = (
    "This one needs a coaching talk: {focus}.",
    "Below standard. Main point: {focus}.",
    "Let's go through this together; {focus}.",
)

# The demo agent's side of a dispute, by the criterion disputed.
DISPUTE_REASONS: dict[str, str] = {
    "resolved_or_escalated": (
        "The booking failed on the supplier's side, not ours. I told the customer to try again"
        " in an hour, which is a next step."
    ),
    "first_contact_resolution": (
        "The customer came back about a different booking, not the same issue."
    ),
    "acknowledges_situation": (
        "I did acknowledge it: I apologised for the trouble and explained why it happened."
    ),
    "clarity": "The customer kept changing the request; the length is not down to my replies.",
    "professionalism": "I stayed polite the whole time even though the customer was rude.",
    "correct_information": "The system showed the booking as confirmed when I checked.",
    "identity_verified": "The customer gave the booking reference and e-mail; that is enough.",
    "required_disclosures": "The terms were in the confirmation I sent; I mentioned that.",
}
DEFAULT_DISPUTE_REASON = "I think this criterion was scored too harshly; please look again."

UPHELD_NOTE = (
    "I read the transcript again with the reviewer. The score stands: {focus}. Happy to go"
    " through it in our next one-to-one."
)
RESCORED_NOTE = (
    "You are right: looking again, this was handled within the guidance. Re-scored; thanks"
    " for raising it."
)
RESCORED_COMMENT = "Re-scored after the agent's dispute."
