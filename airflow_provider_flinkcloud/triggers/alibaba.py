"""Trigger watching a Blink job instance (foas GetInstance) from the triggerer."""

from __future__ import annotations

from airflow_provider_flinkcloud.base.triggers import FlinkJobTrigger
from airflow_provider_flinkcloud.hooks.alibaba import RealtimeComputeHook


class RealtimeComputeInstanceTrigger(FlinkJobTrigger[RealtimeComputeHook]):
    hook_class = RealtimeComputeHook
