"""Who may do what, in one place: roles, permissions per route, and site scoping.

Every page and API route is named, and :data:`ROUTE_PERMISSIONS` gives the permission each
name needs. The single dependency :func:`authorize` (see :mod:`pustula.web.deps`) applies
it; a route missing from the table is refused, so a new route cannot be open by accident.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["PERMISSIONS", "ROUTE_PERMISSIONS", "STUDY_FREE_ROUTES", "Principal"]

PERMISSIONS: dict[str, frozenset[str]] = {
    # the monitor raises and closes queries and verifies source data; site staff answer;
    # the investigator signs; the administrator locks
    "admin": frozenset(
        {
            "read",
            "enter",
            "edit",
            "audit",
            "report",
            "export",
            "admin",
            "query",
            "answer",
            "verify",
            "lock",
            "randomize",
            "photos",
        }
    ),
    # in a blinded trial every role is blinded but the last two: "unblinded" shows arms,
    # "allocation" generates and reads the allocation list; an investigator may unblind one
    # subject in an emergency
    # photographs of the palms and soles are seen by those who care for the subject and
    # by the monitor who verifies them, not by statisticians or the DMC (decision 0017)
    "investigator": frozenset(
        {"read", "enter", "edit", "report", "answer", "sign", "randomize", "unblind", "photos"}
    ),
    "data_entry": frozenset({"read", "enter", "edit", "answer", "randomize", "photos"}),
    "monitor": frozenset({"read", "audit", "query", "verify", "photos"}),
    "statistician": frozenset({"read", "report", "export"}),
    "unblinded_statistician": frozenset({"read", "report", "export", "unblinded", "allocation"}),
    "dmc": frozenset({"read", "report", "unblinded"}),
}

#: Permissions that need no role in a study: any signed-in user may choose among their
#: studies; a server administrator creates studies.
ACCOUNT = "account"
CREATE_STUDY = "create_study"

#: Routes that work outside any one study (the study switcher and study creation).
STUDY_FREE_ROUTES = frozenset({"study_list", "study_open", "study_new_form", "study_new_save"})

ROUTE_PERMISSIONS: dict[str, str] = {
    # studies: choosing one, creating one, and who holds which role in it
    "study_list": ACCOUNT,
    "study_open": ACCOUNT,
    "study_new_form": CREATE_STUDY,
    "study_new_save": CREATE_STUDY,
    "study_people": "admin",
    "study_grant": "admin",
    "study_revoke": "admin",
    # the protocol's versions: every role reads them; a study administrator amends it
    "protocol_page": "read",
    "protocol_upload": "admin",
    "protocol_version": "read",
    "amendment_approve": "admin",
    "amendment_withdraw": "admin",
    "consent_list": "read",
    "consent_save": "enter",
    # pages
    "dashboard": "read",
    "subject_list": "read",
    "subject_timeline": "read",
    "enrol_form": "enter",
    "enrol_save": "enter",
    "visit_form": "enter",
    "visit_save": "enter",
    "assessment_edit_form": "edit",
    "assessment_edit_save": "edit",
    # each step of a record's life (pustula.web.actions): a form and its save
    **{
        f"{name}_{part}": permission
        for name, permission in (
            ("ae_new", "enter"),
            ("ae_follow_up", "edit"),
            ("ae_coding", "edit"),
            ("lab_new", "enter"),
            ("lab_edit", "edit"),
            ("lab_remove", "edit"),
            ("conmed_new", "enter"),
            ("conmed_edit", "edit"),
            ("conmed_remove", "edit"),
            ("dose_start", "enter"),
            ("dose_change", "edit"),
            ("dose_interrupt", "edit"),
            ("interruption_end", "edit"),
            ("dose_stop", "edit"),
            ("visit_missed", "enter"),
            ("visit_date", "edit"),
            ("subject_end", "edit"),
            ("rescreen", "edit"),
        )
        for part in ("form", "save")
    },
    "eligibility_preview": "enter",
    "audit_csv": "audit",
    "downloads": "read",
    "download_adsl": "export",
    "download_adqs": "export",
    "download_redcap_dictionary": "read",
    "evidence": "read",
    "download_sdtm": "export",
    "download_adam": "export",
    "download_odm": "export",
    **{f"download_tidy_{fmt}": "export" for fmt in ("csv", "xlsx", "parquet", "sav", "dta", "xpt")},
    "api_docs": "read",
    # monitoring
    "query_list": "read",
    "query_csv": "read",
    "query_detail": "read",
    "query_answer": "answer",
    "query_close": "query",
    "query_reopen": "query",
    "query_form": "query",
    "query_save": "query",
    "verify_save": "verify",
    "sdv_page": "read",
    "status_grid": "read",
    "quality_rules": "read",
    "quality_define": "query",
    "quality_run": "read",
    "quality_queries": "query",
    "sign_form": "sign",
    "sign_save": "sign",
    "lock_page": "read",
    "lock_save": "lock",
    "unlock_save": "lock",
    "record_history": "read",
    "audit_trail": "audit",
    "report_page": "report",
    "report_pdf": "report",
    "report_docx": "report",
    # patient entry: the study team invites; the patient's own pages have no account
    "invite_form": "enter",
    "invite_save": "enter",
    "diary_form": "enter",
    "diary_save": "enter",
    "api_diary_invite": "enter",
    "api_diary": "read",
    "diary_not_used_form": "edit",
    "diary_not_used_save": "edit",
    "api_diary_not_used": "edit",
    "not_used_form": "edit",
    "not_used_save": "edit",
    "api_invite": "enter",
    "api_not_used": "edit",
    # photographs: seen with "photos", taken by site staff, removed with a reason
    "photo_visit": "photos",
    "photo_upload": "enter",
    "photo_compare": "photos",
    "photo_image": "photos",
    "photo_thumbnail": "photos",
    "photo_remove_form": "edit",
    "photo_remove_save": "edit",
    "api_photos": "photos",
    "api_photo_upload": "enter",
    "api_photo_image": "photos",
    "api_photo_remove": "edit",
    # randomized trials
    "randomize_form": "randomize",
    "randomize_save": "randomize",
    "unblind_form": "unblind",
    "unblind_save": "unblind",
    "allocation_page": "allocation",
    "allocation_generate": "allocation",
    "allocation_csv": "allocation",
    "unblinding_log": "audit",
    "deviation_form": "enter",
    "deviation_save": "enter",
    # interim monitoring: the look and its decision with the report readers; the DMC's
    # closed report with the roles that see arms
    "interim_page": "report",
    "interim_record": "report",
    "dmc_open": "report",
    "dmc_closed": "unblinded",
    # API
    "api_me": "read",
    "api_subjects": "read",
    "api_subject": "read",
    "api_visit_create": "enter",
    "api_assessment_update": "edit",
    "api_adverse_events": "read",
    "api_adverse_event_create": "enter",
    "api_labs": "read",
    "api_lab_create": "enter",
    "api_endpoints": "report",
    "api_export": "export",
    "api_score": "read",
    "api_history": "read",
    "api_exposure_create": "enter",
    "api_dose_change": "edit",
    "api_interruption_create": "edit",
    "api_interruption_end": "edit",
    "api_exposure_stop": "edit",
    "api_visit_missed": "enter",
    "api_visit_date": "edit",
    "api_adverse_event_update": "edit",
    "api_lab_update": "edit",
    "api_lab_remove": "edit",
    "api_conmeds": "read",
    "api_conmed_create": "enter",
    "api_conmed_update": "edit",
    "api_conmed_remove": "edit",
    "api_rescreen": "edit",
    "api_withdrawal": "edit",
    "api_queries": "read",
    "api_query_raise": "query",
    "api_query_answer": "answer",
    "api_query_close": "query",
    "api_query_reopen": "query",
    "api_signatures": "read",
    "api_sign": "sign",
    "api_lock_status": "read",
    "api_lock": "lock",
    "api_unlock": "lock",
    "api_randomization": "read",
    "api_randomize": "randomize",
    "api_unblind": "unblind",
    "api_allocation": "allocation",
    "api_deviations": "read",
    "api_deviation": "enter",
    "api_unblindings": "audit",
}


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the web layer sees them: their role and sites in ``study``."""

    id: int
    username: str
    role: str
    sites: tuple[str, ...]
    study: str | None = None
    server_admin: bool = False

    @property
    def permissions(self) -> frozenset[str]:
        return PERMISSIONS.get(self.role, frozenset())

    def can(self, permission: str) -> bool:
        if permission == ACCOUNT:
            return True
        if permission == CREATE_STUDY:
            return self.server_admin
        return permission in self.permissions

    def sees_site(self, site: str) -> bool:
        return "*" in self.sites or site in self.sites

    def visible(self, sites: Sequence[str]) -> list[str]:
        return [s for s in sites if self.sees_site(s)]

    @property
    def site_filter(self) -> list[str] | None:
        """The sites to restrict queries to, or None for every site."""
        return None if "*" in self.sites else list(self.sites)
