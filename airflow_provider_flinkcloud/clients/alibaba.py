"""Alibaba Cloud Realtime Compute (Blink) client, product ``foas`` 2018-11-11 (ROA style, HMAC-SHA1).

No Airflow here: the hook reads the connection into :class:`AccessKeySettings` and hands it over.
Calls, paths and parameters follow ``aliyun-python-sdk-foas`` 2.11.1 (``aliyunsdkfoas/request/v20181111``)
and Alibaba's OpenAPI metadata (https://api.aliyun.com/api/foas/2018-11-11); signing and error replies
follow ``aliyun-python-sdk-core`` 2.16.1 and https://help.aliyun.com/document_detail/314367.html.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote, unquote

from pydantic import BaseModel

from airflow_provider_flinkcloud.core.errors import VendorErrorCodes
from airflow_provider_flinkcloud.core.settings import AccessKeySettings
from airflow_provider_flinkcloud.core.transport import ApiCall, ApiRequest, ApiResponse, VendorError
from airflow_provider_flinkcloud.models.alibaba import (
    API_VERSION,
    STOPPED_EXPECT_STATE,
    GetInstanceResult,
    GetJobResult,
    ListInstanceResult,
    ListProjectResult,
    RequestIdResult,
    StartJobResult,
)
from airflow_provider_flinkcloud.signers import alibaba as signer

ModelT = TypeVar("ModelT", bound=BaseModel)

PLATFORM = "Alibaba Realtime Compute"
DEFAULT_REGION = "cn-hangzhou"
LIST_PAGE_SIZE = 100

# aliyunsdkfoas/endpoint.py: regions without their own foas host are served from a shared one. Any
# other region resolves to foas.<region>.aliyuncs.com (the SDK's "regional" rule and endpoints.json).
CENTRAL_HOST_REGIONS = frozenset(
    {"cn-hongkong", "cn-huhehaote", "cn-chengdu", "cn-wuhan", "cn-fujian", "cn-edge-1"}
)
AP_NORTHEAST_1_HOST_REGIONS = frozenset(
    {
        "ap-south-1",
        "ap-southeast-2",
        "ap-southeast-5",
        "eu-central-1",
        "eu-west-1",
        "us-east-1",
        "us-west-1",
        "me-east-1",
        "rus-west-1-pop",
        "ap-northeast-2-pop",
    }
)

# The POP gateway's common codes (https://help.aliyun.com/document_detail/95922.html,
# https://help.aliyun.com/document_detail/51132.html); foas itself documents no business codes, so the
# codes the emulator answers for a missing job or instance and for a refused start are listed as well.
ALIBABA_CODES = VendorErrorCodes(
    auth=frozenset(
        {
            "InvalidAccessKeyId.NotFound",
            "InvalidAccessKeyId.Inactive",
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "IncompleteSignature",
            "InvalidTimeStamp.Format",
            "InvalidTimeStamp.Expired",
            "SignatureNonceUsed",
            "InvalidSignatureMethod",
            "InvalidSecurityToken.Expired",
            "InvalidSecurityToken.Malformed",
            "InvalidSecurityToken.MismatchWithAccessKey",
            "MissingSecurityToken",
        }
    ),
    permission=frozenset({"Forbidden.RAM", "Forbidden", "NoPermission"}),
    not_found=frozenset({"InvalidProject.NotFound", "InvalidJob.NotFound", "InvalidInstance.NotFound"}),
    throttling=frozenset({"Throttling", "Throttling.User", "Throttling.Api"}),
    transient=frozenset({"InternalError", "ServiceUnavailable", "ServiceTimeout"}),
    invalid=frozenset(
        {"InvalidApi.NotFound", "UnsupportedHTTPMethod", "InvalidParameter", "InvalidInstance.State"}
    ),
)

# SignatureDoesNotMatch quotes the server's string-to-sign ("...server string to sign is:<text>"), which
# carries every x-acs- header, the STS token among them: it is redacted before the text goes anywhere.
_SIGNED_TOKEN = re.compile(r"(x-acs-security-token:)[^\n]*", re.IGNORECASE)


def endpoint_for(region: str) -> str:
    if region in CENTRAL_HOST_REGIONS:
        return "https://foas.aliyuncs.com"
    if region in AP_NORTHEAST_1_HOST_REGIONS:
        return "https://foas.ap-northeast-1.aliyuncs.com"
    return f"https://foas.{region}.aliyuncs.com"


def redact(text: str, secrets: list[str]) -> str:
    text = _SIGNED_TOKEN.sub(r"\1***", text)
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _reply(model: type[ModelT]) -> Callable[[ApiResponse], ModelT]:
    def parse(response: ApiResponse) -> ModelT:
        return model.model_validate(response.json())

    return parse


# Built once: every status call shares it (a triggerer holds one status call per watched job).
_read_instance = _reply(GetInstanceResult)


def _segment(value: str) -> str:
    # A path parameter is signed raw (decoded) and sent percent-encoded, as requests does for the SDK.
    return quote(value, safe="")


class RealtimeComputeClient:
    """Builds and signs foas calls; the transports send them."""

    platform = PLATFORM
    codes = ALIBABA_CODES

    def __init__(self, settings: AccessKeySettings) -> None:
        self.settings = settings
        self.region = settings.region or DEFAULT_REGION
        self.base_url = settings.endpoint or endpoint_for(self.region)
        self.retry = settings.retry
        self.timeouts = (settings.wait.connect_timeout, settings.wait.read_timeout)
        self.credentials = signer.AlibabaCredentials(
            settings.access_key, settings.secret_key, settings.security_token
        )

    def sign(self, request: ApiRequest, host: str, now: datetime) -> dict[str, str]:
        # The ROA signature covers no Host header, so the same request signs alike for any endpoint.
        return signer.sign(
            method=request.method,
            path=unquote(request.path),
            query=request.query,
            headers=request.headers,
            body=request.body,
            credentials=self.credentials,
            now=now,
        )

    def read_error(self, request: ApiRequest, response: ApiResponse) -> VendorError | None:
        # A success is the operation's own object; an error is {RequestId, HostId, Code, Message,
        # Recommend} with a status outside 2xx (aliyunsdkcore client.py _get_server_exception).
        if 200 <= response.status < 300:
            return None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if isinstance(payload, dict) and (payload.get("Code") or payload.get("Message")):
            message = redact(str(payload.get("Message") or ""), self.settings.secrets())
            request_id = payload.get("RequestId")
            return VendorError(payload.get("Code"), message, str(request_id) if request_id else None)
        # Not the POP envelope (a proxy's page, an empty body): the SDK's SDK.UnknownServerError.
        text = response.body[:200].decode("utf-8", "replace").strip() or f"HTTP {response.status}"
        return VendorError(None, redact(text, self.settings.secrets()))

    # -- calls -------------------------------------------------------------------------------------

    def roa(
        self,
        action: str,
        method: str,
        path: str,
        parse: Callable[[ApiResponse], Any],
        *,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> ApiCall[Any]:
        headers = {
            "x-acs-action": action,
            "x-acs-version": API_VERSION,
            "x-acs-region-id": self.region,
        }
        content = b""
        if body:
            # JSON, as Alibaba's own demo requires; the SDK's default form encoding is accepted too.
            headers["Content-Type"] = "application/json"
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        pairs = (*(query or {}).items(), ("RegionId", self.region))
        return ApiCall(
            ApiRequest(
                operation=action,
                method=method,
                path=path,
                query=tuple(pairs),
                headers=headers,
                body=content,
                idempotent=idempotent,
            ),
            parse,
        )

    @staticmethod
    def job_path(project_name: str, job_name: str) -> str:
        return f"/api/v2/projects/{_segment(project_name)}/jobs/{_segment(job_name)}"

    def start_job_call(
        self, project_name: str, job_name: str, parameter_json: str | None
    ) -> ApiCall[StartJobResult]:
        # Note the singular /instance of StartJob against the plural /instances elsewhere.
        return self.roa(
            "StartJob",
            "POST",
            f"{self.job_path(project_name, job_name)}/instance",
            _reply(StartJobResult),
            body={"parameterJson": parameter_json} if parameter_json is not None else None,
            idempotent=False,
        )

    def get_instance_call(
        self, project_name: str, job_name: str, instance_id: str
    ) -> ApiCall[GetInstanceResult]:
        return self.roa(
            "GetInstance",
            "GET",
            f"{self.job_path(project_name, job_name)}/instances/{_segment(instance_id)}",
            _read_instance,
        )

    def list_instances_call(
        self, project_name: str, job_name: str, job_type: str, page: int
    ) -> ApiCall[ListInstanceResult]:
        # jobType is required; archived instances (ended long ago, or superseded) are left out.
        query = {
            "jobName": job_name,
            "jobType": job_type,
            "pageIndex": str(page),
            "pageSize": str(LIST_PAGE_SIZE),
        }
        return self.roa(
            "ListInstance",
            "GET",
            f"/api/v2/projects/{_segment(project_name)}/instances",
            _reply(ListInstanceResult),
            query=query,
        )

    def stop_instance_call(
        self, project_name: str, job_name: str, instance_id: str, *, trigger_checkpoint: bool
    ) -> ApiCall[RequestIdResult]:
        # Asynchronous: ExpectState turns TERMINATED at once, ActualState follows. Not repeated by the
        # transport: after a failed stop the lifecycle reads the status instead.
        body: dict[str, Any] = {"expectState": STOPPED_EXPECT_STATE}
        if trigger_checkpoint:
            body["triggerCheckpoint"] = True
        return self.roa(
            "ModifyInstanceState",
            "PUT",
            f"{self.job_path(project_name, job_name)}/instances/{_segment(instance_id)}/expectstate",
            _reply(RequestIdResult),
            body=body,
            idempotent=False,
        )

    def get_job_call(self, project_name: str, job_name: str) -> ApiCall[GetJobResult]:
        return self.roa("GetJob", "GET", self.job_path(project_name, job_name), _reply(GetJobResult))

    def probe_call(self) -> ApiCall[ListProjectResult]:
        return self.roa(
            "ListProject",
            "GET",
            "/api/v2/projects",
            _reply(ListProjectResult),
            query={"pageIndex": "1", "pageSize": "1"},
        )
