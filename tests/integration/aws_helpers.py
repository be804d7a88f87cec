"""What the AWS tests need besides the local environment's moto server.

- ThrottlingProxy: a real HTTP server between the modules and moto that answers AWS's `Throttling`
  error (HTTP 400, the XML body of the query and REST-XML APIs) to the calls a rule picks, and passes
  every other call through; it counts what reaches it, so a test can prove that bad input sends nothing.
- address_records(): the tests' own reader of a name's records (boto3 straight to moto).
"""

import http.client
import http.server
import io
import json
import threading
import zipfile

from localenv import aws as local_aws
from localenv.config import Layout

THROTTLE_BODY = (b'<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
                 b"<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
                 b"<RequestId>cloudshift-test-throttle</RequestId></ErrorResponse>")


def is_change_batch(method, path):
    """Route53's ChangeResourceRecordSets: POST /2013-04-01/hostedzone/<id>/rrset/."""
    return method == "POST" and "/rrset" in path


class ThrottlingProxy:
    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.lock = threading.Lock()
        self.throttle_first = 0       # throttle this many calls from now, whatever they are
        self.throttle_rule = None     # and always the calls this predicate (method, path) picks
        self.seen = []                # (method, path, throttled)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):
                pass

            def _relay(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy.lock:
                    throttled = proxy.throttle_first > 0 or bool(
                        proxy.throttle_rule and proxy.throttle_rule(self.command, self.path))
                    if proxy.throttle_first > 0:
                        proxy.throttle_first -= 1
                    proxy.seen.append((self.command, self.path, throttled))
                if throttled:
                    self.send_response(400)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(THROTTLE_BODY)))
                    self.end_headers()
                    self.wfile.write(THROTTLE_BODY)
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                headers = dict((key, value) for key, value in self.headers.items() if key.lower() != "host")
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = _relay

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.server.shutdown()
        self.server.server_close()

    def reset(self, throttle_first=0, throttle_rule=None):
        with self.lock:
            self.throttle_first, self.throttle_rule, self.seen = throttle_first, throttle_rule, []

    def throttled(self):
        return [item for item in self.seen if item[2]]


def address_records(env, name):
    """The name's A/AAAA/CNAME record sets, exactly as moto lists them (the tests' own boto3 reader)."""
    route53 = aws_client(env, "route53")
    zone = [item for item in route53.list_hosted_zones_by_name(DNSName="6play.fr.")["HostedZones"]
            if item["Name"] == "6play.fr."][0]["Id"]
    listed = route53.list_resource_record_sets(HostedZoneId=zone, StartRecordName=name)["ResourceRecordSets"]
    return [item for item in listed if item["Name"] == name and item["Type"] in ("A", "AAAA", "CNAME")]


def aws_client(env, service):
    """A boto3 client of the environment's moto server (democtl's own factory)."""
    return local_aws.client(Layout(env.run_dir, env.port_offset), service)


def create_function(env, name):
    """A function with an alias `live` serving its version 1 through a function URL (AuthType NONE); the URL's host."""
    iam, functions = aws_client(env, "iam"), aws_client(env, "lambda")
    try:
        role = iam.get_role(RoleName="cloudshift-lambda")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="cloudshift-lambda", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("handler.py", "def handle(event, context):\n    return {'statusCode': 200, 'body': 'OK'}\n")
    functions.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="handler.handle",
                              Code={"ZipFile": archive.getvalue()})
    version = functions.publish_version(FunctionName=name)["Version"]
    functions.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    url = functions.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")["FunctionUrl"]
    functions.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=100)
    return url.split("//", 1)[1].rstrip("/")
