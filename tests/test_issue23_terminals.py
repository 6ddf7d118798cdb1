"""issue 23 item 7, terminals: real processes whose standard input is a pseudo-terminal (`pty`), as an
operator's shell gives them, with standard output and error redirected or piped (operator hunt N2, N6,
old #5): every plan is seen before the one question, the question is seen on the terminal, and with
`--output json` an answer of Ctrl-C or Ctrl-D still leaves exactly one JSON document on stdout."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from remediate.sandbox import Sandbox, build_scenario
from tests.conftest import REMEDIATE, settle

PROMPT = "Enter a value:"


@dataclass
class Session:
    proc: subprocess.Popen[str]
    master: int
    seen: list[str] = field(default_factory=list)

    @property
    def screen(self) -> str:
        return "".join(self.seen)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            assert self.proc.poll() is None, self.screen
            assert time.monotonic() < deadline, self.screen
            time.sleep(0.02)

    def type(self, data: bytes) -> None:
        os.write(self.master, data)


@contextmanager
def on_a_terminal(args: list[str], env: dict[str, str], stdout: Any, stderr: Any) -> Iterator[Session]:
    """`remediate ARGS` with its standard input on a new pty; what the pty shows is `screen`."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([REMEDIATE, *args], env=env, stdin=slave, stdout=stdout, stderr=stderr, text=True)
    os.close(slave)
    session = Session(proc, master)

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            if not chunk:
                return
            session.seen.append(chunk.decode(errors="replace"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield session
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)
        os.close(master)
        reader.join(timeout=5)


def one_document(text: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(text)  # exactly one document: anything more is not valid JSON
    return doc


def drain(master: int, seconds: float = 120) -> bytes:
    """What the process writes to the terminal until it closes it (it ended), at most `seconds`: read as it
    comes, so that a terminal nobody reads never fills up and blocks the process's next write."""
    out = b""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if not select.select([master], [], [], left)[0]:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            return out
        if not chunk:
            return out
        out += chunk
    return out


def test_n6_the_plan_and_the_question_reach_the_terminal_when_both_outputs_are_redirected(
    sandbox: Sandbox, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """`remediate apply --esm ID > apply.log 2> apply.err`: the terminal shows the plan and the question."""
    scn = build_scenario(sandbox, "broker-timeout")
    with (
        (tmp_path / "apply.log").open("w") as out,
        (tmp_path / "apply.err").open("w") as err,
        on_a_terminal(["apply", "--esm", scn.esm_uuid], cli_env, out, err) as term,
    ):
        term.wait_for(PROMPT)
        assert "Plan: 0 to add, 2 to change, 0 to destroy." in term.screen
        assert "BatchSize" in term.screen
        term.type(b"no\n")  # seen and declined: what matters is that it was seen
        assert term.proc.wait(timeout=120) == 3
    assert "Plan: 0 to add, 2 to change, 0 to destroy." in (tmp_path / "apply.log").read_text()
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 500


@pytest.mark.parametrize("output", ["json", "text"])
def test_n2_scan_fix_shows_every_plan_before_its_one_question(
    sandbox: Sandbox, cli_env: dict[str, str], output: str
) -> None:
    """Two broken mappings; `scan --fix` with its output piped shows both plans on the terminal before
    the question, and (JSON) the refusal leaves one JSON document on stdout."""
    timeout = build_scenario(sandbox, "broker-timeout")
    nat = build_scenario(sandbox, "scram-no-nat")
    with on_a_terminal(
        ["scan", "--fix", "--output", output], cli_env, subprocess.PIPE, subprocess.PIPE
    ) as term:
        term.wait_for(PROMPT)
        screen = term.screen
        assert f"# ESM {timeout.esm_uuid}" in screen
        assert f"# ESM {nat.esm_uuid}" in screen
        assert "Plan: 0 to add, 2 to change, 0 to destroy." in screen
        assert "Plan: 4 to add" in screen
        term.type(b"no\n")
        out, _err = term.proc.communicate(timeout=120)
        assert term.proc.returncode == 3
    if output == "json":
        assert one_document(out)["schema"] == "remediate/error@1"
    assert settle(sandbox, timeout.esm_uuid)["BatchSize"] == 500


def _answer_json_apply(sandbox: Sandbox, cli_env: dict[str, str], answer: Any) -> tuple[int, str, str]:
    scn = build_scenario(sandbox, "broker-timeout")
    with on_a_terminal(
        ["apply", "--esm", scn.esm_uuid, "--output", "json"], cli_env, subprocess.PIPE, subprocess.PIPE
    ) as term:
        term.wait_for(PROMPT)
        answer(term)
        out, err = term.proc.communicate(timeout=120)
        code = term.proc.returncode
    assert settle(sandbox, scn.esm_uuid)["BatchSize"] == 500
    return code, out, err


def test_old_5_ctrl_c_at_the_question_prints_one_json_document(
    sandbox: Sandbox, cli_env: dict[str, str]
) -> None:
    code, out, err = _answer_json_apply(sandbox, cli_env, lambda t: t.proc.send_signal(signal.SIGINT))
    assert code == 3, err
    doc = one_document(out)
    assert doc["state"] in ("interrupted", "refused")
    assert doc["applied"] == []


def test_old_5_end_of_input_at_the_question_prints_one_json_document(
    sandbox: Sandbox, cli_env: dict[str, str]
) -> None:
    code, out, err = _answer_json_apply(sandbox, cli_env, lambda t: t.type(b"\x04"))
    assert code == 3, err
    doc = one_document(out)
    assert doc["state"] == "refused"
    assert doc["applied"] == []


def test_n24_ctrl_c_at_the_question_ends_the_prompt_line_first(
    sandbox: Sandbox, cli_env: dict[str, str]
) -> None:
    """operator-hunt N24: with everything on one terminal, Ctrl-C at `Enter a value:` printed the
    outcome on the prompt's line (`Enter a value: Aborted; ...`)."""
    scn = build_scenario(sandbox, "broker-timeout")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [REMEDIATE, "apply", "--esm", scn.esm_uuid], env=cli_env, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    seen = b""
    try:
        while PROMPT.encode() not in seen:
            seen += os.read(master, 4096)
        proc.send_signal(signal.SIGINT)
        seen += drain(master, 60)
        assert proc.wait(timeout=10) == 3, seen.decode(errors="replace")[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    after = seen.decode(errors="replace").split(PROMPT, 1)[1]
    assert after.lstrip(" ").removeprefix("^C").startswith(("\r\n", "\n")), after
    assert "nothing was changed" in after


def test_n24_scan_fix_outcomes_are_not_glued_to_the_spinner(
    sandbox: Sandbox, cli_env: dict[str, str]
) -> None:
    """operator-hunt N24: on a terminal, `scan --fix`'s outcome line was printed on the spinner's line
    (`⠧ ESM … is Enabledbb11…: failed: …`)."""
    scn = build_scenario(sandbox, "broker-timeout")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [REMEDIATE, "scan", "--fix", "--auto-approve"], env=cli_env, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    seen = b""
    try:
        seen += drain(master, 120)
        assert proc.wait(timeout=10) in (0, 2), seen.decode(errors="replace")[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    screen = seen.decode(errors="replace")
    outcome = f"{scn.esm_uuid}: done, applied "
    assert outcome in screen, screen
    before = screen.rsplit(outcome, 1)[0]
    # a line of its own: after a newline, or on the line the stopped spinner erased (cursor at column 0)
    assert before.endswith(("\n", "\r\x1b[2K", "\r\x1b[1A\x1b[2K")), repr(before[-80:])
