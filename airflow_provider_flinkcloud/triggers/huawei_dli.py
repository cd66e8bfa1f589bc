"""Trigger watching Huawei Cloud DLI Flink jobs."""

from __future__ import annotations

from airflow_provider_flinkcloud.base.triggers import FlinkJobTrigger
from airflow_provider_flinkcloud.hooks.huawei_dli import DliFlinkHook


class DliFlinkJobTrigger(FlinkJobTrigger[DliFlinkHook]):
    hook_class = DliFlinkHook
