"""`retalk()` and `videoretalk run` end to end on synthetic and real clips (media layer only)."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from mediafactory import decoded_frames, frame_image, make_audio, make_video, read_code

from videoretalk import Settings, retalk
from videoretalk.media.decode import VideoReader, read_audio, read_audio_on_video_clock
from videoretalk.media.probe import probe_video


def _streams(path: Path) -> dict:
    with av.open(str(path)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        return {
            "video_codec": v.codec_context.name,
            "pix_fmt": v.codec_context.pix_fmt,
            "size": (v.codec_context.width, v.codec_context.height),
            "audio_codec": a.codec_context.name,
            "duration": c.duration / av.time_base,
        }


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("clip") / "clip.mp4", fps=25, seconds=2.4)


def test_extension_ping_pongs_to_cover_longer_audio(clip: Path, tmp_path: Path) -> None:
    audio = make_audio(tmp_path / "a.wav", 5.0)
    result = retalk(clip, audio, tmp_path / "out.mp4", video_extension=True)
    assert result.usage.video_duration == pytest.approx(5.0, abs=0.001)
    assert result.usage.video_ratio == "standard"
    codes = [read_code(image) for _, image in decoded_frames(result.output)]
    expected = (
        list(range(60)) + list(range(58, -1, -1)) + list(range(1, 60)) + list(range(58, 53, -1))
    )
    assert codes == expected[:125]
    info = _streams(result.output)
    assert (
        info["video_codec"] == "h264"
        and info["pix_fmt"] == "yuv420p"
        and info["audio_codec"] == "aac"
    )
    assert info["size"] == (640, 640)
    assert info["duration"] == pytest.approx(5.0, abs=0.05)
    assert read_audio(result.output).duration == pytest.approx(5.0, abs=0.03)


def test_without_extension_the_audio_is_cut(clip: Path, tmp_path: Path) -> None:
    audio = make_audio(tmp_path / "a.wav", 5.0)
    result = retalk(clip, audio, tmp_path / "out.mp4")
    assert result.duration == pytest.approx(2.4)
    assert result.frames == 60
    assert read_audio(result.output).duration == pytest.approx(2.4, abs=0.03)


def test_shorter_audio_cuts_the_video(clip: Path, tmp_path: Path) -> None:
    result = retalk(
        clip, make_audio(tmp_path / "a.mp3", 2.0), tmp_path / "out.mp4", video_extension=True
    )
    assert result.duration == pytest.approx(2.0, abs=0.001)
    codes = [read_code(image) for _, image in decoded_frames(result.output)]
    assert codes == list(range(50))


def test_unedited_frames_equal_the_input_up_to_reencoding(clip: Path, tmp_path: Path) -> None:
    result = retalk(clip, make_audio(tmp_path / "a.wav", 3.0), tmp_path / "out.mp4")
    source = decoded_frames(clip)
    output = decoded_frames(result.output)
    assert len(output) == len(source)
    assert min(_psnr(a, b) for (_, a), (_, b) in zip(source, output, strict=True)) > 38


def test_variable_frame_rate_keeps_its_timing(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    times = np.round(np.cumsum(np.r_[0, rng.uniform(1 / 40, 1 / 20, 80)]), 4)
    video = make_video(tmp_path / "vfr.mp4", times=times.tolist(), fps=30)
    result = retalk(video, make_audio(tmp_path / "a.wav", 10.0), tmp_path / "out.mp4")
    out_times = np.array([t for t, _ in decoded_frames(result.output)])
    out_times -= out_times[0]
    assert len(out_times) == len(times)
    np.testing.assert_allclose(out_times, times - times[0], atol=1e-3)


def test_avi_with_b_frames_comes_out_whole_and_in_order(tmp_path: Path) -> None:
    # The shape of an AVI from `ffmpeg -i in.mp4 out.avi` (x264 with B-frames): its
    # frames once came out halved and jumping, their stored numbers read as times.
    video = make_video(tmp_path / "v.avi", fps=25, seconds=2.4, container="avi", b_frames=3)
    result = retalk(video, make_audio(tmp_path / "a.wav", 2.4), tmp_path / "out.mp4")
    decoded = decoded_frames(result.output)
    assert [read_code(image) for _, image in decoded] == list(range(60))
    times = np.array([t for t, _ in decoded])
    np.testing.assert_allclose(times - times[0], np.arange(60) / 25, atol=1e-3)


def test_a_cover_picture_stored_first_is_not_taken_for_the_video(tmp_path: Path) -> None:
    # Downloaders embed a thumbnail as a one-frame MJPEG video stream; when it came first,
    # the file was refused as an MJPEG video.
    path = tmp_path / "with_cover.mp4"
    with av.open(str(path), "w") as out:
        cover = out.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 320, 320, "yuvj420p"
        video = out.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 640, 640, "yuv420p"
        still = av.VideoFrame.from_ndarray(np.full((320, 320, 3), 90, np.uint8), format="rgb24")
        out.mux(cover.encode(still.reformat(format="yuvj420p")))
        out.mux(cover.encode(None))
        for i in range(60):
            frame = av.VideoFrame.from_ndarray(frame_image(i, 640, 640), format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    result = retalk(path, make_audio(tmp_path / "a.wav", 2.4), tmp_path / "out.mp4")
    assert [read_code(image) for _, image in decoded_frames(result.output)] == list(range(60))


@pytest.mark.parametrize(("rotation", "shown"), [(0, Fraction(4, 3)), (90, Fraction(3, 4))])
def test_anamorphic_video_keeps_its_pixel_shape(
    tmp_path: Path, rotation: int, shown: Fraction
) -> None:
    # 1440×1080 broadcast footage shown 16:9 stores 4:3-wide pixels: without the ratio
    # the output played squeezed to 4:3. A quarter turn makes the pixels tall instead.
    video = make_video(
        tmp_path / "v.mp4", fps=25, seconds=2.0, rotation=rotation, pixel_aspect=Fraction(4, 3)
    )
    assert probe_video(video).pixel_aspect == shown
    result = retalk(video, make_audio(tmp_path / "a.wav", 2.0), tmp_path / "out.mp4")
    with av.open(str(result.output)) as container:
        assert container.streams.video[0].sample_aspect_ratio == shown
    square = make_video(tmp_path / "square.mp4", fps=25, seconds=2.0)
    assert probe_video(square).pixel_aspect == 1
    result = retalk(square, make_audio(tmp_path / "a.wav", 2.0), tmp_path / "square_out.mp4")
    with av.open(str(result.output)) as container:
        assert container.streams.video[0].sample_aspect_ratio in (None, 0, 1)


def _first_frame(path: Path) -> tuple[np.ndarray, tuple[int, int, int]]:
    """The first frame's luma plane as stored, and its colour tags (matrix, primaries,
    transfer)."""
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        luma = frame.to_ndarray(format="yuv420p")[: frame.height]
        return luma, (frame.colorspace, frame.color_primaries, frame.color_trc)


@pytest.mark.parametrize("tag", [1, 6, None])  # BT.709, SMPTE 170M (BT.601), untagged
def test_colours_are_stored_and_tagged_as_the_sources(tmp_path: Path, tag: int | None) -> None:
    # A BT.709-tagged source came out encoded with BT.601 and untagged, so players, which
    # take untagged HD video for BT.709, showed every colour shifted.
    video = make_video(tmp_path / "v.mp4", fps=25, seconds=2.0, colour_tag=tag)
    result = retalk(video, make_audio(tmp_path / "a.wav", 2.0), tmp_path / "out.mp4")
    source_luma, source_tags = _first_frame(video)
    output_luma, output_tags = _first_frame(result.output)
    assert output_tags == source_tags == ((tag, tag, tag) if tag else (2, 2, 2))
    # The stored values themselves come back (BT.709 against BT.601 moves this picture's
    # luma by 9.2 levels on average; re-encoding alone, by about 1).
    change = output_luma.astype(int) - source_luma
    assert np.abs(change).mean() < 1.5
    # ... and not a shade darker: FFmpeg's fast YUV -> RGB left every decoded pixel about a
    # level dark, and the output stored that (-1.0 to -1.1 levels on average).
    assert abs(change.mean()) < 0.25


@pytest.mark.parametrize(("video_start", "audio_start"), [(0.0, 0.8), (0.5, 0.0)])
def test_a_videos_own_audio_is_read_on_the_videos_clock(
    tmp_path: Path, video_start: float, audio_start: float
) -> None:
    # Speaker adaptation pairs each frame with the sound heard with it. Read from its first
    # sample, audio that starts 0.8 s after the video (or the video 0.5 s after the audio)
    # paired frames with sound that far off.
    times = [video_start + i / 25 for i in range(60)]
    video = make_video(tmp_path / "v.mp4", times=times, fps=25, audio_delay_s=audio_start)
    plain, aligned = read_audio(video), read_audio_on_video_clock(video)
    rate = plain.sample_rate
    if audio_start:  # silence until the audio starts (less the AAC encoder's priming)
        lead = aligned.samples.shape[1] - plain.samples.shape[1]
        assert (audio_start - 0.03) * rate < lead <= audio_start * rate
        assert not aligned.samples[:, :lead].any()
        assert np.array_equal(aligned.samples[:, lead:], plain.samples)
    else:  # the sound before the first frame is dropped
        assert np.array_equal(aligned.samples, plain.samples[:, round(video_start * rate) :])


def test_audio_stays_in_sync_with_video(tmp_path: Path) -> None:
    """A click at 1.20 s in the audio must land on the output frame shown at 1.20 s."""
    video = make_video(tmp_path / "v.mp4", fps=25, seconds=3.0, audio_tone_hz=None)
    rate = 48000
    samples = np.zeros(3 * rate, np.float32)
    samples[int(1.2 * rate) : int(1.2 * rate) + 240] = 0.9
    audio = make_audio(tmp_path / "click.wav", 3.0, rate=rate, samples=samples)
    result = retalk(video, audio, tmp_path / "out.mp4")
    with av.open(str(result.output)) as c:
        video_start = float(c.streams.video[0].start_time * c.streams.video[0].time_base)
        audio_start = float(c.streams.audio[0].start_time * c.streams.audio[0].time_base)
    decoded = read_audio(result.output).mono()
    click = audio_start + np.argmax(np.abs(decoded) > 0.3) / rate - video_start
    frames = decoded_frames(result.output)
    shown = [read_code(img) for t, img in frames if t - frames[0][0] <= click][-1]
    assert shown == 30  # 1.20 s × 25 fps
    assert click == pytest.approx(1.2, abs=1 / 25)


def test_rotated_video_comes_out_upright(tmp_path: Path) -> None:
    video = make_video(tmp_path / "r.mp4", width=640, height=704, rotation=90, fps=25, seconds=2.0)
    result = retalk(video, make_audio(tmp_path / "a.wav", 3.0), tmp_path / "out.mp4")
    assert (result.width, result.height) == (704, 640)
    with VideoReader(result.output) as reader:
        first = next(reader.frames()).image
    upright = np.rot90(frame_image(0, 640, 704), k=1)
    assert first.shape == upright.shape
    assert _psnr(first, upright) > 35


def test_shared_vfr_clip_keeps_input_timing(dev_dir: Path, tmp_path: Path) -> None:
    result = retalk(
        dev_dir / "talk1.mp4",
        dev_dir / "speech2.wav",
        tmp_path / "out.mp4",
        settings=Settings.from_env(environ={}),
    )
    with VideoReader(dev_dir / "talk1.mp4") as reader:
        source = reader.frame_times
    out = np.array([t for t, _ in decoded_frames(result.output)])
    out -= out[0]
    kept = source[source < result.duration]
    np.testing.assert_allclose(out, kept, atol=1e-3)
    assert result.duration == pytest.approx(read_audio(dev_dir / "speech2.wav").duration, abs=1e-3)


def test_cli_json_summary_and_bad_input(dev_dir: Path, tmp_path: Path) -> None:
    cli = [sys.executable, "-m", "videoretalk.cli", "run"]
    ok = subprocess.run(
        [
            *cli,
            "--video",
            str(dev_dir / "talk2.mp4"),
            "--audio",
            str(dev_dir / "speech1.wav"),
            "--video-extension",
            "-o",
            str(tmp_path / "o.mp4"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    summary = json.loads(ok.stdout.strip().splitlines()[-1])
    assert summary["status"] == "SUCCEEDED" and summary["video_ratio"] == "standard"
    assert summary["video_duration"] == pytest.approx(5.0, abs=0.05)

    bad = subprocess.run(
        [
            *cli,
            "--video",
            str(dev_dir / "talk3.mp4"),
            "--audio",
            str(dev_dir / "speech1.wav"),
            "-o",
            str(tmp_path / "bad.mp4"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: InvalidFile.Resolution: The video is 590×590; each side must be 640–2048 px."
    ]
    assert not (tmp_path / "bad.mp4").exists()
    missing = subprocess.run(
        [*cli, "--video", str(tmp_path / "nope.mp4"), "--audio", "x", "-o", "y.mp4"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 2 and "InvalidFile.Openerror" in missing.stderr
    assert "Traceback" not in missing.stderr


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"video_extension": "yes"}, "video_extension"),
        ({"query_face_threshold": 119}, "query_face_threshold"),
        ({"query_face_threshold": 201}, "query_face_threshold"),
        ({"query_face_threshold": 150.5}, "query_face_threshold"),
    ],
)
def test_malformed_parameters_are_invalid_parameter(
    clip: Path, tmp_path: Path, kwargs: dict, field: str
) -> None:
    from videoretalk.errors import InvalidParameter

    with pytest.raises(InvalidParameter, match=f"parameters.{field}"):
        retalk(clip, make_audio(tmp_path / "a.wav", 3.0), tmp_path / "o.mp4", **kwargs)
    assert not (tmp_path / "o.mp4").exists()
