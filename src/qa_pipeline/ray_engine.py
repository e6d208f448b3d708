"""The pipeline beyond one machine: the same stages as a Ray Data job (`qa-pipeline run --engine ray`).

Recordings flow through two pools of actors: transcribers (each loads Whisper once, on a GPU or CPUs)
and judges (each loads the judge once). Every call is done with the same code, claims and cache as on one
machine, so the once-only guarantees are the store's, not Ray's: a worker that dies mid-call leaves a
claim that the next worker on the same machine sees is dead and takes over (across machines, when its
lease runs out), Ray restarts the actor and retries its batch, and a run started again reuses every
finished transcript and scorecard. Files are written atomically, the store idempotently; a cluster
needs a shared store (PostgreSQL) and the work folder on storage every node sees. The sample, sheets
and report are made by the driver at the end, as `run_pipeline` makes them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from qa_pipeline.checklist import Checklist
from qa_pipeline.errors import ConfigError
from qa_pipeline.judging.score_batch import ScoreResult, score_batch
from qa_pipeline.models import CallMetadata
from qa_pipeline.pipeline import PipelineOptions, PipelineResult, finish_pipeline, workspace_judge
from qa_pipeline.store.database import Store
from qa_pipeline.transcription.batch import CallResult, TranscriptionRun, summarise, transcribe_batch
from qa_pipeline.transcription.ingest import CallSource, discover_inputs
from qa_pipeline.transcription.transcribe import Transcriber
from qa_pipeline.workspace import Workspace


class RayOptions(BaseModel):
    """Where and on how many workers the job runs.

    Attributes:
        address: a running cluster (`ray://host:10001` or `auto`); None starts Ray on this machine.
        transcribers / judges: actors in each pool.
        cpus_per_transcriber, gpus_per_transcriber, cpus_per_judge, gpus_per_judge: what each actor holds.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str | None = None
    transcribers: int = Field(default=1, ge=1)
    judges: int = Field(default=1, ge=1)
    cpus_per_transcriber: float = Field(default=1.0, ge=0)
    gpus_per_transcriber: float = Field(default=0.0, ge=0)
    cpus_per_judge: float = Field(default=1.0, ge=0)
    gpus_per_judge: float = Field(default=0.0, ge=0)


class TranscribeWorker:
    """A Ray actor that transcribes one batch of calls at a time into the shared store."""

    def __init__(self, options: PipelineOptions, store_url: str, out_dir: str) -> None:
        self.options = options
        self.store = Store(store_url)
        self.out_dir = Path(out_dir)
        self.transcriber = Transcriber(options.transcribe)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        sources = [
            CallSource(str(call_id), Path(str(path)), CallMetadata.model_validate_json(str(metadata)))
            for call_id, path, metadata in zip(
                batch["call_id"], batch["path"], batch["metadata"], strict=True
            )
        ]
        results = transcribe_batch(
            sources,
            self.transcriber,
            self.store,
            self.out_dir,
            force=self.options.force,
            replace=self.options.replace,
        )
        done = [r.model_dump_json() for r in results]
        return {"call_id": [str(c) for c in batch["call_id"]], "transcription": done}


class ScoreWorker:
    """A Ray actor that scores the calls its transcribers finished."""

    def __init__(
        self, options: PipelineOptions, checklists: list[Checklist], workspace: Workspace, store_url: str
    ) -> None:
        self.options = options
        self.checklists = checklists
        self.store = Store(store_url)
        self.out_dir = workspace.scorecards
        self.judge = workspace_judge(options.judge, workspace)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        results = [CallResult.model_validate_json(str(row)) for row in batch["transcription"]]
        ready = [r.call_id for r in results if r.output]
        scores: dict[str, str] = {}
        if ready:
            transcripts = self.store.transcripts(ready)
            for score in score_batch(
                transcripts, self.checklists, self.judge, self.store, self.out_dir, force=self.options.force
            ):
                scores[score.call_id] = score.model_dump_json()
        return {
            "call_id": [r.call_id for r in results],
            "transcription": [r.model_dump_json() for r in results],
            "score": [scores.get(r.call_id, "") for r in results],
        }


def run_pipeline_ray(
    inputs: list[Path],
    checklists: list[Checklist],
    workspace: Workspace,
    options: PipelineOptions | None = None,
    ray_options: RayOptions | None = None,
) -> PipelineResult:
    """`run_pipeline` as a Ray Data job; the result is the same account of every call."""
    import ray

    options = options or PipelineOptions()
    ray_options = ray_options or RayOptions()
    if options.sample and not options.controllers:
        raise ConfigError("a review sample needs controllers (who reviews the sampled calls)")
    store = workspace.open_store()
    if ray_options.address is not None and store.is_sqlite:
        raise ConfigError(
            f"a Ray cluster's workers need a store they all reach, not the SQLite file {store.url}: "
            "use --store postgresql+psycopg://..."
        )
    workspace_judge(options.judge, workspace)  # an option the judge cannot honour stops the run here
    found = discover_inputs(inputs, options.id_from)
    if not ray.is_initialized():
        ray.init(address=ray_options.address, ignore_reinit_error=True, include_dashboard=False)
    started = time.perf_counter()
    rows = [
        {"call_id": s.call_id, "path": str(s.path.resolve()), "metadata": s.metadata.model_dump_json()}
        for s in found.sources
    ]
    results: list[CallResult] = []
    scores: list[ScoreResult] = []
    if rows:
        dataset = (
            ray.data.from_items(rows)
            .map_batches(
                TranscribeWorker,
                fn_constructor_kwargs={
                    "options": options,
                    "store_url": str(store.url),
                    "out_dir": str(workspace.transcripts.resolve()),
                },
                batch_size=1,
                concurrency=ray_options.transcribers,
                num_cpus=ray_options.cpus_per_transcriber,
                num_gpus=ray_options.gpus_per_transcriber,
                max_restarts=-1,  # a dead actor comes back, and its batch is done again
                max_task_retries=-1,
            )
            .map_batches(
                ScoreWorker,
                fn_constructor_kwargs={
                    "options": options,
                    "checklists": checklists,
                    "workspace": Workspace(workspace.root.resolve(), workspace.store_location),
                    "store_url": str(store.url),
                },
                batch_size=1,
                concurrency=ray_options.judges,
                num_cpus=ray_options.cpus_per_judge,
                num_gpus=ray_options.gpus_per_judge,
                max_restarts=-1,
                max_task_retries=-1,
            )
        )
        for row in sorted(dataset.take_all(), key=lambda r: str(r["call_id"])):
            results.append(CallResult.model_validate_json(str(row["transcription"])))
            if row["score"]:
                scores.append(ScoreResult.model_validate_json(str(row["score"])))
    seconds = {"transcribe and score": time.perf_counter() - started}
    transcription = TranscriptionRun(results=results, problems=found.problems, summary=summarise(results))
    return finish_pipeline(store, checklists, workspace, options, transcription, scores, seconds)
