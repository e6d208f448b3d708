"""Build the demo corpus in seeds/ from the dialogue scripts in seeds/scripts/.

Each call is synthesised with espeak-ng, agent on the left channel and customer on the right, with the
script's pauses, holds and overlaps, light noise, a telephone band-pass for 8 kHz calls, and written as
Ogg Vorbis so the demo itself needs no speech synthesis. Needs espeak-ng and sox (Debian packages).

    python scripts/make_demo_corpus.py            # rebuild seeds/audio/*.ogg and seeds/manifest.csv
    python scripts/make_demo_corpus.py --set seeds/eval/calls-en.yaml --out eval-audio/en   # evaluation audio
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import wave
import zlib
from pathlib import Path

import numpy as np

from qa_pipeline.demo_corpus import DialogueScript, load_script_set, load_scripts

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SYNTH_RATE = 22_050  # espeak-ng's native rate; sox resamples at the end
# Words per minute (agent, customer). espeak-ng's Russian is hard for small Whisper models unless slow.
SPEECH_RATES = {"en": (160, 170), "ru": (135, 145)}
NOISE_DBFS = -50.0


def synthesise(text: str, voice: str, words_per_minute: int, workdir: Path) -> np.ndarray:
    out = workdir / "turn.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-w", str(out), text],
        check=True,
        capture_output=True,
    )
    with wave.open(str(out)) as handle:
        if handle.getframerate() != SYNTH_RATE:
            raise RuntimeError(f"espeak-ng wrote {handle.getframerate()} Hz, expected {SYNTH_RATE}")
        pcm = np.frombuffer(handle.readframes(handle.getnframes()), dtype=np.int16)
    return pcm.astype(np.float32) / 32768.0


def render(script: DialogueScript, workdir: Path) -> np.ndarray:
    """Lay the turns out on a two-channel timeline; returns float32 samples shaped (n, 2)."""
    rng = np.random.default_rng(zlib.crc32(script.call_id.encode()))
    placed: list[tuple[int, int, np.ndarray]] = []  # (channel, start sample, audio)
    cursor = 0.6
    last_end = cursor
    for turn in script.turns:
        if turn.hold is not None:
            cursor += turn.hold
            continue
        speaker = turn.speaker
        voice = script.voices.agent if speaker == "agent" else script.voices.customer
        agent_rate, customer_rate = SPEECH_RATES[script.language]
        rate = agent_rate if speaker == "agent" else customer_rate
        audio = synthesise(turn.text, voice, rate, workdir)
        start = last_end - turn.overlap if turn.overlap else cursor
        placed.append((0 if speaker == "agent" else 1, int(start * SYNTH_RATE), audio))
        last_end = start + len(audio) / SYNTH_RATE
        cursor = last_end + float(rng.uniform(0.35, 0.9))
    total = max(start + len(audio) for _, start, audio in placed) + int(0.6 * SYNTH_RATE)
    timeline = np.zeros((total, 2), dtype=np.float32)
    for channel, start, audio in placed:
        timeline[start : start + len(audio), channel] += audio * 0.8
    timeline += rng.normal(0.0, 10 ** (NOISE_DBFS / 20), size=timeline.shape).astype(np.float32)
    return np.clip(timeline, -1.0, 1.0)


def write_ogg(samples: np.ndarray, sample_rate: int, target: Path, workdir: Path) -> None:
    raw = workdir / "call.wav"
    with wave.open(str(raw), "wb") as handle:
        handle.setnchannels(2)
        handle.setsampwidth(2)
        handle.setframerate(SYNTH_RATE)
        handle.writeframes((samples * 32767).astype(np.int16).tobytes())
    effects = ["rate", str(sample_rate)]
    if sample_rate == 8000:
        effects = ["sinc", "300-3400", *effects]  # the telephone band
    subprocess.run(["sox", str(raw), "-C", "3", str(target), *effects], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--set", type=Path, help="a script set (seeds/eval/calls-en.yaml) instead of seeds/scripts"
    )
    parser.add_argument("--out", type=Path, default=SEEDS, help="folder for audio/ and manifest.csv")
    args = parser.parse_args()
    scripts = load_script_set(args.set) if args.set else load_scripts(SEEDS / "scripts")
    audio_dir = args.out / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for script in scripts.values():
            target = audio_dir / f"{script.call_id}.ogg"
            samples = render(script, workdir)
            write_ogg(samples, script.sample_rate, target, workdir)
            print(f"{target}: {len(samples) / SYNTH_RATE:.1f} s, {script.sample_rate} Hz")
            rows.append(
                {
                    "call_id": script.call_id,
                    "path": f"audio/{target.name}",
                    "agent": script.agent,
                    "company": script.company,
                    "team": script.team,
                    "queue": script.queue,
                    "date": script.date,
                    # Known per call, as queue routing knows it in a real centre; auto-detection on
                    # espeak-ng's Russian is unreliable with the small base model.
                    "language": script.language,
                }
            )
    with (args.out / "manifest.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
