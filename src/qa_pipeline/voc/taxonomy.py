"""Contact-reason taxonomies: a YAML file per language (id, version, language, reasons with optional
children, competitors to listen for). "other" is always a choice, so nothing is forced into a wrong box.
A reason may name its stage of the customer journey (`stages:` lists them in journey order; a child
inherits its parent's stage), so CX people can read the reasons along their journey map."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from qa_pipeline.errors import ConfigError

OTHER = "other"


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    label: str = Field(min_length=1)
    description: str = ""
    stage: str | None = Field(default=None, description="journey stage; children inherit it")
    children: list[Reason] = Field(default_factory=list)


class Taxonomy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_-]+$")
    version: str
    language: str
    reasons: list[Reason] = Field(min_length=1)
    competitors: list[str] = Field(default_factory=list)
    stages: list[str] = Field(default_factory=list, description="journey stages, in journey order")

    @model_validator(mode="after")
    def _unique(self) -> Taxonomy:
        ids = [r.id for r, _ in self.walk()]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"reason ids used twice: {', '.join(repeated)}")
        if OTHER in ids:
            raise ValueError(f"{OTHER!r} is added by itself: do not list it")
        unknown = sorted({r.stage for r, _ in self.walk() if r.stage and r.stage not in self.stages})
        if unknown:
            raise ValueError(f"stages not listed under stages: {', '.join(unknown)}")
        return self

    def walk(self) -> Iterator[tuple[Reason, list[str]]]:
        """Every reason with its path of ids from the top."""
        stack = [(r, [r.id]) for r in reversed(self.reasons)]
        while stack:
            reason, path = stack.pop()
            yield reason, path
            stack.extend((child, [*path, child.id]) for child in reversed(reason.children))

    def stage_of(self, path: list[str]) -> str | None:
        """The journey stage of a reason path: the most specific reason on it that names one."""
        by_id = {r.id: r for r, _ in self.walk()}
        stages = [by_id[i].stage for i in path if i in by_id and by_id[i].stage]
        return stages[-1] if stages else None

    @property
    def identity(self) -> str:
        return f"{self.id}@{self.version}"


def load_taxonomy(path: Path) -> Taxonomy:
    try:
        return Taxonomy.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the taxonomy ({exc})") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: invalid taxonomy: {problems}") from None


def shipped_taxonomies() -> list[Taxonomy]:
    folder = files("qa_pipeline.voc") / "taxonomies"
    return [
        load_taxonomy(Path(str(folder / name)))
        for name in ("contact-reasons-en.yaml", "contact-reasons-ru.yaml")
    ]


def taxonomy_for(language: str | None, taxonomies: list[Taxonomy]) -> Taxonomy:
    """The taxonomy of the conversation's language, else the first."""
    return next((t for t in taxonomies if t.language == language), taxonomies[0])
