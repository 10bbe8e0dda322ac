"""`ngs spark up|down|status`: a local Spark standalone cluster for trying the Spark engine on one machine.

Started from pyspark's own launchers (its wheel ships bin/spark-class and bin/spark-submit, not the
sbin/start-*.sh scripts): one master, N workers (NGS_SPARK_WORKERS, each NGS_SPARK_WORKER_CORES cores and
NGS_SPARK_WORKER_MEMORY), and with --thrift the Spark thrift server (HiveServer2 protocol) for dbt's
`spark_thrift` target and Superset. Each runs in its own session (process group); its PID, command and log
live in NGS_SPARK_RUN_DIR; `down` stops each by its PID (its process group: a worker's executors with it).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ngs.errors import NgsError
from ngs.spark import settings as spark_settings

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
THRIFT_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
START_TIMEOUT_S = float(os.environ.get("NGS_SPARK_START_TIMEOUT", "180"))
STOP_TIMEOUT_S = 20.0


class SparkSetupError(NgsError):
    """pyspark or Java is missing, a port is taken, or a cluster process did not start."""


def spark_home() -> Path:
    """pyspark's install folder (it is a complete SPARK_HOME: bin/, jars/); an error when pyspark is absent."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        raise SparkSetupError("pyspark is not installed in this environment: run `make venv-spark` "
                              "(installs requirements-spark.txt)")
    home = Path(list(spec.submodule_search_locations)[0])
    if not (home / "bin" / "spark-class").exists():
        raise SparkSetupError(f"{home}/bin/spark-class not found: reinstall pyspark (make venv-spark)")
    return home


def java_binary() -> str:
    """The java Spark will use (JAVA_HOME first, then PATH); an error saying how to install it when absent."""
    java_home = os.environ.get("JAVA_HOME", "").strip()
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.exists():
            return str(candidate)
        raise SparkSetupError(f"JAVA_HOME={java_home} has no bin/java: fix JAVA_HOME or unset it")
    found = shutil.which("java")
    if not found:
        raise SparkSetupError("Java is not installed (Spark 4 needs Java 17 or 21): "
                              "apt-get install -y openjdk-17-jre-headless")
    return found


def spark_env() -> dict[str, str]:
    """The environment for Spark's launchers and the JVMs they start."""
    home = spark_home()
    java_binary()
    env = dict(os.environ)
    env["SPARK_HOME"] = str(home)
    env["PYSPARK_PYTHON"] = sys.executable  # executors run this interpreter (the venv: ngs and its pins)
    env.setdefault("SPARK_LOCAL_IP", spark_settings.load().host)
    env.setdefault("SPARK_NO_DAEMONIZE", "1")
    return env


@dataclass
class Managed:
    name: str
    pid: int
    command: list[str]
    log: str
    started: float

    def alive(self) -> bool:
        """The process exists and is still the one we started: not a zombie, and its command line names the
        same main class (an empty command line is a process in the middle of exec'ing: still ours)."""
        proc = _children.get(self.pid)
        if proc is not None:  # started by this process: its exit status is the authority
            return proc.poll() is None
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return False
            cmdline = Path(f"/proc/{self.pid}/cmdline").read_bytes()
        except (OSError, IndexError):
            return False
        main_class = next((c for c in self.command if c.startswith("org.apache.spark.")), "")
        return not cmdline.strip(b"\0") or main_class.encode() in cmdline


_children: dict[int, subprocess.Popen] = {}  # what this process started (for exit statuses)


def _exit_note(managed: Managed) -> str:
    proc = _children.get(managed.pid)
    code = proc.poll() if proc is not None else None
    return f" with status {code}" if code is not None else ""


def _pid_file(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.json"


def _load(run_dir: Path) -> list[Managed]:
    out = []
    for path in sorted(run_dir.glob("*.json")):
        try:
            out.append(Managed(**json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            path.unlink(missing_ok=True)  # a torn record from an interrupted `up`: nothing to stop by it
    return out


def _port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def _log_tail(path: str, lines: int = 5) -> str:
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    errors = [ln for ln in text if "ERROR" in ln or "Exception" in ln]
    return "\n    ".join((errors or text)[-lines:])


def _start(name: str, command: list[str], run_dir: Path, env: dict[str, str]) -> Managed:
    log = run_dir / f"{name}.log"
    with open(log, "wb") as out:
        # a new session: no terminal signal reaches it, and `down` can stop its whole process group
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, cwd=run_dir, start_new_session=True)
    managed = Managed(name=name, pid=proc.pid, command=command, log=str(log), started=time.time())
    _children[proc.pid] = proc
    _pid_file(run_dir, name).write_text(json.dumps(managed.__dict__))
    return managed


def _wait(what: str, managed: Managed, ready, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if not managed.alive():
            raise SparkSetupError(f"{what} exited during start-up{_exit_note(managed)} (log {managed.log}):\n"
                                  f"    {_log_tail(managed.log) or '(empty log)'}")
        time.sleep(0.5)
    raise SparkSetupError(f"{what} not ready after {timeout:.0f} s (log {managed.log}):\n    {_log_tail(managed.log)}")


def _log_has(path: str, text: str) -> bool:
    try:
        return text in Path(path).read_text(errors="replace")
    except OSError:
        return False


def status(run_dir: Path | None = None) -> list[tuple[Managed, bool]]:
    run_dir = run_dir or spark_settings.load().run_dir
    return [(m, m.alive()) for m in _load(run_dir)] if run_dir.exists() else []


def up(thrift: bool = False, quiet: bool = False) -> list[Managed]:
    """Start master + workers (+ thrift server); on any failure stop what this call started and raise."""
    cfg = spark_settings.load()
    env = spark_env()
    home = Path(env["SPARK_HOME"])
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    running = [m for m, alive in status(cfg.run_dir) if alive]
    if running:
        names = ", ".join(f"{m.name} (pid {m.pid})" for m in running)
        raise SparkSetupError(f"a local Spark cluster is already running: {names}; `ngs spark down` first")
    for stale in cfg.run_dir.glob("*.json"):
        stale.unlink()
    ports = [("master", cfg.master_port)] + ([("thrift server", cfg.thrift_port)] if thrift else [])
    for what, port in ports:
        if _port_open(cfg.host, port):
            raise SparkSetupError(f"port {cfg.host}:{port} for the {what} is already in use "
                                  f"(another Spark? set NGS_SPARK_MASTER_PORT / NGS_SPARK_THRIFT_PORT)")

    spark_class = str(home / "bin" / "spark-class")
    webui = str(cfg.master_webui_port) if cfg.master_webui_port else "0"  # 0: any free port
    started: list[Managed] = []
    say = (lambda *_: None) if quiet else (lambda msg: print(msg, flush=True))
    try:
        master = _start("master", [spark_class, MASTER_CLASS, "--host", cfg.host, "--port", str(cfg.master_port),
                                   "--webui-port", webui], cfg.run_dir, env)
        started.append(master)
        _wait("Spark master", master, lambda: _port_open(cfg.host, cfg.master_port), START_TIMEOUT_S)
        say(f"master  {cfg.cluster_url} (pid {master.pid})")
        for i in range(1, cfg.workers + 1):
            work_dir = cfg.run_dir / f"worker-{i}"
            work_dir.mkdir(exist_ok=True)
            worker = _start(f"worker-{i}", [spark_class, WORKER_CLASS, "--host", cfg.host,
                                            "--cores", str(cfg.worker_cores), "--memory", cfg.worker_memory,
                                            "--webui-port", "0", "--work-dir", str(work_dir), cfg.cluster_url],
                            cfg.run_dir, env)
            started.append(worker)
        for worker in started[1:]:
            _wait(f"Spark {worker.name}", worker, lambda w=worker: _log_has(w.log, "Successfully registered with master"),
                  START_TIMEOUT_S)
            say(f"{worker.name} {cfg.worker_cores} core(s), {cfg.worker_memory} (pid {worker.pid})")
        if thrift:
            conf = cfg.session_conf() | {"spark.master": cfg.cluster_url, "spark.app.name": "ngs-thrift"}
            conf.pop("spark.pyspark.driver.python")
            cfg.warehouse_dir.mkdir(parents=True, exist_ok=True)
            cfg.metastore_dir.mkdir(parents=True, exist_ok=True)
            command = [str(home / "bin" / "spark-submit"), "--class", THRIFT_CLASS, "--master", cfg.cluster_url]
            for key, value in conf.items():
                command += ["--conf", f"{key}={value}"]
            command += ["spark-internal", "--hiveconf", f"hive.server2.thrift.bind.host={cfg.host}",
                        "--hiveconf", f"hive.server2.thrift.port={cfg.thrift_port}"]
            server = _start("thrift", command, cfg.run_dir, env)
            started.append(server)
            _wait("Spark thrift server", server, lambda: _port_open(cfg.host, cfg.thrift_port), START_TIMEOUT_S)
            say(f"thrift  {cfg.host}:{cfg.thrift_port} (pid {server.pid})")
    except BaseException:
        _stop_all(started)
        for m in started:
            _pid_file(cfg.run_dir, m.name).unlink(missing_ok=True)
        raise
    say(f"logs and PIDs in {cfg.run_dir}; stop with `ngs spark down`")
    return started


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the group we created with start_new_session: the JVM and its children
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


def _stop_all(procs: list[Managed]) -> list[str]:
    alive = [m for m in procs if m.alive()]
    for m in reversed(alive):  # thrift server and workers before the master
        _signal_group(m.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline and any(m.alive() for m in alive):
        time.sleep(0.3)
    for m in alive:  # what did not stop in time, and any child left in its group (executors, Python workers)
        _signal_group(m.pid, signal.SIGKILL)
    for m in alive:  # reap our own children (when `up` failed in this process)
        proc = _children.pop(m.pid, None)
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
    return [m.name for m in alive]


def down(quiet: bool = False) -> list[str]:
    cfg = spark_settings.load()
    procs = _load(cfg.run_dir) if cfg.run_dir.exists() else []
    stopped = _stop_all(procs)
    for m in procs:
        _pid_file(cfg.run_dir, m.name).unlink(missing_ok=True)
    if not quiet:
        print(f"stopped: {', '.join(stopped)}" if stopped else "no local Spark cluster was running")
    return stopped


def cli_main(args: argparse.Namespace) -> int:
    if args.action != "dbt" and args.dbt_args:
        raise SparkSetupError(f"`ngs spark {args.action}` takes no arguments (got {' '.join(args.dbt_args)})")
    if args.action == "up":
        up(thrift=args.thrift)
        return 0
    if args.action == "down":
        down()
        return 0
    if args.action == "status":
        rows = status()
        if not rows:
            print("no local Spark cluster (nothing recorded in NGS_SPARK_RUN_DIR)")
            return 1
        for m, alive in rows:
            print(f"{m.name:9s} pid {m.pid:<8d} {'running' if alive else 'stopped'}  log {m.log}")
        return 0 if all(alive for _, alive in rows) else 1
    if args.action == "dbt":
        from ngs.spark.launcher import cli_main as launch

        return launch(args)
    raise SparkSetupError(f"unknown action {args.action!r}")
