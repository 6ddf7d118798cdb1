"""Real `remediate` processes without paying for their start-up each time: forked from a process that has
already imported the CLI (a zygote, as Android and Chromium start their processes).

A fresh `remediate apply` spends half of its CPU (0.4 of 0.8 s) starting the interpreter and importing
boto3, pydantic and the package; the safety tests start over a hundred of them. Each one here is forked
from a server that imported all of that once, then made what a fresh process is: its own standard
streams (passed over a Unix socket), environment, working directory, argv and random state, and runs the
console entry point as the installed script does (`sys.exit(main())`), exiting through the interpreter's
normal shutdown. It is a real process with a pid of its own: signals, kills, locks and races act on it as
on any other. What it does not repeat is the import of modules already imported: cold start-up is
covered by the tests that start `remediate` themselves (test_lazy_start, the terminal and drift tests)
and by `bench/startup_bench.py`.

The server runs as `python -m tests.zygote SOCKET`; `Zygote.spawn` returns a `ForkedProcess`, which
answers like `subprocess.Popen` (pid, returncode, poll, wait, communicate, send_signal, kill) for the
tests' use. The server ends when its standard input closes (the test worker ended).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import pkgutil
import random
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

_ROOT = Path(__file__).resolve().parent.parent
_STREAMS = 3  # stdin, stdout, stderr
_MESSAGE = 1 << 20


# --- the server ---------------------------------------------------------------------------------------


def _preload() -> None:
    """Import what a command imports: the package (but the sandbox, which is moto, and the probe's
    function), boto3's clients, rich. A module that cannot be imported here is left to the child, as a
    fresh process would."""
    import remediate

    def walk(path: list[str], prefix: str) -> None:
        for module in pkgutil.iter_modules(path, prefix):
            if module.name.startswith(("remediate.sandbox", "remediate.probe_function")):
                continue  # not even imported to be walked (pkgutil.walk_packages would)
            with contextlib.suppress(Exception):
                imported = importlib.import_module(module.name)
                if module.ispkg:
                    walk(list(imported.__path__), f"{module.name}.")

    for name in ("remediate.cli", "boto3", "botocore.session", "botocore.client", "rich.console"):
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    walk(list(remediate.__path__), "remediate.")


def _become(request: dict[str, Any], fds: list[int]) -> None:
    """In the forked child: take the request's streams, environment, directory and argv, then run the
    entry point. Never returns: SystemExit (or any exception) unwinds to the interpreter's exit."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    # The zygote's stdio objects now write to and read from the child's streams (the zygote never read
    # its stdin, nor left output unflushed); stdout is line-buffered on a terminal, as at start-up.
    sys.stdout.reconfigure(line_buffering=os.isatty(1))
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sys.argv = list(request["argv"])
    main_module = sys.modules["__main__"]  # a script, not `python -m tests.zygote`: click names us by it
    main_module.__package__ = None
    main_module.__spec__ = None
    random.seed()  # the zygote's state would repeat in every child
    from remediate.cli import main

    sys.exit(main())  # as the console script does


def serve(path: str) -> None:
    _preload()
    if threading.active_count() != 1:  # a thread would be forked in the middle of whatever it does
        raise RuntimeError(f"a preloaded module started threads: {threading.enumerate()}")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(sys.stdin, selectors.EVENT_READ, "parent")
    gc.collect()
    gc.freeze()  # no child's collector walks the preloaded objects (and copies their pages in doing so)
    os.close(os.pidfd_open(os.getpid()))  # Linux 5.3: without pidfds, say so before anything is asked
    print("ready", flush=True)
    while True:
        for key, _ in selector.select():
            if key.data == "parent":  # the test worker ended (or closed us): so do we
                return
            if key.data == "accept":
                conn, _ = listener.accept()
                message, fds, _flags, _addr = socket.recv_fds(conn, _MESSAGE, _STREAMS)
                if not message or len(fds) != _STREAMS:  # a client that went away before asking
                    for fd in fds:
                        os.close(fd)
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    for other in list(selector.get_map().values()):  # the other children's, the listener
                        if isinstance(other.data, tuple):
                            os.close(other.fd)
                            other.data[1].close()
                    selector.close()
                    listener.close()
                    conn.close()
                    _become(json.loads(message), fds)
                for fd in fds:
                    os.close(fd)
                pidfd = os.pidfd_open(pid)
                selector.register(pidfd, selectors.EVENT_READ, (pid, conn))
                conn.send(json.dumps({"pid": pid}).encode())
                continue
            pid, conn = key.data  # a child ended: reap it and say how
            selector.unregister(key.fileobj)
            os.close(key.fd)
            _, status = os.waitpid(pid, 0)
            with contextlib.suppress(OSError):
                conn.send(json.dumps({"status": status}).encode())
            conn.close()


# --- the client ---------------------------------------------------------------------------------------


class ForkedProcess:
    """A forked `remediate` process, answering like `subprocess.Popen` (text mode)."""

    def __init__(self, args: list[str], conn: socket.socket, pid: int, streams: list[IO[str] | None]) -> None:
        self.args = args
        self.pid = pid
        self.returncode: int | None = None
        self.stdin, self.stdout, self.stderr = streams
        self._conn = conn

    def _status(self, timeout: float | None) -> bool:
        if self.returncode is not None:
            return True
        self._conn.settimeout(timeout)
        try:
            message = self._conn.recv(_MESSAGE)
        except (TimeoutError, BlockingIOError):
            return False
        finally:
            self._conn.settimeout(None)
        if not message:
            raise RuntimeError(f"the zygote did not say how process {self.pid} ended")
        self.returncode = os.waitstatus_to_exitcode(json.loads(message)["status"])
        self._conn.close()
        return True

    def poll(self) -> int | None:
        self._status(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._status(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(self, input: str | None = None, timeout: float | None = None) -> tuple[str, str]:
        """Feed `input`, read both outputs to their end, wait; as Popen's (threads keep either pipe from
        filling while the other is read)."""
        if self.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                if input:
                    self.stdin.write(input)
                self.stdin.close()
        read: dict[str, str] = {}

        def drain(name: str, stream: IO[str] | None) -> None:
            read[name] = stream.read() if stream is not None else ""

        readers = [
            threading.Thread(target=drain, args=(n, s), daemon=True)
            for n, s in (("out", self.stdout), ("err", self.stderr))
        ]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(timeout)
            if reader.is_alive():
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
        self.wait(timeout)
        for stream in (self.stdout, self.stderr):
            if stream is not None:
                stream.close()
        return read["out"], read["err"]

    def __enter__(self) -> ForkedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        for stream in (self.stdin, self.stdout, self.stderr):
            if stream is not None:
                stream.close()
        self.wait()


class Zygote:
    """The worker's zygote server, started on first use. Where it cannot run (no pidfds: Linux before
    5.3), `spawn` starts ordinary processes instead."""

    def __init__(self, python: str = sys.executable) -> None:
        self._python = python
        self._lock = threading.Lock()
        self._server: subprocess.Popen[str] | None = None
        self._usable = True
        self._dir = tempfile.mkdtemp(prefix="remediate-zygote-")
        self._path = os.path.join(self._dir, "socket")

    def usable(self) -> bool:
        """Whether children are forked (else `spawn` starts ordinary processes)."""
        return self._started()

    def _started(self) -> bool:
        with self._lock:
            if self._server is None and self._usable:
                self._server = subprocess.Popen(
                    [self._python, "-m", "tests.zygote", self._path],
                    cwd=_ROOT,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                assert self._server.stdout is not None
                if self._server.stdout.readline().strip() != "ready":
                    self._server.wait()
                    self._server, self._usable = None, False
            return self._usable

    def spawn(
        self,
        argv: list[str],
        env: dict[str, str],
        *,
        stdin: int | IO[Any] | None = None,
        stdout: int | IO[Any] | None = None,
        stderr: int | IO[Any] | None = None,
        cwd: str | None = None,
    ) -> ForkedProcess | subprocess.Popen[str]:
        """Start `argv` (argv[0] is the `remediate` script) like `Popen(argv, env=env, text=True, ...)`:
        each stream PIPE, DEVNULL, a file or fd, or None (this process's own)."""
        if not self._started():
            return subprocess.Popen(
                argv, env=env, stdin=stdin, stdout=stdout, stderr=stderr, cwd=cwd, text=True
            )
        theirs: list[int] = []
        mine: list[IO[str] | None] = []
        closing: list[int] = []
        for index, spec in enumerate((stdin, stdout, stderr)):
            if spec == subprocess.PIPE:
                read, write = os.pipe()
                child, parent = (read, write) if index == 0 else (write, read)
                theirs.append(child)
                closing.append(child)
                mine.append(open(parent, "w" if index == 0 else "r", encoding="utf-8"))  # noqa: SIM115
            elif spec == subprocess.DEVNULL:
                fd = os.open(os.devnull, os.O_RDWR)
                theirs.append(fd)
                closing.append(fd)
                mine.append(None)
            else:
                theirs.append(index if spec is None else spec if isinstance(spec, int) else spec.fileno())
                mine.append(None)
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            conn.connect(self._path)
            request = {"argv": argv, "env": env, "cwd": cwd or os.getcwd()}
            socket.send_fds(conn, [json.dumps(request).encode()], theirs)
            pid = json.loads(conn.recv(_MESSAGE))["pid"]
        finally:
            for fd in closing:
                os.close(fd)
        return ForkedProcess(argv, conn, pid, mine)

    def close(self) -> None:
        with self._lock:
            if self._server is not None and self._server.stdin is not None:
                self._server.stdin.close()
                self._server.wait(30)
            self._server = None
        with contextlib.suppress(OSError):
            os.unlink(self._path)
        with contextlib.suppress(OSError):
            os.rmdir(self._dir)


_SHARED: list[Zygote] = []


def shared() -> Zygote:
    """This process's zygote (one per test worker), closed when the process exits."""
    if not _SHARED:
        _SHARED.append(Zygote())
        atexit.register(_SHARED[0].close)
    return _SHARED[0]


if __name__ == "__main__":
    serve(sys.argv[1])
