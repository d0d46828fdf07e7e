"""Pins the public API, so that a removal or rename is a deliberate, reviewed change."""

from __future__ import annotations

import pustula.scoring


def test_scoring_public_names() -> None:
    assert sorted(pustula.scoring.__all__) == sorted(
        [
            "DLQI",
            "ITCH_NRS",
            "PAIN_NRS",
            "PGA",
            "PGA_COMPOSITE",
            "PPPASI",
            "BulkResult",
            "FieldSpec",
            "Instrument",
            "ScoreResult",
            "area_score_from_percent",
            "compute_dlqi",
            "compute_nrs",
            "compute_pga",
            "compute_pga_composite",
            "compute_pppasi",
            "get_instrument",
            "list_instruments",
        ]
    )
    for name in pustula.scoring.__all__:
        assert getattr(pustula.scoring, name) is not None


def test_store_public_names() -> None:
    import pustula.store

    assert sorted(pustula.store.__all__) == sorted(
        [
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
    )


def test_analysis_public_names() -> None:
    import pustula.analysis

    assert sorted(pustula.analysis.__all__) == sorted(
        [
            "AnalysisData",
            "AnalysisSettings",
            "AncovaResult",
            "BinaryComparison",
            "ContinuousSummary",
            "Effect",
            "MmrmResult",
            "StratifiedComparison",
            "TrialAnalysis",
            "analyse_trial",
            "ancova",
            "compare_proportions",
            "logistic_effect",
            "mmrm",
            "stratified_comparison",
            "EndpointResult",
            "PosteriorSummary",
            "ProportionEstimate",
            "WilcoxonResult",
            "beta_binomial_posterior",
            "build_analysis",
            "compute_endpoints",
            "derive_param_imputed",
            "derive_time_to_response",
            "derive_var_base",
            "derive_var_chg",
            "derive_var_pga_response",
            "derive_var_responders",
            "proportion_ci",
            "summarise_continuous",
            "wilcoxon_change",
        ]
    )


def test_report_public_names() -> None:
    import pustula.report

    assert sorted(pustula.report.__all__) == sorted(
        [
            "Report",
            "build_report",
            "render_html",
            "render_pdf",
            "report_from_analysis",
            "write_figures",
            "write_report",
        ]
    )


def test_errors_public_names() -> None:
    import pustula.errors

    assert sorted(pustula.errors.__all__) == sorted(
        [
            "AnalysisError",
            "AuditError",
            "BulkScoringError",
            "ConfigurationError",
            "ConflictError",
            "DataValidationError",
            "EligibilityError",
            "ImportBundleError",
            "InvitationError",
            "LockedError",
            "PatientAnswerError",
            "PhotoError",
            "ProtocolError",
            "PustulaError",
            "RandomizationError",
            "ReasonRequiredError",
            "RecordNotFoundError",
            "RowError",
            "ScoringInputError",
            "SignatureError",
            "StoreError",
            "UnknownInstrumentError",
        ]
    )


PUBLIC_PACKAGES = ("pustula.scoring", "pustula.protocol", "pustula.checks", "pustula.store",
                   "pustula.analysis", "pustula.report", "pustula.interop", "pustula.evidence",
                   "pustula.design", "pustula.errors")  # fmt: skip


def test_every_public_class_and_function_says_what_it_is_with_an_example() -> None:
    """A docstring of its own for every name a package exports (a dataclass's generated
    "Name(field: type, …)" does not count): 39 of 151 lacked one. Each has an example
    (``>>>``), which ``pytest --doctest-modules`` runs (src/conftest.py gives them the
    demo study)."""
    import importlib
    import inspect

    lacking = []
    for package in PUBLIC_PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            doc = (obj.__doc__ or "").strip()
            if not doc or doc.startswith(f"{obj.__name__}(") or ">>>" not in doc:
                lacking.append(f"{package}.{name}")
    assert lacking == []
