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

import re

from ansible.module_utils.basic import env_fallback

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError

try:
    import boto3
    import botocore
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError, \
        EndpointConnectionError, ProfileNotFound, PartialCredentialsError
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError as exc:  # the module reports it with missing_required_lib
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = exc

    # Stand-ins so the except clauses below still name distinct classes (never raised without boto3).
    class BotoCoreError(Exception):
        pass

    class ClientError(BotoCoreError):
        pass

    class NoCredentialsError(BotoCoreError):
        pass

    class NoRegionError(BotoCoreError):
        pass

    class EndpointConnectionError(BotoCoreError):
        pass

    class ProfileNotFound(BotoCoreError):
        pass

    class PartialCredentialsError(BotoCoreError):
        pass

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
    return Config(retries={"mode": params.get("retry_mode") or "standard",
                           "total_max_attempts": params.get("max_attempts") or 5},
                  connect_timeout=10, read_timeout=30, user_agent_extra="cloudshift.migration")


def aws_client(params, service, region=None):
    """A boto3 client for service from the module's options and the standard credential chain."""
    if not HAS_BOTO3:
        raise AwsError("the %s client needs boto3 and botocore (pip install boto3): %s" % (service, BOTO3_IMPORT_ERROR))
    try:
        session = boto3.session.Session(
            aws_access_key_id=params.get("access_key") or None,
            aws_secret_access_key=params.get("secret_key") or None,
            aws_session_token=params.get("session_token") or None,
            profile_name=params.get("profile") or None,
            region_name=region or params.get("region") or None)
        return session.client(service, endpoint_url=params.get("endpoint_url") or None, config=client_config(params))
    except ProfileNotFound:
        raise AwsError("AWS profile %r is not configured" % params.get("profile"))
    except NoRegionError:
        raise AwsError("no AWS region: set region (or AWS_REGION / AWS_DEFAULT_REGION)")
    except (BotoCoreError, ValueError) as exc:
        raise AwsError("cannot create the %s client: %s" % (service, exc))


def error_code(exc):
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code", "")
    return ""


def is_throttling(exc):
    return error_code(exc) in THROTTLING_CODES


def describe_error(exc, action):
    """One line: what was being done, on which resource, and what AWS answered."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "error")
        message = error.get("Message", "") or str(exc)
        attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts")
        suffix = " (after %d retries)" % attempts if attempts else ""
        return "cannot %s: %s: %s%s" % (action, code, message, suffix)
    if isinstance(exc, NoCredentialsError):
        return ("cannot %s: no AWS credentials found (set access_key/secret_key, a profile, "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an instance role)" % action)
    if isinstance(exc, PartialCredentialsError):
        return "cannot %s: incomplete AWS credentials: %s" % (action, exc)
    if isinstance(exc, EndpointConnectionError):
        return "cannot %s: cannot reach the AWS endpoint %s" % (action, getattr(exc, "kwargs", {}).get("endpoint_url", exc))
    return "cannot %s: %s" % (action, exc)


def call(action, function, **kwargs):
    """function(**kwargs), with any AWS failure turned into an AwsError naming action."""
    try:
        return function(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise AwsError(describe_error(exc, action), error_code(exc))


def paginate(client, operation, key, action, **kwargs):
    """Every item under key over all pages of operation."""
    try:
        items = []
        for page in client.get_paginator(operation).paginate(**kwargs):
            items.extend(page.get(key, []))
        return items
    except (ClientError, BotoCoreError) as exc:
        raise AwsError(describe_error(exc, action), error_code(exc))


def boto3_versions():
    if not HAS_BOTO3:
        return {}
    return {"boto3": boto3.__version__, "botocore": botocore.__version__}
