"""democtl argument and environment validation (no daemon, no network)."""

import os
import re
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "scripts"))

from localenv import cli, config  # noqa: E402


@pytest.mark.parametrize("argv", [
    ["fault", "application-01", "cloud", "badcert"],
    ["fault", "application-02", "onprem", "down"],
    ["hits", "application-01", "onprem"],
    ["status", "--json"], ["start"], ["stop"], ["reset"], ["pki"], ["describe"],
])
def test_valid_arguments_parse(argv):
    assert cli.parse_args(argv).command == argv[0]


@pytest.mark.parametrize("argv, named", [
    (["fault", "application-3", "cloud", "ok"], "'application-3'"),
    (["fault", "application-01", "aws", "ok"], "'aws'"),
    (["fault", "application-01", "cloud", "OK"], "'OK'"),
    (["fault", "application-01", "onprem", "badcert"], "'badcert'"),
    (["hits", "application-01", "Cloud"], "'Cloud'"),
    (["hits", "", "cloud"], "''"),
    (["explode"], "'explode'"),
])
def test_bad_arguments_name_the_value(argv, named):
    with pytest.raises(cli.UsageError) as raised:
        cli.parse_args(argv)
    assert named in str(raised.value)


def test_main_exits_2_before_contacting_anything(tmp_path, capsys):
    environ = {"CLOUDSHIFT_RUN_DIR": str(tmp_path), "CLOUDSHIFT_PORT_OFFSET": "20000"}
    assert cli.main(["fault", "application-01", "cloud", "melt"], environ) == 2
    assert "'melt'" in capsys.readouterr().err
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("offset", ["abc", "1.5", "70000"])
def test_bad_port_offset_is_refused(offset, tmp_path, capsys):
    environ = {"CLOUDSHIFT_RUN_DIR": str(tmp_path), "CLOUDSHIFT_PORT_OFFSET": offset}
    assert cli.main(["describe"], environ) == 2
    assert repr(offset) in capsys.readouterr().err


def test_layout_adds_offset_to_every_port(tmp_path):
    layout = config.Layout.from_environ({"CLOUDSHIFT_RUN_DIR": str(tmp_path),
                                         "CLOUDSHIFT_PORT_OFFSET": "20000"})
    assert layout.control_port == 28099
    assert layout.haproxy_port == 28080
    assert [layout.upstream_port(app, side) for app in config.APP_NAMES for side in config.SIDES] == \
        [28181, 28443, 28543, 28182, 28444, 28544]
    assert layout.pki_dir == os.path.join(str(tmp_path), "pki")


def test_layout_defaults_to_repo_run_dir_and_no_offset():
    layout = config.Layout.from_environ({})
    assert layout.port_offset == 0 and layout.control_port == 8099
    assert layout.run_dir == os.path.join(config.repo_root(), ".run")
    assert os.path.isfile(os.path.join(config.repo_root(), "scripts", "democtl"))


@pytest.mark.parametrize("argv, message", [
    (["fault", "application-01", "cloud", "apperror", "--delay", "0.3"], "a delay only goes with mode slow or appslow, not 'apperror'"),
    (["fault", "application-01", "cloud", "appslow", "--delay", "0"], "delay must be a number of seconds above 0"),
    (["fault", "application-01", "cloud", "slow", "--delay", "61"], "at most 60, got 61.0"),
    (["fault", "application-01", "cloud3", "down"], "unknown side 'cloud3'"),
    (["fault", "application-01", "onprem", "badcert"], "mode 'badcert' needs a TLS upstream"),
])
def test_bad_fault_arguments_are_refused_naming_the_value(argv, message):
    with pytest.raises(cli.UsageError, match=re.escape(message)):
        cli.parse_args(argv)


def test_fault_with_delay_is_accepted():
    args = cli.parse_args(["fault", "application-02", "cloud2", "appslow", "--delay", "0.3"])
    assert (args.side, args.mode, args.delay) == ("cloud2", "appslow", 0.3)
