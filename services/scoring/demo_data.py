"""The demo portfolio that `make run` seeds for a new user.

A fictional retail bank, Northwind Bank, has run customer-journey mapping workshops with five
personas (first-time buyer, busy parent, small-business owner, retiree, student) and come out
with 36 improvement ideas, far more than the programme can fund. The backlog is realistic on
purpose: every idea carries its journey context (persona, stage, touchpoint, channel, the
customer's own words for the pain point, owning department) and workshop estimates that hang
together (cost is roughly 600 EUR per person-day of effort plus licences, vendors or campaigns).

Three ideas have one estimate left missing on purpose, so the demo shows ideas a model cannot
score yet and which fields they lack:

- CJ-01 (discovery research) has no `annual_benefit`: the study is what will size it.
- CJ-17 (mortgage status tracker) has no `confidence`: no call-deflection data yet.
- CJ-33 (next-best-action engine) has no `cost`: the decisioning vendor's quote is pending.

Data only; `services.scoring.demo` does the seeding.
"""

from __future__ import annotations

from typing import Final

from services.scoring.domain import Estimates, IdeaDraft, JourneyContext

DEMO_PORTFOLIO_NAME: Final[str] = "Northwind Bank — retail customer journeys"
DEMO_CURRENCY: Final[str] = "EUR"

DEMO_IDEAS: Final[tuple[IdeaDraft, ...]] = (
    # --- Discovery: research that sharpens personas and journeys -------------------------
    IdeaDraft(
        ref="CJ-01",
        title="Diary study: how first-time buyers compare mortgages",
        description=(
            "Follow 20 first-time buyers for four weeks while they shop for a mortgage, to learn "
            "which comparisons they make and where our offer drops out of the shortlist."
        ),
        journey=JourneyContext(
            persona="First-time buyer",
            journey_stage="consideration",
            touchpoint="website",
            channel="digital",
            pain_point="I had six tabs open and still couldn't tell which mortgage was actually cheaper.",
            department="Lending",
        ),
        # annual_benefit deliberately missing: the study is what will size the opportunity.
        estimates=Estimates(
            customer_impact=4,
            reach=2_500,
            confidence=0.6,
            effort={"cx": 25, "data": 8},
            cost=32_000,
            annual_benefit=None,
            time_criticality=5,
            risk_reduction=3,
        ),
        phases=("discovery",),
        tags=("research", "mortgage"),
    ),
    IdeaDraft(
        ref="CJ-02",
        title="Map the bereavement journey with branch and call-centre staff",
        description=(
            "Run journey-mapping sessions with front-line staff and bereaved families to find every "
            "point where we ask for the same death certificate or story twice."
        ),
        journey=JourneyContext(
            persona="Retiree",
            journey_stage="support",
            touchpoint="branch",
            channel="physical",
            pain_point="I had to tell you my husband had died four times, to four different people.",
            department="Customer Service",
        ),
        estimates=Estimates(
            customer_impact=7,
            reach=900,
            confidence=0.7,
            effort={"cx": 20, "ops": 6},
            cost=20_000,
            annual_benefit=45_000,
            time_criticality=4,
            risk_reduction=6,
        ),
        phases=("discovery", "improve"),
        tags=("research", "vulnerable-customers"),
    ),
    IdeaDraft(
        ref="CJ-03",
        title="Call-driver analysis: why customers phone after using the app",
        description=(
            "Tag three months of call recordings by the app screen the caller had just used, to "
            "rank which screens generate avoidable calls."
        ),
        journey=JourneyContext(
            persona="Busy parent",
            journey_stage="support",
            touchpoint="call centre",
            channel="assisted",
            pain_point="The app said 'pending' so I rang to find out what that actually meant.",
            department="Customer Service",
        ),
        estimates=Estimates(
            customer_impact=3,
            reach=30_000,
            confidence=0.75,
            effort={"data": 20, "cx": 10},
            cost=24_000,
            annual_benefit=120_000,
            time_criticality=5,
            risk_reduction=2,
        ),
        phases=("discovery",),
        tags=("research", "call-deflection"),
    ),
    IdeaDraft(
        ref="CJ-04",
        title="Interview small-business owners about cash-flow visibility",
        description=(
            "Twelve contextual interviews in shops and workshops to see how owners track money "
            "coming in and going out, and what they wish online banking showed them."
        ),
        journey=JourneyContext(
            persona="Small-business owner",
            journey_stage="usage",
            touchpoint="website",
            channel="digital",
            pain_point="I only find out I'm short on cash when a supplier payment bounces.",
            department="Business Banking",
        ),
        estimates=Estimates(
            customer_impact=5,
            reach=4_000,
            confidence=0.55,
            effort={"cx": 15, "data": 5},
            cost=17_000,
            annual_benefit=60_000,
            time_criticality=4,
            risk_reduction=3,
        ),
        phases=("discovery",),
        tags=("research", "business-banking"),
    ),
    IdeaDraft(
        ref="CJ-05",
        title="Accessibility audit of the app with visually impaired customers",
        description=(
            "An external audit plus moderated sessions with screen-reader users, producing a fix "
            "list ahead of the European Accessibility Act deadline."
        ),
        journey=JourneyContext(
            persona="Retiree",
            journey_stage="usage",
            touchpoint="mobile app",
            channel="digital",
            pain_point="The text is tiny and the screen reader just says 'button, button, button'.",
            department="Digital Channels",
        ),
        estimates=Estimates(
            customer_impact=6,
            reach=6_000,
            confidence=0.8,
            effort={"cx": 10, "mobile": 8, "web": 6},
            cost=23_500,
            annual_benefit=30_000,
            time_criticality=7,
            risk_reduction=8,
        ),
        phases=("discovery", "improve"),
        tags=("research", "accessibility", "compliance"),
    ),
    # --- Improve: quick wins ------------------------------------------------------------
    IdeaDraft(
        ref="CJ-06",
        title="Explain fees before checkout on international transfers",
        description=(
            "Show the transfer fee, the exchange-rate margin and the amount that will arrive "
            "before the customer confirms, not on the receipt."
        ),
        journey=JourneyContext(
            persona="Student",
            journey_stage="usage",
            touchpoint="mobile app",
            channel="digital",
            pain_point="The fee only showed up after I'd already pressed send.",
            department="Cards & Payments",
        ),
        estimates=Estimates(
            customer_impact=7,
            reach=18_000,
            confidence=0.85,
            effort={"mobile": 8, "web": 6, "backend": 5},
            cost=12_500,
            annual_benefit=90_000,
            time_criticality=6,
            risk_reduction=5,
        ),
        phases=("improve", "perfection"),
        tags=("pricing", "transparency"),
    ),
    IdeaDraft(
        ref="CJ-07",
        title="Pre-fill the loan form from the current account",
        description=(
            "For existing customers, fill income, address and regular outgoings from account data "
            "and ask them only to confirm."
        ),
        journey=JourneyContext(
            persona="Busy parent",
            journey_stage="onboarding",
            touchpoint="website",
            channel="digital",
            pain_point="You already know my salary, so why am I typing it in again?",
            department="Lending",
        ),
        estimates=Estimates(
            customer_impact=8,
            reach=9_000,
            confidence=0.8,
            effort={"web": 12, "backend": 15, "data": 4},
            cost=21_000,
            annual_benefit=240_000,
            time_criticality=6,
            risk_reduction=3,
        ),
        phases=("improve", "perfection"),
        tags=("lending", "form-friction"),
    ),
    IdeaDraft(
        ref="CJ-08",
        title="Put the freeze-card button on the app home screen",
        description=(
            "Move card freeze from three menus deep to the home screen, with a one-tap undo once the card turns up."
        ),
        journey=JourneyContext(
            persona="Busy parent",
            journey_stage="support",
            touchpoint="mobile app",
            channel="digital",
            pain_point="I lost my card at the playground and couldn't find where to block it.",
            department="Fraud & Security",
        ),
        estimates=Estimates(
            customer_impact=7,
            reach=12_000,
            confidence=0.9,
            effort={"mobile": 6, "backend": 3},
            cost=6_000,
            annual_benefit=35_000,
            time_criticality=5,
            risk_reduction=8,
        ),
        phases=("improve",),
        tags=("fraud", "quick-win"),
    ),
    IdeaDraft(
        ref="CJ-09",
        title="Offer an SMS call-back slot when the phone queue is long",
        description=(
            "When the wait passes ten minutes, offer a call-back and text the expected time, keeping "
            "the customer's place in the queue."
        ),
        journey=JourneyContext(
            persona="Small-business owner",
            journey_stage="support",
            touchpoint="call centre",
            channel="assisted",
            pain_point="I waited 40 minutes on hold in between serving customers in my shop.",
            department="Customer Service",
        ),
        estimates=Estimates(
            customer_impact=6,
            reach=25_000,
            confidence=0.75,
            effort={"ops": 10, "backend": 8},
            cost=26_000,
            annual_benefit=110_000,
            time_criticality=4,
            risk_reduction=2,
        ),
        phases=("improve",),
        tags=("call-centre", "waiting-time"),
    ),
    IdeaDraft(
        ref="CJ-10",
        title="Plain-language welcome email with the first three steps",
        description=(
            "Replace the terms-and-conditions welcome pack with a short email: download the app, "
            "activate the card, set up salary deposit."
        ),
        journey=JourneyContext(
            persona="Student",
            journey_stage="onboarding",
            touchpoint="email",
            channel="digital",
            pain_point="I got a 12-page PDF of terms and no idea how to actually log in.",
            department="Marketing",
        ),
        estimates=Estimates(
            customer_impact=5,
            reach=15_000,
            confidence=0.8,
            effort={"cx": 5, "web": 3},
            cost=5_500,
            annual_benefit=40_000,
            time_criticality=3,
            risk_reduction=1,
        ),
        phases=("improve",),
        tags=("onboarding", "quick-win"),
    ),
    IdeaDraft(
        ref="CJ-11",
        title="Let customers book a branch mortgage appointment online",
        description=(
            "Online booking of a named adviser, with evening and Saturday slots, instead of walking in and queueing."
        ),
        journey=JourneyContext(
            persona="First-time buyer",
            journey_stage="consideration",
            touchpoint="website",
            channel="digital",
            pain_point="I took a morning off work just to queue at the branch for a mortgage chat.",
            department="Branch Network",
        ),
        estimates=Estimates(
            customer_impact=7,
            reach=5_000,
            confidence=0.8,
            effort={"web": 15, "backend": 10, "ops": 5},
            cost=26_000,
            annual_benefit=150_000,
            time_criticality=5,
            risk_reduction=2,
        ),
        phases=("improve", "perfection"),
        tags=("mortgage", "appointments"),
    ),
    IdeaDraft(
        ref="CJ-12",
        title="Name the adviser and the call-back time after a mortgage enquiry",
        description=(
            "Confirm every web enquiry within the hour by email, with the adviser's name, photo and "
            "when they will call."
        ),
        journey=JourneyContext(
            persona="First-time buyer",
            journey_stage="consideration",
            touchpoint="email",
            channel="assisted",
            pain_point="I filled in the enquiry form and then heard nothing for a week.",
            department="Lending",
        ),
        estimates=Estimates(
            customer_impact=6,
            reach=3_500,
            confidence=0.7,
            effort={"backend": 6, "cx": 4},
            cost=7_000,
            annual_benefit=85_000,
            time_criticality=5,
            risk_reduction=1,
        ),
        phases=("improve",),
        tags=("mortgage", "quick-win"),
    ),
    IdeaDraft(
        ref="CJ-13",
        title="Hand chatbot conversations to an agent with the history attached",
        description=(
            "When the bot escalates, pass the transcript and the identified account to the agent so "
            "the customer never starts over."
        ),
        journey=JourneyContext(
            persona="Busy parent",
            journey_stage="support",
            touchpoint="chatbot",
            channel="digital",
            pain_point="The bot went round in circles and then the agent asked me to start again.",
            department="Customer Service",
        ),
        estimates=Estimates(
            customer_impact=7,
            reach=20_000,
            confidence=0.8,
            effort={"backend": 12, "ops": 8, "cx": 4},
            cost=20_500,
            annual_benefit=95_000,
            time_criticality=5,
            risk_reduction=3,
        ),
        phases=("improve", "perfection"),
        tags=("chatbot", "repeat-contact"),
    ),
    IdeaDraft(
        ref="CJ-14",
        title="Warn before an overdraft fee, not after",
        description=(
            "Text the customer when a scheduled payment would take the account overdrawn, with a "
            "link to move money across in time."
        ),
        journey=JourneyContext(
            persona="Student",
            journey_stage="usage",
            touchpoint="SMS",
            channel="digital",
            pain_point="I was charged €15 for going €3 overdrawn and nobody warned me.",
            department="Cards & Payments",
        ),
        estimates=Estimates(
            customer_impact=8,
            reach=22_000,
            confidence=0.75,
            effort={"backend": 10, "data": 6, "mobile": 4},
            cost=15_000,
            annual_benefit=60_000,
            time_criticality=7,
            risk_reduction=7,
        ),
        phases=("improve", "perfection"),
        tags=("fees", "alerts", "fair-value"),
    ),
    IdeaDraft(
        ref="CJ-15",
        title="Show the available balance, including today's credits, on ATM slips",
        description=(
            "Print the available balance with same-day credits instead of last night's ledger "
            "balance, and say so on the slip."
        ),
        journey=JourneyContext(
            persona="Retiree",
            journey_stage="usage",
            touchpoint="ATM",
            channel="physical",
            pain_point="The slip shows a balance that doesn't include the pension that came in this morning.",
            department="Branch Network",
        ),
        estimates=Estimates(
            customer_impact=4,
            reach=8_000,
            confidence=0.85,
            effort={"backend": 8, "ops": 4},
            cost=10_500,
            annual_benefit=12_000,
            time_criticality=2,
            risk_reduction=2,
        ),
        phases=("improve",),
        tags=("atm",),
    ),
    IdeaDraft(
        ref="CJ-16",
        title="Rewrite the savings maturity letter as a rate comparison",
        description=(
            "Show the old rate, the rate the money will now earn and our best alternative side by "
            "side, with one clear action and a deadline."
        ),
        journey=JourneyContext(
            persona="Retiree",
            journey_stage="renewal",
            touchpoint="letter",
            channel="physical",
            pain_point="The letter says my fixed saver 'has matured' but not what I'll earn from now on.",
            department="Savings & Investments",
        ),
        estimates=Estimates(
            customer_impact=6,
            reach=7_000,
            confidence=0.8,
            effort={"cx": 6, "backend": 6, "data": 4},
            cost=14_000,
            annual_benefit=180_000,
            time_criticality=8,
            risk_reduction=5,
        ),
        phases=("improve",),
        tags=("savings", "retention", "transparency"),
    ),
    IdeaDraft(
        ref="CJ-17",
        title="Parcel-style status tracker for mortgage applications",
        description=(
            "Show each step (documents, valuation, underwriting, offer) with dates in the app and "
            "on the website, and notify on every change."
        ),
        journey=JourneyContext(
            persona="First-time buyer",
            journey_stage="onboarding",
            touchpoint="mobile app",
            channel="digital",
            pain_point="Every Friday I rang to ask whether the valuation was back yet.",
            department="Lending",
        ),
        # confidence deliberately missing: no call-deflection data yet to back the benefit.
        estimates=Estimates(
            customer_impact=8,
            reach=4_000,
            confidence=None,
            effort={"web": 15, "mobile": 15, "backend": 25},
            cost=38_000,
            annual_benefit=160_000,
            time_criticality=6,
            risk_reduction=3,
        ),
        phases=("improve", "perfection"),
        tags=("mortgage", "status-visibility"),
    ),
    IdeaDraft(
        ref="CJ-18",
        title="Verify ID in the app instead of a branch visit for business accounts",
        description=(
            "Passport scan plus liveness check in the app for sole traders and directors, replacing "
            "the in-branch identity check."
        ),
        journey=JourneyContext(
            persona="Small-business owner",
            journey_stage="onboarding",
            touchpoint="mobile app",
            channel="digital",
            pain_point="I had to close my shop for an afternoon just to show my passport at a branch.",
            department="Business Banking",
        ),
        estimates=Estimates(
            customer_impact=8,
            reach=3_000,
            confidence=0.7,
            effort={"mobile": 20, "backend": 25, "ops": 10},
            cost=73_000,
            annual_benefit=260_000,
            time_criticality=7,
            risk_reduction=6,
        ),
        phases=("improve", "perfection"),
        tags=("kyc", "business-banking"),
    ),
    IdeaDraft(
        ref="CJ-19",
        title="Show the total cost of credit next to the monthly payment",
        description=(
            "On the personal-loan calculator, show the total repayable and total interest as "
            "prominently as the monthly instalment."
        ),
        journey=JourneyContext(
            persona="Busy parent",
            journey_stage="consideration",
            touchpoint="website",
            channel="digital",
            pain_point="€89 a month looked fine until I saw I'd repay €1,400 more than I borrowed.",
            department="Lending",
        ),
        estimates=Estimates(
            customer_impact=6,
            reach=14_000,
            confidence=0.85,
            effort={"web": 6, "backend": 4},
            cost=8_000,
            annual_benefit=50_000,
            time_criticality=6,
            risk_reduction=7,
        ),
        phases=("improve",),
        tags=("lending", "transparency"),
    ),
    IdeaDraft(
        ref="CJ-20",
        title="Publish savings rates on the public website, not only after login",
        description=(
            "A public, always-current rates page for every savings product, linked from search "
            "results and comparison sites."
        ),
        journey=JourneyContext(
            persona="Retiree",
            journey_stage="awareness",
            touchpoint="website",
            channel="digital",
            pain_point="I couldn't find your rates anywhere without opening an account first.",
            department="Marketing",
        ),
        estimates=Estimates(
            customer_impact=5,
            reach=40_000,
            confidence=0.7,
            effort={"web": 5, "cx": 3},
            cost=6_000,
            annual_benefit=70_000,
            time_criticality=4,
            risk_reduction=2,
        ),
        phases=("improve",),
        tags=("savings", "acquisition", "quick-win"),
    ),
    IdeaDraft(
        ref="CJ-21",
        title="Evening start-up clinics for new businesses in branches",
        description=(
            "Monthly evening sessions in ten branches on invoicing, VAT and business accounts, run "
            "with local accountants."
        ),
        journey=JourneyContext(
            persona="Small-business owner",
            journey_stage="awareness",
            touchpoint="branch",
            channel="physical",
            pain_point="I didn't know the bank did anything for people like me who are just starting out.",
            department="Business Banking",
        ),
        estimates=Estimates(
            customer_impact=5,
            reach=1_200,
            confidence=0.55,
            effort={"cx": 8, "ops": 10},
            cost=31_000,
            annual_benefit=120_000,
            time_criticality=3,
            risk_reduction=1,
        ),
        phases=("improve", "perfection"),
        tags=("acquisition", "business-banking"),
    ),
    # --- Perfection: long-term improvements, first personalisation -------------------------
    IdeaDraft(
        ref="CJ-22",
        title="One customer view for call-centre agents",
        description=(
            "Give agents every product, recent contact and open complaint on one screen, so the "
            "customer is identified once and never repeats their story."
        ),
        journey=JourneyContext(
            persona="Busy parent",
            journey_stage="support",
            touchpoint="call centre",
            channel="assisted",
            pain_point="I had to repeat my account number three times and explain everything again.",
            department="Customer Service",
        ),
        estimates=Estimates(
            customer_impact=7,
            reach=30_000,
            confidence=0.65,
            effort={"backend": 60, "data": 30, "ops": 15},
            cost=183_000,
            annual_benefit=420_000,
            time_criticality=5,
            risk_reduction=5,
        ),
        phases=("perfection",),
        tags=("call-centre", "repeat-contact", "platform"),
    ),
    IdeaDraft(
        ref="CJ-23",
        title="Rebuild the mortgage application as save-and-resume",
        description=(
            "Let applicants stop and come back on any device, upload documents as they find them "
            "and see what is still missing."
        ),
        journey=JourneyContext(
            persona="First-time buyer",
            journey_stage="onboarding",
            touchpoint="website",
            channel="digital",
            pain_point="The form timed out after 20 minutes and I lost everything I'd typed.",
            department="Lending",
        ),
        estimates=Estimates(
            customer_impact=9,
            reach=4_500,
            confidence=0.75,
            effort={"web": 45, "backend": 40, "cx": 10},
            cost=67_000,
            annual_benefit=380_000,
            time_criticality=6,
            risk_reduction=3,
        ),
        phases=("perfection",),
        tags=("mortgage", "form-friction"),
    ),
    IdeaDraft(
        ref="CJ-24",
        title="Dispute a card transaction in the app",
        description=(
            "Pick the transaction, choose a reason, attach a photo of the receipt and follow the "
            "dispute to resolution, without paper forms."
        ),
        journey=JourneyContext(
            persona="Busy parent",
            journey_stage="support",
            touchpoint="mobile app",
            channel="digital",
            pain_point="To dispute a €40 charge I had to print a form and put it in the post.",
            department="Cards & Payments",
        ),
        estimates=Estimates(
            customer_impact=7,
            reach=9_000,
            confidence=0.75,
            effort={"mobile": 25, "backend": 35, "ops": 10},
            cost=50_000,
            annual_benefit=210_000,
            time_criticality=5,
            risk_reduction=6,
        ),
        phases=("improve", "perfection"),
        tags=("cards", "self-service"),
    ),
    IdeaDraft(
        ref="CJ-25",
        title="Cash-flow forecast in business online banking",
        description=(
            "Project the next 60 days of balance from recurring payments, open invoices and tax "
            "dates, and flag the first day the account would go short."
        ),
        journey=JourneyContext(
            persona="Small-business owner",
            journey_stage="usage",
            touchpoint="website",
            channel="digital",
            pain_point="I keep a spreadsheet open next to your website to guess next month's balance.",
            department="Business Banking",
        ),
        estimates=Estimates(
            customer_impact=8,
            reach=6_000,
            confidence=0.6,
            effort={"web": 30, "backend": 30, "data": 40},
            cost=85_000,
            annual_benefit=300_000,
            time_criticality=4,
            risk_reduction=3,
        ),
        phases=("perfection", "personalization"),
        tags=("business-banking", "insights"),
    ),
    IdeaDraft(
        ref="CJ-26",
        title="Add a partner to an account from the app",
        description=(
            "Open a joint account or add a second holder fully digitally, with both people "
            "verifying on their own phones."
        ),
        journey=JourneyContext(
            persona="Busy parent",
            journey_stage="onboarding",
            touchpoint="mobile app",
            channel="digital",
            pain_point="Adding my partner to the account needed us both in a branch on a weekday.",
            department="Digital Channels",
        ),
        estimates=Estimates(
            customer_impact=7,
            reach=5_000,
            confidence=0.7,
            effort={"mobile": 30, "backend": 35, "ops": 5},
            cost=48_000,
            annual_benefit=190_000,
            time_criticality=3,
            risk_reduction=4,
        ),
        phases=("perfection",),
        tags=("self-service", "accounts"),
    ),
    IdeaDraft(
        ref="CJ-27",
        title="Register a power of attorney in one visit",
        description=(
            "One appointment, one checklist sent in advance, and a back-office team that registers "
            "the attorney on every product at once."
        ),
        journey=JourneyContext(
            persona="Retiree",
            journey_stage="support",
            touchpoint="branch",
            channel="physical",
            pain_point="My daughter and I went to the branch three times with the same documents.",
            department="Customer Service",
        ),
        estimates=Estimates(
            customer_impact=8,
            reach=1_500,
            confidence=0.7,
            effort={"ops": 30, "backend": 25, "cx": 10},
            cost=51_000,
            annual_benefit=80_000,
            time_criticality=6,
            risk_reduction=8,
        ),
        phases=("perfection",),
        tags=("vulnerable-customers", "branch"),
    ),
    IdeaDraft(
        ref="CJ-28",
        title="Replace the keypad phone menu with spoken-intent routing",
        description=(
            "Callers say why they are calling and are routed straight to the right team, or to the "
            "self-service answer when there is one."
        ),
        journey=JourneyContext(
            persona="Retiree",
            journey_stage="support",
            touchpoint="call centre",
            channel="assisted",
            pain_point="Press 1, press 4, press 2... and then it hung up on me.",
            department="Customer Service",
        ),
        estimates=Estimates(
            customer_impact=6,
            reach=45_000,
            confidence=0.6,
            effort={"backend": 40, "ops": 30, "data": 20},
            cost=234_000,
            annual_benefit=350_000,
            time_criticality=4,
            risk_reduction=4,
        ),
        phases=("perfection",),
        tags=("call-centre", "platform"),
    ),
    IdeaDraft(
        ref="CJ-29",
        title="Review the card before the annual fee renews",
        description=(
            "A month before the fee, show the customer what they used the card for this year and "
            "suggest a cheaper card if it suits them better."
        ),
        journey=JourneyContext(
            persona="Student",
            journey_stage="renewal",
            touchpoint="mobile app",
            channel="digital",
            pain_point="The €60 fee came out and I barely use that card.",
            department="Cards & Payments",
        ),
        estimates=Estimates(
            customer_impact=6,
            reach=11_000,
            confidence=0.7,
            effort={"backend": 15, "data": 15, "mobile": 5},
            cost=25_000,
            annual_benefit=140_000,
            time_criticality=5,
            risk_reduction=4,
        ),
        phases=("improve", "perfection"),
        tags=("cards", "retention", "fair-value"),
    ),
    IdeaDraft(
        ref="CJ-30",
        title="Loyalty rate offer for long-standing savers",
        description=(
            "Offer customers of ten years or more the best current rate when their saver matures, "
            "instead of reserving it for new customers."
        ),
        journey=JourneyContext(
            persona="Retiree",
            journey_stage="renewal",
            touchpoint="email",
            channel="digital",
            pain_point="New customers get 3% and I've been loyal for 20 years on 0.5%.",
            department="Savings & Investments",
        ),
        estimates=Estimates(
            customer_impact=8,
            reach=9_000,
            confidence=0.65,
            effort={"data": 20, "backend": 15, "cx": 5},
            cost=30_000,
            annual_benefit=320_000,
            time_criticality=6,
            risk_reduction=6,
        ),
        phases=("perfection", "personalization"),
        tags=("savings", "retention"),
    ),
    IdeaDraft(
        ref="CJ-31",
        title="One login for app and website with passkeys",
        description=(
            "Replace separate passwords and card-reader codes with device passkeys that work on "
            "both the app and the website."
        ),
        journey=JourneyContext(
            persona="Student",
            journey_stage="usage",
            touchpoint="mobile app",
            channel="digital",
            pain_point="I'm locked out again because the website wants a different password from the app.",
            department="Fraud & Security",
        ),
        estimates=Estimates(
            customer_impact=7,
            reach=50_000,
            confidence=0.75,
            effort={"web": 25, "mobile": 25, "backend": 40},
            cost=84_000,
            annual_benefit=230_000,
            time_criticality=6,
            risk_reduction=8,
        ),
        phases=("perfection",),
        tags=("security", "login", "platform"),
    ),
    IdeaDraft(
        ref="CJ-32",
        title="Digital helper sessions before a branch closes",
        description=(
            "In the three months before a branch closes, staff run small-group and one-to-one "
            "sessions setting customers up on the app."
        ),
        journey=JourneyContext(
            persona="Retiree",
            journey_stage="onboarding",
            touchpoint="branch",
            channel="physical",
            pain_point="My branch is closing and nobody has shown me how to use the app.",
            department="Branch Network",
        ),
        estimates=Estimates(
            customer_impact=7,
            reach=3_000,
            confidence=0.7,
            effort={"cx": 15, "ops": 20},
            cost=36_000,
            annual_benefit=75_000,
            time_criticality=7,
            risk_reduction=5,
        ),
        phases=("improve", "perfection"),
        tags=("digital-inclusion", "branch"),
    ),
    # --- Personalization: one-to-one interaction --------------------------------------------
    IdeaDraft(
        ref="CJ-33",
        title="Next-best-action engine for life events",
        description=(
            "Detect life events such as a new baby or a house move from account activity and adapt "
            "offers and messages to them, suppressing irrelevant campaigns."
        ),
        journey=JourneyContext(
            persona="Busy parent",
            journey_stage="usage",
            touchpoint="mobile app",
            channel="digital",
            pain_point="You sent me a student-loan offer the week my son was born.",
            department="Marketing",
        ),
        # cost deliberately missing: the decisioning platform vendor's quote is still pending.
        estimates=Estimates(
            customer_impact=7,
            reach=35_000,
            confidence=0.5,
            effort={"data": 90, "backend": 60, "mobile": 20},
            cost=None,
            annual_benefit=400_000,
            time_criticality=3,
            risk_reduction=2,
        ),
        phases=("personalization",),
        tags=("personalisation", "platform"),
    ),
    IdeaDraft(
        ref="CJ-34",
        title="A named relationship manager for growing small businesses",
        description=(
            "Give businesses past a turnover threshold one named manager with a direct line, who "
            "reviews their banking with them every year."
        ),
        journey=JourneyContext(
            persona="Small-business owner",
            journey_stage="renewal",
            touchpoint="branch",
            channel="assisted",
            pain_point="Every time I call, I explain my business from scratch to someone new.",
            department="Business Banking",
        ),
        estimates=Estimates(
            customer_impact=8,
            reach=1_500,
            confidence=0.6,
            effort={"ops": 40, "data": 20, "cx": 10},
            cost=242_000,
            annual_benefit=480_000,
            time_criticality=3,
            risk_reduction=4,
        ),
        phases=("personalization",),
        tags=("business-banking", "relationship", "retention"),
    ),
    IdeaDraft(
        ref="CJ-35",
        title="Personal mortgage renewal offer six months before the fixed rate ends",
        description=(
            "Send each homeowner a tailored renewal offer based on their balance, property value "
            "and payment history, with a one-click switch."
        ),
        journey=JourneyContext(
            persona="First-time buyer",
            journey_stage="renewal",
            touchpoint="email",
            channel="digital",
            pain_point="My fixed rate ended and I was moved onto the variable rate without a word.",
            department="Lending",
        ),
        estimates=Estimates(
            customer_impact=9,
            reach=2_500,
            confidence=0.7,
            effort={"data": 30, "backend": 25, "web": 15},
            cost=62_000,
            annual_benefit=550_000,
            time_criticality=8,
            risk_reduction=6,
        ),
        phases=("perfection", "personalization"),
        tags=("mortgage", "retention", "personalisation"),
    ),
    IdeaDraft(
        ref="CJ-36",
        title="Spending insights with savings nudges fitted to a student budget",
        description=(
            "Weekly in-app summary of spending against the student's own budget, with a nudge to "
            "round up into savings in good weeks."
        ),
        journey=JourneyContext(
            persona="Student",
            journey_stage="usage",
            touchpoint="mobile app",
            channel="digital",
            pain_point="I only notice I've overspent when the month is already over.",
            department="Digital Channels",
        ),
        estimates=Estimates(
            customer_impact=6,
            reach=25_000,
            confidence=0.6,
            effort={"data": 45, "mobile": 30, "backend": 20},
            cost=72_000,
            annual_benefit=130_000,
            time_criticality=2,
            risk_reduction=3,
        ),
        phases=("personalization",),
        tags=("insights", "personalisation"),
    ),
)

DEMO_MODELS: Final[tuple[tuple[str, dict], ...]] = (
    ("RICE", {"kind": "rice"}),
    ("WSJF", {"kind": "wsjf"}),
    (
        "Customer value",
        {
            "kind": "weighted",
            "criteria": [
                {"field": "customer_impact", "weight": 0.5, "scaleMin": 0, "scaleMax": 10},
                {"field": "confidence", "weight": 0.2, "scaleMin": 0, "scaleMax": 1},
                {"field": "risk_reduction", "weight": 0.3, "scaleMin": 0, "scaleMax": 10},
            ],
        },
    ),
)
"""Scoring models seeded with the demo: (name, JSON-ready definition)."""
