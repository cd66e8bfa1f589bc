"""Trigger watching a Dinky job instance."""

from __future__ import annotations

from airflow_provider_flinkcloud.base.triggers import FlinkJobTrigger
from airflow_provider_flinkcloud.hooks.dinky import DinkyHook


class DinkyJobInstanceTrigger(FlinkJobTrigger[DinkyHook]):
    hook_class = DinkyHook
