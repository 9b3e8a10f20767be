import numpy as np
import pandas as pd
import pytest
import soundfile

from feature_extractor.inputs.audio_io import SAMPLE_RATE, AudioProblem, check_waveform, crop_window, load_audio
from feature_extractor.inputs.dataset import scan_utterances


def sine(freq, seconds, rate, amplitude):
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_frequency(wave, rate):
    spectrum = np.abs(np.fft.rfft(wave))
    return np.fft.rfftfreq(len(wave), 1 / rate)[spectrum.argmax()]


def test_stereo_44k_becomes_16k_mono_average(tmp_path):
    left, right = sine(440, 1.0, 44_100, 0.5), sine(440, 1.0, 44_100, 0.3)
    path = tmp_path / "stereo.wav"
    soundfile.write(path, np.stack([left, right], axis=1), 44_100, subtype="FLOAT")
    wave = load_audio(path)
    assert wave.dtype == np.float32 and wave.ndim == 1
    assert abs(len(wave) - SAMPLE_RATE) <= 1
    assert dominant_frequency(wave, SAMPLE_RATE) == pytest.approx(440, abs=1.5)
    middle = wave[2000:-2000]  # away from resampler edge effects
    assert np.abs(middle).max() == pytest.approx(0.4, abs=0.01)  # mean of the 0.5 and 0.3 channels


def test_int16_8k_file_is_scaled_and_upsampled(tmp_path):
    path = tmp_path / "pcm.wav"
    soundfile.write(path, (sine(200, 0.5, 8000, 0.25) * 32767).astype(np.int16), 8000, subtype="PCM_16")
    wave = load_audio(path)
    assert abs(len(wave) - 8000) <= 1  # 0.5 s at 16 kHz
    assert np.abs(wave[1000:-1000]).max() == pytest.approx(0.25, abs=0.01)
    assert dominant_frequency(wave, SAMPLE_RATE) == pytest.approx(200, abs=2.5)


@pytest.mark.parametrize(
    "data, reason",
    [
        (np.zeros(0, dtype=np.float32), "zero_length"),
        (np.zeros(1600, dtype=np.float32), "silent"),
        (np.array([0.1, np.nan, 0.2] * 100, dtype=np.float32), "non_finite"),
        (np.array([0.1, np.inf] * 100, dtype=np.float32), "non_finite"),
    ],
)
def test_bad_audio_is_reported_with_a_reason(tmp_path, data, reason):
    path = tmp_path / f"{reason}.wav"
    soundfile.write(path, data, SAMPLE_RATE, subtype="FLOAT")
    with pytest.raises(AudioProblem) as caught:
        load_audio(path)
    assert caught.value.reason == reason
    assert str(path) in str(caught.value)


def test_unreadable_file_is_reported(tmp_path):
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF this is not audio")
    with pytest.raises(AudioProblem) as caught:
        load_audio(path)
    assert caught.value.reason == "unreadable"


def test_quiet_but_real_audio_is_accepted():
    check_waveform(sine(300, 0.1, SAMPLE_RATE, 1e-3))


def test_crop_windows_by_hand():
    wave = np.arange(10)
    assert crop_window(wave, 4, "first").tolist() == [0, 1, 2, 3]
    assert crop_window(wave, 4, "center").tolist() == [3, 4, 5, 6]  # excess 6 -> start 3
    assert crop_window(wave, 20, "center").tolist() == list(range(10))
    assert crop_window(wave, 0, "first").tolist() == list(range(10))  # 0 = no crop
    starts = {int(crop_window(wave, 4, "random", np.random.default_rng(seed))[0]) for seed in range(200)}
    assert starts == set(range(7))  # every window start 0..6 is drawn, none outside
    with pytest.raises(ValueError, match="crop mode"):
        crop_window(wave, 4, "middle")


def test_scan_lists_bad_utterances_and_keeps_good_ones(tmp_path):
    good = tmp_path / "good.wav"
    soundfile.write(good, sine(220, 0.5, 22_050, 0.3), 22_050)
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros(800, dtype=np.float32), SAMPLE_RATE)
    table = pd.DataFrame(
        {
            "segment_id": ["s_good", "s_silent", "s_missing", "s_notext"],
            "wav_path": ["good.wav", "silent.wav", "missing.wav", "good.wav"],
            "wav_file": [str(good), str(silent), str(tmp_path / "missing.wav"), str(good)],
            "text": ["안녕", "네", "뭐", "  "],
        }
    )
    kept, skipped = scan_utterances(table, use_text=True, audio_kind="hf")
    assert kept["segment_id"].tolist() == ["s_good", "s_notext"]  # an empty transcript is an empty text input
    assert abs(int(kept["length"].iloc[0]) - 8000) <= 1  # 0.5 s at 16 kHz
    reasons = dict(zip(skipped["segment_id"], skipped["reason"]))
    assert reasons == {"s_silent": "silent", "s_missing": "missing_wav"}
    assert list(skipped.columns) == ["segment_id", "file", "reason", "detail"]


def test_parallel_scan_gives_the_sequential_result(tmp_path, monkeypatch):
    import feature_extractor.inputs.dataset as dataset_module

    rows = []
    for i, seconds in enumerate((0.3, 0.0, 0.7, 0.5)):
        path = tmp_path / f"{i}.wav"
        soundfile.write(path, sine(200 + 50 * i, seconds, SAMPLE_RATE, 0.2) if seconds else np.zeros(0, np.float32), SAMPLE_RATE)
        rows.append({"segment_id": f"s{i}", "wav_path": path.name, "wav_file": str(path), "text": "네"})
    table = pd.DataFrame(rows)
    monkeypatch.setattr(dataset_module, "PARALLEL_SCAN_MIN", 1)
    sequential = scan_utterances(table, use_text=True, audio_kind="hf", workers=0)
    parallel = scan_utterances(table, use_text=True, audio_kind="hf", workers=2)
    pd.testing.assert_frame_equal(sequential[0], parallel[0])
    pd.testing.assert_frame_equal(sequential[1], parallel[1])
    assert parallel[1]["segment_id"].tolist() == ["s1"] and parallel[0]["length"].tolist() == [4800, 11200, 8000]


@pytest.mark.parametrize("f0", [90.0, 160.0, 280.0, 420.0])
def test_acoustic_pitch_track_finds_the_fundamental(f0):
    from feature_extractor.encoders.acoustic import FEATURE_NAMES, compute_acoustic_frames

    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE  # 1 s of a harmonic tone: f0 plus 2 overtones
    tone = sum(a * np.sin(2 * np.pi * k * f0 * t) for k, a in ((1, 0.3), (2, 0.2), (3, 0.1))).astype(np.float32)
    frames = compute_acoustic_frames(tone)
    assert frames.shape == (SAMPLE_RATE // 160 + 1, len(FEATURE_NAMES))  # 10 ms hop, centred frames
    estimate = np.exp(np.median(frames[:, FEATURE_NAMES.index("log_f0")]))
    assert estimate == pytest.approx(f0, rel=0.03)


def test_acoustic_cache_reuses_and_recomputes_on_a_changed_file(tmp_path):
    from feature_extractor.encoders.acoustic import AcousticFeatureCache

    path = tmp_path / "a.wav"
    soundfile.write(path, sine(200, 0.5, SAMPLE_RATE, 0.2), SAMPLE_RATE)
    cache = AcousticFeatureCache(tmp_path / "cache")
    assert cache.load("seg", path) is None
    first = cache.get_or_compute("seg", path, load_audio(path))
    assert first.dtype == np.float16 and np.array_equal(cache.load("seg", path), first)
    soundfile.write(path, sine(200, 0.8, SAMPLE_RATE, 0.2), SAMPLE_RATE)  # edited: another size
    assert cache.load("seg", path) is None


def ramp_file(path, rate=16_000, seconds=1.0):
    """A ramp whose value tells the time: sample i holds 0.1 + i / n * 0.5."""
    n = int(rate * seconds)
    soundfile.write(path, (0.1 + np.arange(n) / n * 0.5).astype(np.float32), rate, subtype="FLOAT")
    return n


def test_a_window_reads_only_those_seconds(tmp_path):
    path = tmp_path / "ramp.wav"
    ramp_file(path)
    whole = load_audio(path)
    assert np.array_equal(load_audio(path, start=0.25, end=0.5), whole[4000:8000])
    assert np.array_equal(load_audio(path, start=0.75), whole[12000:])
    assert np.array_equal(load_audio(path, end=0.1), whole[:1600])
    assert np.array_equal(load_audio(path, start=float("nan"), end=float("nan")), whole)  # NaN: the whole file
    assert np.array_equal(load_audio(path, start=0.0, end=1.0), whole)  # up to the very end is inside


def test_a_window_at_another_rate_is_resampled(tmp_path):
    path = tmp_path / "ramp8k.wav"
    ramp_file(path, rate=8000)
    wave = load_audio(path, start=0.5, end=1.0)
    assert abs(len(wave) - 8000) <= 1 and wave[100] == pytest.approx(0.35, abs=0.01)


@pytest.mark.parametrize("start, end, reason", [(0.5, 1.5, "window_outside_file"), (1.2, None, "window_outside_file"),
                                                (0.5, 0.5, "bad_window"), (0.6, 0.2, "bad_window"),
                                                (-0.1, 0.2, "bad_window")])
def test_a_window_outside_the_file_is_an_audio_problem(tmp_path, start, end, reason):
    path = tmp_path / "ramp.wav"
    ramp_file(path)
    with pytest.raises(AudioProblem) as caught:
        load_audio(path, start=start, end=end)
    assert caught.value.reason == reason


def test_mp4_without_ffmpeg_says_to_extract_wav_first(tmp_path, monkeypatch):
    from erc_core.errors import UserError
    from feature_extractor.inputs.audio_io import NeedsFfmpeg

    path = tmp_path / "dia0_utt0.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    monkeypatch.setenv("PATH", str(tmp_path / "no_bin"))
    with pytest.raises(NeedsFfmpeg) as caught:
        load_audio(path)
    assert isinstance(caught.value, UserError)  # one error line, not a skipped row per clip
    assert "extract wav first (ffmpeg -i in.mp4 -ac 1 -ar 16000 out.wav) or install ffmpeg" in str(caught.value)
    with pytest.raises(AudioProblem, match="no such file"):  # a missing clip stays a per-file problem
        load_audio(tmp_path / "gone.mp4")


def test_mp4_is_decoded_through_ffmpeg_when_it_is_on_path(tmp_path, monkeypatch):
    import stat
    import sys

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "ffmpeg"  # stands in for ffmpeg: checks the arguments, writes 1 s of a ramp as f32le
    fake.write_text(
        f"#!{sys.executable}\n"
        "import sys, numpy as np\n"
        "args = sys.argv[1:]\n"
        "assert args[args.index('-ac') + 1] == '1' and args[args.index('-ar') + 1] == '16000', args\n"
        "assert args[args.index('-f') + 1] == 'f32le' and args[-1] == '-', args\n"
        "if args[args.index('-i') + 1].endswith('broken.mp4'):\n"
        "    sys.stderr.write('moov atom not found\\n'); sys.exit(1)\n"
        "sys.stdout.buffer.write((0.1 + np.arange(16000) / 16000 * 0.5).astype('<f4').tobytes())\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bin_dir))
    (tmp_path / "clip.mp4").write_bytes(b"fake")
    (tmp_path / "broken.mp4").write_bytes(b"fake")
    whole = load_audio(tmp_path / "clip.mp4")
    assert len(whole) == 16000 and whole[0] == pytest.approx(0.1)
    assert np.array_equal(load_audio(tmp_path / "clip.mp4", start=0.5, end=0.75), whole[8000:12000])
    with pytest.raises(AudioProblem) as caught:
        load_audio(tmp_path / "broken.mp4")
    assert caught.value.reason == "unreadable" and "moov atom not found" in caught.value.detail
