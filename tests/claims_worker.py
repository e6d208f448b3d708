"""A scoring worker for the claims tests, run as its own process: it scores a store's transcripts with a
rules-only checklist (no model), taking `--seconds` per call so that workers overlap, and prints its
results as JSON. `--host`, `--pid` and `--pid-namespace` make it look like a worker in another container
with the same host name and PID; `--model` gives its judge another identity (another model)."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("checklist", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, default=0.0)
    parser.add_argument("--model", default="rules")
    parser.add_argument("--host")
    parser.add_argument("--pid", type=int)
    parser.add_argument("--pid-namespace")
    parser.add_argument("--heartbeat", type=float, default=30.0)
    parser.add_argument("--lease", type=float, default=300.0)
    args = parser.parse_args()
    if args.host:
        socket.gethostname = lambda: args.host
    if args.pid:
        os.getpid = lambda: args.pid
    from qa_pipeline.store import workers

    if args.pid_namespace:
        workers._pid_namespace = lambda: args.pid_namespace  # type: ignore[assignment]
    from qa_pipeline.checklist import load_checklists
    from qa_pipeline.judging.judge import Judge
    from qa_pipeline.judging.score_batch import score_store
    from qa_pipeline.store.database import Store

    class NoModel:
        """Never asked: every item of the checklist is a phrase rule."""

        name, model_id = "none", args.model

    class SlowJudge(Judge):
        def score_many(self, calls):  # type: ignore[no-untyped-def]
            time.sleep(args.seconds * len(calls))
            return super().score_many(calls)

    store = Store(args.store, lease_seconds=args.lease, heartbeat_seconds=args.heartbeat)
    judge = SlowJudge(NoModel(), mode="scorecard", guard=False)  # type: ignore[arg-type]
    results = score_store(store, load_checklists([args.checklist]), judge, args.out)
    print(json.dumps([r.model_dump(mode="json") for r in results]))
    return 0 if all(r.status in ("scored", "cached") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
