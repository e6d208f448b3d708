"""The `voc` stage over the store: every stored transcript gets its voice-of-the-customer record, cached
by transcript, taxonomy, model and prompt, and saved as each conversation finishes, so a killed run
resumes where it stopped and a second run asks the model nothing. Each record is saved as a scorecard of
the taxonomy's VoC checklist too (voc/review.py), which is how people review its fields."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel

from qa_pipeline.judging.backends import ItemBackend
from qa_pipeline.judging.prompt import prompt_hash
from qa_pipeline.store.database import Store
from qa_pipeline.voc.extract import VOC_PROMPT, VocRecord, extract_voc, voc_method
from qa_pipeline.voc.review import voc_checklist, voc_scorecard
from qa_pipeline.voc.taxonomy import Taxonomy, taxonomy_for


class VocResult(BaseModel):
    call_id: str
    status: Literal["extracted", "cached"]
    needs_human: list[str]


def voc_cache_key(transcript_json: str, taxonomy: Taxonomy, backend: ItemBackend) -> str:
    payload = json.dumps(
        {
            "transcript": transcript_json,
            "taxonomy": taxonomy.model_dump(mode="json"),
            "model": getattr(backend, "model_id", "?"),
            "prompt": prompt_hash(VOC_PROMPT),
            "method": voc_method(),
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def extract_store(
    store: Store,
    taxonomies: list[Taxonomy],
    backend: ItemBackend,
    *,
    calls: list[str] | None = None,
    force: bool = False,
) -> Iterator[VocResult]:
    with store.exclusive_writer():
        for transcript in store.transcripts(calls or None):
            taxonomy = taxonomy_for(transcript.metadata.language or transcript.language, taxonomies)
            key = voc_cache_key(transcript.model_dump_json(), taxonomy, backend)
            checklist = voc_checklist(taxonomy)
            if not force and store.voc_cache_key(transcript.call_id) == key:
                [saved] = store.voc_records([transcript.call_id])
                record = VocRecord.model_validate(saved)
                reviewable = store.scorecards([transcript.call_id])
                if not any(c.checklist_id == checklist.id for c in reviewable):  # made before VoC review
                    store.save_scorecard(key, voc_scorecard(record, checklist))
                yield VocResult(call_id=transcript.call_id, status="cached", needs_human=record.needs_human)
                continue
            record = extract_voc(transcript, taxonomy, backend)
            store.save_voc(transcript.call_id, key, record.model_dump(mode="json"))
            store.save_scorecard(key, voc_scorecard(record, checklist))
            yield VocResult(call_id=transcript.call_id, status="extracted", needs_human=record.needs_human)
