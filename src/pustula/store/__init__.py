"""The study store: the only package that imports SQLAlchemy.

Every save goes through :meth:`Store.transaction`, one unit of work that writes the
records, their derived scores and their audit rows together, or nothing.

Its rooms, lowest first (each imports only the ones below it; ``docs/architecture.md``
draws them): ``keys``, ``db`` (engine, tables, migrations, unit of work), ``audit``,
``accounts``, ``records``, ``monitoring``, ``transfer`` and ``services``.
"""

# The audit chain and monitoring's checks register the steps every save runs with the
# unit of work, and the import's replay the way the audit check reads a kept file
# (pustula.store.db.hooks); importing them here makes sure they are there.
import pustula.store.accounts.studies
import pustula.store.audit.chain
import pustula.store.monitoring.on_save
import pustula.store.records.patient
import pustula.store.transfer.replay  # noqa: F401
from pustula.store.audit.chain import AuditReport, audit_history, verify_audit
from pustula.store.audit.integrity import verify_store, write_anchor
from pustula.store.db.models import (
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
from pustula.store.db.uow import Store, Transaction, get_record, remove, update_record
from pustula.store.records.enrolment import Enrolment, enrol_subject
from pustula.store.records.safety import (
    add_adverse_event,
    add_con_med,
    add_exposure,
    add_interruption,
    add_lab,
    update_adverse_event,
)
from pustula.store.records.study import add_site, add_study, get_study, get_subject, protocol_of
from pustula.store.records.visits import (
    record_visit,
    save_assessment,
    save_assessments,
    update_assessment,
    update_visit,
)
from pustula.store.transfer.backup import backup, restore
from pustula.store.transfer.bundle import export_bundle, import_bundle

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
