"""The hook every platform builds on: reads the connection lazily, owns the sync and async transports."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from airflow_provider_flinkcloud.core.compat import (
    BaseHook,
    get_async_connection,
    get_async_extra_dejson,
    mask_secret,
)
from airflow_provider_flinkcloud.core.errors import FlinkCloudApiError, JobSpecError
from airflow_provider_flinkcloud.core.forms import ConnectionForm
from airflow_provider_flinkcloud.core.transport import (
    ApiCall,
    AsyncTransport,
    PlatformClient,
    RetryPolicy,
    SyncTransport,
    default_is_retryable,
)

if TYPE_CHECKING:
    from airflow_provider_flinkcloud.core.lifecycle import JobAdapter

T = TypeVar("T")
ClientT = TypeVar("ClientT", bound=PlatformClient)


@dataclass(frozen=True)
class CloudSettings:
    """A cloud connection: access key in ``login``, secret in ``password``, the rest in extra."""

    conn_id: str
    access_key: str
    secret_key: str
    region: str | None
    endpoint: str | None
    project_id: str | None
    security_token: str | None
    retry: RetryPolicy

    def __repr__(self) -> str:
        return f"CloudSettings(conn_id={self.conn_id!r}, region={self.region!r}, endpoint={self.endpoint!r})"


def _retry_policy(conn_id: str, extra: dict[str, Any]) -> RetryPolicy:
    defaults = RetryPolicy()
    try:
        return RetryPolicy(
            max_attempts=int(extra.get("retry_max_attempts", defaults.max_attempts)),
            base_delay=float(extra.get("retry_base_delay", defaults.base_delay)),
            max_delay=float(extra.get("retry_max_delay", defaults.max_delay)),
        )
    except (TypeError, ValueError) as exc:
        raise JobSpecError(
            f"connection {conn_id!r}: extra retry_* settings must be numbers ({exc})"
        ) from None


def read_cloud_settings(conn: Any, extra: dict[str, Any]) -> CloudSettings:
    conn_id = conn.conn_id
    access_key = (conn.login or "").strip()
    secret_key = conn.password or ""
    if not access_key:
        raise JobSpecError(f"connection {conn_id!r}: login (the access key) is empty")
    if not secret_key:
        raise JobSpecError(f"connection {conn_id!r}: password (the secret key) is empty")
    security_token = extra.get("security_token") or None
    mask_secret(secret_key)
    if security_token:
        mask_secret(security_token)
    endpoint = (extra.get("endpoint") or "").strip() or None
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise JobSpecError(f"connection {conn_id!r}: extra endpoint must be a full URL, got {endpoint!r}")
    return CloudSettings(
        conn_id=conn_id,
        access_key=access_key,
        secret_key=secret_key,
        region=(extra.get("region") or "").strip() or None,
        endpoint=endpoint.rstrip("/") if endpoint else None,
        project_id=(str(extra.get("project_id") or "")).strip() or None,
        security_token=security_token,
        retry=_retry_policy(conn_id, extra),
    )


class FlinkCloudHook(BaseHook, Generic[ClientT]):
    """Base of the platform hooks. The connection is read on first use, never in ``__init__``."""

    conn_name_attr = "conn_id"
    default_conn_name: ClassVar[str]
    conn_type: ClassVar[str]
    hook_name: ClassVar[str]
    form: ClassVar[ConnectionForm]

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return cls.form.ui_field_behaviour()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The extra fields for Airflow 2's Flask form (Airflow >= 3.2 reads provider info instead)."""
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import PasswordField, StringField

        widgets: dict[str, Any] = {}
        for name, spec in cls.form.extra_fields.items():
            if spec.secret:
                widgets[name] = PasswordField(lazy_gettext(spec.label), widget=BS3PasswordFieldWidget())
            else:
                widgets[name] = StringField(lazy_gettext(spec.label), widget=BS3TextFieldWidget())
        return widgets

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id or self.default_conn_name
        self._async_client: ClientT | None = None

    @abstractmethod
    def build_client(self, conn: Any, extra: dict[str, Any]) -> ClientT:
        """Build the platform client (credentials, endpoint, signer) from a connection."""

    @abstractmethod
    def adapter(self) -> JobAdapter[Any]:
        """The job-lifecycle adapter of this platform, bound to this hook."""

    @cached_property
    def client(self) -> ClientT:
        conn = self.get_connection(self.conn_id)
        return self.build_client(conn, conn.extra_dejson)

    @cached_property
    def _transport(self) -> SyncTransport:
        return SyncTransport(self.client, retry=self.retry_policy)

    @property
    def retry_policy(self) -> RetryPolicy:
        return getattr(self.client, "retry", RetryPolicy())

    def call(self, api_call: ApiCall[T]) -> T:
        return self._transport.execute(api_call)

    async def async_client(self) -> ClientT:
        if self._async_client is None:
            conn = await get_async_connection(self.conn_id, hook=self)
            extra = await get_async_extra_dejson(conn)
            self._async_client = self.build_client(conn, extra)
        return self._async_client

    async def acall(self, api_call: ApiCall[T]) -> T:
        client = await self.async_client()
        return await AsyncTransport(client, retry=getattr(client, "retry", RetryPolicy())).execute(api_call)

    def is_retryable(self, error: FlinkCloudApiError) -> bool:
        """Whether an idempotent call that failed this way may be repeated (the platform's one rule)."""
        return default_is_retryable(error)

    @abstractmethod
    def probe_call(self) -> ApiCall[Any]:
        """A cheap read-only call that proves the credentials work."""

    def test_connection(self) -> tuple[bool, str]:
        try:
            self.call(self.probe_call())
        except (FlinkCloudApiError, JobSpecError) as exc:
            return False, str(exc)
        return True, f"Connection to {self.hook_name} at {self.client.base_url} succeeded"
