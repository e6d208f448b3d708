"""qa-pipeline: speech analytics that supplements human QA control of contact-centre calls.

The public API: discover inputs, transcribe calls, keep results in the store. The CLI is a thin layer
over these names, so notebooks and services call the pipeline the same way.
"""

from qa_pipeline.batch import BatchSummary, CallResult, summarise, transcribe_batch
from qa_pipeline.errors import AudioError, ConfigError, ModelError, QAPipelineError, StoreError
from qa_pipeline.ingest import CallSource, discover_inputs, probe_call
from qa_pipeline.models import Call, CallMetadata, CallTimings, Segment, Transcript, Word
from qa_pipeline.store import Store
from qa_pipeline.transcribe import TranscribeOptions, Transcriber
from qa_pipeline.whisper_models import resolve_whisper_model

__all__ = [
    "AudioError",
    "BatchSummary",
    "Call",
    "CallMetadata",
    "CallResult",
    "CallSource",
    "CallTimings",
    "ConfigError",
    "ModelError",
    "QAPipelineError",
    "Segment",
    "Store",
    "StoreError",
    "TranscribeOptions",
    "Transcriber",
    "Transcript",
    "Word",
    "discover_inputs",
    "probe_call",
    "resolve_whisper_model",
    "summarise",
    "transcribe_batch",
]
