"""The local environment's AWS: a real moto server on loopback, the only stand-in the project allows,
seeded with what the migration of the two local apps needs:

- a public hosted zone 6play.fr. holding each app's A record, pointing at the local HAProxy (127.0.0.1);
- an ALB (cloudshift-local) with one target group per app, two healthy instance targets each;
- the cluster's Auto Scaling group (nodes.cloudshift.local, min 3, max 10), and beside it the files a
  cluster would give: the cluster-autoscaler's manifest (--nodes=3:10:nodes.cloudshift.local) and
  `kubectl get nodes -o json` with three Ready nodes.

Faults: `democtl elb APP unhealthy|empty|healthy` stops, deregisters or brings back the app's targets.
"""

import json
import os
import signal
import subprocess
import sys
import time

from .config import APPS, LOOPBACK
from .control import port_listens

REGION = "eu-west-3"
ZONE = "6play.fr."
LOAD_BALANCER = "cloudshift-local"
ASG_NAME = "nodes.cloudshift.local"
ASG_MIN, ASG_MAX = 3, 10
NODE_COUNT = 3
TARGETS_PER_APP = 2
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
START_TIMEOUT_SECONDS = 30.0
ELB_MODES = ("healthy", "unhealthy", "empty")


class AwsEnvError(Exception):
    pass


def guarded(layout, function, *args):
    """function(layout, *args), a botocore failure (moto not running...) turned into an AwsEnvError."""
    try:
        return function(layout, *args)
    except Exception as exc:  # botocore's exceptions are many; only theirs are turned into a message
        if type(exc).__module__.split(".", 1)[0] not in ("botocore", "boto3"):
            raise
        hint = " (is it started? scripts/democtl start)" if type(exc).__name__ == "EndpointConnectionError" else ""
        raise AwsEnvError("local AWS at %s: %s%s" % (endpoint(layout), exc, hint))


def paths(layout):
    directory = os.path.join(layout.run_dir, "aws")
    return {"dir": directory, "pid": os.path.join(layout.run_dir, "moto.pid"),
            "log": os.path.join(layout.run_dir, "moto.log"),
            "manifest": os.path.join(directory, "cluster-autoscaler.yaml"),
            "nodes": os.path.join(directory, "nodes.json")}


def endpoint(layout):
    return "http://%s:%d" % (LOOPBACK, layout.moto_port)


def client(layout, service):
    import boto3  # the venv's; only the AWS commands need it
    return boto3.session.Session(region_name=REGION, **CREDENTIALS).client(service, endpoint_url=endpoint(layout))


def running_pid(layout):
    try:
        with open(paths(layout)["pid"]) as handle:
            pid = int(handle.read().strip())
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = handle.read().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if b"moto.server" in argv or any(arg.endswith(b"moto_server") for arg in argv) else None


def start(layout):
    """Start moto on 127.0.0.1:moto_port and seed it (both idempotent); returns a line to print."""
    where = paths(layout)
    os.makedirs(where["dir"], exist_ok=True)
    pid = running_pid(layout)
    if pid is None:
        try:
            import moto  # noqa: F401  (checked before starting a process that would die at once)
        except ImportError:
            raise AwsEnvError("moto is not installed in %s: run make setup (requirements-dev.txt has moto[server])"
                              % sys.executable)
        if port_listens(layout.moto_port):
            raise AwsEnvError("port %d already in use on %s (another environment? set CLOUDSHIFT_PORT_OFFSET)"
                              % (layout.moto_port, LOOPBACK))
        with open(where["log"], "ab") as log:
            child = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(layout.moto_port)],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True, close_fds=True)
        with open(where["pid"], "w") as handle:
            handle.write("%d\n" % child.pid)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not port_listens(layout.moto_port):
            if child.poll() is not None or time.monotonic() > deadline:
                child.kill()
                raise AwsEnvError("moto did not start on port %d; log %s" % (layout.moto_port, where["log"]))
            time.sleep(0.1)
        pid = child.pid
    seeded = guarded(layout, seed)
    return "AWS (moto, pid %d) on %s: %s" % (pid, endpoint(layout), "seeded" if seeded else "already seeded")


def stop(layout):
    pid = running_pid(layout)
    try:
        os.unlink(paths(layout)["pid"])
    except FileNotFoundError:
        pass
    if pid is None:
        return "AWS (moto) not running"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while running_pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if running_pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    return "AWS (moto) stopped (pid %d)" % pid


def running_pid_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return False


def zone_id(route53):
    for zone in route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"]:
        if zone["Name"] == ZONE:
            return zone["Id"].split("/")[-1]
    return None


def seed(layout):
    """Create the zone, records, ALB, target groups, ASG and cluster files unless the zone exists."""
    route53, ec2, elbv2 = client(layout, "route53"), client(layout, "ec2"), client(layout, "elbv2")
    autoscaling = client(layout, "autoscaling")
    write_cluster_files(layout)
    if zone_id(route53) is not None:
        return False
    zone = route53.create_hosted_zone(Name=ZONE, CallerReference="cloudshift-local-%d" % time.time())
    changes = [{"Action": "UPSERT", "ResourceRecordSet": {"Name": app.host + ".", "Type": "A", "TTL": 60,
                                                          "ResourceRecords": [{"Value": LOOPBACK}]}} for app in APPS]
    route53.change_resource_record_sets(HostedZoneId=zone["HostedZone"]["Id"], ChangeBatch={"Changes": changes})
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.%d.0/24" % index,
                                 AvailabilityZone=REGION + letter)["Subnet"]["SubnetId"]
               for index, letter in ((1, "a"), (2, "b"))]
    balancer = elbv2.create_load_balancer(Name=LOAD_BALANCER, Subnets=subnets, Scheme="internet-facing",
                                          Type="application")["LoadBalancers"][0]
    image = ec2.describe_images()["Images"][0]["ImageId"]
    for app in APPS:
        group = elbv2.create_target_group(Name=app.name, Protocol="HTTPS", Port=443, VpcId=vpc,
                                          HealthCheckPath="/HealthCheck", TargetType="instance")["TargetGroups"][0]
        elbv2.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP",
                              Port=8000 + APPS.index(app),
                              DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}])
        instances = ec2.run_instances(ImageId=image, MinCount=TARGETS_PER_APP, MaxCount=TARGETS_PER_APP,
                                      SubnetId=subnets[0],
                                      TagSpecifications=[{"ResourceType": "instance",
                                                          "Tags": [{"Key": "app", "Value": app.name}]}])["Instances"]
        elbv2.register_targets(TargetGroupArn=group["TargetGroupArn"],
                               Targets=[{"Id": item["InstanceId"]} for item in instances])
    ec2.create_launch_template(LaunchTemplateName="cloudshift-nodes", LaunchTemplateData={"ImageId": image})
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=ASG_NAME, MinSize=ASG_MIN, MaxSize=ASG_MAX, DesiredCapacity=NODE_COUNT,
        LaunchTemplate={"LaunchTemplateName": "cloudshift-nodes"}, VPCZoneIdentifier=subnets[0])
    return True


def write_cluster_files(layout):
    where = paths(layout)
    manifest = """# The cluster-autoscaler of the local environment's cluster (what kops would deploy).
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cluster-autoscaler
  namespace: kube-system
spec:
  template:
    spec:
      containers:
        - name: cluster-autoscaler
          image: registry.k8s.io/autoscaling/cluster-autoscaler:v1.28.2
          command:
            - ./cluster-autoscaler
            - --cloud-provider=aws
            - --nodes=%d:%d:%s
""" % (ASG_MIN, ASG_MAX, ASG_NAME)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 86400))
    nodes = {"apiVersion": "v1", "kind": "List", "items": [
        {"metadata": {"name": "ip-10-42-1-%d.eu-west-3.compute.internal" % (10 + index),
                      "labels": {"kops.k8s.io/instancegroup": "nodes"}},
         "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                    "lastTransitionTime": now}]}} for index in range(NODE_COUNT)]}
    for path, text in ((where["manifest"], manifest), (where["nodes"], json.dumps(nodes, indent=2) + "\n")):
        if not os.path.exists(path):
            with open(path, "w") as handle:
                handle.write(text)


def app_targets(layout, app_name):
    elbv2 = client(layout, "elbv2")
    group = elbv2.describe_target_groups(Names=[app_name])["TargetGroups"][0]
    return elbv2, group


def set_elb(layout, app_name, mode):
    """healthy: every app instance registered and running; unhealthy: instances stopped; empty: none registered."""
    ec2 = client(layout, "ec2")
    elbv2, group = app_targets(layout, app_name)
    reservations = ec2.describe_instances(Filters=[{"Name": "tag:app", "Values": [app_name]}])["Reservations"]
    ids = [item["InstanceId"] for reservation in reservations for item in reservation["Instances"]
           if item["State"]["Name"] != "terminated"]
    registered = [item["Target"]["Id"] for item in
                  elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])["TargetHealthDescriptions"]]
    if mode == "empty":
        if registered:
            elbv2.deregister_targets(TargetGroupArn=group["TargetGroupArn"], Targets=[{"Id": i} for i in registered])
        return "%s: no target registered" % app_name
    ec2.start_instances(InstanceIds=ids)  # only running instances can be registered
    missing = [i for i in ids if i not in registered]
    if missing:
        elbv2.register_targets(TargetGroupArn=group["TargetGroupArn"], Targets=[{"Id": i} for i in missing])
    if mode == "unhealthy":
        ec2.stop_instances(InstanceIds=ids)
    health = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])["TargetHealthDescriptions"]
    return "%s: %s" % (app_name, ", ".join("%s %s" % (item["Target"]["Id"], item["TargetHealth"]["State"])
                                           for item in health))


def dns_record(layout, app_name):
    """The app's address records as `NAME TYPE VALUE` lines."""
    route53 = client(layout, "route53")
    host = [app.host for app in APPS if app.name == app_name][0] + "."
    listed = route53.list_resource_record_sets(HostedZoneId=zone_id(route53), StartRecordName=host)
    lines = []
    for item in listed["ResourceRecordSets"]:
        if item["Name"] != host or item["Type"] not in ("A", "AAAA", "CNAME"):
            continue
        value = item["AliasTarget"]["DNSName"] if "AliasTarget" in item else \
            " ".join(record["Value"] for record in item["ResourceRecords"])
        weight = " weight %s (%s)" % (item["Weight"], item["SetIdentifier"]) if "SetIdentifier" in item else ""
        lines.append("%s %s %s%s%s" % (item["Name"], item["Type"], "ALIAS " if "AliasTarget" in item else "",
                                       value, weight))
    return "\n".join(lines)
