"""`qa-pipeline voc`: why customers called, whether it was solved, what it cost them, how they felt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.cli._options import DEFAULT_STORE_TEXT, JsonOption, StoreOption, judge_options


def voc(
    taxonomy: Annotated[
        list[Path] | None,
        typer.Option(
            help="Contact-reason taxonomy YAML (repeatable, one per language); "
            "default the shipped English and Russian ones."
        ),
    ] = None,
    store: StoreOption = DEFAULT_STORE_TEXT,
    backend: Annotated[
        str, typer.Option(help="llama or transformers (answers from token probabilities).")
    ] = "llama",
    model: Annotated[str, typer.Option(help="Model, as for qa-pipeline score.")] = "auto",
    threads: Annotated[int, typer.Option(help="CPU threads for the llama backend; 0 = all cores.")] = 0,
    call: Annotated[list[str] | None, typer.Option(help="Only these call ids (repeatable).")] = None,
    force: Annotated[bool, typer.Option(help="Extract again even when the store has it.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Each stored conversation's reason, resolution, repeat contact, effort, sentiment and churn risk;
    cached and resumable like score; unsure fields say needs_human."""
    from qa_pipeline.errors import ConfigError
    from qa_pipeline.judging.backends import ItemBackend
    from qa_pipeline.judging.options import make_judge_backend
    from qa_pipeline.store.database import Store
    from qa_pipeline.voc.stage import extract_store
    from qa_pipeline.voc.taxonomy import load_taxonomy, shipped_taxonomies

    taxonomies = [load_taxonomy(p) for p in taxonomy] if taxonomy else shipped_taxonomies()
    made = make_judge_backend(judge_options(backend=backend, model=model, threads=threads))
    if not isinstance(made, ItemBackend):
        raise ConfigError(
            f"--backend {backend}: the voc stage reads answer probabilities; use llama or transformers"
        )
    results = []
    for result in extract_store(Store(store), taxonomies, made, calls=call, force=force):
        results.append(result)
        if not as_json:
            unsure = f" (needs a person: {', '.join(result.needs_human)})" if result.needs_human else ""
            typer.echo(f"{result.call_id}: {result.status}{unsure}")
    if as_json:
        typer.echo(json.dumps([r.model_dump() for r in results], indent=2, ensure_ascii=False))
