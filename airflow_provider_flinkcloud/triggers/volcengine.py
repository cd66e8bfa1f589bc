"""Trigger watching a Volcengine Flink application instance."""

from __future__ import annotations

from airflow_provider_flinkcloud.base.triggers import FlinkJobTrigger
from airflow_provider_flinkcloud.hooks.volcengine import VolcengineFlinkHook


class VolcengineFlinkInstanceTrigger(FlinkJobTrigger[VolcengineFlinkHook]):
    hook_class = VolcengineFlinkHook
