"""The pure parts of the Lambda side's checks and of the endpoint discovery, on the shapes AWS answers with (the states
moto cannot produce: a function Pending, Failed, or updating)."""

from ansible_collections.cloudshift.migration.plugins.module_utils import endpoint, lambda_side

URL = {"FunctionUrl": "https://abc123.lambda-url.eu-west-3.on.aws/", "AuthType": "NONE"}


def test_only_an_active_function_whose_last_update_succeeded_takes_traffic():
    assert lambda_side.function_problems({"State": "Active", "LastUpdateStatus": "Successful"}, "fn:live") == []
    assert lambda_side.function_problems({"State": "Pending", "StateReason": "The function is being created."},
                                         "fn:live") == [
        "function fn:live is Pending (The function is being created.): it cannot take traffic"]
    assert lambda_side.function_problems({"State": "Active", "LastUpdateStatus": "Failed",
                                          "LastUpdateStatusReason": "The image could not be pulled"}, "fn") == [
        "the last update of function fn is Failed (The image could not be pulled)"]
    assert lambda_side.function_problems({"State": "Active", "LastUpdateStatus": "InProgress"}, "fn") == [
        "the last update of function fn is InProgress"]


def test_the_function_url_must_be_the_servers_host_and_take_unsigned_requests():
    assert lambda_side.url_problems(URL, "ABC123.lambda-url.eu-west-3.on.aws", "fn") == []
    assert lambda_side.url_problems(dict(URL, AuthType="AWS_IAM"), None, "fn") == [
        "the function URL of fn needs AWS_IAM signatures: HAProxy's requests are not signed (AuthType NONE, or an "
        "API Gateway in front)"]
    assert lambda_side.url_problems(URL, "other.example.com", "fn") == [
        "the function URL of fn is abc123.lambda-url.eu-west-3.on.aws, not the cloud server's host other.example.com"]


def test_capacity_checks_say_where_the_concurrency_comes_from_and_a_quiet_function_has_no_error_rate():
    checks = lambda_side.capacity_checks(None, "no reserved concurrency, and the account's could not be read", 10,
                                         {}, 0, 1.0, 300)
    assert [(item["check"], item["status"]) for item in checks] == [
        ("lambda_concurrency", "fail"), ("lambda_throttles", "pass"), ("lambda_errors", "pass")]
    assert checks[0]["message"] == ("concurrency unknown (no reserved concurrency, and the account's could not be "
                                    "read) < the 10 expected at peak")
    assert checks[2]["message"] == "0 error(s) in 0 invocation(s) in the last 300 s: 0.00%, at most 1.00%"


def test_a_services_balancer_is_told_by_its_tags_and_its_tls_listener_on_443_comes_first():
    service = {"namespace": "default", "name": "application-01"}
    tags = {"kubernetes.io/service-name": "default/application-01", "kubernetes.io/cluster/k8s.6play.fr": "owned"}
    assert endpoint.service_matches(tags, service) and endpoint.service_matches(tags, service, "k8s.6play.fr")
    assert not endpoint.service_matches(tags, service, "k8s-staging")
    assert not endpoint.service_matches(dict(tags, **{"kubernetes.io/service-name": "web/application-01"}), service)
    listeners = [{"port": 80, "protocol": "HTTP"}, {"port": 8443, "protocol": "TLS"}, {"port": 443, "protocol": "TLS"}]
    assert endpoint.pick_port(listeners) == {"port": 443, "protocol": "TLS"}
    assert endpoint.pick_port(listeners[:2]) == {"port": 8443, "protocol": "TLS"}
    assert endpoint.pick_port([{"port": 80, "protocol": "TCP"}]) == {"port": 80, "protocol": "TCP"}
    assert endpoint.pick_port([]) is None
    assert endpoint.input_problems({"service": service, "function": "fn", "region": "eu-west-3"})[0].startswith(
        "give the Kubernetes service (service: {namespace, name}) or the Lambda function (function), one of the two")
