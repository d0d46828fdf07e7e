"""The study store: the only package that imports SQLAlchemy.

Every save goes through :meth:`Store.transaction`, one unit of work that writes the
records, their derived scores and their audit rows together, or nothing.
"""

from pustula.store.audit import AuditReport, audit_history, verify_audit
from pustula.store.backup import backup, restore
from pustula.store.bundle import export_bundle, import_bundle
from pustula.store.integrity import verify_store, write_anchor
from pustula.store.models import (
    AdverseEvent,
    Assessment,
    AuditLog,
    Baseline,
    ConMed,
    EligibilityResult,
    Exposure,
    Lab,
    PriorTherapy,
    Site,
    Study,
    Subject,
    Visit,
)
from pustula.store.safety import (
    add_adverse_event,
    add_con_med,
    add_exposure,
    add_interruption,
    add_lab,
    update_adverse_event,
)
from pustula.store.study import (
    Enrolment,
    add_site,
    add_study,
    enrol_subject,
    get_study,
    get_subject,
    protocol_of,
)
from pustula.store.uow import Store, Transaction, get_record, remove, update_record
from pustula.store.visits import (
    record_visit,
    save_assessment,
    save_assessments,
    update_assessment,
    update_visit,
)

__all__ = [
    "AdverseEvent",
    "Assessment",
    "AuditLog",
    "AuditReport",
    "Baseline",
    "ConMed",
    "EligibilityResult",
    "Enrolment",
    "Exposure",
    "Lab",
    "PriorTherapy",
    "Site",
    "Store",
    "Study",
    "Subject",
    "Transaction",
    "Visit",
    "add_adverse_event",
    "add_con_med",
    "add_exposure",
    "add_interruption",
    "add_lab",
    "add_site",
    "add_study",
    "audit_history",
    "backup",
    "enrol_subject",
    "export_bundle",
    "get_record",
    "get_study",
    "get_subject",
    "import_bundle",
    "protocol_of",
    "record_visit",
    "remove",
    "restore",
    "save_assessment",
    "save_assessments",
    "update_adverse_event",
    "update_assessment",
    "update_record",
    "update_visit",
    "verify_audit",
    "verify_store",
    "write_anchor",
]
