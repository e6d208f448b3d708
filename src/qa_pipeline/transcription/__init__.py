"""The transcription wing: recordings in, `Transcript`s out.

Ingest finds and probes the inputs, `transcribe` runs Whisper per channel, `batch` does a run's calls as
claimed, cached, resumable work. The public names are exported from `qa_pipeline` itself, so that
importing one module here never loads the others.
"""
