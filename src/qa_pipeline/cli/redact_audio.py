"""`qa-pipeline redact-audio`: copies of the recordings with personal data silenced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.cli._options import DEFAULT_STORE_TEXT, JsonOption, StoreOption
from qa_pipeline.redaction.muting import MARGIN


def redact_audio(
    out: Annotated[Path, typer.Option(help="Folder for the muted copies, <call_id>.wav.")],
    store: StoreOption = DEFAULT_STORE_TEXT,
    transcripts: Annotated[
        Path | None,
        typer.Option(help="Folder of <call_id>.json transcripts to use instead of the store's."),
    ] = None,
    margin: Annotated[float, typer.Option(help="Seconds silenced either side of each span.", min=0)] = MARGIN,
    as_json: JsonOption = False,
) -> None:
    """Write a copy of each transcribed recording with its card, phone and passport numbers, e-mails,
    codes and other personal data silenced (only the speaker's channel of a stereo call), at the
    original sample rate and channels. The recordings are found in the store; originals stay untouched."""
    from qa_pipeline.redaction.muting import mute_recordings, transcripts_in_folder
    from qa_pipeline.store.database import Store

    project = Store(store)
    found = transcripts_in_folder(transcripts) if transcripts else project.transcripts()
    paths = {call_id: record["audio_path"] for call_id, record in project.call_records().items()}
    muted = mute_recordings(found, paths, out, margin=margin)
    if as_json:
        rows = [
            {"call_id": m.call_id, "source": str(m.source), "output": str(m.target), "spans": m.spans,
             "muted_seconds": round(m.muted_seconds, 2)}
            for m in muted
        ]  # fmt: skip
        typer.echo(json.dumps(rows, indent=2))
        return
    for m in muted:
        typer.echo(f"{m.call_id}: {m.spans} spans, {m.muted_seconds:.1f} s muted  {m.target}")
    typer.echo(f"{len(muted)} recordings written to {out}")
