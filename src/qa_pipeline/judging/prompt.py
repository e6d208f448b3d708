"""The judge's prompt and output schema, both derived from the checklist and the transcript.

The transcript is untrusted input. It is rendered one turn per line between fixed delimiter lines, with
newlines and angle brackets neutralised, so nothing said in a call can close the transcript block, forge
another speaker's line or reach the instructions; and the output schema is built from the checklist alone,
so nothing said can change what the judge is allowed to answer.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from qa_pipeline.checklist import Checklist, Item
from qa_pipeline.errors import ConfigError
from qa_pipeline.models import Transcript

# The source tree's prompts/ (editable installs); a wheel installs the same files under
# <prefix>/share/qa-pipeline/prompts; QA_PIPELINE_PROMPTS points at a team's own prompt versions.
SOURCE_PROMPTS = Path(__file__).resolve().parents[3] / "prompts"
INSTALLED_PROMPTS = Path(sys.prefix) / "share" / "qa-pipeline" / "prompts"
DEFAULT_PROMPT = "judge-v1"
MAX_QUOTES = 2
MAX_QUOTE_CHARS = 80
MAX_RATIONALE_CHARS = 100
_UNSAFE = str.maketrans({"<": "‹", ">": "›", "\n": " ", "\r": " ", "\t": " "})


@dataclass(frozen=True)
class JudgePrompt:
    messages: list[dict[str, str]]
    schema: dict[str, Any]
    prompt_hash: str


def prompt_dir(name: str = DEFAULT_PROMPT) -> Path:
    """The folder of one prompt version: the first of $QA_PIPELINE_PROMPTS, the source tree and the
    installed copy that has it."""
    roots = [Path(os.environ["QA_PIPELINE_PROMPTS"])] if os.environ.get("QA_PIPELINE_PROMPTS") else []
    roots += [SOURCE_PROMPTS, INSTALLED_PROMPTS]
    for root in roots:
        if (root / name / "system.j2").is_file():
            return root / name
    raise ConfigError(f"prompt {name!r} not found in {', '.join(str(r) for r in roots)}")


def prompt_hash(name: str = DEFAULT_PROMPT) -> str:
    """Hash of the template files, stored with every scorecard so results stay comparable."""
    digest = hashlib.sha256()
    for path in sorted(prompt_dir(name).glob("*.j2")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"{name}@{digest.hexdigest()[:12]}"


def neutralise(text: str) -> str:
    return re.sub(r"\s+", " ", text.translate(_UNSAFE)).strip()


def prompt_environment(name: str) -> Environment:
    """The templates of one prompt version, for a stage that asks its own questions (voice of the
    customer) in the items judge's way."""
    return _templates(name)


def _templates(name: str) -> Environment:
    return Environment(
        loader=FileSystemLoader(prompt_dir(name)),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )


def _lines(transcript: Transcript) -> list[dict[str, object]]:
    return [
        {
            "start": f"{segment.start:.1f}",
            "speaker": segment.speaker,
            "text": neutralise(segment.text),
            "shaky": bool(segment.flags),
        }
        for segment in transcript.segments
    ]


def build_roles_prompt(transcript: Transcript, name: str = DEFAULT_PROMPT) -> JudgePrompt:
    """Ask which lines of a mono call are the agent's: one label per line, nothing else allowed."""
    env = _templates(name)
    count = len(transcript.segments)
    schema = {
        "type": "object",
        "properties": {
            "roles": {
                "type": "array",
                "items": {"enum": ["agent", "customer"]},
                "minItems": count,
                "maxItems": count,
            }
        },
        "required": ["roles"],
        "additionalProperties": False,
    }
    system = env.get_template("roles_system.j2").render()
    user = env.get_template("roles_call.j2").render(lines=_lines(transcript))
    return JudgePrompt(
        messages=[{"role": "system", "content": system.strip()}, {"role": "user", "content": user.strip()}],
        schema=schema,
        prompt_hash=prompt_hash(name),
    )


def build_prompt(checklist: Checklist, transcript: Transcript, name: str = DEFAULT_PROMPT) -> JudgePrompt:
    env = _templates(name)
    lines = _lines(transcript)
    speakers: list[str] = sorted({segment.speaker for segment in transcript.segments}) or ["none"]
    system = env.get_template("system.j2").render(max_quotes=MAX_QUOTES)
    user = env.get_template("call.j2").render(
        checklist=checklist,
        language=transcript.language,
        speakers=", ".join(speakers),
        lines=lines,
    )
    return JudgePrompt(
        messages=[{"role": "system", "content": system.strip()}, {"role": "user", "content": user.strip()}],
        schema=output_schema(checklist),
        prompt_hash=prompt_hash(name),
    )


def answer_schema(item: Item) -> dict[str, Any]:
    if item.answer == "scale":
        scale: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": item.max_points}
        return {"anyOf": [scale, {"enum": ["na"]}]} if item.allow_na else scale
    return {"enum": ["yes", "no", "na"] if item.allow_na else ["yes", "no"]}


def output_schema(checklist: Checklist) -> dict[str, Any]:
    """JSON schema of the judge's reply: one object per item, evidence and rationale before the answer."""
    properties = {
        item.id: {
            "type": "object",
            "properties": {
                "evidence": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "maxLength": MAX_QUOTE_CHARS},
                    "maxItems": MAX_QUOTES,
                },
                "rationale": {"type": "string", "maxLength": MAX_RATIONALE_CHARS},
                "answer": answer_schema(item),
            },
            "required": ["evidence", "rationale", "answer"],
            "additionalProperties": False,
        }
        for item in checklist.items
    }
    return {
        "type": "object",
        "properties": properties,
        "required": [item.id for item in checklist.items],
        "additionalProperties": False,
    }
