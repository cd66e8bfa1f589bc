"""Console links that store parameters (not URLs) in XCom and format them when shown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_flinkcloud.base.compat import BaseOperatorLink, XCom

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.base.compat import Context


class FlinkConsoleLink(BaseOperatorLink):
    name: ClassVar[str] = "Flink console"
    key: ClassVar[str] = "flinkcloud_console"

    @staticmethod
    def format_link(params: dict[str, Any]) -> str:
        raise NotImplementedError

    @classmethod
    def persist(cls, context: Context, params: dict[str, Any]) -> None:
        context["ti"].xcom_push(key=cls.key, value=params)

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        params = XCom.get_value(ti_key=ti_key, key=self.key)
        if not params:
            return ""
        return self.format_link(params)
