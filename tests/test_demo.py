"""Quick-start command 1, as a user runs it: `bash scripts/demo.sh` finishes, its console output
fits on one screen without library noise, the files it lists exist, and its test scores land
within the stated tolerance of the documented mean over seeds (docs/demo_reference.json) rather
than matching one machine's float output."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOISE = re.compile(r"warning|deprecat|COMET (INFO|WARNING)|Lightning|GPU available|it/s\]|Traceback", re.IGNORECASE)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    work = tmp_path_factory.mktemp("demo") / "work"
    env = {**os.environ, "DEMO_WORK": str(work)}
    result = subprocess.run(["bash", str(REPO / "scripts/demo.sh")], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return {"work": work, "output": (result.stdout + result.stderr).splitlines()}


def test_the_demo_output_fits_on_one_screen_without_library_noise(demo):
    lines = [line for line in demo["output"] if not line.startswith("[setup]")]
    assert len(lines) <= 60, "\n".join(lines)
    noisy = [line for line in lines if NOISE.search(line)]
    assert not noisy, noisy


def test_every_file_the_demo_lists_exists(demo):
    listed = [line.strip() for line in demo["output"] if line.startswith(f"  {demo['work']}")]
    assert len(listed) >= 8
    for path in listed:
        assert Path(path).exists(), path


def test_the_demo_lands_within_the_stated_tolerance_of_the_documented_mean(demo):
    reference = json.loads((REPO / "docs/demo_reference.json").read_text(encoding="utf-8"))
    stage1 = json.loads((demo["work"] / "stage1/metrics.json").read_text(encoding="utf-8"))["test"]
    stage3 = json.loads((demo["work"] / "eval/stage3_at/metrics.json").read_text(encoding="utf-8"))
    tolerance = reference["tolerance_std"]
    for name, measured in (("stage1", stage1), ("stage3", stage3)):
        for metric in ("accuracy", "weighted_f1", "macro_f1"):
            documented = reference[name][metric]
            allowed = tolerance * max(documented["std"], 0.01)  # a std below a point says little over 5 seeds
            assert abs(measured[metric] - documented["mean"]) <= allowed, (name, metric, measured[metric], documented)
