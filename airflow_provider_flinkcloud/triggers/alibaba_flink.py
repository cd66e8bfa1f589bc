"""Trigger watching Alibaba Cloud Realtime Compute for Apache Flink jobs."""

from __future__ import annotations

from airflow_provider_flinkcloud.base.triggers import FlinkJobTrigger
from airflow_provider_flinkcloud.hooks.alibaba_flink import AlibabaFlinkHook


class AlibabaFlinkJobTrigger(FlinkJobTrigger[AlibabaFlinkHook]):
    hook_class = AlibabaFlinkHook
