"""`VideoReader.scan`: every frame's grey levels straight from the decoder, RGB where asked."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from mediafactory import frame_image, make_video, read_code

from videoretalk.media import decode
from videoretalk.media.decode import VideoReader
from videoretalk.media.probe import probe_video


@pytest.mark.parametrize(("width", "rotation"), [(200, 0), (198, 90)])
def test_scan_gives_every_frames_grey_and_the_asked_rgb(
    tmp_path: Path, width: int, rotation: int
) -> None:
    video = make_video(
        tmp_path / "v.mp4",
        width=width,
        height=160,
        fps=25,
        seconds=1.2,
        rotation=rotation,
        audio_tone_hz=None,
    )
    with VideoReader(video) as reader:
        full = {f.index: f.image for f in reader.frames()}
        seen = list(reader.scan([3, 7]))
    assert [index for index, _, _ in seen] == list(range(len(full)))
    for index, grey, frame in seen:
        image = full[index]
        assert grey.shape == image.shape[:2]  # upright, as the RGB frames are
        assert (frame is not None) == (index in (3, 7))
        if frame is not None:
            assert np.array_equal(frame.image, image)
            assert rotation or read_code(frame.image) == index
        # The luma plane is the picture's grey (limited range, so within a few levels).
        rgb_grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
        assert np.corrcoef(grey.ravel(), rgb_grey.ravel())[0, 1] > 0.99
        assert np.abs(grey.astype(np.float32) - rgb_grey).mean() < 12


def test_frames_past_rgb_until_come_with_their_time_only(tmp_path: Path) -> None:
    video = make_video(tmp_path / "v.mp4", width=200, height=160, fps=25, seconds=1.2)
    with VideoReader(video) as reader:
        full = list(reader.frames())
        cut = list(reader.frames(rgb_until_s=0.5))
        times = reader.frame_times
    assert [(f.index, f.time) for f in cut] == [(f.index, f.time) for f in full]
    for before, after in zip(full, cut, strict=True):
        if before.time <= 0.5:
            assert np.array_equal(after.image, before.image)
        else:
            assert after.image.size == 0
    assert sum(f.image.size > 0 for f in cut) == 13  # 0.00 ... 0.48 s at 25 fps
    with VideoReader(video) as fresh:  # times alone, from a pass that converts no frame
        assert np.array_equal(fresh.frame_times, times)


@pytest.mark.parametrize(
    ("suffix", "fragmented", "codec"),
    [
        (".avi", False, "libx264"),
        (".mp4", False, "libx264"),
        (".mov", False, "libx264"),
        (".mp4", True, "libx264"),
        (".mp4", False, "libx265"),
    ],
)
def test_b_frames_keep_every_frame_in_order_on_every_pass(
    tmp_path: Path, suffix: str, fragmented: bool, codec: str
) -> None:
    # AVI stores no presentation times: FFmpeg numbers its chunks in storage order, so
    # B-frames come back from the decoder carrying numbers out of order (1, 4, 3, 5, 2,
    # ...). Read as times, they once dropped every frame whose number went back (about
    # half of the video). And in AVI and fragmented MP4 a seek to one of the last
    # B-frames before a keyframe landed past it, so that frame was never found again; in
    # H.265 with open GOPs (x265's default) the frame just before each keyframe was lost
    # the same way. Keyframes every 10 frames, so the passes that seek land mid-stream.
    video = make_video(
        tmp_path / f"v{suffix}",
        width=192,  # the index code's 12 blocks
        height=128,
        fps=25,
        seconds=2.0,
        codec=codec,
        container=suffix[1:],
        b_frames=3,
        keyframe_every=10,
        fragmented=fragmented,
        audio_tone_hz=None,
    )
    with VideoReader(video) as reader:
        frames = list(reader.frames())
        assert [read_code(f.image) for f in frames] == list(range(50))
        assert np.allclose([f.time for f in frames], np.arange(50) / 25)
        assert np.allclose(reader.frame_times, np.arange(50) / 25)
        # Later passes seek, and find each frame again by its number.
        for index in range(50):
            (alone,) = reader.frames_at([index])
            assert (alone.index, read_code(alone.image)) == (index, index)
            assert alone.time == pytest.approx(index / 25)
            assert [read_code(f.image) for f in reader.frames_forward(index, index + 1)] == list(
                range(index, min(index + 2, 50))
            )
        backward = reader.frames_backward(3, 49)
        assert [read_code(f.image) for f in backward] == list(range(49, 2, -1))
        scanned = [(i, read_code(f.image)) for i, _, f in reader.scan([5, 39]) if f is not None]
        assert scanned == [(5, 5), (39, 39)]


def test_frames_an_edit_list_cuts_away_are_neither_shown_nor_counted(tmp_path: Path) -> None:
    # A video trimmed without re-encoding keeps the cut frames as references behind an
    # edit list. The probe counted them: 2.4 s and 60 frames for a 2.0 s, 50-frame video.
    path = tmp_path / "trimmed.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 192, 128, "yuv420p"
        stream.time_base = stream.codec_context.time_base = Fraction(1, 25)
        for i in range(60):  # the first 10 before zero: the muxer writes them as cut
            frame = av.VideoFrame.from_ndarray(frame_image(i, 192, 128), format="rgb24")
            frame.pts, frame.time_base = i - 10, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    info = probe_video(path)
    assert (info.frame_count, info.duration) == (50, pytest.approx(2.0))
    with VideoReader(path) as reader:
        frames = list(reader.frames())
    assert [read_code(f.image) for f in frames] == list(range(10, 60))
    assert frames[0].time == 0.0


@pytest.mark.parametrize(("budget_frames", "held"), [(10, 10), (2, 8), (100, 48)])
def test_backward_chunks_hold_about_a_fixed_number_of_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, budget_frames: int, held: int
) -> None:
    # 48 frames of 2048 x 2048 RGB are 600 MB; a chunk now holds what fits the byte
    # budget (48 frames of 1080p), at least 8 frames and at most 48.
    video = make_video(tmp_path / "v.mp4", width=192, height=128, fps=25, seconds=4.0)
    monkeypatch.setattr(decode, "REVERSE_CHUNK_BYTES", budget_frames * 192 * 128 * 3)
    with VideoReader(video) as reader:
        n = len(list(reader.frames(rgb_until_s=-1.0)))
        starts: list[int] = []
        decode_from = reader._decode_from

        def counted(index: int) -> Iterator[av.VideoFrame]:
            starts.append(index)
            return decode_from(index)

        monkeypatch.setattr(reader, "_decode_from", counted)
        backward = [read_code(f.image) for f in reader.frames_backward(0, n - 1)]
    assert backward == list(range(n - 1, -1, -1))
    assert len(starts) == -(-n // held)  # chunks of `held` frames
