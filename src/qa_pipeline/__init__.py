"""qa-pipeline: speech analytics that supplements human QA control of contact-centre calls.

The public API, stage by stage; the CLI is a thin layer over these names, so notebooks, services and
cluster jobs drive the pipeline the same way. Names load on first use, so `import qa_pipeline` (and the
CLI's `--help`) does not pull in the store's database layer, statistics or models.

    from qa_pipeline import PipelineOptions, Workspace, load_checklists, run_pipeline
    checklists = load_checklists([Path("checklists/")])
    result = run_pipeline([Path("calls/")], checklists, Workspace(Path("qa-work")), PipelineOptions())
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> the module that defines it
_API = {
    # the work folder, errors and the objects that cross stages
    "AudioError": "qa_pipeline.errors",
    "ConfigError": "qa_pipeline.errors",
    "ModelError": "qa_pipeline.errors",
    "QAPipelineError": "qa_pipeline.errors",
    "StoreError": "qa_pipeline.errors",
    "Workspace": "qa_pipeline.workspace",
    "Store": "qa_pipeline.store.database",
    "Call": "qa_pipeline.models",
    "CallMetadata": "qa_pipeline.models",
    "CallTimings": "qa_pipeline.models",
    "HumanReview": "qa_pipeline.models",
    "ItemVerdict": "qa_pipeline.models",
    "Scorecard": "qa_pipeline.models",
    "Segment": "qa_pipeline.models",
    "Transcript": "qa_pipeline.models",
    "Word": "qa_pipeline.models",
    "Checklist": "qa_pipeline.checklist",
    "load_checklists": "qa_pipeline.checklist",
    # transcription
    "BatchSummary": "qa_pipeline.transcription.batch",
    "CallResult": "qa_pipeline.transcription.batch",
    "CallSource": "qa_pipeline.transcription.ingest",
    "TranscribeOptions": "qa_pipeline.transcription.transcribe",
    "Transcriber": "qa_pipeline.transcription.transcribe",
    "TranscriptionRun": "qa_pipeline.transcription.batch",
    "discover_inputs": "qa_pipeline.transcription.ingest",
    "probe_call": "qa_pipeline.transcription.ingest",
    "resolve_whisper_model": "qa_pipeline.transcription.whisper_models",
    "transcribe_inputs": "qa_pipeline.transcription.batch",
    # conversations that are not audio (chats, e-mails, telephony transcripts)
    "import_conversations": "qa_pipeline.conversations",
    # judging
    "Judge": "qa_pipeline.judging.judge",
    "JudgeOptions": "qa_pipeline.judging.options",
    "ScoreResult": "qa_pipeline.judging.score_batch",
    "make_judge": "qa_pipeline.judging.options",
    "score_store": "qa_pipeline.judging.score_batch",
    # human control
    "AgreementReport": "qa_pipeline.control.calibration",
    "SamplePlan": "qa_pipeline.control.workflow",
    "TrustRule": "qa_pipeline.control.calibration",
    "agreement_report": "qa_pipeline.control.workflow",
    "export_scorecards": "qa_pipeline.control.workflow",
    "import_review_sheets": "qa_pipeline.control.workflow",
    "plan_review": "qa_pipeline.control.workflow",
    "record_override": "qa_pipeline.control.workflow",
    "write_agreement": "qa_pipeline.control.calibration_files",
    "write_review_sheets": "qa_pipeline.control.workflow",
    # report and exports
    "build_report": "qa_pipeline.report.data",
    "export_tables": "qa_pipeline.report.exports",
    "write_html_report": "qa_pipeline.report.render",
    # the whole pipeline, and the demo
    "DemoOptions": "qa_pipeline.demo",
    "DemoResult": "qa_pipeline.demo",
    "PipelineOptions": "qa_pipeline.pipeline",
    "PipelineResult": "qa_pipeline.pipeline",
    "run_demo": "qa_pipeline.demo",
    "run_pipeline": "qa_pipeline.pipeline",
}

__all__ = [
    "AgreementReport",
    "AudioError",
    "BatchSummary",
    "Call",
    "CallMetadata",
    "CallResult",
    "CallSource",
    "CallTimings",
    "Checklist",
    "ConfigError",
    "DemoOptions",
    "DemoResult",
    "HumanReview",
    "ItemVerdict",
    "Judge",
    "JudgeOptions",
    "ModelError",
    "PipelineOptions",
    "PipelineResult",
    "QAPipelineError",
    "SamplePlan",
    "ScoreResult",
    "Scorecard",
    "Segment",
    "Store",
    "StoreError",
    "TranscribeOptions",
    "Transcriber",
    "Transcript",
    "TranscriptionRun",
    "TrustRule",
    "Word",
    "Workspace",
    "agreement_report",
    "build_report",
    "discover_inputs",
    "export_scorecards",
    "export_tables",
    "import_conversations",
    "import_review_sheets",
    "load_checklists",
    "make_judge",
    "plan_review",
    "probe_call",
    "record_override",
    "resolve_whisper_model",
    "run_demo",
    "run_pipeline",
    "score_store",
    "transcribe_inputs",
    "write_agreement",
    "write_html_report",
    "write_review_sheets",
]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'qa_pipeline' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])


if TYPE_CHECKING:
    from qa_pipeline.checklist import Checklist, load_checklists
    from qa_pipeline.control.calibration import AgreementReport, TrustRule
    from qa_pipeline.control.calibration_files import write_agreement
    from qa_pipeline.control.workflow import (
        SamplePlan,
        agreement_report,
        export_scorecards,
        import_review_sheets,
        plan_review,
        record_override,
        write_review_sheets,
    )
    from qa_pipeline.conversations import import_conversations
    from qa_pipeline.demo import DemoOptions, DemoResult, run_demo
    from qa_pipeline.errors import AudioError, ConfigError, ModelError, QAPipelineError, StoreError
    from qa_pipeline.judging.judge import Judge
    from qa_pipeline.judging.options import JudgeOptions, make_judge
    from qa_pipeline.judging.score_batch import ScoreResult, score_store
    from qa_pipeline.models import (
        Call,
        CallMetadata,
        CallTimings,
        HumanReview,
        ItemVerdict,
        Scorecard,
        Segment,
        Transcript,
        Word,
    )
    from qa_pipeline.pipeline import PipelineOptions, PipelineResult, run_pipeline
    from qa_pipeline.report.data import build_report
    from qa_pipeline.report.exports import export_tables
    from qa_pipeline.report.render import write_html_report
    from qa_pipeline.store.database import Store
    from qa_pipeline.transcription.batch import BatchSummary, CallResult, TranscriptionRun, transcribe_inputs
    from qa_pipeline.transcription.ingest import CallSource, discover_inputs, probe_call
    from qa_pipeline.transcription.transcribe import TranscribeOptions, Transcriber
    from qa_pipeline.transcription.whisper_models import resolve_whisper_model
    from qa_pipeline.workspace import Workspace
