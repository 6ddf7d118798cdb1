"""``python -m remediate.sandbox [--scenario NAME] [--port N]``: run the sandbox in the foreground.

Builds a scenario, prints the environment exports that point the AWS CLI (and ``remediate``) at it, and serves
until Ctrl-C, for trying the CLI by hand.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from collections.abc import Sequence

from remediate.sandbox.scenarios import build_scenario, scenario_names, scenario_options
from remediate.sandbox.server import Sandbox


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m remediate.sandbox", description=__doc__.splitlines()[0])
    # issue 23 (operator-hunt N19): the scenarios are listed with what each shows, not as 99 bare choices
    parser.add_argument(
        "--scenario", default="broker-timeout", metavar="NAME", help="scenario to seed (--list names them)"
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios with their descriptions")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    if args.list:
        width = max(map(len, scenario_names()))
        for name in scenario_names():
            print(f"{name:<{width}}  {scenario_options(name).description}")
        return 0
    if args.scenario not in scenario_names():
        parser.error(f"unknown scenario {args.scenario!r}; --list names them all")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        sb = Sandbox(region=args.region, port=args.port).start()
    except OSError as exc:  # issue 23 (operator-hunt N12): exit 1 at once, not a hang
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    with sb:
        scenario = build_scenario(sb, args.scenario)
        for key, value in sb.env().items():
            print(f"export {key}={shlex.quote(value)}")
        print(f"# scenario {scenario.name}: {scenario.description}")
        print(f"# expected findings: {', '.join(scenario.expected_findings) or 'none'}")
        print(f"ESM_UUID={scenario.esm_uuid}")
        print("# serving; press Ctrl-C to stop", file=sys.stderr, flush=True)
        sys.stdout.flush()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
