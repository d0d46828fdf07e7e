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
from pustula.store.services import Casebook

__all__ = ["CODE_SYSTEM", "SUBJECT_SYSTEM", "read_bundle", "subject_bundle"]

CODE_SYSTEM = "urn:pustula:instrument"
SUBJECT_SYSTEM = "urn:pustula:subject"
ITEM_SYSTEM = "urn:pustula:answer"


def _questionnaire(name: str) -> Questionnaire:
    meta = get_instrument(name).metadata()
    return Questionnaire(
        id=f"q-{name.replace('_', '-')}", url=f"{CODE_SYSTEM}:{name}", status="active",
        title=meta["title"],
        item=[{"linkId": f["name"], "text": field_label(f["name"]),
               "type": "decimal" if not f["whole"] else "integer"} for f in meta["fields"]
              if not f["name"].endswith("_area_score")],
    )  # fmt: skip


def _answer(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        raise DataValidationError("an item answer is a number or a word, never true or false")
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueDecimal": value}
    return {"valueCoding": {"system": ITEM_SYSTEM, "code": str(value)}}


def _ref(kind: str, ident: str) -> dict[str, str]:
    return {"reference": f"{kind}/{ident}"}


def subject_bundle(book: Casebook, protocol: Protocol) -> Bundle:
    """One subject's casebook as a FHIR collection Bundle."""
    code = book.subject.code
    pid = f"subject-{code}"
    resources: list[Any] = [
        Patient(id=pid, identifier=[{"system": SUBJECT_SYSTEM, "value": code}]),
        ResearchStudy(id=f"study-{protocol.id}", status="active", title=protocol.title),
        ResearchSubject(
            id=f"rs-{code}",
            status="active",
            study=_ref("ResearchStudy", f"study-{protocol.id}"),
            subject=_ref("Patient", pid),
        ),
    ]
    r = book.records
    visits = {v.id: v for v in r.visit}
    used = sorted({a.instrument for a in r.assessment})
    resources += [_questionnaire(name) for name in used]
    for a in r.assessment:
        visit = visits[a.visit_id]
        rid = f"qr-{code}-{visit.visit_code}-{a.instrument}".replace("_", "-")
        answers = [{"linkId": k, "answer": [_answer(v)]} for k, v in a.items.items()
                   if v is not None]  # fmt: skip
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
    for e in r.adverse_event:
        resources.append(AdverseEvent(
            id=f"ae-{code}-{e.id}", status="completed" if e.end_date else "in-progress",
            actuality="actual", subject=_ref("Patient", pid),
            code={"text": e.term, "coding": [{"system": "http://meddra.org",
                                              "code": e.meddra_pt_code, "display": e.meddra_pt}]
                  if e.meddra_pt_code else None},
            occurrenceDateTime=e.start_date.isoformat(),
            seriousness={"text": "serious" if e.serious else "non-serious"},
            outcome=[{"text": label("outcome", e.outcome)}],
        ))  # fmt: skip
    for m in r.con_med:
        resources.append(MedicationStatement(
            id=f"med-{code}-{m.id}", status="recorded", subject=_ref("Patient", pid),
            medication={"concept": {"text": m.drug}}, note=[{"text": m.indication}],
        ))  # fmt: skip
    entries = [{"fullUrl": _full_url(res), "resource": res} for res in resources]
    return Bundle(type="collection", identifier={"system": SUBJECT_SYSTEM, "value": code},
                  entry=entries)  # fmt: skip


def _full_url(resource: Any) -> str:
    """A stable URN for a resource of the Bundle (the same casebook, the same URNs)."""
    name = f"{resource.get_resource_type()}/{resource.id}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, CODE_SYSTEM + '/' + name)}"


def read_bundle(text: str) -> dict[str, Any]:
    """A subject's Bundle read back: its code, and per (visit, instrument) items and score."""
    bundle = Bundle.model_validate_json(text)
    out: dict[str, Any] = {"subject": None, "assessments": {}, "scores": {}}
    for entry in bundle.entry or []:
        res: Any = entry.resource
        kind = res.get_resource_type() if res is not None else None
        if kind == "Patient":
            out["subject"] = res.identifier[0].value
        elif kind == "QuestionnaireResponse":
            key = (res.identifier[0].value, res.questionnaire.rsplit(":", 1)[-1])
            out["assessments"][key] = {i.linkId: _value(i.answer[0]) for i in res.item or []}
        elif kind == "Observation":
            source = res.derivedFrom[0].reference.removeprefix("QuestionnaireResponse/")
            out["scores"][source] = float(res.valueQuantity.value)
    return out


def _value(answer: Any) -> Any:
    if answer.valueInteger is not None:
        return int(answer.valueInteger)
    if answer.valueDecimal is not None:
        return float(answer.valueDecimal)
    return answer.valueCoding.code
