"""The `qa-pipeline` command: a thin layer over the Python API.

Each command imports the library inside its function, so `--help` and the parsing of options load no
model, database layer (SQLAlchemy), statistics (scipy) or spreadsheet code (openpyxl).
"""

from __future__ import annotations

import logging
import os
import sys

import typer
from pydantic import ValidationError

from qa_pipeline.cli.calibrate import calibrate
from qa_pipeline.cli.checklist import checklist_app
from qa_pipeline.cli.demo import demo
from qa_pipeline.cli.evaluate import evaluate
from qa_pipeline.cli.export import export
from qa_pipeline.cli.import_conversations import import_conversations
from qa_pipeline.cli.outcomes import import_outcomes, validity
from qa_pipeline.cli.redact_audio import redact_audio
from qa_pipeline.cli.report import report
from qa_pipeline.cli.reviews import export_scores, import_scores, override
from qa_pipeline.cli.run import run
from qa_pipeline.cli.sample import sample
from qa_pipeline.cli.score import score
from qa_pipeline.cli.serve import serve
from qa_pipeline.cli.thresholds import fit_thresholds
from qa_pipeline.cli.transcribe import transcribe
from qa_pipeline.cli.users import users_app
from qa_pipeline.cli.voc import voc
from qa_pipeline.errors import QAPipelineError

app = typer.Typer(
    name="qa-pipeline",
    help="Check contact-centre calls with speech analytics while keeping human QA control.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(run)
app.command()(transcribe)
app.command()(score)
app.command()(sample)
app.command(name="import-scores")(import_scores)
app.command(name="import-conversations")(import_conversations)
app.command(name="import-outcomes")(import_outcomes)
app.command()(validity)
app.command()(voc)
app.command()(calibrate)
app.command()(evaluate)
app.command(name="fit-thresholds")(fit_thresholds)
app.command()(override)
app.command(name="export-scores")(export_scores)
app.command()(report)
app.command()(export)
app.command(name="redact-audio")(redact_audio)
app.command()(demo)
app.command()(serve)
app.add_typer(checklist_app, name="checklist")
app.add_typer(users_app, name="users")


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what the pipeline does to stderr."),
) -> None:
    if not verbose:
        # Model-loading progress bars (GGUF conversion, hub downloads) are noise in a batch job's output.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TQDM_DISABLE", "1")  # GGUF loading uses plain tqdm
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main() -> None:
    try:
        app()
    except QAPipelineError as exc:
        typer.secho(f"Error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)
    except ValidationError as exc:  # options the CLI passed straight to a pydantic model
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        typer.secho(f"Error: invalid option: {problems}", fg=typer.colors.RED, err=True)
        sys.exit(2)
