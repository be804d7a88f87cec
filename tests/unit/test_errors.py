"""Every error the collection raises on purpose derives from CloudshiftError; ValueError ones stay ValueErrors."""

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils import (
    alerts, audit, aws, awx, capacity, elb, gate, jsonfile, lock, migration_report, route53)
from ansible_collections.cloudshift.migration.plugins.module_utils.app_model.model import AppModelError
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.step_engine import EngineError
from ansible_collections.cloudshift.migration.plugins.module_utils.step_node import NodeStepError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import (
    client, drift, maps, master, parsing, pcre, shadow, shadow_service, split, state, stats, step,
    timings, validation)

ERRORS = (lock.LockError, capacity.CapacityError, awx.AwxDataError, route53.CutoverError, jsonfile.JsonFileError,
          elb.ElbError, master.MasterError, timings.TimingsError, client.HAProxyError, client.SocketError,
          client.CommandError, client.AdminLevelError, client.UnknownBackendError, step.StepError, stats.StatsError,
          split.SplitError, pcre.RegexError, maps.MapError, parsing.ParseError, drift.DriftError, state.StateError,
          shadow.ShadowError, validation.ValidationError, migration_report.ReportError,
          gate.GateError, aws.AwsError, audit.AuditError, alerts.AlertModelError, AppModelError, EngineError, NodeStepError)
STILL_VALUE_ERRORS = (awx.AwxDataError, timings.TimingsError, pcre.RegexError, parsing.ParseError,
                      validation.ValidationError)


@pytest.mark.parametrize("error", ERRORS, ids=lambda error: error.__name__)
def test_every_collection_error_is_a_cloudshift_error(error):
    assert issubclass(error, CloudshiftError)


@pytest.mark.parametrize("error", STILL_VALUE_ERRORS, ids=lambda error: error.__name__)
def test_value_errors_stay_value_errors(error):
    assert issubclass(error, ValueError)
    with pytest.raises(ValueError, match="bad value"):
        raise error("bad value")


def test_interrupted_is_a_signal_not_an_error():
    assert not issubclass(shadow_service.Interrupted, CloudshiftError)


def test_the_drift_module_catches_every_collection_error_and_value_errors():
    assert drift.ERRORS == (CloudshiftError, ValueError)


def test_constructors_keep_their_attributes():
    assert aws.AwsError("denied", code="AccessDenied").code == "AccessDenied"
    regex = pcre.RegexError("bad regex", pattern="(", reason="missing closing parenthesis", offset=1)
    assert (str(regex), regex.pattern, regex.offset) == ("bad regex", "(", 1)
