"""The acoustic frame-feature cache never feeds an utterance the features of an older file."""

import os

import numpy as np
import soundfile

from feature_extractor.encoders.acoustic import AcousticFeatureCache, compute_acoustic_frames
from feature_extractor.inputs.audio_io import SAMPLE_RATE


def write_wav(path, wave):
    soundfile.write(path, wave.astype(np.float32), SAMPLE_RATE, subtype="PCM_16")


def test_a_wav_replaced_by_another_of_the_same_size_is_recomputed(tmp_path):
    rng = np.random.default_rng(0)
    speech = 0.3 * np.sin(2 * np.pi * 220 * np.arange(SAMPLE_RATE) / SAMPLE_RATE) + 0.05 * rng.normal(size=SAMPLE_RATE)
    silence = np.zeros(SAMPLE_RATE)
    wav = tmp_path / "seg.wav"
    write_wav(wav, speech)
    cache = AcousticFeatureCache(tmp_path / "cache")
    first = cache.get_or_compute("Sess01_script01_F001", wav, speech)
    size, mtime = wav.stat().st_size, wav.stat().st_mtime_ns

    write_wav(wav, silence)  # same length, same byte size: only the content differs
    os.utime(wav, ns=(mtime, mtime))  # even with the old modification time (cp -p, rsync -t)
    assert wav.stat().st_size == size
    fresh_cache = AcousticFeatureCache(tmp_path / "cache")  # a later run, as stage 2 after stage 1
    second = fresh_cache.get_or_compute("Sess01_script01_F001", wav, silence)
    expected = compute_acoustic_frames(silence, fresh_cache.cfg).astype(np.float16)
    np.testing.assert_array_equal(second, expected)
    assert not np.array_equal(first, second)


def test_an_unchanged_wav_is_read_from_the_cache(tmp_path, monkeypatch):
    wave = np.random.default_rng(1).normal(size=SAMPLE_RATE // 2) * 0.1
    wav = tmp_path / "seg.wav"
    write_wav(wav, wave)
    cache = AcousticFeatureCache(tmp_path / "cache")
    stored = cache.get_or_compute("seg", wav, wave)

    def no_recompute(*args, **kwargs):
        raise AssertionError("recomputed although the file did not change")

    monkeypatch.setattr("feature_extractor.encoders.acoustic.compute_acoustic_frames", no_recompute)
    np.testing.assert_array_equal(AcousticFeatureCache(tmp_path / "cache").get_or_compute("seg", wav, wave), stored)


def test_a_short_write_on_a_full_disk_is_reported_as_disk_full_naming_the_cache_file(tmp_path, monkeypatch):
    import errno

    import pytest

    from erc_core.errors import user_message

    wave = np.zeros(SAMPLE_RATE // 4)
    wav = tmp_path / "seg.wav"
    write_wav(wav, wave)
    cache = AcousticFeatureCache(tmp_path / "cache")

    def short_write(handle, array, allow_pickle=False):  # what numpy's tofile says when fwrite falls short
        handle.write(b"\x93NUMPY partial")
        raise OSError("8000 requested and 6080 written")

    monkeypatch.setattr(np, "save", short_write)
    with pytest.raises(OSError) as caught:
        cache.get_or_compute("seg", wav, wave)
    target = cache.path_for("seg", wav)
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == str(target)
    message = user_message(caught.value)
    assert message.startswith(f"{target}: no space left on device") and "\n" not in message
    assert list(cache.folder.iterdir()) == [], "a cut-off cache file or temp file was left behind"
