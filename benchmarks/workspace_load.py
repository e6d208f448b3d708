"""Load check of the workspace server: N controllers review at once for S seconds, against a real
`qa-pipeline serve` process on 127.0.0.1 over an SQLite store.

Each simulated controller signs in, then loops: opens the queue, opens a call of theirs, posts the
review form with random answers (every post changes or repeats answers, as people correct themselves).
At the end every (call, item, controller) in the store must hold exactly the answer that controller
posted last: no review lost, none doubled. Prints page-time percentiles per kind of request, requests
per second, and the server's peak memory.

    python benchmarks/workspace_load.py                         # 20 controllers, 60 s
    python benchmarks/workspace_load.py --reviewers 50 --seconds 120 --calls-each 10
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

from qa_pipeline.checklist import load_checklists
from qa_pipeline.demo_corpus import expected_scorecard, load_scripts, script_transcript
from qa_pipeline.models import AudioInfo, Call, SamplePick
from qa_pipeline.store.database import Store
from qa_pipeline.team.accounts import add_user, make_user

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "load-check-password"


def build_store(path: Path, reviewers: int, calls_each: int) -> dict[str, list[tuple[str, str]]]:
    """Copies of the demo scripts' calls, each reviewer given their own calls plus two shared with the
    next reviewer (double scoring, as a sampling plan makes)."""
    store = Store(path)
    checklists = {c.id: c for c in load_checklists([REPO / "checklists"])}
    scripts = list(load_scripts(REPO / "seeds" / "scripts").values())
    assigned: dict[str, list[tuple[str, str]]] = {f"ctl{r:02d}": [] for r in range(reviewers)}
    picks = []
    for number in range(reviewers * calls_each):
        script = scripts[number % len(scripts)]
        call_id = f"load-{number:05d}"
        transcript = script_transcript(script).model_copy(update={"call_id": call_id})
        call = Call(
            call_id=call_id,
            audio_path=str(REPO / "seeds" / "audio" / f"{script.call_id}.ogg"),
            audio=AudioInfo(
                duration=transcript.duration, sample_rate=16000, channels=2, codec="vorbis", sha256="0" * 64
            ),
            metadata=transcript.metadata,
        )
        store.save_transcript(f"load-{call_id}", call, transcript)
        checklist = checklists[f"inbound-service-{script.language}"]
        card = expected_scorecard(script, checklist).model_copy(update={"call_id": call_id})
        store.save_scorecard(f"card-{call_id}", card)
        owner = number // calls_each
        reviewers_here = [f"ctl{owner:02d}"]
        if number % calls_each < 2:
            reviewers_here.append(f"ctl{(owner + 1) % reviewers:02d}")
        for name in reviewers_here:
            assigned[name].append((call_id, checklist.id))
        picks.append(
            SamplePick(
                call_id=call_id,
                checklist_id=checklist.id,
                kind="random",
                reasons=[],
                reviewers=reviewers_here,
            )
        )
    store.save_sample("load-check", picks)
    for name in assigned:
        add_user(store, make_user(name, "controller"), PASSWORD)
    store.close()
    return assigned


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Reviewer(threading.Thread):
    def __init__(
        self,
        base: str,
        name: str,
        calls: list[tuple[str, str]],
        items: dict[str, list[tuple[str, list[str]]]],
        until: float,
        seed: int,
    ) -> None:
        super().__init__(daemon=True)
        self.base, self.name, self.calls, self.items, self.until = base, name, calls, items, until
        self.rng = random.Random(seed)
        self.times: dict[str, list[float]] = {"queue": [], "call": [], "review": []}
        self.last: dict[tuple[str, str, str], str] = {}
        self.errors: list[str] = []

    def _timed(
        self, kind: str, send: Callable[..., httpx.Response], url: str, **options: Any
    ) -> httpx.Response:
        start = time.perf_counter()
        reply = send(url, **options)
        self.times[kind].append(time.perf_counter() - start)
        if reply.status_code not in (200, 303):
            self.errors.append(f"{kind} {reply.status_code}")
        return reply

    def run(self) -> None:
        with httpx.Client(base_url=self.base, follow_redirects=False, timeout=60) as client:
            page = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            client.post(
                "/login", data={"name": self.name, "password": PASSWORD, "csrf_token": token, "next": "/"}
            )
            token = client.get("/api/me").json()["csrf_token"]
            while time.monotonic() < self.until:
                self._timed("queue", client.get, "/queue")
                call_id, checklist_id = self.rng.choice(self.calls)
                self._timed("call", client.get, f"/calls/{call_id}", params={"checklist": checklist_id})
                form = {"csrf_token": token, "checklist_id": checklist_id}
                for item_id, answers in self.items[checklist_id]:
                    if self.rng.random() < 0.7:
                        answer = self.rng.choice(answers)
                        form[f"answer:{item_id}"] = answer
                reply = self._timed("review", client.post, f"/calls/{call_id}/review", data=form)
                if reply.status_code == 303:
                    for key, value in form.items():
                        if key.startswith("answer:"):
                            self.last[(call_id, key.removeprefix("answer:"), self.name)] = value


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--calls-each", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="workspace-load-"))
    store_path = folder / "qa.sqlite"
    assigned = build_store(store_path, args.reviewers, args.calls_each)
    checklists = {c.id: c for c in load_checklists([REPO / "checklists"])}
    items = {cid: [(i.id, i.answer_labels) for i in c.items] for cid, c in checklists.items()}
    port = free_port()
    env = {**os.environ, "QA_PIPELINE_SECRET": "load-check-" + "k" * 40}
    server = subprocess.Popen(
        [sys.executable, "-m", "qa_pipeline", "serve", "--port", str(port), "--store", str(store_path)],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/login", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        process = psutil.Process(server.pid)
        peak = [process.memory_info().rss]
        started = time.monotonic()
        until = started + args.seconds
        reviewers = [
            Reviewer(base, name, calls, items, until, seed)
            for seed, (name, calls) in enumerate(assigned.items())
        ]
        for reviewer in reviewers:
            reviewer.start()
        while any(r.is_alive() for r in reviewers):
            peak.append(process.memory_info().rss)
            time.sleep(0.5)
        elapsed = time.monotonic() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    expected: dict[tuple[str, str, str], str] = {}
    for reviewer in reviewers:
        expected.update(reviewer.last)
    stored = {(r.call_id, r.item_id, r.reviewer): str(r.answer) for r in Store(store_path).human_reviews()}
    lost = [key for key in expected if key not in stored]
    wrong = [key for key in expected if key in stored and stored[key] != expected[key]]
    extra = [key for key in stored if key not in expected]
    times = {kind: [t for r in reviewers for t in r.times[kind]] for kind in ("queue", "call", "review")}
    every = [t for values in times.values() for t in values]
    result = {
        "reviewers": args.reviewers,
        "seconds": round(elapsed, 1),
        "requests": len(every),
        "requests_per_second": round(len(every) / elapsed, 1),
        "reviews_posted": len(times["review"]),
        "errors": sorted({e for r in reviewers for e in r.errors}),
        "answers_expected": len(expected),
        "answers_lost": len(lost),
        "answers_wrong": len(wrong),
        "answers_extra": len(extra),
        "p50_ms": {k: round(1000 * percentile(v, 0.5)) for k, v in times.items()},
        "p95_ms": {k: round(1000 * percentile(v, 0.95)) for k, v in times.items()},
        "p95_ms_all_pages": round(1000 * percentile(every, 0.95)),
        "server_peak_rss_mib": round(max(peak) / 2**20),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
    ok = not (lost or wrong or extra or result["errors"])
    print("no review lost or doubled" if ok else "REVIEWS LOST, WRONG OR DOUBLED", file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
