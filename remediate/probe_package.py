"""The probe function's deployment package, built at plan time from what is installed here (issue 22).

The zip holds `remediate_probe/` (remediate/probe_function, which imports nothing else of remediate) and the
installed `kafka` package (kafka-python, pure Python) with its licence. boto3 and botocore are not packed:
Lambda's Python runtimes include the AWS SDK for Python. The zip is reproducible (sorted entries, a fixed
timestamp, no bytecode), so the same installation gives the same bytes and the plan can carry its sha256.

Lambda's limits (Lambda developer guide, "Lambda quotas", https://docs.aws.amazon.com/lambda/latest/dg/
gettingstarted-limits.html): a deployment package uploaded directly is at most 50 MB zipped and 250 MB
unzipped; `build` refuses more rather than let CreateFunction fail half-way through an apply.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from remediate.errors import InputError

PACKAGE = "remediate_probe"
MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNZIPPED = 250 * 1024 * 1024
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Package:
    data: bytes
    sha256: str
    unzipped: int


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"the probe needs the Python package {name!r}, which is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _files(root: Path, prefix: str) -> Iterator[tuple[str, Path]]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            yield f"{prefix}/{path.relative_to(root).as_posix()}", path


def _licence() -> Iterator[tuple[str, bytes]]:
    dist = importlib.metadata.distribution("kafka-python")
    for file in dist.files or ():
        if "LICENSE" in file.name.upper():
            yield f"kafka_python-LICENSE/{file.name}", file.read_binary()


def build() -> Package:
    entries: list[tuple[str, bytes]] = [
        (name, path.read_bytes())
        for name, path in (
            *_files(Path(__file__).parent / "probe_function", PACKAGE),
            *_files(_package_dir("kafka"), "kafka"),
        )
    ]
    entries += list(_licence())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(entries):
            info = zipfile.ZipInfo(name, _EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    data = buffer.getvalue()
    unzipped = sum(len(d) for _, d in entries)
    if len(data) > MAX_ZIPPED or unzipped > MAX_UNZIPPED:
        raise InputError(
            f"the probe's package is {len(data)} bytes zipped, {unzipped} unzipped: over Lambda's "
            f"{MAX_ZIPPED} / {MAX_UNZIPPED}"
        )
    return Package(data=data, sha256=hashlib.sha256(data).hexdigest(), unzipped=unzipped)
