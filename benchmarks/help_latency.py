"""How long `--help` takes for every console command (pyproject.toml [project.scripts]), each in a
fresh process as a user starts it, next to references timed in the same run: a bare Python start,
`import torch`, and the same `--help` through the command's own module (`<module>.main`, what the
console scripts called before erc_core/commands.py answered --help from light modules).

    python benchmarks/help_latency.py            # median of 5 starts per command
    python benchmarks/help_latency.py --repeats 3

Prints one markdown row per command: median and slowest wall seconds through the console entry,
the median through the module's own main, and their ratio. Results: docs/benchmarks.md
("--help latency")."""

import argparse
import importlib
import os
import platform
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
LAUNCH = ("import sys, importlib; m, _, f = sys.argv[1].partition(':'); "
          "sys.exit(getattr(importlib.import_module(m), f)(['--help']))")


def wall_seconds(args, repeats: int) -> list:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per command (default: %(default)s)")
    args = parser.parse_args()
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{args.repeats} starts each")
    for name, code in (("python -c pass", "pass"), ("python -c 'import torch'", "import torch")):
        times = wall_seconds(["-c", code], args.repeats)
        print(f"reference {name}: median {statistics.median(times):.2f} s")
    print("| command | --help median s | slowest s | via its module's main, median s | ratio |\n|---|---|---|---|---|")
    for name, entry in sorted(scripts.items()):
        quick = wall_seconds(["-c", LAUNCH, entry], args.repeats)
        direct = statistics.median(wall_seconds(["-c", LAUNCH, module_main(entry)], args.repeats))
        print(f"| `{name}` | {statistics.median(quick):.2f} | {max(quick):.2f} | {direct:.2f} | "
              f"{direct / statistics.median(quick):.1f} |")


def module_main(entry: str) -> str:
    """The command module's own main behind a console entry of erc_core/commands.py."""
    module, _, name = entry.partition(":")
    command = getattr(importlib.import_module(module), name)
    return getattr(command, "entry", entry)


if __name__ == "__main__":
    main()
