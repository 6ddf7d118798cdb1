"""One real Apache Kafka broker (KRaft, loopback) for the whole test run, shared by every pytest-xdist worker.

The jars come from Maven Central through tests/kafka/pom.xml (the Makefile's `kafka-jars` step copies them
into tests/kafka/lib, gitignored). Where `java` or the jars are missing, `broker_or_skip` skips with one line.

Sharing across workers: the run's root temporary directory (the parent of each xdist worker's basetemp, or
the basetemp itself without xdist) holds `kafka.lock` and `kafka.json`. The first worker to take the lock
starts the broker and writes the state file; the others read it. The broker is stopped by the run's
controller process at session end (`stop_if_started`, called from conftest's `pytest_sessionfinish`), and a
small watchdog process ends it too if the run is killed (it polls the controller's pid).

The broker is configured as the probe's cases need:
- PLAINTEXT (and the controller listener): principal User:ANONYMOUS, a super user, used for set-up.
- SASL_SSL with SCRAM-SHA-512: users created at format time with `kafka-storage format --add-scram`, the
  KRaft way of creating SCRAM credentials before the first start (MSK creates them from a Secrets Manager
  secret's username/password, SCRAM-SHA-512 only).
- SSL with required client certificates issued by a private CA that this module makes (tests/tls_factory).
- WRONGHOST: TLS with a server certificate for another host name.
- ADVBAD: PLAINTEXT that advertises a broker name that does not resolve (`*.invalid`, RFC 6761).
- StandardAuthorizer with ACLs; auto topic creation off (as on MSK by default).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests import tls_factory as tf

LIB = Path(__file__).parent / "kafka" / "lib"
SCRAM_USER = "probe-user"
SCRAM_PASSWORD = "probe-password-not-a-secret"
CLIENT_CN = "probe-client"
ALLOWED_TOPIC = "orders"
DENIED_TOPIC = "payroll"
ALLOWED_GROUP = "probe-group"
DENIED_GROUP = "other-group"
START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Broker:
    """What a test needs to reach the shared broker: ports per listener and the PEM material."""

    plaintext: int
    sasl_ssl: int
    ssl: int
    wronghost: int
    advbad: int
    closed: int
    ca_pem: str
    client_cert_pem: str
    client_key_pem: str
    rogue_cert_pem: str
    rogue_key_pem: str
    pid: int
    workdir: str


def missing() -> str | None:
    """Why the broker cannot start here, or None."""
    if shutil.which("java") is None:
        return "java not found: the real-Kafka tests skip (install Java 17 and run `make kafka-jars`)"
    if not (LIB / ".fetched").exists():
        return "Kafka's jars not in tests/kafka/lib: the real-Kafka tests skip (make kafka-jars; needs Maven)"
    return None


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _java(workdir: Path, main: str, *args: str, **kw: Any) -> subprocess.Popen[bytes]:
    cmd = ["java", "-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
    cmd += ["-cp", str(LIB / "*"), main, *args]
    return subprocess.Popen(cmd, cwd=workdir, **kw)


def _properties(workdir: Path, ports: dict[str, int], pem: dict[str, Path]) -> str:
    listeners = {
        "PLAINTEXT": "127.0.0.1",
        "SASL_SSL": "localhost",
        "SSL": "localhost",
        "WRONGHOST": "localhost",
        "ADVBAD": "b-1.broker.invalid",
    }
    lines = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{ports['CONTROLLER']}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listeners": ",".join(f"{n}://127.0.0.1:{ports[n]}" for n in [*listeners, "CONTROLLER"]),
        "advertised.listeners": ",".join(f"{n}://{h}:{ports[n]}" for n, h in listeners.items()),
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL,WRONGHOST:SSL,"
        "ADVBAD:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(workdir / "data"),
        "auto.create.topics.enable": "false",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": "User:ANONYMOUS",
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        ),
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(pem["server"]),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(pem["ca"]),
        "listener.name.ssl.ssl.client.auth": "required",
        "listener.name.wronghost.ssl.keystore.type": "PEM",
        "listener.name.wronghost.ssl.keystore.location": str(pem["wronghost"]),
    }
    return "".join(f"{k}={v}\n" for k, v in lines.items())


def _wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Ready when the broker answers Metadata on PLAINTEXT listing itself: a condition, not a sleep."""
    from kafka.admin import KafkaAdminClient

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Kafka exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{port}", request_timeout_ms=10000)
            try:
                if admin.describe_cluster().get("brokers"):
                    return
            finally:
                admin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(0.2)  # returns early if the broker dies
    raise RuntimeError(f"Kafka not ready after {START_TIMEOUT_S}s:\n{log.read_text()[-4000:]}")


def _set_up(port: int) -> None:
    """Topics and ACLs, made through the super user on PLAINTEXT with kafka-python's admin client."""
    from kafka.admin import (
        ACL,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        KafkaAdminClient,
        NewTopic,
        ResourcePattern,
        ResourceType,
    )

    admin = KafkaAdminClient(bootstrap_servers=f"127.0.0.1:{port}", request_timeout_ms=30000)
    try:
        admin.create_topics([NewTopic(t, 2, 1) for t in (ALLOWED_TOPIC, DENIED_TOPIC)])
        acls = []
        for principal in (f"User:{SCRAM_USER}", f"User:CN={CLIENT_CN}"):
            for kind, name, pattern in (
                (ResourceType.TOPIC, ALLOWED_TOPIC, ACLResourcePatternType.PREFIXED),
                (ResourceType.GROUP, ALLOWED_GROUP, ACLResourcePatternType.LITERAL),
            ):
                for op in (ACLOperation.READ, ACLOperation.DESCRIBE):
                    acls.append(
                        ACL(principal, "*", op, ACLPermissionType.ALLOW, ResourcePattern(kind, name, pattern))
                    )
        result = admin.create_acls(acls)
        if result.get("failed"):
            raise RuntimeError(f"ACLs not created: {result['failed']}")
    finally:
        admin.close()


def _start(root: Path, controller_pid: int) -> Broker:
    workdir = root / "kafka"
    workdir.mkdir(parents=True, exist_ok=True)
    names = ["PLAINTEXT", "SASL_SSL", "SSL", "WRONGHOST", "ADVBAD", "CONTROLLER", "CLOSED"]
    ports = dict(zip(names, _free_ports(len(names)), strict=True))
    authority, rogue_ca = tf.ca("Probe Test CA"), tf.ca("Rogue CA")
    server = tf.leaf(authority, "localhost", dns_names=("localhost",), ips=("127.0.0.1",))
    wronghost = tf.leaf(authority, "kafka.elsewhere.test", dns_names=("kafka.elsewhere.test",))
    client, rogue = tf.leaf(authority, CLIENT_CN), tf.leaf(rogue_ca, CLIENT_CN)
    pem = {"ca": workdir / "ca.pem", "server": workdir / "server.pem", "wronghost": workdir / "wronghost.pem"}
    pem["ca"].write_text(authority.cert_pem)
    pem["server"].write_text(server.key_pem + server.cert_pem)
    pem["wronghost"].write_text(wronghost.key_pem + wronghost.cert_pem)
    props = workdir / "server.properties"
    props.write_text(_properties(workdir, ports, pem))
    log = workdir / "kafka.log"
    scram = f"SCRAM-SHA-512=[name={SCRAM_USER},password={SCRAM_PASSWORD}]"
    with log.open("ab") as out:
        fmt = _java(
            workdir,
            "kafka.tools.StorageTool",
            "format",
            "-t",
            str(uuid.uuid4().hex[:22]),
            "-c",
            str(props),
            "--add-scram",
            scram,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        if fmt.wait(START_TIMEOUT_S) != 0:
            raise RuntimeError(f"kafka-storage format failed:\n{log.read_text()[-4000:]}")
        proc = _java(
            workdir, "kafka.Kafka", str(props), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    _watchdog(controller_pid, proc.pid, workdir)
    _wait_ready(proc, ports["PLAINTEXT"], log)
    _set_up(ports["PLAINTEXT"])
    return Broker(
        plaintext=ports["PLAINTEXT"],
        sasl_ssl=ports["SASL_SSL"],
        ssl=ports["SSL"],
        wronghost=ports["WRONGHOST"],
        advbad=ports["ADVBAD"],
        closed=ports["CLOSED"],
        ca_pem=authority.cert_pem,
        client_cert_pem=client.cert_pem,
        client_key_pem=client.key_pem,
        rogue_cert_pem=rogue.cert_pem,
        rogue_key_pem=rogue.key_pem,
        pid=proc.pid,
        workdir=str(workdir),
    )


_WATCHDOG = """
import os, signal, sys, time
run, broker = int(sys.argv[1]), int(sys.argv[2])
def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
while alive(run) and alive(broker):
    time.sleep(1)
if alive(broker):
    os.killpg(broker, signal.SIGKILL)
"""


def _watchdog(controller_pid: int, broker_pid: int, workdir: Path) -> None:
    """Ends the broker if the test run dies without its session-finish hook (kill -9, a crash)."""
    subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(controller_pid), str(broker_pid)],
        cwd=workdir,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run_root(basetemp: Path) -> Path:
    """The directory every worker of this run shares."""
    return basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp


def controller_pid() -> int:
    """The pid of the process that runs the whole session: xdist's controller is each worker's parent."""
    return os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()


def shared_broker(root: Path) -> Broker:
    """The run's broker: started by the first worker that asks, read from the state file by the others."""
    state = root / "kafka.json"
    with (root / "kafka.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if state.exists():
            data = json.loads(state.read_text())
            if "error" in data:
                raise RuntimeError(data["error"])
            return Broker(**data)
        try:
            broker = _start(root, controller_pid())
        except Exception as exc:
            state.write_text(json.dumps({"error": str(exc)}))
            raise
        state.write_text(json.dumps(asdict(broker)))
        return broker


def stop_if_started(root: Path) -> None:
    """Called once by the run's controller at session end. The broker is throwaway (its data lives in the
    run's temporary directory), so it is killed outright rather than shut down in order."""
    state = root / "kafka.json"
    if not state.exists():
        return
    pid = json.loads(state.read_text()).get("pid")
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)  # reaps it where this process started it (a run without xdist)
    state.unlink()
