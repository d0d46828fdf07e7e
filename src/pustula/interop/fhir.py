"""HL7 FHIR (R5, fhir.resources): a Bundle per subject, and reading one back.

The Patient is pseudonymous: an identifier with the study code, nothing else (no name, no
birth date). Each instrument is a Questionnaire; each assessment a QuestionnaireResponse
with its item answers; each score an Observation derived from it. No LOINC code exists for
PPPASI or DLQI, so scores use Pustula's own code system (:data:`CODE_SYSTEM`). Adverse
events and concomitant medications are AdverseEvent and MedicationStatement resources.
Every resource is built and validated by fhir.resources.
"""

from __future__ import annotations

import uuid
from typing import Any

from fhir.resources.adverseevent import AdverseEvent
from fhir.resources.bundle import Bundle
from fhir.resources.medicationstatement import MedicationStatement
from fhir.resources.observation import Observation
from fhir.resources.patient import Patient
from fhir.resources.questionnaire import Questionnaire
from fhir.resources.questionnaireresponse import QuestionnaireResponse
from fhir.resources.researchstudy import ResearchStudy
from fhir.resources.researchsubject import ResearchSubject

from pustula.checks.vocabulary import field_label, label
from pustula.errors import DataValidationError
from pustula.protocol import Protocol
from pustula.scoring import get_instrument
from pustula.store.services.clinical import Casebook

__all__ = ["CODE_SYSTEM", "SUBJECT_SYSTEM", "read_bundle", "subject_bundle"]

CODE_SYSTEM = "urn:pustula:instrument"
SUBJECT_SYSTEM = "urn:pustula:subject"
ITEM_SYSTEM = "urn:pustula:answer"


#: Words an answer may be besides its score, as answer codes (DLQI "not relevant", item 7 "yes").
_WORD_ANSWERS = {"not relevant": "not_relevant", "yes": "yes"}
SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
SUBJECT_STATE = "http://terminology.hl7.org/CodeSystem/research-subject-state"
STATE_TYPE = "http://terminology.hl7.org/CodeSystem/research-subject-state-type"
GRADE_EXTENSION = "urn:pustula:extension:ctcae-grade"
RELATEDNESS_SYSTEM = "urn:pustula:relatedness"


def _item(field: dict[str, Any]) -> dict[str, Any]:
    """A Questionnaire item whose type fits every answer it can get (FHIR R5 ``que-…`` and
    the QuestionnaireResponse rule that an answer's type is the item's type): a number
    item is ``integer`` or ``decimal``; an item that also takes words (DLQI) is ``coding``
    with its scores and words as answer options."""
    item: dict[str, Any] = {"linkId": field["name"], "text": field_label(field["name"])}
    labels = field.get("labels")
    if not labels:
        return item | {"type": "integer" if field["whole"] else "decimal"}
    scores = {score: word for word, score in reversed(labels.items()) if " " in word}
    options = [{"valueCoding": {"system": ITEM_SYSTEM, "code": str(score),
                                "display": f"{word.capitalize()} ({score})"}}
               for score, word in sorted(scores.items(), reverse=True)]  # fmt: skip
    options += [{"valueCoding": {"system": ITEM_SYSTEM, "code": code,
                                 "display": word.capitalize()}}
                for word, code in _WORD_ANSWERS.items() if word in labels]  # fmt: skip
    return item | {"type": "coding", "answerOption": options}


def _questionnaire(name: str) -> Questionnaire:
    meta = get_instrument(name).metadata()
    return Questionnaire(
        id=f"q-{name.replace('_', '-')}", url=f"{CODE_SYSTEM}:{name}", status="active",
        title=meta["title"],
        item=[_item(f) for f in meta["fields"] if not f["name"].endswith("_area_score")],
    )  # fmt: skip


def _answer(value: Any, kind: str) -> dict[str, Any]:
    """An answer in the item's type (``kind``): never valueInteger for a decimal item."""
    if isinstance(value, bool):
        raise DataValidationError("an item answer is a number or a word, never true or false")
    if kind == "coding":
        code = str(int(value)) if isinstance(value, int | float) else str(value)
        return {"valueCoding": {"system": ITEM_SYSTEM, "code": code}}
    if kind == "decimal":
        return {"valueDecimal": float(value)}
    return {"valueInteger": int(value)}


def _full_url(kind: str, ident: str) -> str:
    """A stable URN for a resource of the Bundle (the same casebook, the same URNs)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{CODE_SYSTEM}/{kind}/{ident}')}"


def _ref(kind: str, ident: str) -> dict[str, str]:
    """A reference that resolves inside the Bundle: the target's ``fullUrl``. A relative
    ``Patient/subject-S01`` resolves only against RESTful fullUrls, never urn:uuid ones
    (FHIR R5 Bundle, "Resolving references in Bundles")."""
    return {"reference": _full_url(kind, ident)}


def subject_bundle(book: Casebook, protocol: Protocol, *, arm: str | None = None) -> Bundle:
    """One subject's casebook as a FHIR collection Bundle.

    ``arm`` is the subject's arm as the reader may see it (a randomized subject's
    allocation, or ``BLINDED`` with a blinded protocol's pooled arm); without it, the
    subject record's own arm (a single-arm study's)."""
    code = book.subject.code
    pid = f"subject-{code}"
    study = f"study-{protocol.id}"
    groups = [{"linkId": a.code, "name": a.label,
               "type": {"text": "randomized arm" if protocol.randomization else "arm"}}
              for a in protocol.arms]  # fmt: skip
    resources: list[Any] = [
        Patient(id=pid, identifier=[{"system": SUBJECT_SYSTEM, "value": code}]),
        ResearchStudy(id=study, status="active", title=protocol.title, comparisonGroup=groups),
        _research_subject(book, pid, study, arm or book.subject.arm),
    ]
    r = book.records
    visits = {v.id: v for v in r.visit}
    used = sorted({a.instrument for a in r.assessment})
    questionnaires = [_questionnaire(name) for name in used]
    kinds = {q.url: {i.linkId: str(i.type) for i in q.item or []} for q in questionnaires}
    resources += questionnaires
    for a in r.assessment:
        visit = visits[a.visit_id]
        rid = f"qr-{code}-{visit.visit_code}-{a.instrument}".replace("_", "-")
        item_kinds = kinds[f"{CODE_SYSTEM}:{a.instrument}"]
        answers = [{"linkId": k, "answer": [_answer(v, item_kinds[k])]}
                   for k, v in a.items.items() if v is not None and k in item_kinds]  # fmt: skip
        resources.append(QuestionnaireResponse(
            id=rid, status="completed", questionnaire=f"{CODE_SYSTEM}:{a.instrument}",
            subject=_ref("Patient", pid), authored=visit.visit_date.isoformat(),
            identifier=[{"system": "urn:pustula:visit", "value": visit.visit_code}],
            item=answers or None,
        ))  # fmt: skip
        if a.total is not None:
            resources.append(Observation(
                id=f"obs-{rid.removeprefix('qr-')}", status="final",
                code={"coding": [{"system": CODE_SYSTEM, "code": a.instrument,
                                  "display": label("instrument", a.instrument)}]},
                subject=_ref("Patient", pid), effectiveDateTime=visit.visit_date.isoformat(),
                valueQuantity={"value": a.total, "unit": "score"},
                derivedFrom=[_ref("QuestionnaireResponse", rid)],
            ))  # fmt: skip
    resources += [_adverse_event(e, code, pid, study) for e in r.adverse_event]
    resources += [_medication(m, code, pid) for m in r.con_med]
    entries = [{"fullUrl": _full_url(res.get_resource_type(), res.id), "resource": res}
               for res in resources]  # fmt: skip
    return Bundle(type="collection", identifier={"system": SUBJECT_SYSTEM, "value": code},
                  entry=entries)  # fmt: skip


def _research_subject(book: Casebook, pid: str, study: str, arm: str | None) -> ResearchSubject:
    """R5 ResearchSubject: ``status`` is the record's publication status, so the subject's
    own state is in ``progress`` (on study, or withdrawn / off study with the reason) and
    the time on study in ``period``; the arm as the assigned comparison group, and as the
    actual one once the subject has had study drug."""
    s = book.subject
    state = {"withdrawn": "withdrawn", "completed": "off-study"}.get(s.status, "on-study")
    progress: dict[str, Any] = {
        "type": {"coding": [{"system": STATE_TYPE, "code": "Enrollment"}]},
        "subjectState": {"coding": [{"system": SUBJECT_STATE, "code": state}]},
    }
    if s.enrolled_on:
        progress["startDate"] = s.enrolled_on.isoformat()
    if s.ended_on:
        progress["endDate"] = s.ended_on.isoformat()
    if s.end_reason:
        progress["reason"] = {"text": s.end_reason}
    period = {k: v.isoformat() for k, v in (("start", s.enrolled_on), ("end", s.ended_on)) if v}
    dosed = bool(book.records.exposure)
    return ResearchSubject(
        id=f"rs-{s.code}", status="active", study=_ref("ResearchStudy", study),
        subject=_ref("Patient", pid), progress=[progress], period=period or None,
        assignedComparisonGroup=arm, actualComparisonGroup=arm if arm and dosed else None,
    )  # fmt: skip


def _adverse_event(e: Any, code: str, pid: str, study: str) -> AdverseEvent:
    """An AE with what a safety reviewer reads first: onset and end, seriousness (HL7
    adverse-event-seriousness), the CTCAE grade (R5 has no severity element: an
    extension), relatedness to study drug (suspectEntity.causality) and outcome."""
    occurrence = {"start": e.start_date.isoformat()}
    if e.end_date:
        occurrence["end"] = e.end_date.isoformat()
    serious = "serious" if e.serious else "non-serious"
    return AdverseEvent(
        id=f"ae-{code}-{e.id}", status="completed" if e.end_date else "in-progress",
        actuality="actual", subject=_ref("Patient", pid), study=[_ref("ResearchStudy", study)],
        code={"text": e.term, "coding": [{"system": "http://meddra.org",
                                          "code": e.meddra_pt_code, "display": e.meddra_pt}]
              if e.meddra_pt_code else None},
        occurrencePeriod=occurrence,
        seriousness={"coding": [{"system": SERIOUSNESS, "code": serious,
                                 "display": serious.replace("-", " ").capitalize()}],
                     "text": "; ".join(label("serious_criterion", c)
                                       for c in e.serious_criteria) or None},
        extension=[{"url": GRADE_EXTENSION, "valueInteger": e.grade}]
        if e.grade is not None else None,
        suspectEntity=[{"instanceCodeableConcept": {"text": "study drug"},
                        "causality": {"entityRelatedness": {"coding": [{
                            "system": RELATEDNESS_SYSTEM, "code": e.relatedness,
                            "display": label("relatedness", e.relatedness)}]}}}],
        outcome=[{"text": label("outcome", e.outcome)}],
    )  # fmt: skip


def _medication(m: Any, code: str, pid: str) -> MedicationStatement:
    period = {k: v.isoformat() for k, v in (("start", m.start_date), ("end", m.end_date)) if v}
    return MedicationStatement(
        id=f"med-{code}-{m.id}", status="recorded", subject=_ref("Patient", pid),
        medication={"concept": {"text": m.drug}}, effectivePeriod=period or None,
        reason=[{"concept": {"text": m.indication}}] if m.indication else None,
        dosage=[{"text": m.dose}] if m.dose else None,
    )  # fmt: skip


def read_bundle(text: str) -> dict[str, Any]:
    """A subject's Bundle read back: its code, and per (visit, instrument) items and score."""
    bundle = Bundle.model_validate_json(text)
    out: dict[str, Any] = {"subject": None, "assessments": {}, "scores": {}}
    ids = {e.fullUrl: e.resource.id for e in bundle.entry or [] if e.resource is not None}
    for entry in bundle.entry or []:
        res: Any = entry.resource
        kind = res.get_resource_type() if res is not None else None
        if kind == "Patient":
            out["subject"] = res.identifier[0].value
        elif kind == "QuestionnaireResponse":
            key = (res.identifier[0].value, res.questionnaire.rsplit(":", 1)[-1])
            out["assessments"][key] = {i.linkId: _value(i.answer[0]) for i in res.item or []}
        elif kind == "Observation":
            reference = res.derivedFrom[0].reference
            source = ids.get(reference, reference.removeprefix("QuestionnaireResponse/"))
            out["scores"][source] = float(res.valueQuantity.value)
    return out


def _value(answer: Any) -> Any:
    if answer.valueInteger is not None:
        return int(answer.valueInteger)
    if answer.valueDecimal is not None:
        number = float(answer.valueDecimal)
        return int(number) if number.is_integer() else number
    code = answer.valueCoding.code
    return int(code) if code.isdigit() else code
