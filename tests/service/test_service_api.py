"""The service as a DashScope client sees it: the real SDK and plain HTTP against `serve`."""

from __future__ import annotations

import uuid
from pathlib import Path

import dashscope
import httpx
import pytest
from dashscope import VideoSynthesis
from dashscope.utils.oss_utils import OssUtils
from servicekit import MediaServer, Service

SUBMIT = "/api/v1/services/aigc/image2video/video-synthesis"


@pytest.fixture(scope="module")
def key(service: Service) -> str:
    return service.create_key("alice")


@pytest.fixture(scope="module")
def sdk(service: Service) -> str:
    dashscope.base_http_api_url = service.base + "/api/v1"
    return service.base


def _inputs(media_server: MediaServer, **directives: object) -> dict[str, str]:
    name = f"v-{uuid.uuid4().hex[:8]}.mp4"
    return {
        "video_url": media_server.put(name, directives or b"video-bytes"),
        "audio_url": media_server.put("a.wav", b"audio-bytes"),
    }


def _post(service: Service, key: str | None, body: object, **headers: str) -> httpx.Response:
    h = {"X-DashScope-Async": "enable", **headers}
    if key is not None:
        h["Authorization"] = f"Bearer {key}"
    return httpx.post(service.base + SUBMIT, json=body, headers=h)


def _error(response: httpx.Response, status: int, code: str) -> str:
    body = response.json()
    assert response.status_code == status, body
    assert body["code"] == code and body["request_id"] == response.headers["x-request-id"]
    return str(body["message"])


def test_sdk_submit_fetch_wait_list(
    sdk: str, key: str, service: Service, media_server: MediaServer
) -> None:
    rsp = VideoSynthesis.async_call(
        model="videoretalk",
        task="image2video",
        api_key=key,
        extra_input=_inputs(media_server),
        video_extension=True,
    )
    assert rsp.status_code == 200 and rsp.output.task_status == "PENDING", rsp
    assert VideoSynthesis.fetch(rsp, api_key=key).output.task_status in (
        "PENDING",
        "RUNNING",
        "SUCCEEDED",
    )
    done = VideoSynthesis.wait(rsp, api_key=key)
    assert done.output.task_status == "SUCCEEDED", done
    assert done.usage.video_duration == 7.5 and done.usage.video_ratio == "standard"
    for name in ("submit_time", "scheduled_time", "end_time"):
        assert len(done.output[name]) == len("2025-09-11 20:15:29.887")
    video = httpx.get(done.output.video_url)
    assert video.status_code == 200 and video.content == b"video-bytes"
    part = httpx.get(done.output.video_url, headers={"Range": "bytes=2-5"})
    assert part.status_code == 206 and part.content == b"deo-"
    assert part.headers["content-range"] == "bytes 2-5/11"
    beyond = httpx.get(done.output.video_url, headers={"Range": "bytes=11-"})
    _error(beyond, 416, "InvalidParameter")
    assert beyond.headers["content-range"] == "bytes */11"
    tampered = done.output.video_url.replace("Expires=", "Expires=1")
    _error(httpx.get(tampered), 403, "AccessDenied")
    listed = VideoSynthesis.list(api_key=key, status="SUCCEEDED", page_size=50)
    assert listed.status_code == 200
    assert rsp.output.task_id in [t["task_id"] for t in listed.output["tasks"]]
    assert listed.output["total"] >= 1 and listed.output["page_no"] == 1


def test_failed_validation_ends_task_failed(sdk: str, key: str, media_server: MediaServer) -> None:
    rsp = VideoSynthesis.async_call(
        model="videoretalk",
        task="image2video",
        api_key=key,
        extra_input=_inputs(media_server, fail="InvalidFile.Resolution"),
    )
    done = VideoSynthesis.wait(rsp, api_key=key)
    assert done.status_code == 200
    assert done.output.task_status == "FAILED"
    assert done.output.code == "InvalidFile.Resolution" and done.output.message


def test_cancel_pending_only(sdk: str, service: Service, media_server: MediaServer) -> None:
    key = service.create_key("canceller", max_active=10)
    slow = [
        VideoSynthesis.async_call(
            model="videoretalk",
            task="image2video",
            api_key=key,
            extra_input=_inputs(media_server, sleep=1.5),
        )
        for _ in range(3)
    ]  # two workers: the third waits
    last = slow[-1]
    assert VideoSynthesis.cancel(last, api_key=key).status_code == 200
    assert VideoSynthesis.fetch(last, api_key=key).output.task_status == "CANCELED"
    again = VideoSynthesis.cancel(last, api_key=key)
    assert again.status_code == 400 and again.code == "UnsupportedOperation"
    assert "CANCELED" in again.message
    assert VideoSynthesis.wait(slow[0], api_key=key).output.task_status == "SUCCEEDED"


def test_oss_upload_then_use(
    sdk: str, key: str, service: Service, media_server: MediaServer, tmp_path: Path
) -> None:
    local = tmp_path / "clip.mp4"
    local.write_bytes(b"uploaded-video")
    oss_url, cert = OssUtils.upload(model="videoretalk", file_path=str(local), api_key=key)
    assert oss_url.startswith("oss://") and oss_url.endswith("/clip.mp4")
    rsp = VideoSynthesis.async_call(
        model="videoretalk",
        task="image2video",
        api_key=key,
        extra_input={"video_url": oss_url, "audio_url": media_server.put("a.wav", b"a")},
        headers={"X-DashScope-OssResourceResolve": "enable"},
    )
    done = VideoSynthesis.wait(rsp, api_key=key)
    assert done.output.task_status == "SUCCEEDED", done
    assert httpx.get(done.output.video_url).content == b"uploaded-video"
    # Another key cannot use it; nor can anyone without the resolve header.
    other = service.create_key("bob")
    body = {"model": "videoretalk", "input": {"video_url": oss_url, "audio_url": "http://x/a"}}
    _error(
        _post(service, other, body, **{"X-DashScope-OssResourceResolve": "enable"}),
        400,
        "InvalidURL",
    )
    _error(_post(service, key, body), 400, "InvalidURL")
    # The policy is checked: a forged signature or a key outside upload_dir is refused.
    form = {
        "OSSAccessKeyId": cert["oss_access_key_id"],
        "policy": cert["policy"],
        "Signature": "forged",
        "key": cert["upload_dir"] + "/x.mp4",
        "success_action_status": "200",
    }
    post = httpx.post(cert["upload_host"], data=form, files={"file": b"x"})
    _error(post, 403, "AccessDenied")
    form |= {"Signature": cert["signature"], "key": "elsewhere/x.mp4"}
    _error(httpx.post(cert["upload_host"], data=form, files={"file": b"x"}), 403, "AccessDenied")


def test_auth_and_request_errors(service: Service, key: str, media_server: MediaServer) -> None:
    good = {"model": "videoretalk", "input": _inputs(media_server)}
    _error(_post(service, None, good), 401, "InvalidApiKey")
    _error(_post(service, "sk-wrong", good), 401, "InvalidApiKey")
    no_async = httpx.post(
        service.base + SUBMIT, json=good, headers={"Authorization": f"Bearer {key}"}
    )
    assert "does not support synchronous calls" in _error(no_async, 403, "AccessDenied")
    _error(_post(service, key, {**good, "model": "wanx-v1"}), 404, "Model.NotExist")
    assert "input.audio_url" in _error(
        _post(service, key, {"model": "videoretalk", "input": {"video_url": "http://a/b"}}),
        400,
        "InvalidParameter",
    )
    assert "input.video_url" in _error(
        _post(
            service,
            key,
            {"model": "videoretalk", "input": {"video_url": 5, "audio_url": "http://a/b"}},
        ),
        400,
        "InvalidParameter",
    )
    assert "parameters.video_extension" in _error(
        _post(service, key, {**good, "parameters": {"video_extension": "yes"}}),
        400,
        "InvalidParameter",
    )
    assert "query_face_threshold" in _error(
        _post(service, key, {**good, "parameters": {"query_face_threshold": 500}}),
        400,
        "InvalidParameter",
    )
    assert "input" in _error(_post(service, key, {"model": "videoretalk"}), 400, "InvalidParameter")
    _error(
        _post(service, key, {**good, "input": {**good["input"], "video_url": "ftp://x/v"}}),
        400,
        "InvalidURL",
    )
    huge = {**good, "pad": "x" * 100_000}
    assert "by URL" in _error(_post(service, key, huge), 413, "InvalidParameter")
    streamed = httpx.post(  # chunked: no Content-Length to refuse up front, counted as it comes
        service.base + SUBMIT,
        content=iter([b'{"pad": "', b"x" * 70_000, b'"}']),
        headers={"Authorization": f"Bearer {key}", "X-DashScope-Async": "enable"},
    )
    _error(streamed, 413, "InvalidParameter")
    raw = httpx.post(
        service.base + SUBMIT,
        content=b"{not json",
        headers={"Authorization": f"Bearer {key}", "X-DashScope-Async": "enable"},
    )
    _error(raw, 400, "InvalidParameter")


def test_sdk_default_task_path_says_which_to_use(
    sdk: str, key: str, service: Service, media_server: MediaServer
) -> None:
    # Without task="image2video" the SDK posts to DashScope's video-generation service.
    rsp = VideoSynthesis.async_call(
        model="videoretalk", api_key=key, extra_input=_inputs(media_server)
    )
    assert rsp.status_code == 404 and rsp.code == "NotFound", rsp
    assert "task='image2video'" in rsp.message and SUBMIT in rsp.message
    elsewhere = httpx.get(service.base + "/api/v1/nothing-here")
    assert _error(elsewhere, 404, "NotFound") == "Not Found"


def test_tasks_are_private_to_their_key(
    service: Service, key: str, media_server: MediaServer
) -> None:
    task_id = _post(service, key, {"model": "videoretalk", "input": _inputs(media_server)}).json()[
        "output"
    ]["task_id"]
    other = service.create_key("mallory")
    seen = httpx.get(
        f"{service.base}/api/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {other}"}
    )
    assert seen.status_code == 200 and seen.json()["output"]["task_status"] == "UNKNOWN"
    listed = httpx.get(f"{service.base}/api/v1/tasks", headers={"Authorization": f"Bearer {other}"})
    assert listed.json()["total"] == 0
    cancel = httpx.post(
        f"{service.base}/api/v1/tasks/{task_id}/cancel",
        headers={"Authorization": f"Bearer {other}"},
    )
    assert cancel.status_code == 400
    unknown = httpx.get(
        f"{service.base}/api/v1/tasks/nope", headers={"Authorization": f"Bearer {key}"}
    )
    assert unknown.json()["output"] == {"task_id": "nope", "task_status": "UNKNOWN"}


def test_throttling(service: Service, media_server: MediaServer) -> None:
    burst = service.create_key("bursty", rate=0.5)  # burst of 1
    body = {"model": "videoretalk", "input": _inputs(media_server)}
    assert _post(service, burst, body).status_code == 200
    _error(_post(service, burst, body), 429, "Throttling")
    busy = service.create_key("busy", max_active=1)
    slow = {"model": "videoretalk", "input": _inputs(media_server, sleep=1)}
    assert _post(service, busy, slow).status_code == 200
    assert "at once" in _error(_post(service, busy, slow), 429, "Throttling")


def test_ssrf_targets_fail_the_task(service: Service, key: str, media_server: MediaServer) -> None:
    # The allow-list opens 127.0.0.1/32 only; other loopback forms stay closed.
    port = media_server.port
    media_server.put("ok.mp4", b"v")
    media_server.put("a.wav", b"a")
    for host in ("127.0.0.2", "[::1]", "[::ffff:127.0.0.2]", "2130706434", "169.254.169.254"):
        body = {
            "model": "videoretalk",
            "input": {
                "video_url": f"http://{host}:{port}/ok.mp4",
                "audio_url": f"{media_server.base}/a.wav",
            },
        }
        response = _post(service, key, body)
        if response.status_code == 200:
            done = service.wait(key, response.json()["output"]["task_id"])
            assert done["output"]["task_status"] == "FAILED"  # type: ignore[index]
            assert done["output"]["code"].startswith("InvalidURL"), done  # type: ignore[index]
        else:
            _error(response, 400, "InvalidURL")


def test_openapi_docs(service: Service) -> None:
    assert httpx.get(service.base + "/docs").status_code == 200
    paths = httpx.get(service.base + "/openapi.json").json()["paths"]
    assert "/api/v1/tasks/{task_id}" in paths and "/api/v1" + SUBMIT[7:] in paths
