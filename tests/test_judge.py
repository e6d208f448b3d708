"""The judge on the real small model (SmolLM2-135M, GGUF through transformers) and over real HTTP.

The model is far too small to judge well: these tests prove the path (chat template, constrained JSON,
token probabilities, evidence, storage), not the quality; benchmarks/score.py measures accuracy.
"""

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import free_port
from pydantic import ValidationError
from typer.testing import CliRunner

from qa_pipeline.checklist import Checklist, load_checklist
from qa_pipeline.cli import app
from qa_pipeline.errors import ConfigError, ModelError
from qa_pipeline.judging.backends import TransformersBackend, TransformersConfig, make_backend
from qa_pipeline.judging.judge import Judge
from qa_pipeline.judging.manipulation import find_attempts, without_attempts
from qa_pipeline.judging.options import JudgeOptions, make_judge
from qa_pipeline.judging.thresholds import ItemThreshold, write_thresholds
from qa_pipeline.models import Scorecard, Transcript
from qa_pipeline.transcription.ingest import CallSource, probe_call
from qa_pipeline.transcription.transcribe import Transcriber

REPO = Path(__file__).resolve().parent.parent
ITEMS = ("solution", "empathy", "no_rudeness")


def small_checklist() -> Checklist:
    """Three LLM items of the shipped checklist (yes/no, N/A by a gate, fatal critical): short replies."""
    full = load_checklist(REPO / "checklists" / "inbound-service-en.yaml").model_dump()
    for section in full["sections"]:
        section["items"] = [item for item in section["items"] if item["id"] in ITEMS]
    full["sections"] = [section for section in full["sections"] if section["items"]]
    return Checklist.model_validate(full)


@pytest.fixture(scope="module")
def transcript(tiny_transcriber: Transcriber, seeds: Path) -> Transcript:
    """en08 as Whisper tiny.en heard it, with its speech aimed at the evaluator taken out: these tests prove
    the judge's path; the guard's second reading of such calls is tested in test_manipulation.py."""
    path = seeds / "audio" / "en08_prompt_injection.ogg"
    heard = tiny_transcriber.transcribe(probe_call(CallSource("en08_prompt_injection", path)))
    return without_attempts(heard, find_attempts(heard))


@pytest.fixture(scope="module")
def smollm2() -> TransformersBackend:
    return TransformersBackend(TransformersConfig(model="bundled:smollm2", device="cpu", max_new_tokens=600))


def assert_valid_scorecard(card: Scorecard, checklist: Checklist) -> None:
    assert [v.item_id for v in card.verdicts] == [item.id for item in checklist.items]
    for item, verdict in zip(checklist.items, card.verdicts, strict=True):
        if verdict.needs_human:  # only a fatal fail the tiny model is unsure of waits for a person
            assert "uncertain_fatal" in verdict.flags and item.critical == "fatal"
            continue
        assert verdict.answer in item.answers
        assert verdict.confidence is not None and 0.0 <= verdict.confidence <= 1.0
        for evidence in verdict.evidence:
            assert evidence.matched == (evidence.start is not None)
    assert card.total is not None and 0 <= card.total <= 100
    assert card.complete == all(not v.needs_human for v in card.verdicts)


@pytest.mark.slow  # a padded batch of two whole scorecards from the real model: 1.5-3 minutes on two cores
def test_the_local_model_scores_a_batch_of_calls_against_different_checklists(
    smollm2: TransformersBackend, transcript: Transcript
) -> None:
    # Valid scorecards from the real model in two rows of one padded batch, each row constrained by its
    # own schema (3 items vs 2 items).
    three = small_checklist()
    two = three.model_copy(deep=True)
    two.sections[-1].items = [i for i in two.sections[-1].items if i.id != "no_rudeness"]
    two.sections = [s for s in two.sections if s.items]
    assert len(two.items) == 2
    shorter = transcript.model_copy(update={"segments": transcript.segments[:-1]})
    results = Judge(smollm2).score_many([(three, transcript), (two, shorter)])
    assert_valid_scorecard(results[0][0], three)
    assert_valid_scorecard(results[1][0], two)
    card, stats = results[0]
    assert card.judge["backend"] == "transformers" and card.judge["model"] == "bundled:smollm2"
    assert card.judge["prompt"].startswith("judge-v1@")
    assert stats["completion_tokens"] > 0
    if card.verdicts[2].answer == "no":
        assert card.total == 0.0 and card.failed_critical == ["no_rudeness"]
    # The batch's first attempts were valid for both rows; the padded row got its own prompt length.
    assert [stats["attempts"] for _, stats in results] == [1, 1]
    assert results[1][1]["prompt_tokens"] < results[0][1]["prompt_tokens"]


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "openai_server.py"), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if line.startswith("ready"):
                break
            if process.poll() is not None:
                pytest.fail("test server died while starting")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow  # a model server started in its own process: over a minute on two cores
def test_openai_backend_over_real_http(server_url: str, transcript: Transcript) -> None:
    checklist = small_checklist()
    backend = make_backend("openai", model="smollm2", base_url=server_url, max_new_tokens=600)
    card, _ = Judge(backend).score(checklist, transcript)
    assert_valid_scorecard(card, checklist)
    assert card.judge["model"] == "openai:smollm2"


def test_auto_backend_with_a_server_url_is_the_server() -> None:
    backend = make_backend("auto", model="qwen", base_url=f"http://127.0.0.1:{free_port()}/v1")
    assert backend.name == "openai"


def test_a_server_decides_its_own_device_and_threads() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ConfigError, match="openai backend cannot honour threads: the server decides"):
        make_backend("openai", model="m", base_url=url, threads=4)
    with pytest.raises(ConfigError, match="openai backend cannot honour device"):
        make_judge(JudgeOptions(backend="openai", model="m", base_url=url, device="cuda"))
    # Options left at their defaults ask nothing of the backend.
    assert make_judge(JudgeOptions(backend="openai", model="m", base_url=url)).backend.name == "openai"


def test_transformers_backend_refuses_a_server_url_and_a_gpu_torch_cannot_see() -> None:
    with pytest.raises(ConfigError, match="transformers backend cannot honour base_url"):
        make_backend("transformers", model="bundled:smollm2", base_url="http://localhost:8000/v1")
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("torch sees a GPU here")
    with pytest.raises(ModelError, match="torch sees no CUDA GPU"):
        make_backend("transformers", model="bundled:smollm2", device="cuda")


def test_judge_options_refuse_unknown_names_and_values() -> None:
    with pytest.raises(ValidationError, match="devise"):
        JudgeOptions(devise="cuda")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="judge_mode"):
        JudgeOptions(judge_mode="fast")  # type: ignore[arg-type]


def test_a_teams_thresholds_override_the_shipped_ones(tmp_path: Path) -> None:
    team = tmp_path / "judge-thresholds.yaml"
    fitted = {"solution": ItemThreshold(threshold=0.123, calls=12, agreement=0.9)}
    write_thresholds(team, "bundled:smollm2", "reviews", fitted)
    options = JudgeOptions(backend="llama", model="bundled:smollm2", thresholds=team)
    assert make_judge(options).thresholds["solution"] == 0.123
    absent = options.model_copy(update={"thresholds": tmp_path / "none.yaml"})
    assert "solution" not in make_judge(absent).thresholds


def test_score_names_the_flag_of_a_bad_value_and_refuses_what_a_backend_cannot_honour(
    tmp_path: Path,
) -> None:
    store = ["--store", str(tmp_path / "s.sqlite"), "--out", str(tmp_path / "cards")]
    bad_mode = CliRunner().invoke(app, ["score", *store, "--judge-mode", "fast"])
    assert bad_mode.exit_code != 0 and "--judge-mode 'fast'" in str(bad_mode.exception)
    server = ["--backend", "openai", "--model", "m", "--base-url", f"http://127.0.0.1:{free_port()}/v1"]
    threads = CliRunner().invoke(app, ["score", *store, *server, "--threads", "4"])
    assert threads.exit_code != 0 and "cannot honour threads" in str(threads.exception)


def test_unreachable_server_marks_items_for_a_person(transcript: Transcript) -> None:
    backend = make_backend("openai", model="x", base_url=f"http://127.0.0.1:{free_port()}/v1", timeout=5)
    # Two calls sent concurrently: each failure stays with its call, each call retries on its own.
    results = Judge(backend, retries=2).score_many([(small_checklist(), transcript)] * 2)
    assert len(results) == 2
    for card, stats in results:
        assert stats["attempts"] == 3 and len(stats["errors"]) == 3
        assert all(v.needs_human and v.answer is None and "judge_failed" in v.flags for v in card.verdicts)
        assert card.total is None and not card.complete


def test_score_command_stores_and_reuses_scorecards(tmp_path: Path, seeds: Path) -> None:
    runner = CliRunner()
    store, out = str(tmp_path / "s.sqlite"), tmp_path / "cards"
    checklist = tmp_path / "small.yaml"
    checklist.write_text(json.dumps(small_checklist().model_dump(mode="json")), encoding="utf-8")
    audio = str(seeds / "audio" / "en08_prompt_injection.ogg")
    tiny = ["--whisper-model", "bundled:tiny.en", "--language", "en", "--device", "cpu"]
    transcribed = runner.invoke(app, ["transcribe", audio, "--store", store, "--out", str(tmp_path), *tiny])
    assert transcribed.exit_code == 0, transcribed.output
    args = ["score", "--checklist", str(checklist), "--store", store, "--out", str(out)]
    args += ["--model", "bundled:smollm2", "--max-new-tokens", "600", "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    second = json.loads(runner.invoke(app, args).stdout)
    assert [r["status"] for r in json.loads(first.stdout)] == ["scored"]
    assert [r["status"] for r in second] == ["cached"]
    card = Scorecard.model_validate_json((out / "en08_prompt_injection.json").read_text())
    assert card.checklist_version == "2.1" and len(card.verdicts) == 3


def test_mono_call_gets_agent_and_customer_labels_before_scoring(
    smollm2: TransformersBackend, tiny_transcriber: Transcriber, seeds: Path, tmp_path: Path
) -> None:
    from conftest import write_wav

    from qa_pipeline.transcription.audio import decode_call

    stereo = decode_call(seeds / "audio" / "en08_prompt_injection.ogg", 2)
    mono_path = write_wav(tmp_path / "mono.wav", (stereo.channels[0] + stereo.channels[1]) / 2, 16000)
    # Speakers not found by voice (diarization off, or no voice encoder installed): the judge labels lines.
    by_words_only = Transcriber(tiny_transcriber.options.model_copy(update={"diarize": False}))
    by_words_only.__dict__["model"] = tiny_transcriber.model
    mono = by_words_only.transcribe(probe_call(CallSource("mono_call", mono_path)))
    assert mono.channel_layout == "mono" and {s.speaker for s in mono.segments} == {"unknown"}
    judge = Judge(smollm2)
    labelled = judge.label_speakers(mono)
    assert [s.text for s in labelled.segments] == [s.text for s in mono.segments]
    assert {s.speaker for s in labelled.segments} <= {"agent", "customer"}
    one_item = small_checklist()
    one_item.sections = [s.model_copy(update={"items": s.items[:1]}) for s in one_item.sections[:1]]
    card, _ = judge.score(one_item, mono)  # one item keeps the reply short: the labels are the point
    assert card.judge["speakers"].startswith("labelled by the judge")


def test_stereo_calls_keep_their_channel_speakers(
    smollm2: TransformersBackend, transcript: Transcript
) -> None:
    assert Judge(smollm2).label_speakers(transcript) is transcript
