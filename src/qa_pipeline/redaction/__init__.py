"""Personal data out of transcripts, and out of the recordings they came from.

Redaction runs on the transcript before anything stores, writes or sends it, so the store, the JSON
files, review sheets and prompts to a remote judge all carry `[card]`, `[phone]` ... instead. Each
redaction keeps its speaker and time span, so `mute_recordings` can silence the recording there too.
Numbers are found as digits and as number words ("4276 3800 ...", "forty-two seventy-six ...",
"сорок два семьдесят шесть ..."), across the segments a pause split them into; e-mails also as spoken
("john dot smith at gmail dot com", "иван собака мейл точка ру"); a context word ("CVV", "пин-код",
"серия", "СНИЛС", "date of birth") makes even a short number personal.
"""

from qa_pipeline.redaction.detect import Kind, Question, Span, find_personal_data
from qa_pipeline.redaction.transcript import redact_transcript, segment_spans

__all__ = ["Kind", "Question", "Span", "find_personal_data", "redact_transcript", "segment_spans"]
