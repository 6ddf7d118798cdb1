"""Fixtures for end-to-end tests: one sandbox server per session, and the real CLI run against it.

Two ways to run `remediate`, with the same signature and the same result (a `CompletedProcess`):

- `cli` runs it in this process, through the console entry point (`remediate.cli.main`), with the
  environment, argv, stdin, stdout and stderr of a fresh process and its exit code. Most tests use it:
  a subprocess costs most of a second of start-up, and the suite makes hundreds of runs. Like imported
  modules, botocore clients made from the same settings and the parsed playbooks are kept from one
  in-process run to the next.
- `cli_process` runs it in a real process of its own, forked from one that has imported the CLI
  (tests/zygote.py). Use it where the process boundary is the point: signals, kills and crashes, locks
  and races between processes. Start-up itself is tested by the tests that start `remediate` as is.

Either way only the standard AWS environment points the tool at the sandbox, so the code under test
cannot tell it from a real account; and every run doubles as a leak test and an IAM-coverage test.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gc
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from remediate.iam_policy import policy_document
from remediate.sandbox import Sandbox, Scenario
from tests.iam_coverage import uncovered
from tests.kafka_broker import Broker, run_root, shared_broker, stop_if_started
from tests.kafka_broker import missing as kafka_missing

REMEDIATE = str(Path(sys.executable).with_name("remediate"))

# The suite starts many Python subprocesses (the CLI, runbook steps, import probes). Where the environment
# forbids writing bytecode (PYTHONDONTWRITEBYTECODE, usually to keep __pycache__ out of the tree), each of
# them would compile every module of the package again; keep their bytecode in the virtualenv instead.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(Path(sys.prefix) / "pycache"))
CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def pytest_sessionstart(session: pytest.Session) -> None:
    """What the session has imported by now (pytest, moto, botocore, the package) lives to its end:
    the collector need not walk it again at every full collection (`gc.freeze`)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(region="us-east-1") as sb:
        yield sb


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Sandbox:
    """The session's sandbox, emptied before the test (state, faults and call log)."""
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def cli_env(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "REMEDIATE_"))}
    env.update(sandbox.env())
    env.update(
        {
            "REMEDIATE_STATE_DIR": str(tmp_path / "state"),
            "REMEDIATE_ESM_POLL_INTERVAL": "0.05",
            "REMEDIATE_RETRY_BASE_DELAY": "0.05",
            "REMEDIATE_RETRY_MAX_DELAY": "0.5",
            "NO_COLOR": "1",
        }
    )
    return env


def settle(sb: Sandbox, uuid: str) -> dict[str, object]:
    """Read an ESM until its transitional state is over (it lasts a few reads, as on AWS)."""
    for _ in range(30):
        esm: dict[str, object] = sb.client("lambda").get_event_source_mapping(UUID=uuid)
        if esm["State"] in ("Enabled", "Disabled"):
            return esm
    raise AssertionError(f"ESM {uuid} never settled")


def more_functions(sb: Sandbox, scn: Scenario, count: int) -> list[str]:
    """`count` more functions beside the scenario's (its role), each with one mapping on the scenario's
    cluster and topic; their names."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
    lam = sb.client("lambda")
    names = [f"{scn.function_name}-{i}" for i in range(count)]
    for name in names:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=scn.role_arn,
            Handler="index.handler",
            Code={"ZipFile": buffer.getvalue()},
        )
        lam.create_event_source_mapping(
            FunctionName=name, EventSourceArn=scn.cluster_arn, Topics=[scn.topic], StartingPosition="LATEST"
        )
    return names


def vpc_inventory(sb: Sandbox, vpc_id: str) -> dict[str, Any]:
    """What exists in the VPC: endpoints per service, groups by name, rules per group."""
    ec2 = sb.client("ec2")
    by_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    endpoints = ec2.describe_vpc_endpoints(Filters=by_vpc)["VpcEndpoints"]
    groups = ec2.describe_security_groups(Filters=by_vpc)["SecurityGroups"]
    attrs = {
        a: ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=a)
        for a in ("enableDnsSupport", "enableDnsHostnames")
    }
    return {
        "endpoints": Counter(
            e["ServiceName"].rsplit(".", 1)[-1]
            for e in endpoints
            if e["State"] not in ("deleting", "deleted")
        ),
        "groups": Counter(g["GroupName"] for g in groups),
        "rules": {
            g["GroupName"]: sum(
                len(p.get("UserIdGroupPairs", [])) + len(p.get("IpRanges", [])) + len(p.get("Ipv6Ranges", []))
                for p in g["IpPermissions"] + g["IpPermissionsEgress"]
            )
            for g in groups
        },
        "dns": {a: v[a[0].upper() + a[1:]]["Value"] for a, v in attrs.items()},
    }


READ_ONLY_COMMANDS = frozenset({"diagnose", "plan", "scan"})
SECRET_KEYS = ("password", "privateKey", "privateKeyPassword")


def diagnosed(cli: CliRunner, uuid: str, *extra: str) -> list[dict[str, Any]]:
    """The findings of `remediate diagnose --esm UUID --output json EXTRA...` (which must exit 0)."""
    run = cli("diagnose", "--esm", uuid, "--output", "json", *extra)
    assert run.returncode == 0, run.stderr
    found: list[dict[str, Any]] = json.loads(run.stdout)["findings"]
    return found


def secret_fragments(sb: Sandbox) -> set[str]:
    """What must never appear in output: each stored secret value and its sensitive fields."""
    fragments: set[str] = set()
    for value in sb.secret_values():
        fragments.add(value)
        try:
            data = json.loads(value)
        except ValueError:
            continue
        if isinstance(data, dict):
            fragments.update(str(data[k]) for k in SECRET_KEYS if data.get(k))
    key_lines = {line for f in fragments for line in f.splitlines() if len(line) > 20 and "-----" not in line}
    return fragments | key_lines


def _is_probe_run(state_dir: Path, run_id: str) -> bool:
    journal = state_dir / "runs" / f"{run_id}.jsonl"
    if not journal.is_file():
        return False
    first = journal.read_text().partition("\n")[0]
    return bool(first) and json.loads(first).get("event") == "probe"


def _check_run(
    sandbox: Sandbox,
    state_dir: Path,
    args: Sequence[str],
    result: subprocess.CompletedProcess[str],
    seen: int,
) -> None:
    # Every CLI run of the suite doubles as a leak test: no secret value in any output or log.
    journals = (
        "".join(p.read_text() for p in state_dir.rglob("*") if p.is_file()) if state_dir.exists() else ""
    )
    for fragment in secret_fragments(sandbox):
        assert fragment not in result.stdout, "a secret value leaked to stdout"
        assert fragment not in result.stderr, "a secret value leaked to stderr"
        assert fragment not in journals, "a secret value leaked to the journal"
    # ... and an IAM test: every call it made is allowed by the policy the tool declares for it.
    mode = "diagnose" if args and args[0] in READ_ONLY_COMMANDS and "--fix" not in args else "apply"
    if args and (args[0] == "probe" or {"--probe-from-vpc", "--sweep-probes"} & set(args)):  # issue 22
        mode = "probe"
    if len(args) > 1 and args[0] == "rollback" and _is_probe_run(state_dir, args[1]):  # issue 22
        mode = "probe"  # rolling back a probe run deletes its function: the probe's rights
    calls = sandbox.calls[seen:]
    # Calls that are not the tool's own: the local runner assumes the runbook's role, as Automation
    # does; starting an execution is the starter's right (`iam-policy --for starter`).
    theirs = {"ssm-run": ("sts", "AssumeRole"), "ssm-start": ("ssm", "StartAutomationExecution")}
    if args and args[0] in theirs:
        calls = [c for c in calls if c != theirs[args[0]]]
    policy = policy_document(mode)
    if args and args[0] == "ssm-run" and "--allow-probe" in args:  # issue 27, item 7
        # The runbook's role of a deployment that opted in to the probe, as the templates build it.
        from remediate.iam_policy import automation_policy
        from remediate.write_scope import WriteScope

        mode = "the runbook role with AllowProbe"
        policy = automation_policy(
            partition="aws",
            account="123456789012",
            role_name="automation",
            bucket="remediate-state",
            scope=WriteScope(role_path="/service-role/"),
            probe=True,
        )
    missing = uncovered(calls, policy)
    assert not missing, f"`remediate {' '.join(args)}` called {missing}, not in iam-policy --mode {mode}"


_IN_PROCESS = threading.Lock()
_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)


@contextlib.contextmanager
def _as_a_fresh_process(
    args: Sequence[str], env: dict[str, str], stdin: str
) -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """What a new `remediate` process would have, for the time of one in-process run, then put back:
    environment, argv, standard streams (not terminals), cwd, signal handlers, logging and warnings,
    and the registered secret values (a new process has none)."""
    from remediate import log

    saved_env = dict(os.environ)
    saved_argv, saved_streams = sys.argv, (sys.stdin, sys.stdout, sys.stderr)
    saved_cwd = os.getcwd()
    saved_handlers = {s: signal.getsignal(s) for s in _SIGNALS}
    root = logging.getLogger()
    saved_logging = (list(root.handlers), root.level)
    saved_log = _log_state()
    with log._secrets_lock:  # a new process has registered no secret value yet
        log._secrets.clear()
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    # Without a terminal, click and rich fall back to 80 columns, as in a subprocess with pipes.
    os.environ.update({"COLUMNS": "80", "LINES": "24", **env})
    sys.argv = ["remediate", *args]
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        with warnings.catch_warnings():
            yield out, err
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        sys.argv = saved_argv
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        for sig, handler in saved_handlers.items():
            signal.signal(sig, handler)
        root.handlers[:], root.level = saved_logging
        _restore_log_state(saved_log)


def _log_state() -> tuple[set[str], Any, bool, dict[str, Any] | None]:
    """`remediate.log`'s process-wide state (registered secrets, configuration) and structlog's."""
    from remediate import log

    with log._secrets_lock:
        secrets = set(log._secrets)
    structlog = sys.modules.get("structlog")
    return secrets, log._config, log._applied, structlog.get_config() if structlog else None


def _restore_log_state(state: tuple[set[str], Any, bool, dict[str, Any] | None]) -> None:
    from remediate import log

    secrets, log._config, log._applied, structlog_config = state
    with log._secrets_lock:
        log._secrets.clear()
        log._secrets.update(secrets)
    structlog = sys.modules.get("structlog")
    if structlog is not None:
        if structlog_config is None:
            structlog.reset_defaults()
        else:
            structlog.configure(**structlog_config)


def _exit_status(code: object) -> int:
    """The status a process exiting with `sys.exit(code)` would have."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


_CLIENTS: dict[tuple[Any, ...], Any] = {}


@contextlib.contextmanager
def _clients_kept_across_runs() -> Iterator[None]:
    """In-process runs share botocore clients, as they share imported modules.

    Making a client is most of an in-process run's CPU (botocore builds a class with a method per
    operation, EC2 has hundreds, and copies the session's event handlers), and a real process makes its
    clients once. So a client is reused by a later in-process run when everything it was made from is
    the same: service, region, profile, timeouts, pool size, the credentials and every `AWS_*` variable
    (endpoints, config files). Only credentials from the environment are compared; others (SSO, roles,
    files) make their own clients, as do `--debug` runs, which register handlers on theirs. The cold
    path stays covered: the first run of each worker, and every `cli_process` run.
    """
    from remediate.aws import Aws

    make = Aws._new_client

    def reused(self: Aws, service: str, region: str) -> Any:
        if self._debug or self._session is None:
            return make(self, service, region)
        try:
            credentials = self._session.get_credentials()
        except Exception:  # noqa: BLE001 - a broken setup: the tool's own path says what it says
            return make(self, service, region)
        if credentials is not None and credentials.method != "env":  # refreshable (SSO, roles): not kept
            return make(self, service, region)
        key = (
            service,
            region,
            self._profile,
            self.connect_timeout,
            self.read_timeout,
            self._max_pool,
            credentials.get_frozen_credentials() if credentials is not None else None,
            tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_"))),
        )
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = make(self, service, region)
        return client

    with mock.patch.object(Aws, "_new_client", reused):
        yield


_PLAYBOOKS: dict[tuple[Any, ...], Any] = {}


@contextlib.contextmanager
def _playbooks_kept_across_runs() -> Iterator[None]:
    """In-process runs share the playbooks a directory held, as long as no file in it changed (name, size,
    modification time): a process parses them once, and the models are frozen."""
    from remediate.run import playbook

    load_dir = playbook.load_dir

    def kept(directory: Path) -> Any:
        files = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
        stats = ((p.name, p.stat()) for p in files)
        key = (str(directory), *((name, st.st_size, st.st_mtime_ns) for name, st in stats))
        if key not in _PLAYBOOKS:
            _PLAYBOOKS[key] = load_dir(directory)
        books, errors = _PLAYBOOKS[key]
        return list(books), list(errors)

    with mock.patch.object(playbook, "load_dir", kept):
        yield


_BUILT: dict[str, tuple[Any, Any, int] | None] = {}


@pytest.fixture(scope="session", autouse=True)
def _scenarios_restored_not_rebuilt() -> Iterator[None]:
    """A scenario built into a freshly reset sandbox is kept as a snapshot (remediate/sandbox/snapshot.py)
    and restored when a later test of this worker builds it again into a freshly reset sandbox.

    Building is dozens of API calls; the suite builds the same scenarios hundreds of times; a restore is
    a few milliseconds of copying. Only from a fresh sandbox (no call since the reset, no backend made,
    no fault) to the same options and sandbox settings; a snapshot holding metric data or log events
    (stamped with their time) only within the minute it was built in, so that their age is what a fresh
    build would give; a scenario whose state cannot be copied is built each time."""
    from remediate.sandbox import scenarios
    from remediate.sandbox import snapshot as snapshots

    build = scenarios.build

    @functools.wraps(build)  # the real builder stays reachable as `scenarios.build.__wrapped__`
    def restored(sb: Sandbox, options: Any) -> Any:
        if sb.calls or not sb.faults.idle or not snapshots.empty():
            return build(sb, options)
        key = repr((options, sb.region, sb.esm_transition_reads, sb.endpoint_pending_reads, sb.clock_offset))
        minute = int(time.time() // 60)
        kept = _BUILT.get(key)
        if kept is not None and (not kept[0].stamped or kept[2] == minute):
            sb.restore(kept[0])
            return kept[1]
        scenario = build(sb, options)
        if key not in _BUILT or kept is not None:
            try:
                _BUILT[key] = (sb.snapshot(), scenario, minute)
            except snapshots.SnapshotError:
                _BUILT[key] = None
        return scenario

    with mock.patch.object(scenarios, "build", restored):
        yield


def run_in_process(args: Sequence[str], env: dict[str, str], stdin: str) -> subprocess.CompletedProcess[str]:
    """`remediate ARGS` through the console entry point, in this process, as a fresh process would run."""
    from remediate.cli import main

    with (
        _IN_PROCESS,
        _as_a_fresh_process(args, env, stdin) as (out, err),
        _clients_kept_across_runs(),
        _playbooks_kept_across_runs(),
    ):
        try:
            # A copied context: whatever the run binds (run id, ESM) does not outlive it.
            contextvars.copy_context().run(main)
            status = 0
        except SystemExit as exc:
            status = _exit_status(exc.code)
        except Exception:  # noqa: BLE001 - as the interpreter does: print it, exit 1
            traceback.print_exc()  # what the interpreter prints for an uncaught exception, exit 1
            status = 1
    return subprocess.CompletedProcess([REMEDIATE, *args], status, out.getvalue(), err.getvalue())


@pytest.fixture
def cli(cli_env: dict[str, str], sandbox: Sandbox) -> CliRunner:
    """`cli("plan", "--esm", uuid, input=None, env=None)`: run remediate in this process (see the module
    docstring); stdin is not a terminal. `timeout` is accepted for `cli_process` compatibility."""

    def run(
        *args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        seen = len(sandbox.calls)
        result = run_in_process(args, {**cli_env, **(env or {})}, input or "")
        _check_run(sandbox, Path(cli_env["REMEDIATE_STATE_DIR"]), args, result, seen)
        return result

    return run


@pytest.fixture
def cli_process(cli_env: dict[str, str], sandbox: Sandbox) -> CliRunner:
    """`cli_process(...)`: like `cli`, in a real process of its own (forked from the worker's zygote, which
    has imported the CLI: tests/zygote.py). For signals, kills, crashes, locks and races between
    processes: wherever the process boundary is what the test is about."""
    from tests import zygote

    def run(
        *args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        seen = len(sandbox.calls)
        proc = zygote.shared().spawn(
            [REMEDIATE, *args],
            {**cli_env, **(env or {})},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            out, err = proc.communicate(input or "", timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
        result = subprocess.CompletedProcess([REMEDIATE, *args], proc.returncode, out, err)
        _check_run(sandbox, Path(cli_env["REMEDIATE_STATE_DIR"]), args, result, seen)
        return result

    return run


@pytest.fixture
def aws_env(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """This process's environment pointed at the sandbox, for code called in-process (the SSM handlers)
    that reads AWS through the standard chain, as it does in the SSM runtime."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("REMEDIATE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("REMEDIATE_ESM_POLL_INTERVAL", "0.05")
    monkeypatch.setenv("REMEDIATE_RETRY_BASE_DELAY", "0.05")
    return sandbox


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A port whose TCP handshake completes (the listen backlog) but that never says a word: a broker, or an
    AWS endpoint, that a VPC cannot really reach."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


# issue 22: one real Apache Kafka broker per test run, shared by the xdist workers (tests/kafka_broker.py).
@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Broker:
    reason = kafka_missing()
    if reason:
        pytest.skip(reason)
    return shared_broker(run_root(tmp_path_factory.getbasetemp()))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not hasattr(session.config, "workerinput"):  # the run's controller, after every worker is done
        stop_if_started(run_root(session.config._tmp_path_factory.getbasetemp()))  # type: ignore[attr-defined]
