"""Every registry entry is wired: its modules import, and each class names the entry it belongs to."""

from __future__ import annotations

import importlib
import inspect

import pytest

from airflow_provider_flinkcloud.base.hook import FlinkCloudHook
from airflow_provider_flinkcloud.base.links import FlinkConsoleLink
from airflow_provider_flinkcloud.base.tasks import FlinkJobTask
from airflow_provider_flinkcloud.base.triggers import FlinkJobTrigger
from airflow_provider_flinkcloud.get_provider_info import get_provider_info
from airflow_provider_flinkcloud.registry import MODULE_KINDS, PLATFORMS, PlatformSpec, by_conn_type, platform

SPECS = pytest.mark.parametrize("spec", list(PLATFORMS.values()), ids=list(PLATFORMS))


@SPECS
def test_hook_trigger_and_link_are_the_registered_ones(spec: PlatformSpec) -> None:
    hook = spec.load(spec.hook_path)
    assert issubclass(hook, FlinkCloudHook) and hook.platform is spec
    assert (hook.conn_type, hook.default_conn_name, hook.hook_name) == (
        spec.conn_type,
        spec.default_conn_id,
        spec.label,
    )
    trigger = spec.load(spec.trigger_path)
    assert issubclass(trigger, FlinkJobTrigger) and trigger.hook_class is hook
    assert issubclass(spec.load(spec.console_link_path), FlinkConsoleLink)


@SPECS
def test_every_task_of_a_platform_uses_its_hook(spec: PlatformSpec) -> None:
    tasks = [
        cls
        for kind in ("operators", "sensors")
        for _, cls in inspect.getmembers(importlib.import_module(spec.module(kind)), inspect.isclass)
        if issubclass(cls, FlinkJobTask)
        and cls.__module__ == spec.module(kind)
        and not inspect.isabstract(cls)
    ]
    assert tasks
    for cls in tasks:
        assert cls.platform is spec, cls
        assert cls.template_fields[0] == "conn_id", cls
        assert [type(link).__name__ for link in cls.operator_extra_links] == [spec.console_link], cls


def test_provider_info_lists_every_platform_module() -> None:
    info = get_provider_info()
    for kind in MODULE_KINDS:
        if kind == "links":
            continue
        modules = [m for entry in info[kind] for m in entry["python-modules"]]
        assert modules == [spec.module(kind) for spec in PLATFORMS.values()]
        for module in modules:
            importlib.import_module(module)
    assert [c["connection-type"] for c in info["connection-types"]] == [
        s.conn_type for s in PLATFORMS.values()
    ]
    for path in info["extra-links"]:
        module, _, name = path.rpartition(".")
        assert issubclass(getattr(importlib.import_module(module), name), FlinkConsoleLink)


def test_lookups_name_what_is_known() -> None:
    assert by_conn_type("huaweicloud_dli").name == "huawei_dli"
    with pytest.raises(KeyError, match=r"unknown platform 'nope'; known: volcengine"):
        platform("nope")


def test_a_hook_that_claims_another_platform_is_refused() -> None:
    spec = next(iter(PLATFORMS.values()))
    with pytest.raises(TypeError, match="the registry names"):

        class Impostor(FlinkCloudHook, platform=spec):  # type: ignore[type-arg]
            pass
