"""Bad-input corpus: each limit just over and just under, every kind of broken file."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest
from mediafactory import make_audio, make_image, make_video
from PIL import Image

from videoretalk import errors
from videoretalk.limits import MB, InputLimits
from videoretalk.media.validate import validate_audio, validate_image, validate_video

LIMITS = InputLimits()


def _code(call, *args) -> str:
    with pytest.raises(errors.VideoRetalkError) as caught:
        call(*args)
    assert caught.value.status == 400
    assert caught.value.message  # every error says what was wrong
    return caught.value.code


# -- video ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"width": 638, "height": 640}, "InvalidFile.Resolution"),
        ({"width": 640, "height": 2050, "seconds": 2.1, "fps": 15}, "InvalidFile.Resolution"),
        ({"seconds": 1.9}, "InvalidFile.Duration"),
        ({"fps": 14}, "InvalidFile.FPS"),
        ({"fps": 62, "seconds": 2.1}, "InvalidFile.FPS"),
        ({"codec": "mpeg4"}, "InvalidFile.Format"),
        ({"container": "matroska"}, "InvalidFile.Format"),
    ],
)
def test_video_just_over_a_limit_gets_its_code(tmp_path: Path, kwargs: dict, code: str) -> None:
    suffix = ".mkv" if kwargs.get("container") == "matroska" else ".mp4"
    path = make_video(tmp_path / f"v{suffix}", **kwargs)
    assert _code(validate_video, path, LIMITS) == code


@pytest.mark.parametrize(
    "kwargs",
    [
        {"width": 640, "height": 640, "seconds": 2.0},
        {"width": 2048, "height": 640, "seconds": 2.0, "fps": 15},
        {"fps": 60, "seconds": 2.0},
        {"codec": "libx265", "seconds": 2.0},
        {"container": "avi", "seconds": 2.0},
        {"container": "mov", "seconds": 2.0},
    ],
)
def test_video_just_under_the_limits_passes(tmp_path: Path, kwargs: dict) -> None:
    suffix = {"avi": ".avi", "mov": ".mov"}.get(kwargs.get("container", ""), ".mp4")
    info = validate_video(make_video(tmp_path / f"v{suffix}", **kwargs), LIMITS)
    assert info.width >= 640 and info.height >= 640


def test_video_over_max_duration_is_refused_by_duration(tmp_path: Path) -> None:
    limits = InputLimits(video_max_seconds=3.0)  # a settings override, cheaper than 121 s of video
    path = make_video(tmp_path / "long.mp4", seconds=3.2, fps=15, audio_tone_hz=None)
    assert _code(validate_video, path, limits) == "InvalidFile.Duration"


def test_video_size_is_checked_before_parsing(tmp_path: Path) -> None:
    path = make_video(tmp_path / "v.mp4", seconds=2.0)
    limits = InputLimits(video_max_bytes=os.path.getsize(path) - 1)
    assert _code(validate_video, path, limits) == "InvalidFile.Size"
    assert validate_video(path, InputLimits(video_max_bytes=os.path.getsize(path)))


def test_rotated_phone_video_is_judged_by_displayed_size(tmp_path: Path) -> None:
    # Coded 640×1000 turned by 90° displays as 1000×640.
    path = make_video(tmp_path / "r.mp4", width=640, height=1000, rotation=90, seconds=2.0, fps=15)
    info = validate_video(path, LIMITS)
    assert (info.width, info.height) == (1000, 640)
    narrow = make_video(
        tmp_path / "n.mp4", width=2048, height=600, rotation=90, seconds=2.0, fps=15
    )
    # Coded 2048×600 is too short; displayed 600×2048 is too narrow: both are refused,
    # and the message names the displayed size.
    with pytest.raises(errors.InvalidFileResolution, match="600×2048"):
        validate_video(narrow, LIMITS)


def test_shared_dev_clips(dev_dir: Path) -> None:
    for name in ("talk1.mp4", "talk2.mp4", "talk4.mp4"):
        validate_video(dev_dir / name, LIMITS)
    for name in ("talk3.mp4", "talk5.mp4"):
        assert _code(validate_video, dev_dir / name, LIMITS) == "InvalidFile.Resolution"


# -- broken files -----------------------------------------------------------


def _broken_files(tmp_path: Path) -> dict[str, Path]:
    good = make_video(tmp_path / "good.mp4", seconds=2.4)
    files = {
        "empty": tmp_path / "empty.mp4",
        "random": tmp_path / "random.mp4",
        "truncated": tmp_path / "truncated.mp4",
        "image_renamed": tmp_path / "image.mp4",
        "audio_only": make_audio(tmp_path / "audio_only.m4a", 3.0),
    }
    files["empty"].write_bytes(b"")
    # Seeded: about 1 in 150 random files probes as a raw H.263 stream and is refused
    # as InvalidFile.Format instead ("The video container is 'h263'..."), just as clear.
    files["random"].write_bytes(random.Random(0).randbytes(200_000))
    files["truncated"].write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    make_image(tmp_path / "img.png", 800, 800)
    shutil.copy(tmp_path / "img.png", files["image_renamed"])
    return files


def test_broken_videos_get_openerror(tmp_path: Path) -> None:
    for name, path in _broken_files(tmp_path).items():
        assert _code(validate_video, path, LIMITS) == "InvalidFile.Openerror", name


def test_broken_audio_gets_openerror(tmp_path: Path) -> None:
    video_only = make_video(tmp_path / "silent.mp4", seconds=2.4, audio_tone_hz=None)
    for path in [*_broken_files(tmp_path).values(), video_only]:
        if path.name == "audio_only.m4a":
            continue
        assert _code(validate_audio, path, LIMITS) == "InvalidFile.Openerror", path.name


def test_unopenable_files_are_named_in_plain_english(tmp_path: Path) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"\x00" * 4096)  # a file whose header was zeroed
    with pytest.raises(errors.VideoRetalkError) as audio:
        validate_audio(junk, LIMITS)
    assert "not an audio file" in audio.value.message
    with pytest.raises(errors.VideoRetalkError) as video:
        validate_video(junk, LIMITS)
    assert "not a video file" in video.value.message


# -- audio ------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".aac", ".m4a"])
def test_audio_formats_accepted(tmp_path: Path, suffix: str) -> None:
    info = validate_audio(make_audio(tmp_path / f"a{suffix}", 2.5, rate=44100), LIMITS)
    assert info.duration == pytest.approx(2.5, abs=0.06)


def test_audio_judged_by_content_not_name(tmp_path: Path) -> None:
    flac = make_audio(tmp_path / "a.flac", 2.5)
    renamed = tmp_path / "a.wav"
    shutil.copy(flac, renamed)
    assert _code(validate_audio, renamed, LIMITS) == "InvalidFile.Format"
    mp3_named_wav = tmp_path / "b.wav"
    shutil.copy(make_audio(tmp_path / "b.mp3", 2.5), mp3_named_wav)
    assert validate_audio(mp3_named_wav, LIMITS).codec.startswith("mp3")


@pytest.mark.parametrize(("seconds", "ok"), [(1.9, False), (2.0, True), (4.0, True), (4.2, False)])
def test_audio_duration_limits(tmp_path: Path, seconds: float, ok: bool) -> None:
    limits = InputLimits(audio_max_seconds=4.0)
    path = make_audio(tmp_path / "a.wav", seconds)
    if ok:
        validate_audio(path, limits)
    else:
        assert _code(validate_audio, path, limits) == "InvalidFile.Duration"


@pytest.mark.parametrize(("rate", "ok"), [(4000, False), (8000, True)])
def test_audio_sample_rate_floor(tmp_path: Path, rate: int, ok: bool) -> None:
    path = make_audio(tmp_path / "a.wav", 2.5, rate=rate)
    if ok:
        assert validate_audio(path, LIMITS).sample_rate == rate
    else:
        assert _code(validate_audio, path, LIMITS) == "InvalidFile.Format"


def test_audio_real_max_duration(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "long.wav", 120.5, rate=8000)
    assert _code(validate_audio, path, LIMITS) == "InvalidFile.Duration"


def test_audio_size_limit(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "a.wav", 3.0)
    size = path.stat().st_size
    assert _code(validate_audio, path, InputLimits(audio_max_bytes=size - 1)) == "InvalidFile.Size"
    validate_audio(path, InputLimits(audio_max_bytes=size))
    assert LIMITS.audio_max_bytes == 30 * MB


# -- images -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "BMP", "WEBP"])
def test_image_formats_accepted(tmp_path: Path, fmt: str) -> None:
    assert validate_image(make_image(tmp_path / "i.img", 300, 400, fmt), LIMITS).format == fmt


@pytest.mark.parametrize(
    ("size", "code"),
    [((4097, 3000), "InvalidFile.ImageSize"), ((201, 100), "InvalidFile.ImageSize")],
)
def test_image_size_and_aspect(tmp_path: Path, size: tuple[int, int], code: str) -> None:
    path = tmp_path / "i.png"
    Image.new("RGB", size).save(path)
    assert _code(validate_image, path, LIMITS) == code


def test_image_at_limits_passes(tmp_path: Path) -> None:
    for size in [(4096, 2048), (200, 100)]:
        path = tmp_path / f"{size[0]}.png"
        Image.new("RGB", size).save(path)
        validate_image(path, LIMITS)


def test_image_other_format_and_broken(tmp_path: Path) -> None:
    gif = tmp_path / "i.gif"
    Image.new("RGB", (100, 100)).save(gif)
    assert _code(validate_image, gif, LIMITS) == "InvalidFile.Format"
    broken = tmp_path / "b.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(100))
    assert _code(validate_image, broken, LIMITS) == "InvalidFile.Openerror"
    (tmp_path / "z.png").write_bytes(b"")
    assert _code(validate_image, tmp_path / "z.png", LIMITS) == "InvalidFile.Openerror"


def test_image_decompression_bomb_refused_without_decoding(tmp_path: Path) -> None:
    # A PNG header claiming 60000×60000 px in a few hundred bytes: refused from the
    # header alone, before a single pixel is decoded.
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
    )
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb)
    assert _code(validate_image, path, LIMITS) == "InvalidFile.ImageSize"
