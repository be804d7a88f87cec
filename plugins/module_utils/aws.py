# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWS layer of every module: one client factory and one way of turning AWS errors into messages.

- Credentials come from the module's options or boto3's standard chain (environment, profile, instance
  role); they are no_log options and never appear in a message.
- endpoint_url (or AWS_ENDPOINT_URL) points every client at another endpoint: the tests' moto server.
- botocore retries throttling and transient errors itself (standard or adaptive mode), so a module
  never half-applies because one call was throttled: each change is one call, retried as a whole.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import re

from ansible.module_utils.basic import env_fallback

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError

# boto3 takes a fifth of a second to import: it is imported when AWS is first called, so the app model's
# validation and a step that checks no AWS resource do not pay for it.
HAS_BOTO3 = importlib.util.find_spec("boto3") is not None and importlib.util.find_spec("botocore") is not None
BOTO3_IMPORT_ERROR = None if HAS_BOTO3 else ImportError("No module named 'boto3' (or 'botocore')")


def _boto():
    """(boto3, botocore.exceptions, botocore.config.Config), imported on first use."""
    import boto3
    from botocore import exceptions
    from botocore.config import Config
    return boto3, exceptions, Config


def _aws_errors():
    """The botocore errors an AWS call raises (the except clauses evaluate this only when something was raised)."""
    exceptions = _boto()[1]
    return (exceptions.ClientError, exceptions.BotoCoreError)


# The options every AWS module takes (documented by the doc fragment cloudshift.migration.aws).
AWS_ARGUMENT_SPEC = dict(
    region=dict(type="str", aliases=["aws_region"], fallback=(env_fallback, ["AWS_REGION", "AWS_DEFAULT_REGION"])),
    profile=dict(type="str", aliases=["aws_profile"], fallback=(env_fallback, ["AWS_PROFILE"])),
    endpoint_url=dict(type="str", aliases=["aws_endpoint_url"], fallback=(env_fallback, ["AWS_ENDPOINT_URL"])),
    access_key=dict(type="str", aliases=["aws_access_key_id"], no_log=True,
                    fallback=(env_fallback, ["AWS_ACCESS_KEY_ID"])),
    secret_key=dict(type="str", aliases=["aws_secret_access_key"], no_log=True,
                    fallback=(env_fallback, ["AWS_SECRET_ACCESS_KEY"])),
    session_token=dict(type="str", aliases=["aws_session_token"], no_log=True,
                       fallback=(env_fallback, ["AWS_SESSION_TOKEN"])),
    retry_mode=dict(type="str", choices=["standard", "adaptive"], default="standard"),
    max_attempts=dict(type="int", default=5),
)

ENDPOINT_PATTERN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(/.*)?$")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$")
THROTTLING_CODES = ("Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
                    "TooManyRequestsException", "PriorRequestNotComplete", "RequestThrottled",
                    "RequestThrottledException", "SlowDown")


class AwsError(CloudshiftError):
    """An AWS failure, its message naming the resource and the action (never a credential); code is AWS's."""

    def __init__(self, message, code=None):
        super(AwsError, self).__init__(message)
        self.code = code


def aws_problems(params, needs_region=True):
    """Messages naming each bad AWS option (empty when all are fine); nothing is called."""
    problems = []
    region = params.get("region")
    if needs_region and not region:
        problems.append("no AWS region: set region (or AWS_REGION / AWS_DEFAULT_REGION)")
    elif region and not REGION_PATTERN.match(region):
        problems.append("invalid AWS region %r (expected a region name like eu-west-3)" % region)
    endpoint = params.get("endpoint_url")
    if endpoint and not ENDPOINT_PATTERN.match(endpoint):
        problems.append("invalid endpoint_url %r (expected http(s)://host[:port])" % endpoint)
    attempts = params.get("max_attempts")
    if attempts is not None and not 1 <= attempts <= 20:
        problems.append("invalid max_attempts %r: 1 to 20" % attempts)
    if bool(params.get("access_key")) != bool(params.get("secret_key")):
        problems.append("access_key and secret_key go together: give both or neither")
    return problems


def client_config(params):
    # total_max_attempts counts the first call (botocore's max_attempts would count the retries only).
    config = _boto()[2]
    return config(retries={"mode": params.get("retry_mode") or "standard",
                           "total_max_attempts": params.get("max_attempts") or 5},
                  connect_timeout=10, read_timeout=30, user_agent_extra="cloudshift.migration")


def aws_client(params, service, region=None):
    """A boto3 client for service from the module's options and the standard credential chain."""
    if not HAS_BOTO3:
        raise AwsError("the %s client needs boto3 and botocore (pip install boto3): %s" % (service, BOTO3_IMPORT_ERROR))
    try:
        boto3, exceptions, _config = _boto()
    except ImportError as exc:
        raise AwsError("the %s client needs boto3 and botocore (pip install boto3): %s" % (service, exc))
    try:
        session = boto3.session.Session(
            aws_access_key_id=params.get("access_key") or None,
            aws_secret_access_key=params.get("secret_key") or None,
            aws_session_token=params.get("session_token") or None,
            profile_name=params.get("profile") or None,
            region_name=region or params.get("region") or None)
        return session.client(service, endpoint_url=params.get("endpoint_url") or None, config=client_config(params))
    except exceptions.ProfileNotFound:
        raise AwsError("AWS profile %r is not configured" % params.get("profile"))
    except exceptions.NoRegionError:
        raise AwsError("no AWS region: set region (or AWS_REGION / AWS_DEFAULT_REGION)")
    except (exceptions.BotoCoreError, ValueError) as exc:
        raise AwsError("cannot create the %s client: %s" % (service, exc))


def error_code(exc):
    if isinstance(exc, _boto()[1].ClientError):
        return exc.response.get("Error", {}).get("Code", "")
    return ""


def is_throttling(exc):
    return error_code(exc) in THROTTLING_CODES


def describe_error(exc, action):
    """One line: what was being done, on which resource, and what AWS answered."""
    exceptions = _boto()[1]
    if isinstance(exc, exceptions.ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "error")
        message = error.get("Message", "") or str(exc)
        attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts")
        suffix = " (after %d retries)" % attempts if attempts else ""
        return "cannot %s: %s: %s%s" % (action, code, message, suffix)
    if isinstance(exc, exceptions.NoCredentialsError):
        return ("cannot %s: no AWS credentials found (set access_key/secret_key, a profile, "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an instance role)" % action)
    if isinstance(exc, exceptions.PartialCredentialsError):
        return "cannot %s: incomplete AWS credentials: %s" % (action, exc)
    if isinstance(exc, exceptions.EndpointConnectionError):
        return "cannot %s: cannot reach the AWS endpoint %s" % (action, getattr(exc, "kwargs", {}).get("endpoint_url", exc))
    return "cannot %s: %s" % (action, exc)


def call(action, function, **kwargs):
    """function(**kwargs), with any AWS failure turned into an AwsError naming action."""
    try:
        return function(**kwargs)
    except _aws_errors() as exc:
        raise AwsError(describe_error(exc, action), error_code(exc))


def paginate(client, operation, key, action, **kwargs):
    """Every item under key over all pages of operation."""
    try:
        items = []
        for page in client.get_paginator(operation).paginate(**kwargs):
            items.extend(page.get(key, []))
        return items
    except _aws_errors() as exc:
        raise AwsError(describe_error(exc, action), error_code(exc))


def boto3_versions():
    if not HAS_BOTO3:
        return {}
    import botocore
    boto3 = _boto()[0]
    return {"boto3": boto3.__version__, "botocore": botocore.__version__}
