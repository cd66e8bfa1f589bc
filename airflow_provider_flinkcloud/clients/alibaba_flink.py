"""Alibaba Cloud Realtime Compute for Apache Flink (fully managed; OpenAPI product ``ververica``,
version 2022-07-18) client: endpoints, the ACS3 signature, the envelope, the error-code table and the calls.

No Airflow here. API reference:
https://www.alibabacloud.com/help/en/flink/developer-reference/api-ververica-2022-07-18-overview;
endpoints: https://www.alibabacloud.com/help/en/flink/realtime-flink/developer-reference/api-ververica-2022-07-18-endpoint.
Every call is ROA with a JSON body under ``/api/v2/namespaces/{namespace}/``, carries the ``workspace``
header (signed), and answers with the envelope ``{requestId, success, httpCode, errorCode,
errorMessage, data}``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel
from typing_extensions import Self

from airflow_provider_flinkcloud import __version__
from airflow_provider_flinkcloud.arguments.alibaba_flink import namespace_name, ververica_id
from airflow_provider_flinkcloud.core.errors import JobSpecError, VendorErrorCodes
from airflow_provider_flinkcloud.core.settings import AccessKeySettings, ConnectionLike, extra_text
from airflow_provider_flinkcloud.core.transport import ApiCall, ApiRequest, ApiResponse, VendorError
from airflow_provider_flinkcloud.models.alibaba_flink import (
    DeploymentPage,
    DeploymentRecord,
    JobPage,
    JobRecord,
    SavepointPage,
)
from airflow_provider_flinkcloud.signers import alibaba_flink as signer

ModelT = TypeVar("ModelT", bound=BaseModel)

PLATFORM = "Alibaba Cloud Realtime Compute for Apache Flink"
API_VERSION = "2022-07-18"
# The documented maximum of pageSize for ListDeployments / ListJobs / ListSavepoints.
LIST_PAGE_SIZE = 100
USER_AGENT = f"airflow-provider-flinkcloud/{__version__}"

CODES = VendorErrorCodes(
    # The POP gateway's codes (https://help.aliyun.com/document_detail/95922.html).
    auth=frozenset(
        {
            "SignatureDoesNotMatch",
            "IncompleteSignature",
            "InvalidAccessKeyId.NotFound",
            "InvalidAccessKeyId.Inactive",
            "InvalidAccessKeySecret",
            "InvalidTimeStamp.Format",
            "InvalidTimeStamp.Expired",
            "InvalidSignatureMethod",
            "InvalidSecurityToken.Expired",
            "InvalidSecurityToken.Malformed",
            "InvalidSecurityToken.MismatchWithAccessKey",
        }
    ),
    permission=frozenset({"Forbidden.RAM", "Forbidden", "NoPermission"}),
    # 990301: the resource does not exist; Alibaba's Terraform provider treats it so for deployments
    # and jobs (aliyun/terraform-provider-alicloud resource_alicloud_realtime_compute_job.go).
    not_found=frozenset({"990301", "InvalidApi.NotFound"}),
    throttling=frozenset({"Throttling", "Throttling.User", "Throttling.Api"}),
    # A reused nonce only happens when a retry raced its own first attempt; a fresh one cures it.
    transient=frozenset({"InternalError", "ServiceUnavailable", "SignatureNonceUsed"}),
)


def endpoint_for(region: str) -> str:
    # The SDK's _endpoint_map gives ververica.<region>.aliyuncs.com for every region it lists, and
    # the regional rule the same host for the others.
    return f"https://ververica.{region}.aliyuncs.com"


def segment(value: str) -> str:
    """A path parameter as the SDK encodes it (``DaraURL.percent_encode``: ``/`` -> %2F, ``*`` -> %2A)."""
    return quote(value, safe="")


@dataclass(frozen=True, repr=False)
class AlibabaFlinkSettings(AccessKeySettings):
    """The access key connection plus extra ``workspace`` (required) and ``namespace`` (the default)."""

    workspace: str | None = None
    namespace: str | None = None

    @classmethod
    def from_connection(cls, conn: ConnectionLike, extra: dict[str, Any]) -> Self:
        settings = super().from_connection(conn, extra)
        return replace(
            settings,
            workspace=extra_text(conn.conn_id, extra, "workspace"),
            namespace=extra_text(conn.conn_id, extra, "namespace"),
        )


def _envelope_error(payload: dict[str, Any], status: int) -> VendorError | None:
    """The error a ververica envelope states; ``success`` is the test, whatever the HTTP status."""
    if payload.get("success") in (True, "true") and 200 <= status < 300:
        return None
    code = payload.get("errorCode")
    # Success bodies of the docs carry the literal '""'; an empty code is no code.
    code = str(code) if code not in (None, "", '""') else None
    message = payload.get("errorMessage") or f"the reply says success={payload.get('success')!r}"
    return VendorError(code, str(message), payload.get("requestId"))


def _gateway_error(payload: Any, response: ApiResponse) -> VendorError:
    """A POP gateway error ``{RequestId, HostId, Code, Message, Recommend}``, or whatever came back."""
    if isinstance(payload, dict):
        code = payload.get("Code") or payload.get("code")
        message = payload.get("Message") or payload.get("message")
        request_id = payload.get("RequestId") or payload.get("requestId")
        if code or message:
            return VendorError(code, str(message or code), request_id)
    text = response.body[:200].decode("utf-8", "replace").strip()
    return VendorError(None, text or f"HTTP {response.status}", response.header("x-acs-request-id"))


def _data(model: type[ModelT]) -> Callable[[ApiResponse], ModelT]:
    def parse(response: ApiResponse) -> ModelT:
        return model.model_validate(response.json()["data"])

    return parse


def _page(model: type[ModelT]) -> Callable[[ApiResponse], ModelT]:
    def parse(response: ApiResponse) -> ModelT:
        payload = response.json()
        return model.model_validate({**payload, "data": payload.get("data") or []})

    return parse


# Built once: every status call shares it (a triggerer holds one status call per watched job).
_read_job = _data(JobRecord)


class AlibabaFlinkClient:
    platform = PLATFORM
    codes = CODES

    def __init__(self, settings: AlibabaFlinkSettings) -> None:
        conn = f"connection {settings.conn_id!r}"
        if not settings.workspace:
            raise JobSpecError(
                f"{conn}: extra workspace is required for Alibaba Cloud Realtime Compute for Apache Flink "
                "(the workspace id, shown in the console's workspace list)"
            )
        if not settings.region and not settings.endpoint:
            raise JobSpecError(f"{conn}: set extra region (e.g. cn-hangzhou) or extra endpoint")
        if settings.namespace is not None:
            try:
                namespace_name(settings.namespace, "extra namespace")
            except ValueError as exc:
                raise JobSpecError(f"{conn}: {exc}") from None
        self.settings = settings
        self.workspace = settings.workspace
        self.namespace = settings.namespace
        self.region = settings.region or ""
        self.base_url = settings.endpoint or endpoint_for(self.region)
        self.retry = settings.retry
        self.timeouts = (settings.wait.connect_timeout, settings.wait.read_timeout)
        self.credentials = signer.AlibabaCredentials(
            settings.access_key, settings.secret_key, settings.security_token
        )

    def sign(self, request: ApiRequest, host: str, now: datetime) -> dict[str, str]:
        return signer.sign(
            method=request.method,
            path=request.path,
            query=request.query,
            headers={"host": host, "user-agent": USER_AGENT, **request.headers},
            body=request.body,
            credentials=self.credentials,
            now=now,
            # Required unique per request (SignatureNonceUsed otherwise); it is no idempotency token.
            nonce=uuid.uuid4().hex,
        )

    def read_error(self, request: ApiRequest, response: ApiResponse) -> VendorError | None:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if isinstance(payload, dict) and ("success" in payload or "errorCode" in payload):
            # Business errors come as HTTP 200 with success=false, or as a 4xx carrying the envelope.
            return _envelope_error(payload, response.status)
        if 200 <= response.status < 300:
            return None
        return _gateway_error(payload, response)

    # -- calls -------------------------------------------------------------------------------------

    def request(
        self,
        operation: str,
        method: str,
        namespace: str,
        path: str,
        parse: Callable[[ApiResponse], Any],
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        idempotent: bool = True,
    ) -> ApiCall[Any]:
        headers = {
            "x-acs-action": operation,
            "x-acs-version": API_VERSION,
            "accept": "application/json",
            "workspace": self.workspace,
        }
        payload = b""
        if body is not None:
            headers["content-type"] = "application/json; charset=utf-8"
            # Serialised once: these bytes are hashed, signed and sent (compact, as the SDK sends them).
            payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return ApiCall(
            ApiRequest(
                operation=operation,
                method=method,
                path=f"/api/v2/namespaces/{segment(namespace)}{path}",
                query=tuple(query),
                headers=headers,
                body=payload,
                idempotent=idempotent,
            ),
            parse,
        )

    def create_deployment_call(self, namespace: str, body: dict[str, Any]) -> ApiCall[DeploymentRecord]:
        return self.request(
            "CreateDeployment",
            "POST",
            namespace,
            "/deployments",
            _data(DeploymentRecord),
            body=body,
            idempotent=False,
        )

    def update_deployment_call(
        self, namespace: str, deployment_id: str, body: dict[str, Any]
    ) -> ApiCall[DeploymentRecord]:
        # A PUT of the whole definition: repeating it changes nothing.
        path = f"/deployments/{segment(ververica_id(deployment_id, 'deploymentId'))}"
        return self.request("UpdateDeployment", "PUT", namespace, path, _data(DeploymentRecord), body=body)

    def get_deployment_call(self, namespace: str, deployment_id: str) -> ApiCall[DeploymentRecord]:
        path = f"/deployments/{segment(ververica_id(deployment_id, 'deploymentId'))}"
        return self.request("GetDeployment", "GET", namespace, path, _data(DeploymentRecord))

    def delete_deployment_call(self, namespace: str, deployment_id: str) -> ApiCall[Any]:
        path = f"/deployments/{segment(ververica_id(deployment_id, 'deploymentId'))}"
        return self.request("DeleteDeployment", "DELETE", namespace, path, lambda r: None)

    def list_deployments_call(
        self, namespace: str, *, name: str | None = None, page: int = 1, page_size: int = LIST_PAGE_SIZE
    ) -> ApiCall[DeploymentPage]:
        query = [("pageIndex", str(page)), ("pageSize", str(page_size))]
        if name is not None:
            query.append(("name", name))
        return self.request(
            "ListDeployments", "GET", namespace, "/deployments", _page(DeploymentPage), query=sorted(query)
        )

    def start_job_call(self, namespace: str, body: dict[str, Any]) -> ApiCall[JobRecord]:
        # The SDK's pathname spells the custom verb's ':' as %3A, and signs it so.
        return self.request(
            "StartJobWithParams",
            "POST",
            namespace,
            "/jobs%3Astart",
            _data(JobRecord),
            body=body,
            idempotent=False,
        )

    def get_job_call(self, namespace: str, job_id: str) -> ApiCall[JobRecord]:
        path = f"/jobs/{segment(ververica_id(job_id, 'jobId'))}"
        return self.request("GetJob", "GET", namespace, path, _read_job)

    def list_jobs_call(self, namespace: str, deployment_id: str, page: int = 1) -> ApiCall[JobPage]:
        query = [
            ("deploymentId", ververica_id(deployment_id, "deploymentId")),
            ("pageIndex", str(page)),
            ("pageSize", str(LIST_PAGE_SIZE)),
        ]
        return self.request("ListJobs", "GET", namespace, "/jobs", _page(JobPage), query=query)

    def stop_job_call(self, namespace: str, job_id: str, stop_strategy: str) -> ApiCall[JobRecord]:
        path = f"/jobs/{segment(ververica_id(job_id, 'jobId'))}%3Astop"
        return self.request(
            "StopJob",
            "POST",
            namespace,
            path,
            _data(JobRecord),
            body={"stopStrategy": stop_strategy},
            idempotent=False,
        )

    def list_savepoints_call(
        self, namespace: str, deployment_id: str | None, job_id: str
    ) -> ApiCall[SavepointPage]:
        query = [
            ("jobId", ververica_id(job_id, "jobId")),
            ("pageIndex", "1"),
            ("pageSize", str(LIST_PAGE_SIZE)),
        ]
        if deployment_id:
            query.append(("deploymentId", ververica_id(deployment_id, "deploymentId")))
        return self.request(
            "ListSavepoints", "GET", namespace, "/savepoints", _page(SavepointPage), query=query
        )

    def probe_call(self) -> ApiCall[DeploymentPage]:
        if not self.namespace:
            raise JobSpecError(
                f"connection {self.settings.conn_id!r}: extra namespace is needed to test the connection "
                "(the namespace it lists deployments of)"
            )
        return self.list_deployments_call(self.namespace, page_size=1)
