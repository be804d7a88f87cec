# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the cloud side answers, found in AWS rather than typed into the inventory: the load balancer that the
Kubernetes service controller created for a Service (it tags it kubernetes.io/service-name=<namespace>/<name>,
and kubernetes.io/cluster/<cluster>=owned), or a Lambda's function URL."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.cloudshift.migration.plugins.module_utils import dns, elb, lambda_side
from ansible_collections.cloudshift.migration.plugins.module_utils.aws import AWS_ARGUMENT_SPEC, AwsError, \
    aws_client, aws_problems, call, paginate
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import is_ip_address
from ansible.module_utils.six.moves.urllib.parse import urlsplit

SERVICE_TAG = "kubernetes.io/service-name"
CLUSTER_TAG_PREFIX = "kubernetes.io/cluster/"
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
CLUSTER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$")
TLS_PROTOCOLS = ("HTTPS", "TLS", "SSL")

DISCOVER_KEYS = ("service", "cluster", "function", "qualifier")
# The probe of the endpoint found: elb_health_info's, at the endpoint's address and port unless given, resolved
# through the nameservers HAProxy's resolvers use.
PROBE_SPEC = dict(elb.PROBE_SPEC, port=dict(type="int"), nameservers=dict(type="list", elements="str", default=[]))

ARGUMENT_SPEC = dict(
    service=dict(type="dict", options=dict(namespace=dict(type="str", default="default"),
                                           name=dict(type="str", required=True))),
    cluster=dict(type="str"),
    function=dict(type="str"),
    qualifier=dict(type="str"),
    probe=dict(type="dict", options=PROBE_SPEC),
    **AWS_ARGUMENT_SPEC
)


class EndpointError(CloudshiftError):
    pass


def discover_params(discover):
    """cloud_endpoint_info's options for a server's discover entry in the app model (a service's namespace defaults
    to default) (pure)."""
    params = dict((key, discover.get(key)) for key in DISCOVER_KEYS)
    if isinstance(params["service"], dict):
        params["service"] = dict({"namespace": "default"}, **dict(
            (key, value) for key, value in params["service"].items() if value is not None))
    return params


def discover_problems(params):
    """What is wrong with where to look (service and cluster, or function and qualifier), [] when nothing (pure)."""
    problems = []
    if bool(params.get("service")) == bool(params.get("function")):
        problems.append("give the Kubernetes service (service: {namespace, name}) or the Lambda function (function), "
                        "one of the two")
    service = params.get("service") or {}
    for key in ("namespace", "name"):
        if service and not NAME_RE.match(service.get(key) or ""):
            problems.append("invalid service.%s %r: a Kubernetes name (lower case letters, digits, '-')"
                            % (key, service.get(key)))
    if params.get("cluster") is not None and not CLUSTER_RE.match(params["cluster"]):
        problems.append("invalid cluster %r: the cluster's name as in its kubernetes.io/cluster/<name> tag"
                        % (params["cluster"],))
    if params.get("function"):
        problems += lambda_side.function_name_problems(params)
    return problems


def input_problems(params):
    problems = discover_problems(params)
    probe = params.get("probe")
    if probe:
        checked = dict(probe, port=probe.get("port") or 443)
        problems += elb.probe_problems(checked)
        for nameserver in probe.get("nameservers") or []:
            try:
                dns.split_nameserver(nameserver)
            except dns.DnsError as exc:
                problems.append("probe: %s" % exc)
    return problems + aws_problems(params)


# -- pure --------------------------------------------------------------------------------------

def service_matches(tags, service, cluster=None):
    """Whether a load balancer's tags ({key: value}) say it is the Service's (and the cluster's)."""
    if tags.get(SERVICE_TAG) != "%s/%s" % (service["namespace"], service["name"]):
        return False
    return cluster is None or CLUSTER_TAG_PREFIX + cluster in tags


def pick_port(listeners):
    """The port HAProxy should reach: a TLS listener on 443, else any TLS listener, else 443, else the first."""
    if not listeners:
        return None
    tls = [item for item in listeners if item["protocol"] in TLS_PROTOCOLS]
    for group in (tls, listeners):
        for item in group:
            if item["port"] == 443:
                return item
    return (tls or listeners)[0]


def endpoint_table(endpoint, checked=None):
    lines = ["%-12s %-50s %-6s %s" % ("kind", "address", "port", "found by"),
             "%-12s %-50s %-6s %s" % (endpoint["kind"], endpoint["address"], endpoint["port"], endpoint["found_by"])]
    if checked:
        probe = checked["probe"]
        lines.append("resolved by %s: %s" % (checked["resolved_by"], ", ".join(checked["resolved"]) or "-"))
        if probe:
            lines.append("probe %s (Host %s, SNI %s): %s" % (
                probe["url"], probe["host"], probe["sni"] or "-",
                "%s in %s ms" % (probe["status"], probe["elapsed_ms"]) if probe["ok"] else probe["error"]))
    return lines


def check_endpoint(endpoint, probe, resolve=dns.resolve, send=elb.probe_endpoint):
    """The endpoint found, resolved the way HAProxy's resolvers will and probed at the first address under its Host
    (a function URL's own, else the probe's) and SNI: {"resolved", "resolved_by", "probe", "healthy", "problems"}."""
    checked = {"resolved": [], "resolved_by": None, "probe": None, "healthy": False, "problems": []}
    address = endpoint["address"]
    if is_ip_address(address):
        checked.update(resolved=[address], resolved_by="the endpoint (an IP address)")
    else:
        try:
            checked["resolved"], checked["resolved_by"] = resolve(address, probe.get("nameservers") or None)
        except dns.DnsError as exc:
            checked["problems"].append(str(exc))
            return checked
    host = endpoint.get("host") or probe.get("host") or address
    request = dict(probe, address=checked["resolved"][0], port=probe.get("port") or endpoint["port"], host=host,
                   sni=probe.get("sni") or host)
    checked["probe"] = send(request, checked["resolved"][0])
    checked["probe"]["name"] = address
    if not checked["probe"]["ok"]:
        checked["problems"].append("the probe of %s:%s failed: %s" % (address, request["port"], checked["probe"]["error"]))
    checked["healthy"] = not checked["problems"]
    return checked


# -- AWS ---------------------------------------------------------------------------------------

def _tags(pairs):
    return dict((item["Key"], item.get("Value", "")) for item in pairs or [])


def _tags_of(client, argument, key, ids, action):
    """{id: {tag: value}} of load balancers through DescribeTags (elbv2 and classic ELB), 20 at a time."""
    tags = {}
    for start in range(0, len(ids), 20):
        described = call(action, client.describe_tags, **{argument: ids[start:start + 20]})
        for item in described.get("TagDescriptions", []):
            tags[item[key]] = _tags(item.get("Tags"))
    return tags


def find_service_load_balancers(params):
    """Every load balancer (ALB/NLB through elbv2, classic ELB) tagged for the Service."""
    service, cluster = params["service"], params.get("cluster")
    found = []
    elbv2 = aws_client(params, "elbv2")
    balancers = paginate(elbv2, "describe_load_balancers", "LoadBalancers", "list the load balancers")
    tags = _tags_of(elbv2, "ResourceArns", "ResourceArn", [item["LoadBalancerArn"] for item in balancers],
                    "read the load balancers' tags")
    for item in balancers:
        if service_matches(tags.get(item["LoadBalancerArn"], {}), service, cluster):
            listeners = call("read the listeners of %s" % item["LoadBalancerName"], elbv2.describe_listeners,
                             LoadBalancerArn=item["LoadBalancerArn"]).get("Listeners", [])
            found.append({"kind": item.get("Type", "application"), "name": item["LoadBalancerName"],
                          "arn": item["LoadBalancerArn"], "address": item["DNSName"],
                          "listeners": [{"port": entry["Port"], "protocol": entry["Protocol"]} for entry in listeners]})
    classic = aws_client(params, "elb")
    descriptions = paginate(classic, "describe_load_balancers", "LoadBalancerDescriptions",
                            "list the classic load balancers")
    classic_tags = _tags_of(classic, "LoadBalancerNames", "LoadBalancerName",
                            [item["LoadBalancerName"] for item in descriptions], "read the classic load balancers' tags")
    for item in descriptions:
        if service_matches(classic_tags.get(item["LoadBalancerName"], {}), service, cluster):
            found.append({"kind": "classic", "name": item["LoadBalancerName"], "arn": None, "address": item["DNSName"],
                          "listeners": [{"port": entry["Listener"]["LoadBalancerPort"],
                                         "protocol": entry["Listener"]["Protocol"].upper()}
                                        for entry in item.get("ListenerDescriptions", [])]})
    return found


def run(params):
    """{"endpoint": {kind, name, address, port, protocol, host, found_by}, "table"}; EndpointError otherwise."""
    problems = input_problems(params)
    if problems:
        raise EndpointError("; ".join(problems))
    try:
        if params.get("service"):
            label = "%s/%s" % (params["service"]["namespace"], params["service"]["name"])
            found = find_service_load_balancers(params)
            where = "tagged %s=%s%s" % (SERVICE_TAG, label, " and %s%s" % (CLUSTER_TAG_PREFIX, params["cluster"])
                                        if params.get("cluster") else "")
            if not found:
                raise EndpointError("no load balancer is %s: is the Service of type LoadBalancer, and has the service "
                                    "controller created it yet?" % where)
            if len(found) > 1:
                raise EndpointError("%d load balancers are %s (%s): give cluster to pick the cluster's" % (
                    len(found), where, ", ".join(item["name"] for item in found)))
            balancer = found[0]
            listener = pick_port(balancer["listeners"])
            if listener is None:
                raise EndpointError("load balancer %s of Service %s has no listener" % (balancer["name"], label))
            endpoint = {"kind": balancer["kind"], "name": balancer["name"], "arn": balancer["arn"],
                        "address": balancer["address"], "port": listener["port"], "protocol": listener["protocol"],
                        "host": None, "found_by": where}
        else:
            client = aws_client(params, "lambda")
            label = lambda_side.function_label(params)
            url = call("read the function URL of %s" % label, client.get_function_url_config,
                       **lambda_side.function_args(params))["FunctionUrl"]
            host = urlsplit(url).hostname
            endpoint = {"kind": "function_url", "name": label, "arn": None, "address": host, "port": 443,
                        "protocol": "HTTPS", "host": host, "found_by": "the function URL of %s" % label}
    except AwsError as exc:
        raise EndpointError(str(exc))
    if not params.get("probe"):
        return {"endpoint": endpoint, "table": endpoint_table(endpoint)}
    checked = check_endpoint(endpoint, params["probe"])
    endpoint["resolved"] = checked["resolved"][0] if checked["resolved"] else None
    return {"endpoint": endpoint, "checked": checked, "healthy": checked["healthy"],
            "table": endpoint_table(endpoint, checked)}
