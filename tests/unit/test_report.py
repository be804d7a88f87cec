from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.report import step_table


def test_step_table_has_a_row_per_server_and_node_columns_once():
    lines = step_table([{
        "node": "haproxy-local", "app": "application-01", "previous_step": 1, "step": 25,
        "share": 25.0, "effective_share": 25.0,
        "servers": [
            {"name": "onprem-prod-front-application-01", "side": "onprem", "weight": 75, "status": "UP",
             "check_status": "L7OK", "check_code": 200, "check_duration_ms": 1},
            {"name": "aws-prod-Kubernetes-application-01", "side": "cloud", "weight": 25, "status": "UP",
             "check_status": "L7OK", "check_code": 200, "check_duration_ms": 3, "backup": False},
        ]}])
    assert lines[0].split() == ["node", "app", "step", "share", "up", "share", "server", "side", "weight", "state",
                                "last", "check"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split()[:5] == ["haproxy-local", "application-01", "1", "->", "25"]
    assert "25.0%" in lines[2] and "L7OK/200 in 1ms" in lines[2]
    assert lines[3].split()[0] == "aws-prod-Kubernetes-application-01"
    # Columns line up.
    assert lines[2].index("onprem-prod") == lines[3].index("aws-prod")


def test_step_table_marks_backups_and_unchanged_steps():
    lines = step_table([{"node": "n1", "app": "a", "previous_step": 100, "step": 100, "share": 100,
                         "servers": [{"name": "s", "side": "onprem", "weight": 100, "status": "UP", "backup": True}]}])
    assert " 100 " in lines[2] and "->" not in lines[2]
    assert "UP (backup)" in lines[2]


def test_step_table_prefers_haproxy_last_check_summary():
    lines = step_table([{"node": "n1", "app": "a", "step": 5, "share": 5,
                         "servers": [{"name": "s", "side": "cloud", "weight": 5, "status": "DOWN",
                                      "last_check": "L4CON in 0ms: Connection refused", "check_status": "L4CON"}]}])
    assert lines[2].endswith("L4CON in 0ms: Connection refused")
