# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Lambda cloud side before traffic reaches it: the function (its state, the alias or version, its function URL
and who may call it) and a real request to its endpoint; then its capacity, in the table of the cluster checks:
the concurrency it may use (reserved, else the account's unreserved) against the expected load, and its throttles
and errors from CloudWatch over a window."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.cloudshift.migration.plugins.module_utils import elb
from ansible_collections.cloudshift.migration.plugins.module_utils.aws import AWS_ARGUMENT_SPEC, AwsError, \
    aws_client, aws_problems, call
from ansible_collections.cloudshift.migration.plugins.module_utils.capacity import check, checks_table
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError

from ansible.module_utils.six.moves.urllib.parse import urlsplit

ENDPOINTS = ("function_url", "custom")
# A function name, a partial (123456789012:function:NAME) or a full ARN, with an optional :QUALIFIER.
FUNCTION_PATTERN = re.compile(r"^(arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?(\d{12}:function:)?"
                              r"[A-Za-z0-9_-]{1,64}$")
QUALIFIER_PATTERN = re.compile(r"^(\$LATEST|[0-9]{1,10}|[A-Za-z0-9_-]{1,128})$")

ARGUMENT_SPEC = dict(
    function=dict(type="str", required=True),
    qualifier=dict(type="str"),
    endpoint=dict(type="str", choices=list(ENDPOINTS), default="function_url"),
    host=dict(type="str"),
    probe=dict(type="dict", options=elb.PROBE_SPEC),
    capacity=dict(type="bool", default=True),
    expected_concurrency=dict(type="int", default=1),
    max_throttles=dict(type="int", default=0),
    max_error_rate=dict(type="float", default=1.0),
    window_seconds=dict(type="int", default=300),
    **AWS_ARGUMENT_SPEC
)


class LambdaError(CloudshiftError):
    pass


def function_name_problems(params):
    """The problems of the function and qualifier options (lambda_health_info, cloud_endpoint_info)."""
    problems = []
    if not isinstance(params.get("function"), str) or not FUNCTION_PATTERN.match(params["function"]):
        problems.append("invalid function %r: a Lambda function name (letters, digits, '-', '_', up to 64) or its ARN"
                        % (params.get("function"),))
    if params.get("qualifier") is not None and not QUALIFIER_PATTERN.match(str(params["qualifier"])):
        problems.append("invalid qualifier %r: an alias or a version" % (params["qualifier"],))
    return problems


def input_problems(params):
    problems = function_name_problems(params)
    if params.get("host") is not None and not elb.HOST_PATTERN.match(params["host"]):
        problems.append("invalid host %r: a host name" % (params["host"],))
    if params.get("endpoint") == "custom" and not (params.get("probe") or {}).get("address"):
        problems.append("endpoint custom (an API Gateway domain, an ALB) needs probe.address: there is no function "
                        "URL to send the probe to")
    for key, low, high in (("expected_concurrency", 0, 100000), ("max_throttles", 0, 10 ** 9),
                           ("window_seconds", 60, 86400)):
        value = params.get(key)
        if value is not None and not low <= value <= high:
            problems.append("invalid %s %r: %d to %d" % (key, value, low, high))
    if not 0 <= (params.get("max_error_rate") or 0) <= 100:
        problems.append("invalid max_error_rate %r: a percentage, 0 to 100" % params.get("max_error_rate"))
    if params.get("probe"):
        problems.extend(elb.probe_problems(params["probe"]))
    return problems + aws_problems(params)


def function_args(params):
    args = {"FunctionName": params["function"]}
    if params.get("qualifier"):
        args["Qualifier"] = params["qualifier"]
    return args


def function_label(params):
    return params["function"] + (":%s" % params["qualifier"] if params.get("qualifier") else "")


# -- pure --------------------------------------------------------------------------------------

def function_problems(configuration, label):
    """A function may take traffic when it is Active and its last update succeeded."""
    problems = []
    state = configuration.get("State")
    if state not in (None, "Active"):
        problems.append("function %s is %s%s: it cannot take traffic" % (
            label, state, " (%s)" % configuration["StateReason"] if configuration.get("StateReason") else ""))
    update = configuration.get("LastUpdateStatus")
    if update in ("Failed", "InProgress"):
        problems.append("the last update of function %s is %s%s" % (
            label, update, " (%s)" % configuration["LastUpdateStatusReason"]
            if configuration.get("LastUpdateStatusReason") else ""))
    return problems


def url_problems(url_config, expected_host, label):
    """The function URL is the endpoint the cloud server names, and HAProxy can call it (no IAM signature)."""
    problems = []
    host = urlsplit(url_config.get("FunctionUrl") or "").hostname
    if expected_host and host and host != expected_host.lower():
        problems.append("the function URL of %s is %s, not the cloud server's host %s" % (label, host, expected_host))
    if url_config.get("AuthType") == "AWS_IAM":
        problems.append("the function URL of %s needs AWS_IAM signatures: HAProxy's requests are not signed "
                        "(AuthType NONE, or an API Gateway in front)" % label)
    return problems


def capacity_checks(available, source, expected, sums, max_throttles, max_error_rate, window_seconds):
    """The checks of a Lambda's capacity, as capacity.evaluate gives the cluster's. sums: {Throttles, Errors,
    Invocations} over the window (CloudWatch); available None when it could not be read."""
    checks = [check("lambda_concurrency", available is not None and available >= expected, available, expected,
                    "concurrency %s (%s) %s the %d expected at peak" % (
                        "unknown" if available is None else available, source,
                        ">=" if available is not None and available >= expected else "<", expected))]
    throttles, errors, invocations = (int(sums.get(key) or 0) for key in ("Throttles", "Errors", "Invocations"))
    checks.append(check("lambda_throttles", throttles <= max_throttles, throttles, max_throttles,
                        "%d throttled invocation(s) in the last %d s, at most %d"
                        % (throttles, window_seconds, max_throttles)))
    rate = round(100.0 * errors / invocations, 2) if invocations else 0.0
    checks.append(check("lambda_errors", rate <= max_error_rate, rate, max_error_rate,
                        "%d error(s) in %d invocation(s) in the last %d s: %.2f%%, at most %.2f%%" % (
                            errors, invocations, window_seconds, rate, max_error_rate)))
    return checks


# -- AWS ---------------------------------------------------------------------------------------

def read_capacity(params, client, now=None):
    label = function_label(params)
    concurrency = call("read the concurrency of %s" % params["function"], client.get_function_concurrency,
                       FunctionName=params["function"])
    available, source = concurrency.get("ReservedConcurrentExecutions"), "reserved"
    if available is None:
        try:
            settings = call("read the account's Lambda settings", client.get_account_settings)
            available = (settings.get("AccountLimit") or {}).get("UnreservedConcurrentExecutions")
            source = "the account's unreserved"
        except AwsError as exc:
            source = "no reserved concurrency, and the account's could not be read: %s" % exc
    cloudwatch = aws_client(params, "cloudwatch")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    dimensions = [{"Name": "FunctionName", "Value": params["function"]}]
    if params.get("qualifier"):
        dimensions.append({"Name": "Resource", "Value": "%s:%s" % (params["function"], params["qualifier"])})
    sums = {}
    for metric in ("Throttles", "Errors", "Invocations"):
        points = call("read %s of %s from CloudWatch" % (metric, label), cloudwatch.get_metric_statistics,
                      Namespace="AWS/Lambda", MetricName=metric, Dimensions=dimensions,
                      StartTime=now - datetime.timedelta(seconds=params["window_seconds"]), EndTime=now,
                      Period=60, Statistics=["Sum"]).get("Datapoints", [])
        sums[metric] = sum(point.get("Sum") or 0 for point in points)
    checks = capacity_checks(available, source, params["expected_concurrency"], sums, params["max_throttles"],
                             params["max_error_rate"], params["window_seconds"])
    failed = [item for item in checks if item["status"] == "fail"]
    return {"checks": checks, "passed": not failed, "problems": [item["message"] for item in failed],
            "concurrency": {"available": available, "source": source}, "metrics": sums,
            "table": checks_table(checks)}


def run(params):
    """{function, url, probe, problems, healthy, table[, capacity]}; LambdaError on a bad input or AWS failure."""
    problems = input_problems(params)
    if problems:
        raise LambdaError("; ".join(problems))
    label = function_label(params)
    try:
        client = aws_client(params, "lambda")
        found = call("read function %s" % label, client.get_function, **function_args(params))
        configuration = found.get("Configuration") or {}
        problems = function_problems(configuration, label)
        url = None
        if params["endpoint"] == "function_url":
            url_config = call("read the function URL of %s" % label, client.get_function_url_config,
                              **function_args(params))
            url = url_config.get("FunctionUrl")
            problems += url_problems(url_config, params.get("host"), label)
        probe_params = dict(params.get("probe") or {}) or dict((key, spec.get("default"))
                                                               for key, spec in elb.PROBE_SPEC.items())
        url_host = urlsplit(url or "").hostname
        probe_params["host"] = probe_params.get("host") or params.get("host") or url_host
        probe = elb.probe_endpoint(probe_params, url_host)
        if not probe["ok"]:
            problems.append("probe %s (Host %s) failed: %s" % (probe["url"], probe["host"], probe["error"]))
        result = {"function": {"name": configuration.get("FunctionName"), "arn": configuration.get("FunctionArn"),
                               "version": configuration.get("Version"), "state": configuration.get("State"),
                               "last_update": configuration.get("LastUpdateStatus")},
                  "url": url, "probe": probe, "problems": problems, "healthy": not problems}
        lines = ["%-28s %-8s %s" % ("function", "state", "endpoint"),
                 "%-28s %-8s %s" % (label, configuration.get("State") or "?", url or "(custom endpoint)")]
        lines += elb.table({"load_balancer": {"name": label}, "target_groups": [], "probe": probe})[1:]
        result["table"] = lines
        if params.get("capacity"):
            result["capacity"] = read_capacity(params, client)
    except AwsError as exc:
        raise LambdaError(str(exc))
    return result
