"""A write AWS refused outright (issue 23, operator-hunt N11).

A 403 answer (AccessDenied, UnauthorizedOperation, ...) is definite: AWS did not perform the call, so
the failure report says "refused" and names the API call and the way on (the permission, from
`remediate iam-policy`), instead of "in flight, its outcome unknown". Only the refused call is
definite: a change whose earlier calls were made is still settled by `--resume` or `rollback`, which
read AWS.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from remediate.aws import error_code, is_access_denied


def denial(exc: BaseException) -> str | None:
    """`CODE on service:Operation, HTTP 403` when `exc` is AWS refusing a call as not allowed; else None."""
    cause = exc.__cause__
    if not isinstance(cause, ClientError) or not is_access_denied(cause):
        return None
    status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    service = str(exc).split(":", 1)[0]
    return f"{error_code(cause)} on {service}:{cause.operation_name}, HTTP {status}"
