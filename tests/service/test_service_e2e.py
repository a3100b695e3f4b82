"""One real lip-sync run through `serve` with the real pipeline, and one real rejection."""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import dashscope
import httpx
import pytest
from dashscope import VideoSynthesis
from servicekit import MediaServer, Service


@pytest.mark.slow
def test_real_pipeline_through_the_sdk(
    tmp_path: Path, dev_dir: Path, media_server: MediaServer
) -> None:
    for name in ("talk2.mp4", "talk3.mp4", "speech1.wav"):
        shutil.copyfile(dev_dir / name, media_server.root / name)
    service = Service(
        tmp_path,
        {
            "VIDEORETALK_WORKERS": "1",
            "VIDEORETALK_SERVICE_ENGINE": "videoretalk.pipeline:retalk",
            "VIDEORETALK_SERVICE_URL_ALLOW_LIST": "127.0.0.1/32",
        },
    ).start()
    try:
        key = service.create_key()
        dashscope.base_http_api_url = service.base + "/api/v1"
        good = VideoSynthesis.async_call(
            model="videoretalk",
            task="image2video",
            api_key=key,
            extra_input={
                "video_url": f"{media_server.base}/talk2.mp4",
                "audio_url": f"{media_server.base}/speech1.wav",
            },
        )
        small = VideoSynthesis.async_call(
            model="videoretalk",
            task="image2video",
            api_key=key,
            extra_input={
                "video_url": f"{media_server.base}/talk3.mp4",
                "audio_url": f"{media_server.base}/speech1.wav",
            },
        )
        done = VideoSynthesis.wait(good, api_key=key)
        assert done.output.task_status == "SUCCEEDED", done
        assert done.usage.video_duration == pytest.approx(5.0, abs=0.2)
        out = tmp_path / "out.mp4"
        out.write_bytes(httpx.get(done.output.video_url, timeout=60).content)
        with av.open(str(out)) as container:
            stream = container.streams.video[0]
            assert (stream.width, stream.height) == (844, 844)
            assert container.streams.audio
        rejected = VideoSynthesis.wait(small, api_key=key)
        assert rejected.output.task_status == "FAILED"
        assert rejected.output.code == "InvalidFile.Resolution"
    finally:
        service.stop()
