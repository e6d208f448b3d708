"""QA checklists: data, not code. A YAML file in `checklists/`, validated before any model is loaded.

Validation reports every problem at once with file, line and field, so a QA lead can fix a checklist in one
pass; scoring refuses a checklist with any problem.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from qa_pipeline.errors import ConfigError

DUPLICATE_ID = "duplicate_item_id"
ItemId = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="lower_snake_case, unique in the checklist")


class Window(BaseModel):
    """Which part of the call an item looks at: the first or the last N seconds."""

    model_config = ConfigDict(extra="forbid")

    first_seconds: float | None = Field(default=None, gt=0)
    last_seconds: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_side(self) -> Window:
        if (self.first_seconds is None) == (self.last_seconds is None):
            raise ValueError("give exactly one of first_seconds or last_seconds")
        return self


class Scope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: Literal["agent", "customer", "both"] = "both"
    window: Window | None = None


Metric = Literal[
    "longest_silence",
    "silence_total",
    "longest_overtalk",
    "overtalk_total",
    "agent_talk_share",
    "customer_talk_share",
]
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# Filled from each call's metadata; a checklist's own `placeholders` add to them or give defaults.
CALL_PLACEHOLDERS = ("agent_name", "agent_first_name", "company", "team", "queue")


class PhraseRule(BaseModel):
    """Decide an item by what was said: phrases by one side, inside a window, tolerant to ASR slips.

    `any`: at least one phrase is said; `all`: every entry is said (an entry may be a list of
    alternatives); `none`: no phrase is said. A phrase may hold `...` for a gap of a few words
    ("may I ... hold") and `{placeholders}` from the call's metadata or the checklist.
    """

    model_config = ConfigDict(extra="forbid")

    any: list[str] = Field(default_factory=list)
    all: list[str | list[str]] = Field(default_factory=list)
    none: list[str] = Field(default_factory=list)
    speaker: Literal["agent", "customer", "both"] | None = Field(
        default=None, description="whose words count; the item's scope when not given"
    )
    window: Window | None = Field(default=None, description="the item's scope when not given")
    min_similarity: float = Field(
        default=85.0, ge=50, le=100, description="fuzzy match threshold (0-100) on lemmatised words"
    )

    @model_validator(mode="after")
    def _some_phrases(self) -> PhraseRule:
        if not (self.any or self.all or self.none):
            raise ValueError("a phrase rule needs phrases under any, all or none")
        for phrase in self.phrases():
            if not phrase.replace("...", "").strip():
                raise ValueError("an empty phrase matches anything")
        return self

    def phrases(self) -> list[str]:
        groups = [[entry] if isinstance(entry, str) else entry for entry in self.all]
        return [*self.any, *(p for group in groups for p in group), *self.none]


class TimingRule(BaseModel):
    """Decide an item from the stored timings: "yes" when the metric lies within [min, max]."""

    model_config = ConfigDict(extra="forbid")

    metric: Metric
    min: float | None = Field(default=None, ge=0)
    max: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounded(self) -> TimingRule:
        if self.min is None and self.max is None:
            raise ValueError("a timing rule needs min, max or both")
        return self


class Condition(BaseModel):
    """When an item applies. It holds when any part given holds; the question is asked of the judge
    model only when the phrases and timing (if given) do not already hold."""

    model_config = ConfigDict(extra="forbid")

    phrases: PhraseRule | None = None
    timing: TimingRule | None = None
    question: str | None = Field(default=None, min_length=5, description="a yes/no question for the judge")

    @model_validator(mode="after")
    def _something(self) -> Condition:
        if self.phrases is None and self.timing is None and self.question is None:
            raise ValueError("applies_if needs phrases, timing or a question")
        return self


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = ItemId
    question: str = Field(min_length=5)
    guidance: str = ""
    weight: float = Field(default=1.0, gt=0)
    critical: Literal["fatal", "flag"] | None = Field(
        default=None,
        description="fatal: a 'no' zeroes the call's total; flag: the total stands, the call is flagged",
    )
    allow_na: bool = False
    answer: Literal["yes_no", "scale", "choice"] = "yes_no"
    scale_max: int | None = Field(default=None, ge=1, le=10)
    choices: list[str] = Field(
        default_factory=list,
        description="answer: choice: the allowed answers (a category, such as a contact reason); no points",
    )
    scope: Scope = Field(default_factory=Scope)
    method: Literal["llm", "phrases", "timing"] = Field(
        default="llm", description="who decides: the judge model, a phrase rule or a timing rule"
    )
    phrases: PhraseRule | None = None
    timing: TimingRule | None = None
    applies_if: Condition | None = Field(default=None, description="otherwise the answer is N/A")

    @model_validator(mode="after")
    def _answer_type(self) -> Item:
        rule = {"phrases": self.phrases, "timing": self.timing}
        for method, given in rule.items():
            if self.method == method and given is None:
                raise ValueError(f"method: {method} needs a {method} rule")
            if self.method != method and given is not None:
                raise ValueError(f"a {method} rule is only used with method: {method}")
        if self.method != "llm" and self.answer != "yes_no":
            raise ValueError("rule items answer yes or no (answer: yes_no)")
        if self.applies_if is not None and not self.allow_na:
            raise ValueError("an item with applies_if must allow_na: it is N/A when the condition fails")
        if self.answer == "scale" and self.scale_max is None:
            raise ValueError("a scale item needs scale_max (answers run 0..scale_max)")
        if self.answer == "yes_no" and self.scale_max is not None:
            raise ValueError("scale_max only applies to answer: scale")
        if self.critical and self.answer != "yes_no":
            raise ValueError("critical items must be answer: yes_no (a 'no' is what triggers them)")
        if self.answer == "choice" and len(set(self.choices)) < 2:
            raise ValueError("a choice item needs at least two different choices")
        if self.answer != "choice" and self.choices:
            raise ValueError("choices only apply to answer: choice")
        if "na" in self.choices:
            raise ValueError("'na' is not a choice: use allow_na")
        return self

    @property
    def max_points(self) -> int:
        return self.scale_max if self.answer == "scale" and self.scale_max else 1

    @property
    def answers(self) -> list[str | int]:
        """Every answer the item allows, for the judge, the review sheets and the statistics alike."""
        values: list[str | int]
        if self.answer == "yes_no":
            values = ["yes", "no"]
        elif self.answer == "choice":
            values = list(dict.fromkeys(self.choices))
        else:
            values = list(range(self.max_points + 1))
        return [*values, "na"] if self.allow_na else values

    @property
    def answer_labels(self) -> list[str]:
        """The same answers as a person types them in a sheet."""
        return [str(answer) for answer in self.answers]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = ItemId
    title: str
    items: list[Item] = Field(min_length=1)


class Checklist(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    version: str = Field(min_length=1)
    language: str = Field(min_length=2, max_length=8)
    title: str
    description: str = ""
    applies_to: dict[Literal["agent", "team", "queue", "language"], list[str]] = Field(
        default_factory=dict, description="metadata rules: every listed field must match one of its values"
    )
    sections: list[Section] = Field(min_length=1)
    placeholders: dict[str, str] = Field(
        default_factory=dict,
        description="values for {name} in phrases; a call's metadata (company, agent) takes precedence",
    )
    judge_mode: Literal["items", "scorecard"] | None = Field(
        default=None,
        description="items: one question per item (small local models); scorecard: one JSON reply",
    )
    scored: bool = Field(
        default=True,
        description="false: the checklist describes the conversation (the voice of the customer) and "
        "gives no total, so nothing of it counts in an agent's score",
    )

    @field_validator("version", mode="before")
    @classmethod
    def _numeric_version(cls, value: object) -> object:
        """`version: 1` or `1.2` in YAML is a number; a version is a label, so take it as written."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value

    @model_validator(mode="after")
    def _unique_items(self) -> Checklist:
        seen: set[str] = set()
        known = {*CALL_PLACEHOLDERS, *self.placeholders}
        for item in self.items:
            if item.id in seen:
                raise PydanticCustomError(
                    DUPLICATE_ID, "item id {item_id!r} is used twice", {"item_id": item.id}
                )
            seen.add(item.id)
            rules = [item.phrases, item.applies_if.phrases if item.applies_if else None]
            for rule in filter(None, rules):
                for phrase in rule.phrases():
                    unknown = set(PLACEHOLDER.findall(phrase)) - known
                    if unknown:
                        raise ValueError(
                            f"item {item.id}: unknown placeholder {{{sorted(unknown)[0]}}} in {phrase!r}; "
                            f"known: {', '.join(sorted(known))}"
                        )
        return self

    @property
    def items(self) -> list[Item]:
        return [item for section in self.sections for item in section.items]

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def applies(self, metadata: dict[str, str | None]) -> bool:
        return all(metadata.get(field) in values for field, values in self.applies_to.items())


class ChecklistError(ConfigError):
    """Every problem in one checklist file, each with its line and field."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: invalid checklist\n" + "\n".join(f"  {p}" for p in problems))


def load_checklist(path: Path) -> Checklist:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ChecklistError(path, [f"{path}: cannot read file: {exc}"]) from exc
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ChecklistError(
            path, [f"{path}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}"]
        ) from exc
    if not isinstance(data, dict):
        raise ChecklistError(
            path, [f"{path}:1: a checklist must be a mapping with id, version, language, sections"]
        )
    version = _child(root, "version")
    if isinstance(data.get("version"), int | float) and isinstance(version, yaml.ScalarNode):
        data["version"] = version.value  # "1.10" as written, not the float 1.1
    duplicates = _duplicate_ids(path, root)
    try:
        checklist = Checklist.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            if error["type"] == DUPLICATE_ID:
                continue  # reported with its own line below, also when other fields fail
            location = [part for part in error["loc"] if not str(part).startswith("function-after")]
            line = _line_of(root, location)
            field = _field_path(location)
            problems.append(f"{path}:{line}: {field or '(top level)'}: {_message(error)}")
        raise ChecklistError(path, sorted(problems + duplicates, key=_line_number)) from exc
    if duplicates:
        raise ChecklistError(path, duplicates)
    return checklist


def _duplicate_ids(path: Path, root: Any) -> list[str]:
    """Item ids used twice, found in the YAML itself so that they are reported with their lines in the
    same pass as field errors (the model checks uniqueness only once every field is valid)."""
    first_line: dict[str, int] = {}
    problems: list[str] = []
    sections = _child(root, "sections")
    for s, section in enumerate(sections.value if isinstance(sections, yaml.SequenceNode) else []):
        items = _child(section, "items")
        for i, item in enumerate(items.value if isinstance(items, yaml.SequenceNode) else []):
            node = _child(item, "id")
            if not isinstance(node, yaml.ScalarNode):
                continue
            line = node.start_mark.line + 1
            if node.value in first_line:
                problems.append(
                    f"{path}:{line}: sections[{s}].items[{i}].id: item id {node.value!r} is used twice "
                    f"(first at line {first_line[node.value]})"
                )
            else:
                first_line[node.value] = line
    return problems


def _child(node: Any, key: str) -> Any:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((value for name, value in node.value if name.value == key), None)


def _line_number(problem: str) -> int:
    match = re.search(r":(\d+): ", problem)
    return int(match.group(1)) if match else 0


def load_checklists(paths: list[Path]) -> list[Checklist]:
    """Checklist files and folders of them; every file must be valid (scoring refuses any problem)."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.y*ml")) if path.is_dir() else [path])
    if not files:
        raise ConfigError(f"no checklist files in {', '.join(map(str, paths))}")
    return [load_checklist(file) for file in files]


def _line_of(node: Any, location: list[Any]) -> int:
    """The line of the deepest YAML node on the error's path (1-based)."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in location:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == part), None)
            if child is None:  # an unknown or missing key: point at the key itself, or the mapping
                child = next((key for key, _ in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _field_path(location: list[Any]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(error: Any) -> str:
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        return "unknown field (typo?)"
    return re.sub(r"^Value error, ", "", message)
