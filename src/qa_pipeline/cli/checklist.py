"""`qa-pipeline checklist validate|init`: check checklist files without loading any model; copy the
shipped checklists for a team to edit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.checklist import ChecklistError, load_checklist
from qa_pipeline.cli._options import JsonOption
from qa_pipeline.resources import shipped

checklist_app = typer.Typer(help="Work with QA checklists.", no_args_is_help=True)


@checklist_app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Checklist YAML files, or folders of them.")],
    as_json: JsonOption = False,
) -> None:
    """Report every problem in each checklist with file, line and field; exit 1 when any is invalid."""
    report: list[dict[str, object]] = []
    expanded = [f for p in files for f in (sorted(p.glob("*.y*ml")) if p.is_dir() else [p])]
    if not expanded:
        raise typer.BadParameter(f"no checklist files in {', '.join(map(str, files))}", param_hint="FILES")
    for path in expanded:
        try:
            checklist = load_checklist(path)
        except ChecklistError as exc:
            report.append({"file": str(path), "valid": False, "problems": exc.problems})
            continue
        report.append(
            {
                "file": str(path),
                "valid": True,
                "id": checklist.id,
                "version": checklist.version,
                "items": len(checklist.items),
                "total_weight": sum(item.weight for item in checklist.items),
            }
        )
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for entry in report:
            if entry["valid"]:
                typer.echo(
                    f"ok      {entry['file']}: {entry['id']} v{entry['version']}, {entry['items']} items"
                )
            else:
                typer.echo(f"invalid {entry['file']}:", err=True)
                for problem in entry["problems"]:  # type: ignore[attr-defined]
                    typer.echo(f"  {problem}", err=True)
    if not all(entry["valid"] for entry in report):
        raise typer.Exit(code=1)


@checklist_app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Where the team's checklists will live.")] = Path(
        "checklists"
    ),
    force: Annotated[bool, typer.Option(help="Overwrite files of the same name.")] = False,
) -> None:
    """Copy the shipped checklists (inbound service, English and Russian) into FOLDER to edit; score and
    demo then use checklists/ in the working folder over the shipped ones."""
    sources = sorted(shipped("checklists").glob("*.yaml"))
    existing = [folder / source.name for source in sources if (folder / source.name).exists()]
    if existing and not force:
        raise typer.BadParameter(
            f"{', '.join(map(str, existing))} already exist; edit them, or pass --force to overwrite",
            param_hint="FOLDER",
        )
    folder.mkdir(parents=True, exist_ok=True)
    for source in sources:
        shutil.copyfile(source, folder / source.name)
        typer.echo(f"wrote {folder / source.name}")
    typer.echo(
        f"Edit them, bump `version` when questions change; check: qa-pipeline checklist validate {folder}"
    )
