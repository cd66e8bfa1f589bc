"""Provider metadata and the connection forms, checked against Airflow's own schemas."""

from __future__ import annotations

import json
from importlib import metadata, resources
from typing import Any

import jsonschema
import pytest

from airflow_provider_flinkcloud.get_provider_info import get_provider_info
from airflow_provider_flinkcloud.hooks.volcengine import VolcengineFlinkHook
from airflow_provider_flinkcloud.registry import PLATFORMS, PlatformSpec

DISTRIBUTION = "airflow-provider-flinkcloud"


def airflow_schema(name: str) -> dict[str, Any]:
    """A JSON schema shipped inside the installed airflow package (same place on 2.11 and 3.x)."""
    return json.loads((resources.files("airflow") / name).read_text(encoding="utf-8"))


def validate(instance: Any, schema: dict[str, Any]) -> None:
    jsonschema.validators.validator_for(schema)(schema).validate(instance)


# -- provider info --------------------------------------------------------------------------------


def test_provider_info_passes_airflows_schema() -> None:
    validate(get_provider_info(), airflow_schema("provider_info.schema.json"))


def test_schema_check_can_fail() -> None:
    broken = {**get_provider_info(), "connection-types": [{"hook-class-name": "x.Y"}]}
    with pytest.raises(jsonschema.ValidationError):
        validate(broken, airflow_schema("provider_info.schema.json"))


def test_connection_types_pass_the_provider_yaml_schema() -> None:
    # Airflow >= 3.2 describes conn-fields and ui-field-behaviour strictly in provider.yaml's schema.
    item_schema = airflow_schema("provider.yaml.schema.json")["properties"]["connection-types"]["items"]
    for conn_type in get_provider_info()["connection-types"]:
        validate(conn_type, item_schema)


@pytest.mark.parametrize("spec", list(PLATFORMS.values()), ids=list(PLATFORMS))
def test_each_hook_gives_its_form_as_airflow_reads_it(spec: PlatformSpec) -> None:
    hook = spec.load(spec.hook_path)
    # Airflow 2.11 reads the form only from methods defined on the hook class itself.
    assert "get_ui_field_behaviour" in vars(hook) and "get_connection_form_widgets" in vars(hook)
    validate(hook.get_ui_field_behaviour(), airflow_schema("customized_form_field_behaviours.schema.json"))


@pytest.mark.parametrize("spec", list(PLATFORMS.values()), ids=list(PLATFORMS))
def test_airflow_lists_each_connection_form(spec: PlatformSpec) -> None:
    """What ``airflow providers widgets`` and ``airflow providers behaviours`` show, on both lines."""
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    behaviour = manager.field_behaviours[spec.conn_type]
    # Cloud connections hide host / schema / port and relabel login / password; a host connection
    # (Dinky) shows them.
    assert set(behaviour["hidden_fields"]) == set(spec.form.hidden_fields)
    assert behaviour["relabeling"] == spec.form.relabeling
    if spec.form.hidden_fields:
        assert set(spec.form.hidden_fields) == {"host", "schema", "port"}
        assert behaviour["relabeling"]["password"] == "Secret Access Key"
    widgets = {k for k in manager.connection_form_widgets if k.startswith(f"extra__{spec.conn_type}__")}
    assert widgets == {f"extra__{spec.conn_type}__{name}" for name in spec.form.extra_fields}


def test_package_name_is_the_distribution_name() -> None:
    info = get_provider_info()
    dist = metadata.distribution(DISTRIBUTION)
    assert info["package-name"] == DISTRIBUTION == dist.metadata["Name"]
    assert info["versions"][0] == dist.version


def test_entry_point_leads_to_get_provider_info() -> None:
    points = [
        ep
        for ep in metadata.entry_points(group="apache_airflow_provider")
        if ep.dist is not None and ep.dist.metadata["Name"] == DISTRIBUTION
    ]
    assert len(points) == 1
    assert points[0].load() is get_provider_info


def test_provider_modules_and_classes_import() -> None:
    import importlib

    info = get_provider_info()
    for section in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[section]:
            for module in entry["python-modules"]:
                importlib.import_module(module)
    for path in [*info["extra-links"], *(c["hook-class-name"] for c in info["connection-types"])]:
        module, _, name = path.rpartition(".")
        assert hasattr(importlib.import_module(module), name), path
    integrations = {i["integration-name"] for i in info["integrations"]}
    for section in ("hooks", "operators", "sensors", "triggers"):
        assert {entry["integration-name"] for entry in info[section]} <= integrations


def connection_type(name: str) -> dict[str, Any]:
    (conn_type,) = [c for c in get_provider_info()["connection-types"] if c["connection-type"] == name]
    return conn_type


def test_connection_type_matches_the_hook() -> None:
    conn_type = connection_type("volcengine_flink")
    assert conn_type["connection-type"] == VolcengineFlinkHook.conn_type == "volcengine_flink"
    assert conn_type["hook-class-name"] == "airflow_provider_flinkcloud.hooks.volcengine.VolcengineFlinkHook"
    assert conn_type["hook-name"] == VolcengineFlinkHook.hook_name
    # The same form, spelled as provider info (hidden-fields) and as the hook method (hidden_fields).
    behaviour = VolcengineFlinkHook.get_ui_field_behaviour()
    assert conn_type["ui-field-behaviour"]["hidden-fields"] == behaviour["hidden_fields"]
    assert conn_type["ui-field-behaviour"]["relabeling"] == behaviour["relabeling"]


def test_conn_fields_mark_only_the_token_as_a_password() -> None:
    conn_type = connection_type("volcengine_flink")
    fields = conn_type["conn-fields"]
    assert set(fields) == {"region", "project_id", "endpoint", "security_token"}
    assert fields["security_token"]["schema"]["format"] == "password"
    for name in ("region", "project_id", "endpoint"):
        assert "format" not in fields[name]["schema"], name
    assert all(f["label"] and f["schema"]["type"] == ["string", "null"] for f in fields.values())


def test_ui_field_behaviour() -> None:
    behaviour = VolcengineFlinkHook.get_ui_field_behaviour()
    assert set(behaviour["hidden_fields"]) == {"host", "schema", "port"}
    assert behaviour["relabeling"] == {"login": "Access Key ID", "password": "Secret Access Key"}
    assert set(behaviour["placeholders"]) == {"region", "project_id", "endpoint", "security_token"}
    assert "cn-beijing" in behaviour["placeholders"]["region"]


def test_legacy_form_widgets_hide_the_token() -> None:
    pytest.importorskip("flask_appbuilder")
    from wtforms import PasswordField, StringField

    widgets = VolcengineFlinkHook.get_connection_form_widgets()
    assert set(widgets) == {"region", "project_id", "endpoint", "security_token"}
    assert widgets["security_token"].field_class is PasswordField
    assert widgets["region"].field_class is StringField
