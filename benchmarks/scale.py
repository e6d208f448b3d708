"""Scale: time and peak memory of every stage after transcription, from a thousand conversations upwards.

N synthetic text conversations (chats and e-mail threads, English and Russian, a few kilobytes each) are
stored through the Store API, scored against a rules-only checklist (`benchmarks/scale-checklists/`:
phrase rules only, so the judge's backend is never called and no model runs; the manipulation guard,
which embeds every sentence with a model, is off), sampled for review, given synthetic controllers'
reviews and a few overrides, calibrated, reported as HTML and exported as tables. Each stage runs in its
own process on the same store, so its peak resident memory is its own (ru_maxrss from wait4).

Goals: every stage's peak RSS at most 1 GiB, time per conversation at the largest size within 1.5x of
that at the one before, the report's HTML at most 20 MB.

    python benchmarks/scale.py --sizes 1000,10000
    python benchmarks/scale.py --sizes 100000 --keep /tmp/scale      # hours on two cores
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CHECKLISTS = Path(__file__).resolve().parent / "scale-checklists"
CONTROLLERS = ["ann", "boris", "chen"]
MAX_RSS_MIB = 1024
MAX_HTML_MB = 20
MAX_SLOWDOWN = 1.5

# What each side may say, per language: (greeting, identification, empathy, rudeness, further help,
# closing) phrases the checklist's rules look for, and ordinary lines between them.
LINES: dict[str, dict[str, list[str]]] = {
    "en": {
        "greeting": ["Hello, my name is {agent}, thank you for contacting {company}.",
                     "Good morning, this is {agent} from {company}. How can I help?"],
        "identification": ["Could you give me your account number, please?",
                           "May I have your date of birth to check the account?"],
        "empathy": ["I am sorry to hear that, let me sort it out for you.",
                    "I understand, that must be frustrating."],
        "rudeness": ["Calm down, that is your problem, not mine."],
        "further_help": ["Is there anything else I can help you with today?"],
        "closing": ["Thank you, have a nice day. Goodbye!", "Kind regards, {agent}, {company} support."],
        "agent": ["I can see the payment on the 3rd, it was processed twice.",
                  "I have raised a refund, it will reach your card within five working days.",
                  "The tariff changed on the first of the month, the letter went to your e-mail.",
                  "Let me check the delivery status with the courier service.",
                  "I have updated the address on the order, you will get a confirmation shortly."],
        "customer": ["Hi, I was charged twice for my subscription this month.",
                     "My parcel was supposed to arrive yesterday and nothing came.",
                     "Why did my bill go up? Nobody told me about a new price.",
                     "I moved last week and need to change the delivery address.",
                     "Okay, thanks. How long will it take?", "That is fine, thank you."],
    },
    "ru": {
        "greeting": ["Здравствуйте, меня зовут {agent}, спасибо за обращение в {company}.",
                     "Добрый день, {company}, оператор {agent}. Чем могу помочь?"],
        "identification": ["Назовите, пожалуйста, номер договора.",
                           "Подскажите дату рождения владельца счёта для проверки."],
        "empathy": ["Мне очень жаль, что так получилось, сейчас разберёмся.",
                    "Я вас понимаю, ситуация неприятная."],
        "rudeness": ["Успокойтесь, это ваши проблемы."],
        "further_help": ["Чем ещё могу помочь?", "Остались ли у вас другие вопросы?"],
        "closing": ["Спасибо за обращение, всего доброго, до свидания!", "С уважением, {agent}, {company}."],
        "agent": ["Вижу платёж от третьего числа, он прошёл дважды.",
                  "Я оформил возврат, деньги придут на карту в течение пяти рабочих дней.",
                  "Тариф изменился с первого числа, уведомление ушло вам на почту.",
                  "Сейчас уточню статус доставки у курьерской службы.",
                  "Я обновил адрес в заказе, подтверждение придёт в течение часа."],
        "customer": ["Здравствуйте, с меня дважды списали плату за подписку.",
                     "Посылка должна была прийти вчера, но её нет.",
                     "Почему вырос счёт? Меня никто не предупредил о новой цене.",
                     "Я переехал и хочу поменять адрес доставки.",
                     "Хорошо, спасибо. Сколько это займёт?", "Понятно, спасибо."],
    },
}  # fmt: skip
# How often the agent says each rule's phrases: the answers vary, so totals, fails and risks vary.
SAID = {"greeting": 0.92, "identification": 0.8, "empathy": 0.7, "rudeness": 0.03, "further_help": 0.75,
        "closing": 0.88}  # fmt: skip
COMPANIES = {"en": "Northwind", "ru": "Ромашка"}


@dataclass
class Stage:
    name: str
    seconds: float
    peak_rss_mib: float
    facts: dict[str, Any]


def conversation(index: int) -> tuple[str, str, str, list[tuple[str, str]], dict[str, str]]:
    """Call id, language, channel, (speaker, text) turns and metadata of synthetic conversation `index`."""
    rng = random.Random(index)
    language = "ru" if rng.random() < 0.4 else "en"
    channel = "email" if rng.random() < 0.25 else "chat"
    lines = LINES[language]
    agent_no = rng.randrange(200)
    metadata = {
        "agent": f"agent-{agent_no:03d}",
        "team": f"team-{agent_no % 12:02d}",
        "queue": rng.choice(["billing", "delivery", "tariffs"]),
        "date": f"2026-{rng.randint(1, 6):02d}-{rng.randint(1, 28):02d}",
        "language": language,
        "company": COMPANIES[language],
    }

    def say(kind: str) -> str:
        return rng.choice(lines[kind]).format(agent=f"Agent {agent_no}", company=metadata["company"])

    turns = [("agent", say("greeting"))] if rng.random() < SAID["greeting"] else []
    turns.append(("customer", say("customer")))
    for kind in ("identification", "empathy", "rudeness"):
        if rng.random() < SAID[kind]:
            turns.append(("agent", say(kind)))
    # E-mails are few long messages; chats many short turns.
    exchanges, sentences = (rng.randint(2, 4), 4) if channel == "email" else (rng.randint(6, 14), 1)
    for _ in range(exchanges):
        turns.append(("customer", " ".join(say("customer") for _ in range(rng.randint(1, sentences)))))
        turns.append(("agent", " ".join(say("agent") for _ in range(rng.randint(1, sentences + 1)))))
    for kind in ("further_help", "closing"):
        if rng.random() < SAID[kind]:
            turns.append(("agent", say(kind)))
    return f"{channel}-{index:07d}", language, channel, turns, metadata


def synthesise(work: Path, n: int) -> dict[str, Any]:
    from qa_pipeline.models import AudioInfo, Call, CallMetadata, CallTimings, Segment, Transcript
    from qa_pipeline.store.database import Store, transcript_cache_key

    store = Store(work / "qa.sqlite")
    untimed = CallTimings(talk_time={}, silence_total=0.0, silences=[], overtalk_total=0.0, overtalks=[])
    chars = 0
    for index in range(n):
        call_id, language, channel, turns, meta = conversation(index)
        segments = [
            Segment(speaker=speaker, start=0.0, end=0.0, text=text, avg_logprob=0.0, no_speech_prob=0.0,
                    compression_ratio=0.0)
            for speaker, text in turns
        ]  # fmt: skip
        metadata = CallMetadata.model_validate(meta)
        sha256 = hashlib.sha256(json.dumps(turns, ensure_ascii=False).encode()).hexdigest()
        transcript = Transcript(
            call_id=call_id,
            duration=0.0,
            language=language,
            language_probability=1.0,
            channel_layout="text",
            channel=channel,  # type: ignore[arg-type]
            timed=False,
            segments=segments,
            timings=untimed,
            model="import",
            options={},
            audio_sha256=sha256,
            metadata=metadata,
        )
        audio = AudioInfo(duration=0.0, sample_rate=0, channels=0, codec="text", sha256=sha256)
        call = Call(call_id=call_id, audio_path="", audio=audio, metadata=metadata)
        store.save_transcript(transcript_cache_key(sha256, "import", {}), call, transcript)
        chars += len(transcript.model_dump_json())
    return {"conversations": n, "mean_json_kb": round(chars / max(n, 1) / 1024, 1)}


def score(work: Path, n: int) -> dict[str, Any]:
    from qa_pipeline.checklist import load_checklists
    from qa_pipeline.judging.judge import Judge
    from qa_pipeline.judging.score_batch import score_store
    from qa_pipeline.store.database import Store

    class NoModel:
        """A backend that is never asked: every item of the checklists is a phrase rule."""

        name, model_id = "none", "none"

    judge = Judge(NoModel(), mode="scorecard", guard=False)  # type: ignore[arg-type]
    results = score_store(
        Store(work / "qa.sqlite"), load_checklists([CHECKLISTS]), judge, work / "scorecards"
    )
    statuses: dict[str, int] = {}
    for result in results:
        statuses[result.status] = statuses.get(result.status, 0) + 1
    return statuses


def sample(work: Path, n: int) -> dict[str, Any]:
    from qa_pipeline.control.workflow import plan_review
    from qa_pipeline.store.database import Store

    plan = plan_review(Store(work / "qa.sqlite"), _checklists(), controllers=CONTROLLERS, size=200, seed=1)
    return {"population": plan.population, "picks": len(plan.picks)}


def reviews(work: Path, n: int) -> dict[str, Any]:
    """Each picked call's controllers answer as the AI did, except about one item in ten; the first few
    disagreements are also corrected by a supervisor."""
    from qa_pipeline.control.workflow import record_override
    from qa_pipeline.models import HumanReview
    from qa_pipeline.store.database import Store

    store = Store(work / "qa.sqlite")
    checklists = _checklists()
    picks = store.sample_picks()
    cards = {(c.call_id, c.checklist_id): c for c in store.scorecards({p.call_id for p in picks})}
    rng = random.Random(0)
    given, corrections = [], []
    for pick in picks:
        card = cards[(pick.call_id, pick.checklist_id)]
        for reviewer in pick.reviewers:
            for verdict in card.verdicts:
                answer = verdict.answer if verdict.answer is not None else "yes"
                if rng.random() < 0.1:
                    answer = "no" if answer == "yes" else "yes"
                    corrections.append((card, verdict.item_id, str(answer)))
                given.append(
                    HumanReview(
                        call_id=card.call_id,
                        checklist_id=card.checklist_id,
                        item_id=verdict.item_id,
                        reviewer=reviewer,
                        answer=answer,
                        source="scale benchmark",
                    )
                )
    counts = store.save_reviews(given)
    for card, item_id, answer in corrections[:20]:
        record_override(
            store, checklists, call_id=card.call_id, item_id=item_id, answer=answer, supervisor="sv",
            comment="heard it differently", checklist_id=card.checklist_id,
        )  # fmt: skip
    return {"reviews": counts.inserted, "overrides": min(20, len(corrections))}


def calibrate(work: Path, n: int) -> dict[str, Any]:
    from qa_pipeline.control.workflow import agreement_report
    from qa_pipeline.store.database import Store

    report = agreement_report(Store(work / "qa.sqlite"), _checklists())
    return {"calls_reviewed": report.calls_reviewed, "items": len(report.items)}


def report(work: Path, n: int) -> dict[str, Any]:
    from qa_pipeline.report import write_html_report
    from qa_pipeline.report.data import build_report
    from qa_pipeline.store.database import Store

    data = build_report(Store(work / "qa.sqlite"), _checklists())
    path = write_html_report(data, work / "report.html")
    return {"calls": data.overview.calls, "shown": len(data.calls), "html_mb": path.stat().st_size / 1e6}


def export(work: Path, n: int) -> dict[str, Any]:
    from qa_pipeline.report.exports import export_tables
    from qa_pipeline.store.database import Store

    written = export_tables(Store(work / "qa.sqlite"), _checklists(), work / "tables", "csv")
    return {name: rows for name, (_, rows) in written.items() if name in ("segments", "verdicts")}


def _checklists() -> Any:
    from qa_pipeline.checklist import load_checklists

    return {c.id: c for c in load_checklists([CHECKLISTS])}


STAGES: dict[str, Callable[[Path, int], dict[str, Any]]] = {
    "synthesise": synthesise,
    "score": score,
    "sample": sample,
    "reviews": reviews,
    "calibrate": calibrate,
    "report": report,
    "export": export,
}


def run_stage(name: str, work: Path, n: int) -> Stage:
    """The stage in a child process of its own: its wall time and its own peak resident memory."""
    command = [sys.executable, __file__, "--stage", name, "--work", str(work), "--sizes", str(n)]
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        output = out.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{name} at {n} failed:\n{output[-3000:]}")
    return Stage(name, seconds, usage.ru_maxrss / 1024, json.loads(output.strip().splitlines()[-1]))


def measure(n: int, work: Path) -> list[Stage]:
    """Every stage in turn; each one measured is noted in the work folder, so that `--resume` after a
    killed run of hours goes on from the first stage not measured."""
    work.mkdir(parents=True, exist_ok=True)
    measured = work / "stages.jsonl"
    done = (
        [Stage(**json.loads(line)) for line in measured.read_text().splitlines()] if measured.exists() else []
    )
    stages = []
    for name in STAGES:
        stage = next((s for s in done if s.name == name), None) or run_stage(name, work, n)
        if stage not in done:
            with measured.open("a") as handle:
                handle.write(json.dumps(asdict(stage), ensure_ascii=False) + "\n")
        stages.append(stage)
        facts = json.dumps(stage.facts, ensure_ascii=False)
        print(f"  {name:10s} {stage.seconds:9.1f} s {stage.seconds / n * 1000:9.2f} ms/conv "
              f"{stage.peak_rss_mib:8.0f} MiB  {facts}", flush=True)  # fmt: skip
    return stages


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000", help="comma list of conversation counts")
    parser.add_argument("--keep", type=Path, help="keep each size's work folder under this folder")
    parser.add_argument(
        "--resume", action="store_true", help="with --keep: go on from the stages a killed run measured"
    )
    parser.add_argument("--stage", choices=list(STAGES), help=argparse.SUPPRESS)  # a child's one stage
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    if args.stage:
        print(json.dumps(STAGES[args.stage](args.work, sizes[0]), ensure_ascii=False))
        return 0

    root = args.keep or Path(tempfile.mkdtemp(prefix="qa-scale-"))
    summary: list[tuple[int, float, float, float]] = []
    for n in sizes:
        work = root / f"n{n}"
        if work.exists() and not args.resume:
            shutil.rmtree(work)
        print(f"{n} conversations, work folder {work}", flush=True)
        stages = measure(n, work)
        total = sum(s.seconds for s in stages)
        peak = max(s.peak_rss_mib for s in stages)
        html = float(next(s.facts["html_mb"] for s in stages if s.name == "report"))
        print(f"  {'all':10s} {total:9.1f} s {total / n * 1000:9.2f} ms/conv {peak:8.0f} MiB peak; "
              f"report {html:.2f} MB", flush=True)  # fmt: skip
        summary.append((n, total / n, peak, html))
        if not args.keep:
            shutil.rmtree(work)
    print(
        f"\n{'conversations':>13s} {'ms/conv':>9s} {'vs before':>9s} {'peak MiB':>9s} {'HTML MB':>8s}  goals"
    )
    before = None
    for n, per_call, peak, html in summary:
        slowdown = per_call / before if before else None
        met = peak <= MAX_RSS_MIB and html <= MAX_HTML_MB and (slowdown is None or slowdown <= MAX_SLOWDOWN)
        shown = f"{slowdown:.2f}x" if slowdown else "-"
        verdict = "met" if met else "MISSED"
        print(f"{n:13d} {per_call * 1000:9.2f} {shown:>9s} {peak:9.0f} {html:8.2f}  {verdict}")
        before = per_call
    return 0


if __name__ == "__main__":
    sys.exit(main())
