# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers of runtime API replies, on replies captured from HAProxy 2.6.12."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.parsing import (
    ParseError,
    admin_state_description,
    check_status_description,
    is_serving,
    last_check_summary,
    parse_get_weight,
    parse_servers_state,
    parse_show_stat,
    server_state,
    server_summary,
)

STAT_HEADER = (
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,"
    "act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,"
    "rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,"
    "hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,"
    "last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,"
    "check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,"
    "conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,"
    "qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,"
    "uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,"
    "ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,"
    "h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,"
    "h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,"
    "h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,"
    "h1_spliced_bytes_in,h1_spliced_bytes_out,\n"
)
# captured: "show stat" with cloud1 in MAINT, onprem1 failing its checks, bk1 a backup without checks
SHOW_STAT = STAT_HEADER + (
    "fe,FRONTEND,,,0,0,9983,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,0,,,,0,0,0,0,0,0,,0,0,0,,,0,0,0,0,,,,,,,,,,,"
    ",,,,,,,,,,http,,0,0,0,0,0,0,0,,,0,0,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,\n"
    "app1,cloud1,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,25,1,0,1,1,44,44,,1,3,1,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1"
    ",,,0,0,0,0,,,,,,,,,,,,127.0.0.1:18092,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,25,,,,-,0,0,0,,,,,,,,,,,,,,,,,"
    ",,,,,\n"
    "app1,onprem1,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,75,1,0,1,1,43,43,,1,3,2,,0,,2,0,,0,L4CON,,0,0,0,0,0,0,0,,,,0,0,0,"
    ",,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,2,3,0,,,,127.0.0.1:18093,,http,,,,,,,,0,0,0,,,"
    "0,,0,0,0,0,0,0,0,0,1,75,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,\n"
    "app1,bk1,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,20,0,1,,,44,,,1,3,3,,0,,2,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,,,,,-1,,,0"
    ",0,0,0,,,,,,,,,,,,127.0.0.1:18094,,http,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,20,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,"
    ",\n"
    "app1,BACKEND,0,0,0,0,999,0,0,0,0,0,,0,0,0,0,UP,1,0,1,,0,2,0,,1,3,0,,0,,1,0,,0,,,,0,0,0,0,0,0,,,,0,0,0,0,0,0,0,"
    "-1,,,0,0,0,0,,,,,,,,,,,,,,http,roundrobin,,,,,,,0,0,0,0,0,,,0,0,0,0,0,,,,,1,0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0"
    ",0,0,0,0,3,3,0,0,0,0,\n"
)
SHOW_SERVERS_STATE = (
    "1\n"
    "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
    "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
    "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port "
    "srv_check_addr srv_agent_addr srv_agent_port\n"
    "3 app1 1 cloud1 127.0.0.1 0 1 40 25 44 8 2 0 14 0 0 0 - 18092 - 0 0 - - 0\n"
    "3 app1 2 onprem1 127.0.0.1 0 0 75 75 43 8 2 0 6 0 0 0 - 18093 - 0 0 - - 0\n"
    "3 app1 3 bk1 127.0.0.1 2 0 20 1 44 1 0 2 0 0 0 0 - 18094 - 0 0 - - 0\n"
)


def test_show_stat_rows_by_header_name_with_types():
    rows = parse_show_stat(SHOW_STAT)
    assert [(row["pxname"], row["svname"]) for row in rows] == [
        ("fe", "FRONTEND"), ("app1", "cloud1"), ("app1", "onprem1"), ("app1", "bk1"), ("app1", "BACKEND")]
    cloud, onprem, backup, backend = rows[1:]
    assert cloud["status"] == "MAINT" and cloud["weight"] == 25 and cloud["uweight"] == 25
    assert cloud["bck"] == 0 and cloud["act"] == 1 and cloud["type"] == 2
    assert cloud["check_status"] is None and cloud["addr"] == "127.0.0.1:18092"
    assert onprem["check_status"] == "L4CON" and onprem["last_chk"] == "Connection refused"
    assert onprem["check_desc"] == "Layer4 connection problem" and onprem["check_duration"] == 0
    assert onprem["lastsess"] == -1
    assert backup["status"] == "no check" and backup["bck"] == 1 and backup["weight"] == 20
    assert backend["algo"] == "roundrobin" and backend["type"] == 1
    assert "-" not in backend and "" not in backend


def test_show_stat_columns_follow_the_header_not_positions():
    text = "# svname,pxname,weight,status,\ns1,b1,7,UP,\n"
    assert parse_show_stat(text) == [{"svname": "s1", "pxname": "b1", "weight": 7, "status": "UP"}]


@pytest.mark.parametrize("text", ["", "No such proxy.\n", "Permission denied\n", "pxname,svname\nb,s\n"])
def test_show_stat_refuses_other_replies(text):
    with pytest.raises(ParseError):
        parse_show_stat(text)


def test_servers_state_rows_by_header_name():
    rows = parse_servers_state(SHOW_SERVERS_STATE)
    assert [row["srv_name"] for row in rows] == ["cloud1", "onprem1", "bk1"]
    assert rows[0]["srv_uweight"] == 40 and rows[0]["srv_iweight"] == 25
    assert rows[0]["srv_admin_state"] == 1 and rows[0]["be_name"] == "app1" and rows[0]["srv_port"] == 18092
    assert rows[0]["srv_fqdn"] == "-"


def test_servers_state_of_an_empty_backend():
    header_only = "\n".join(SHOW_SERVERS_STATE.splitlines()[:2]) + "\n"
    assert parse_servers_state(header_only) == []


@pytest.mark.parametrize("text", ["", "Can't find backend.\n", "2\n# be_id be_name\n", "1\n3 app1 1 cloud1\n",
                                  "1\n# be_id be_name srv_id srv_name\n3 app1\n"])
def test_servers_state_refuses_other_replies(text):
    with pytest.raises(ParseError):
        parse_servers_state(text)


def test_get_weight():
    assert parse_get_weight("25 (initial 25)\n") == (25, 25)
    assert parse_get_weight("0 (initial 100)") == (0, 100)
    for text in ("No such server.", "Permission denied", "25", ""):
        with pytest.raises(ParseError) as info:
            parse_get_weight(text)
        assert repr(text) in str(info.value)


@pytest.mark.parametrize("status, state, serving", [
    ("UP", "up", True),
    ("UP 1/3", "up, going down (1/3 checks)", True),
    ("DOWN", "down", False),
    ("DOWN 1/2", "down, going up (1/2 checks)", False),
    ("no check", "up (not checked)", True),
    ("MAINT", "maint", False),
    ("MAINT (via app1/cloud1)", "maint (via app1/cloud1)", False),
    ("MAINT (resolution)", "maint (resolution)", False),
    ("DRAIN", "drain", False),
    ("NOLB", "nolb", False),
    (None, "unknown", False),
])
def test_status_readable_and_serving(status, state, serving):
    assert server_state(status) == state
    assert is_serving(status) is serving


def test_check_status_descriptions():
    assert check_status_description("L7OK") == "check passed on layer 7"
    assert check_status_description("* L4CON").endswith("(check in progress)")
    assert check_status_description(None) == "no check"
    assert check_status_description("WHAT") == "unknown check status"


def test_admin_state_flags():
    assert admin_state_description(0) == []
    assert admin_state_description(None) == []
    assert admin_state_description(1) == ["forced maintenance"]
    assert admin_state_description(0x08 | 0x04) == ["maintenance set in the configuration (disabled)",
                                                    "forced drain"]


def test_server_summary_and_last_check():
    rows = dict((row["svname"], row) for row in parse_show_stat(SHOW_STAT))
    onprem = server_summary(rows["onprem1"])
    assert onprem["name"] == "onprem1" and onprem["weight"] == 75 and onprem["status"] == "down"
    assert onprem["serving"] is False and onprem["backup"] is False
    assert onprem["last_check"] == "L4CON in 0ms: Connection refused"
    assert onprem["check_description"] == "Layer4 connection problem"
    assert server_summary(rows["bk1"], weight=3)["weight"] == 3
    assert server_summary(rows["bk1"])["backup"] is True
    assert last_check_summary(rows["cloud1"]) is None
    assert last_check_summary({"check_status": "L7OK", "check_code": 200, "check_duration": 1}) == "L7OK/200 in 1ms"
