"""Word error rate of transcripts against reference text, after the normalisation ASR papers use.

Case, punctuation and "ё" are not recognition errors, so they are normalised away before counting.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[\w']+", re.UNICODE)


def normalise_for_wer(text: str) -> str:
    return " ".join(_WORD.findall(text.lower().replace("ё", "е")))


def word_error_rate(reference: str, hypothesis: str) -> float:
    import jiwer

    ref, hyp = normalise_for_wer(reference), normalise_for_wer(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return float(jiwer.wer(ref, hyp))
