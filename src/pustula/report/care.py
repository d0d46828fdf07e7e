"""The CARE checklist for case reports and case series, and where the report answers it.

CARE has 13 items (Gagnier JJ, Kienle G, Altman DG, Moher D, Sox H, Riley D; the CARE
Group. The CARE guidelines: consensus-based clinical case reporting guideline development.
Glob Adv Health Med 2013;2:38-43. doi:10.7453/gahmj.2013.008). The report answers the
items its data hold; the rest are the authors' to write, and the checklist says so rather
than claiming them.
"""

from __future__ import annotations

__all__ = ["CARE_ITEMS", "care_checklist"]

#: (item, what CARE asks, where this report answers it)
CARE_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("1. Title", "The words “case report” or “case series”, with the area of focus",
     "Authors: the protocol title is on page 1; the manuscript title is yours to write"),
    ("2. Key words", "Two to five key words", "Authors: not generated"),
    ("3. Abstract", "Introduction, case presentation, conclusions",
     "Authors: the endpoint table (section 3) gives the results to cite"),
    ("4. Introduction", "Why the case(s) matter, with references",
     "Section 1: the protocol's description and reference"),
    ("5. Patient information", "Demographics, main concerns, history, comorbidities, "
     "past interventions and their outcomes",
     "Baseline characteristics table (age, sex, disease duration, smoking, triggers, "
     "comorbidities, prior therapies by category and drug)"),
    ("6. Clinical findings", "Relevant physical examination findings",
     "PPPASI and PPP PGA by visit tables; baseline values at the first visit"),
    ("7. Timeline", "Dates and times of the relevant episodes, as a table or figure",
     "Visit schedule (section 1), the swimmer figure (exposure, interruptions, adverse "
     "events) and the flow figure"),
    ("8. Diagnostic assessment", "Diagnostic methods, challenges, reasoning",
     "Eligibility criteria (section 1): ERASPEN diagnosis and refractoriness; the "
     "diagnostic reasoning for each patient is the authors'"),
    ("9. Therapeutic intervention", "Type, administration (dose, strength, duration), "
     "changes with their reasons",
     "Treatment (section 1), the swimmer figure and the adverse event table's "
     "interruptions"),
    ("10. Follow-up and outcomes", "Clinician- and patient-assessed outcomes, adherence, "
     "adverse and unanticipated events",
     "Endpoints (section 3), efficacy, responder, Wilcoxon and PGA tables, the figures, "
     "and the adverse event and lab tables"),
    ("11. Discussion", "Strengths and limitations, the literature, the rationale for "
     "conclusions, take-away lessons",
     "Authors: the methods (section 6) state the analysis choices and their caveats"),
    ("12. Patient perspective", "The patient's own account, when appropriate",
     "Authors: patient-reported outcomes (DLQI, pain and itch NRS) where collected"),
    ("13. Informed consent", "Did the patient give informed consent?",
     "Authors: consent is recorded outside Pustula"),
)  # fmt: skip


def care_checklist() -> list[tuple[str, str, str]]:
    """The CARE items with where the report answers each (a fresh list per report)."""
    return list(CARE_ITEMS)
