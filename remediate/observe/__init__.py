"""Observation: the only package that reads AWS. An ESM id in, one immutable `Facts` out.

`reads` drives the reads along the dependency chain; `builders` turns API responses into `Facts`
models; `listing` finds the account's Kafka mappings for a scan; `dns`, `probe` and
`secret_material` observe what the AWS APIs cannot say (name resolution, a broker's TLS certificate,
the shape of a secret's value, of which only the analysis is kept).
"""
