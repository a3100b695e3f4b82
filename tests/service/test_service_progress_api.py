"""`output.progress` on a RUNNING task: in the task query and the list, ignored by the SDK."""

from __future__ import annotations

import time

import dashscope
import httpx
from dashscope import VideoSynthesis
from servicekit import MediaServer, Service

SUBMIT = "/api/v1/services/aigc/image2video/video-synthesis"


def test_running_task_reports_progress(service: Service, media_server: MediaServer) -> None:
    key = service.create_key("progress")
    auth = {"Authorization": f"Bearer {key}"}
    body = {
        "model": "videoretalk",
        "input": {
            "video_url": media_server.put("slow-progress.mp4", {"sleep": 3}),
            "audio_url": media_server.put("a.wav", b"audio-bytes"),
        },
    }
    task_id = httpx.post(
        service.base + SUBMIT, json=body, headers={**auth, "X-DashScope-Async": "enable"}
    ).json()["output"]["task_id"]
    seen: list[dict[str, object]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        output = httpx.get(f"{service.base}/api/v1/tasks/{task_id}", headers=auth).json()["output"]
        if output["task_status"] == "SUCCEEDED":
            assert "progress" not in output
            break
        if "progress" in output:
            assert output["task_status"] == "RUNNING"
            seen.append(output["progress"])
        time.sleep(0.1)
    else:
        raise AssertionError("task did not finish")
    render = [p for p in seen if p["stage"] == "render"]
    assert render, seen
    percents = [float(p["percent"]) for p in seen]  # type: ignore[arg-type]
    assert percents == sorted(percents) and 45.0 <= max(percents) <= 97.0, percents
    assert len({p["percent"] for p in render}) > 2, "the bar should move during the render"


def test_progress_in_the_list_and_through_the_sdk(
    service: Service, media_server: MediaServer
) -> None:
    key = service.create_key("progress-sdk")
    dashscope.base_http_api_url = service.base + "/api/v1"
    rsp = VideoSynthesis.async_call(
        model="videoretalk",
        task="image2video",
        api_key=key,
        extra_input={
            "video_url": media_server.put("slow-list.mp4", {"sleep": 2}),
            "audio_url": media_server.put("a.wav", b"audio-bytes"),
        },
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        listed = httpx.get(
            f"{service.base}/api/v1/tasks", headers={"Authorization": f"Bearer {key}"}
        ).json()["tasks"][0]
        if listed.get("progress", {}).get("stage") == "render":
            break
        time.sleep(0.1)
    assert listed["task_status"] == "RUNNING" and listed["progress"]["stage"] == "render"
    fetched = VideoSynthesis.fetch(rsp, api_key=key)  # the extra field breaks nothing
    assert fetched.status_code == 200 and fetched.output.task_status in ("RUNNING", "SUCCEEDED")
    assert VideoSynthesis.wait(rsp, api_key=key).output.task_status == "SUCCEEDED"
