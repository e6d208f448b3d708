"""The one-question-per-item conversation: a shared prefix (system prompt and transcript) and one short
question per item, each answered by a single word whose token probabilities give answer and confidence.

The prefix is the same for every question of a call, so a backend encodes it once (a KV cache) and only
each question's few tokens are new. Transcript lines are numbered, so that a follow-up question can ask
which line supports an answer and the code can quote that line with its timestamps.

Measured on the demo calls with the bundled 1.5B model, the item's plain question alone agreed with the
scripts more often than the question with the checklist's guidance (53 vs 46 of 84 answers): guidance
written for people ("No when ...") pulls a small model towards "no". Guidance stays in the scorecard mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qa_pipeline.checklist import Item, Scope
from qa_pipeline.judging.prompt import _lines, _templates, prompt_hash
from qa_pipeline.models import Transcript

ITEMS_PROMPT = "judge-items-v1"
# Surface forms of each answer; the backend reads the probability of their first tokens.
ANSWER_WORDS: dict[str | int, list[str]] = {"yes": ["yes", "Yes"], "no": ["no", "No"], "na": ["n/a", "N/A"]}
ANSWER_SHOWN = {"yes": "yes", "no": "no", "na": "n/a (does not apply)"}


@dataclass(frozen=True)
class ItemQuestion:
    key: str  # the item id, or "applies:<item id>" for an applies_if question
    text: str
    options: dict[str | int, list[str]]  # answer value -> words that start it


@dataclass(frozen=True)
class ItemConversation:
    system: str
    shared: str  # the user turn's shared part: call facts and the numbered transcript
    questions: list[ItemQuestion]
    prompt_hash: str
    line_count: int
    evidence_template: str = field(repr=False)

    def evidence_question(self) -> str:
        return self.evidence_template

    def line_label(self, number: int) -> str:
        """Line numbers have a fixed width ("L07"), so the model's digits end without a stop token."""
        return f"{number:0{label_width(self.line_count)}d}"


def label_width(line_count: int) -> int:
    return max(2, len(str(line_count)))


def build_conversation(
    transcript: Transcript, questions: list[ItemQuestion], name: str = ITEMS_PROMPT
) -> ItemConversation:
    env = _templates(name)
    width = label_width(len(transcript.segments))
    lines = [{**line, "label": f"{i + 1:0{width}d}"} for i, line in enumerate(_lines(transcript))]
    speakers: list[str] = sorted({segment.speaker for segment in transcript.segments}) or ["none"]
    shared = env.get_template("call.j2").render(
        language=transcript.language,
        speakers=", ".join(speakers),
        lines=lines,
    )
    return ItemConversation(
        system=env.get_template("system.j2").render().strip(),
        shared=shared.strip(),
        questions=questions,
        prompt_hash=prompt_hash(name),
        line_count=len(lines),
        evidence_template=env.get_template("evidence.j2").render().strip(),
    )


def item_question(item: Item, name: str = ITEMS_PROMPT) -> ItemQuestion:
    options = _options(item)
    text = (
        _templates(name)
        .get_template("question.j2")
        .render(question=item.question, scope=_window_text(item.scope), options=_shown(options))
    )
    return ItemQuestion(key=item.id, text=text.strip(), options=options)


def condition_question(item: Item, question: str, name: str = ITEMS_PROMPT) -> ItemQuestion:
    options: dict[str | int, list[str]] = {"yes": ANSWER_WORDS["yes"], "no": ANSWER_WORDS["no"]}
    text = (
        _templates(name)
        .get_template("question.j2")
        .render(question=question, scope="", options=_shown(options))
    )
    return ItemQuestion(key=f"applies:{item.id}", text=text.strip(), options=options)


def _options(item: Item) -> dict[str | int, list[str]]:
    # An item gated by applies_if is N/A only through its gate; asked, it is a plain yes/no question.
    answers = [a for a in item.answers if not (a == "na" and item.applies_if is not None)]
    return {answer: ANSWER_WORDS.get(answer, [str(answer)]) for answer in answers}


def _shown(options: dict[str | int, list[str]]) -> str:
    shown = [ANSWER_SHOWN.get(str(answer), str(answer)) for answer in options]
    return ", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else shown[0]


def _window_text(scope: Scope) -> str:
    """A time window in words; the speaker is in the question itself ("did the agent ...")."""
    if scope.window is None:
        return ""
    who = f"what the {scope.speaker} said" if scope.speaker != "both" else "what was said"
    if scope.window.first_seconds is not None:
        return f"{who} in the first {scope.window.first_seconds:g} seconds"
    return f"{who} in the last {scope.window.last_seconds:g} seconds"
