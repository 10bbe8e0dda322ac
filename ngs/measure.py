"""Wall time, CPU seconds and peak resident memory of a command's whole process tree, plus the trees of
processes it does not start (a local Spark cluster's master, workers and their executors).

    python -m ngs.measure [--run-dir DIR] [--pid PID] [--interval 0.25] [--json FILE] -- <command> ...

Every `--interval` seconds it reads /proc: the command's process and all its descendants, and the processes
recorded by `ngs spark up` in `--run-dir` (NGS_SPARK_RUN_DIR) or given by `--pid`, with all their
descendants (the executors a worker launches, their Python workers). Printed (and written to `--json`):

- `wall_s`: the command's wall time.
- `cpu_s`: user + system seconds of every process seen in those trees during the run: for each process the
  last value read minus its value at the start (0 for one started later). A process that ended loses at most
  its last interval's CPU; Linux's per-process counters tick at 10 ms. `cpu_children_s` is the cross-check
  from the kernel for the command's own tree (getrusage of waited-for descendants: processes their parents
  never waited for are missing there, the cluster's never count).
- `peak_rss_mb`: the largest sum of resident memory over all those processes in one sample (MiB = 2^20 B).
- `load_1m`: the 1-minute load average at the start, the end, and its lowest and highest while sampling
  (the machine's other work, which inflates wall time far more than CPU seconds).

The command's exit status is returned; its output passes through unchanged. No process is forked after
any thread starts here (the sampler thread starts after the child).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def read_procs() -> dict[int, tuple[int, int, int, int]]:
    """Every process now: pid -> (ppid, utime + stime ticks, RSS KiB, start time ticks)."""
    out: dict[int, tuple[int, int, int, int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                parts = fh.read().rsplit(")", 1)[1].split()
            # fields after the command: state ppid ... utime(12) stime(13) ... starttime(20) vsize rss(22)
            out[int(d)] = (int(parts[1]), int(parts[11]) + int(parts[12]), int(parts[21]) * PAGE_KB,
                           int(parts[19]))
        except (OSError, IndexError, ValueError):
            continue
    return out


def tree(procs: dict[int, tuple[int, int, int, int]], roots: set[int]) -> set[int]:
    """`roots` (those alive) and all their descendants in `procs`."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_rest) in procs.items():
        children.setdefault(ppid, []).append(pid)
    seen: set[int] = set()
    todo = [r for r in roots if r in procs]
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo.extend(children.get(pid, []))
    return seen


def recorded_pids(run_dir: Path) -> set[int]:
    """PIDs recorded by `ngs spark up` (ngs.spark.cluster: one JSON record per process) in `run_dir`."""
    pids: set[int] = set()
    for path in sorted(run_dir.glob("*.json")):
        try:
            pids.add(int(json.loads(path.read_text())["pid"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return pids


class Sampler:
    """Accumulates CPU ticks per process (keyed by pid and start time: a reused pid is another process) and
    the peak of the summed RSS over the trees of `roots`."""

    def __init__(self, roots: set[int]):
        self.roots = set(roots)
        self.base: dict[tuple[int, int], int] = {}
        self.last: dict[tuple[int, int], int] = {}
        self.peak_kb = 0
        self.samples = 0
        self.load = [os.getloadavg()[0]] * 2  # lowest, highest 1-minute load seen
        procs = read_procs()
        for pid in tree(procs, self.roots):
            _ppid, ticks, _rss, start = procs[pid]
            self.base[(pid, start)] = ticks

    def sample(self) -> None:
        procs = read_procs()
        rss = 0
        for pid in tree(procs, self.roots):
            _ppid, ticks, kb, start = procs[pid]
            self.last[(pid, start)] = ticks
            rss += kb
        self.peak_kb = max(self.peak_kb, rss)
        self.samples += 1
        one = os.getloadavg()[0]
        self.load = [min(self.load[0], one), max(self.load[1], one)]

    def cpu_s(self) -> float:
        return sum(t - self.base.get(k, 0) for k, t in self.last.items()) / TICK


@contextmanager
def sampling(roots: set[int], interval: float = 0.25) -> Iterator[Sampler]:
    """A Sampler of the trees of ``roots``, fed by a thread every ``interval`` seconds while the block runs
    (start it after the last fork: no process is forked once the thread runs)."""
    sampler = Sampler(roots)
    done = threading.Event()

    def loop() -> None:
        while not done.is_set():
            sampler.sample()
            done.wait(interval)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield sampler
    finally:
        done.set()
        thread.join()


def measure(cmd: list[str], extra: set[int], interval: float = 0.25) -> dict:
    """Run `cmd` (output passed through), sampling its tree and the trees of `extra`; the figures."""
    load0 = os.getloadavg()[0]
    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    with sampling(extra | {proc.pid}, interval) as sampler:
        try:
            code = proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
            code = proc.wait()
        wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "command": cmd, "exit": code, "wall_s": round(wall, 2), "cpu_s": round(sampler.cpu_s(), 2),
        "cpu_children_s": round(usage.ru_utime - usage0.ru_utime + usage.ru_stime - usage0.ru_stime, 2),
        "peak_rss_mb": round(sampler.peak_kb / 1024, 1), "samples": sampler.samples, "interval_s": interval,
        "extra_pids": sorted(extra),
        "load_1m": {"start": round(load0, 2), "end": round(os.getloadavg()[0], 2),
                    "min": round(sampler.load[0], 2), "max": round(sampler.load[1], 2)},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ngs.measure", description=__doc__.split("\n\n")[0])
    p.add_argument("--run-dir", type=Path, action="append", default=[],
                   help="an `ngs spark up` run folder (NGS_SPARK_RUN_DIR): its recorded processes' trees count too")
    p.add_argument("--pid", type=int, action="append", default=[], help="another process whose tree counts too")
    p.add_argument("--interval", type=float, default=0.25, help="seconds between samples (default 0.25)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- the command to run")
    args = p.parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        p.error("no command: python -m ngs.measure [options] -- <command> ...")
    if not args.interval > 0:
        p.error(f"--interval must be > 0, got {args.interval}")
    extra = set(args.pid)
    for run_dir in args.run_dir:
        found = recorded_pids(run_dir)
        if not found:
            p.error(f"--run-dir {run_dir}: no process recorded there (is the cluster up?)")
        extra |= found
    missing = sorted(pid for pid in extra if not Path(f"/proc/{pid}").exists())
    if missing:
        p.error(f"not running: pid {', '.join(map(str, missing))}")
    try:
        result = measure(cmd, extra, args.interval)
    except OSError as exc:
        print(f"ngs.measure: cannot run {cmd[0]}: {exc}", file=sys.stderr)
        return 127
    load = result["load_1m"]
    print(f"ngs.measure: exit {result['exit']}, wall {result['wall_s']:.1f} s, CPU {result['cpu_s']:.1f} s "
          f"(kernel, own tree: {result['cpu_children_s']:.1f} s), peak RSS {result['peak_rss_mb']:,.0f} MiB, "
          f"{result['samples']} samples, load {load['start']:.2f} -> {load['end']:.2f} "
          f"(min {load['min']:.2f}, max {load['max']:.2f})", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result["exit"]


if __name__ == "__main__":
    sys.exit(main())
