"""ngs.measure: the process tree's CPU seconds and peak RSS, with processes the command does not start (a Spark
cluster's, given by PID or by an `ngs spark up` run folder); the exit status passes through; bad arguments
are refused in one line."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from ngs.measure import main, measure, recorded_pids

# a child holding ~120 MiB for 1 s; the grandchild burns CPU for ~0.6 s
HOLD = "import time; x = bytearray(120 * 2**20); x[::4096] = b'1' * len(x[::4096]); time.sleep(1.0)"
BURN = "import time; t = time.process_time()\nwhile time.process_time() - t < 0.6: pass"


@pytest.mark.timeout(60)
def test_tree_cpu_rss_and_an_outside_process(tmp_path):
    outside = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)\n" + BURN + "\ntime.sleep(30)"])
    try:
        cmd = [sys.executable, "-c",
               f"import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', {BURN!r}]); "
               f"exec({HOLD!r}); p.wait()"]
        result = measure(cmd, {outside.pid}, interval=0.05)
    finally:
        outside.kill()
        outside.wait()
    assert result["exit"] == 0
    # the grandchild's 0.6 s and the outside process's 0.6 s, plus interpreter start-ups; each process can lose
    # at most its last interval
    assert 1.1 <= result["cpu_s"] <= 4.0, result
    assert result["peak_rss_mb"] >= 120, result
    assert result["wall_s"] >= 1.0 and result["samples"] >= 10
    assert set(result["load_1m"]) == {"start", "end", "min", "max"}


@pytest.mark.timeout(60)
def test_cli_prints_writes_json_and_passes_the_exit_status(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (run / "master.json").write_text(json.dumps({"name": "master", "pid": sleeper.pid}))
        (run / "torn.json").write_text("{")
        assert recorded_pids(run) == {sleeper.pid}
        code = main(["--run-dir", str(run), "--json", str(tmp_path / "m.json"), "--",
                     sys.executable, "-c", "import sys; sys.exit(3)"])
    finally:
        sleeper.kill()
        sleeper.wait()
    assert code == 3
    err = capsys.readouterr().err
    assert "ngs.measure: exit 3, wall" in err and "peak RSS" in err and "load" in err
    figures = json.loads((tmp_path / "m.json").read_text())
    assert figures["extra_pids"] == [sleeper.pid] and figures["exit"] == 3


@pytest.mark.timeout(60)
def test_refusals(tmp_path):
    def refused(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "ngs.measure", *args], capture_output=True, text=True,
                              timeout=30)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        return done.stderr.strip().splitlines()[-1]

    assert "no command" in refused()
    assert "no process recorded there" in refused("--run-dir", str(tmp_path), "--", "true")
    gone = subprocess.Popen(["true"])
    gone.wait()
    time.sleep(0.1)
    assert f"not running: pid {gone.pid}" in refused("--pid", str(gone.pid), "--", "true")
    assert "--interval must be > 0" in refused("--interval", "0", "--", "true")
    done = subprocess.run([sys.executable, "-m", "ngs.measure", "--", str(tmp_path / "no-such-program")],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 127 and "cannot run" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.timeout(60)
def test_bench_run_measured_samples_the_same_tree_and_captures_the_output():
    """ngs.bench.run_measured: the same sampler (ngs.measure.sampling); CPU from the kernel's count of the
    waited-for tree; the output captured; a failing command raises with its output."""
    from ngs.bench import run_measured

    cmd = [sys.executable, "-c",
           f"import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', {BURN!r}]); "
           f"exec({HOLD!r}); p.wait(); print('made it')"]
    result = run_measured(cmd)
    assert result["stdout"].strip() == "made it"
    assert 0.6 <= result["cpu_s"] <= 4.0, result
    assert result["peak_rss_mb"] >= 120 and result["seconds"] >= 1.0, result
    with pytest.raises(RuntimeError, match=r"failed \(3\):\n.*no luck"):
        run_measured([sys.executable, "-c", "import sys; print('no luck'); sys.exit(3)"])
