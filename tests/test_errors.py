from pathlib import Path

import faster_whisper.audio
import pytest

from qa_pipeline.errors import AudioError, first_line
from qa_pipeline.transcription.audio import decode_call


def test_first_line_of_an_empty_message_is_the_error_type() -> None:
    assert first_line(ValueError()) == "ValueError"
    assert first_line(OSError("  \n")) == "OSError"
    assert first_line(RuntimeError("bad header\nsecond line")) == "bad header"


def test_decoder_error_without_a_message_still_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(*args: object, **kwargs: object) -> None:
        raise EOFError()

    monkeypatch.setattr(faster_whisper.audio, "decode_audio", fails)
    path = tmp_path / "call.wav"
    path.write_bytes(b"RIFF")
    with pytest.raises(AudioError, match=r"call\.wav: cannot decode audio \(EOFError\)"):
        decode_call(path, channels=1)
