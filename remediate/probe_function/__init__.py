"""The code of `remediate probe`'s short-lived Lambda function (issue 22).

Packaged on its own into the function's zip: nothing here imports the rest of `remediate`.
"""
