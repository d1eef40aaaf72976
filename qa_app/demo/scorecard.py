"""The demo's default scorecard, built on the criteria good support teams score."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.scorecards import services
from qa_app.scorecards.defaults import DEFAULT_SCORECARD_NAME
from qa_app.scorecards.models import Scorecard
from qa_app.scorecards.scoring import CriterionKind, Critical
from qa_app.scorecards.validation import CriterionSpec

__all__ = ["DEFAULT_SCORECARD_NAME", "DEFAULT_SECTIONS", "seed_default_scorecard"]

_YES_NO = CriterionKind.YES_NO
_SCALE = CriterionKind.SCALE

DEFAULT_SECTIONS: list[tuple[str, list[CriterionSpec]]] = [
    (
        "Accuracy",
        [
            CriterionSpec(
                key="correct_information",
                title="Information given is correct and complete",
                kind=_YES_NO,
                weight=3,
                critical=Critical.REVIEW,
                guidance=(
                    "Yes: every fact, price, policy, date and instruction the agent gave matches"
                    " the knowledge base and the customer's account at the time of the"
                    " conversation, and nothing the customer needed to act on was left out.\n"
                    "No: any wrong or misleading statement the customer could act on (a refund"
                    " that will not happen, a wrong deadline, a workaround that breaks"
                    " something), or an answer so incomplete that the customer must contact us"
                    " again to get it right.\n"
                    "A slip the agent corrected in the same conversation, before the customer"
                    " acted on it, is a Yes; say so in the comment. Check the knowledge-base"
                    " article's history if the policy changed recently. Failing this criterion"
                    " fails the whole review."
                ),
            ),
        ],
    ),
    (
        "Communication",
        [
            CriterionSpec(
                key="clarity",
                title="Clear, easy-to-follow explanations",
                kind=_SCALE,
                weight=2,
                scale_max=5,
                scale_labels=("Confusing", "Hard to follow", "Adequate", "Clear", "Exemplary"),
                guidance=(
                    "Rate how easily the customer could understand and act on what the agent"
                    " wrote or said.\n"
                    "5: plain language, no unexplained jargon or internal terms, steps numbered"
                    " in the order the customer performs them, the answer first and the"
                    " details after; nothing needed repeating.\n"
                    "3: understandable, but the customer had to read twice, ask a follow-up, or"
                    " dig the answer out of a long message or a pasted macro that did not fit.\n"
                    "1: the customer was left confused or misread the instructions because of"
                    " how they were written (contradictions, internal codes, walls of text).\n"
                    "Judge the writing, not the content: wrong content is scored under Accuracy."
                ),
            ),
            CriterionSpec(
                key="professionalism",
                title="Professional, courteous tone",
                kind=_SCALE,
                weight=1,
                scale_max=5,
                scale_labels=("Unprofessional", "Curt", "Acceptable", "Professional", "Polished"),
                allow_na=True,
                guidance=(
                    "Rate courtesy and tone throughout, including when the customer is rude:"
                    " greeting and closing, correct spelling of the customer's name, no blame,"
                    " sarcasm or slang, and a tone matched to the channel and to the customer's"
                    " mood.\n"
                    "1 is reserved for remarks that would embarrass the company if quoted"
                    " (arguing, blaming the customer or colleagues, dismissive replies);"
                    " 3 is correct but mechanical; 5 is warm, confident and consistent.\n"
                    "N/A only when the agent wrote nothing of their own, for example a"
                    " conversation closed by an automation or a merge of a duplicate ticket."
                ),
            ),
        ],
    ),
    (
        "Empathy",
        [
            CriterionSpec(
                key="acknowledges_situation",
                title="Acknowledges the customer's situation",
                kind=_SCALE,
                weight=2,
                scale_max=4,
                scale_labels=("Dismissive", "Generic", "Acknowledged", "Personal and genuine"),
                guidance=(
                    "Rate whether the agent showed they understood what the problem means for"
                    " this customer, not only what the problem is.\n"
                    "4: names the specific impact (a missed flight, a blocked payroll run, a"
                    " third contact about the same order), owns it, and adapts the pace or the"
                    " solution to it.\n"
                    "3: a sincere acknowledgement tied to the customer's words.\n"
                    '2: a stock phrase only ("Sorry for the inconvenience") that could follow'
                    " any message.\n"
                    "1: ignores or minimises stated frustration, urgency or distress, or"
                    ' contradicts the customer\'s experience ("that cannot happen").\n'
                    "Over-apologising without acting is a 2, not a 4."
                ),
            ),
        ],
    ),
    (
        "Compliance with protocol",
        [
            CriterionSpec(
                key="identity_verified",
                title="Identity verified when required",
                kind=_YES_NO,
                weight=2,
                allow_na=True,
                critical=Critical.SECTION,
                guidance=(
                    "Yes: before disclosing or changing anything account-specific (order,"
                    " address, payment or personal details, password or e-mail resets), the"
                    " agent verified the customer with the approved factors for the channel and"
                    " did so before the disclosure, not after.\n"
                    "No: account details were disclosed or changed without verification, with"
                    " an unapproved factor, or to someone other than the account holder without"
                    " recorded authorisation. Failing this criterion fails the Compliance"
                    " section.\n"
                    "N/A: the conversation needed no account-specific information (general"
                    " questions, product information, public order-tracking links)."
                ),
            ),
            CriterionSpec(
                key="required_disclosures",
                title="Required disclosures and policies stated",
                kind=_YES_NO,
                weight=1,
                allow_na=True,
                guidance=(
                    "Yes: every disclosure the situation triggers was given, in substance if"
                    " not word for word: call-recording notice on phone, cancellation and"
                    " refund terms when a plan is cancelled or downgraded, charges or fees"
                    " before the customer agrees to them, data-use notices when personal data"
                    " is collected, and the handover notice when transferring to a third"
                    " party.\n"
                    "No: a triggered disclosure was missing, wrong, or given only after the"
                    " customer had agreed.\n"
                    "N/A: nothing in the conversation triggered a disclosure."
                ),
            ),
        ],
    ),
    (
        "Resolution",
        [
            CriterionSpec(
                key="resolved_or_escalated",
                title="Solved, or escalated properly",
                kind=_YES_NO,
                weight=3,
                critical=Critical.SECTION,
                guidance=(
                    "Yes: the customer's issue was solved and the agent confirmed it, or, when"
                    " it could not be solved at this level, it was escalated through the right"
                    " queue with a complete internal note (what was checked, what the customer"
                    " needs) and the customer was told what happens next and by when.\n"
                    "No: the customer was left without a solution or a clear next step; the"
                    " ticket was closed while the issue was open; an escalation went to the"
                    " wrong team, lacked the information to act on, or was used for something"
                    " the agent could and should have solved. Failing this criterion fails the"
                    " Resolution section."
                ),
            ),
            CriterionSpec(
                key="first_contact_resolution",
                title="Resolved on first contact",
                kind=_YES_NO,
                weight=1,
                allow_na=True,
                guidance=(
                    "Yes: the issue was fully solved in this conversation, with no follow-up"
                    " needed from the customer or from us.\n"
                    "No: the issue could have been solved in this contact but the customer"
                    " will have to come back (missing information not asked for, a promised"
                    " call-back for something the agent could do now, a partial answer).\n"
                    "N/A: resolution depended on something outside the agent's control, such"
                    " as a carrier investigation, a bug fix or a specialist team, and the"
                    " escalation was correct (score that under the criterion above)."
                ),
            ),
        ],
    ),
]


def seed_default_scorecard(session: Session) -> Scorecard:
    """Create and publish the default scorecard, untargeted; return the existing one if there.

    Flushes; the caller commits.
    """
    existing = session.scalars(
        select(Scorecard).where(func.lower(Scorecard.name) == DEFAULT_SCORECARD_NAME.lower())
    ).first()
    if existing is not None:
        return existing
    scorecard = services.create_scorecard(
        session,
        name=DEFAULT_SCORECARD_NAME,
        description=(
            "The organisation's default scorecard for every team and channel: accuracy,"
            " communication, empathy, compliance with protocol and resolution."
        ),
    )
    draft = scorecard.versions[0]
    for title, criteria in DEFAULT_SECTIONS:
        section = services.add_section(session, draft, title=title)
        for spec in criteria:
            services.add_criterion(session, section, spec)
    services.publish_version(session, draft, change_note="Default scorecard of the demo.")
    return scorecard
