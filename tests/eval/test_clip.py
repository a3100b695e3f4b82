"""Whole-clip evaluation: a cartoon whose mouth follows a known signal; a real clip vs itself."""

from __future__ import annotations

import json

import numpy as np
import pytest
from eval_media import FPS, cartoon_face, modulated_speech, mouth_gap, write_video, write_wav

from videoretalk.cli import main
from videoretalk.eval import evaluate_clip, write_report
from videoretalk.eval.pixels import PSNR_IDENTICAL_DB
from videoretalk.media.timeline import plan_timeline


def test_cartoon_mouth_follows_its_speech_with_the_known_lag(cartoon):
    report = evaluate_clip(
        cartoon["video"], cartoon["audio"], cartoon["video"], reference=cartoon["video"]
    )
    s = report.scores
    # The sound comes 0.12 s after the mouth: the mouth leads, a negative lag.
    assert s.output_mouth.speech.best_lag == pytest.approx(-0.12, abs=0.03)
    assert s.output_mouth.speech.best_r > 0.8
    assert (
        s.output_mouth.reference.best_lag == 0.0
        and s.output_mouth.reference.best_r == pytest.approx(1.0)
    )
    assert s.output_mouth.closure.closed_fraction > 0.85  # mouth shut through the pause
    assert s.output_mouth.closure.speech_mean_opening > 0.05
    assert s.psnr_outside_db == PSNR_IDENTICAL_DB and s.flicker_ratio == pytest.approx(1.0)
    assert s.identity_distance == pytest.approx(0.0, abs=1e-6)
    assert s.timing.ok, s.timing
    kinds = {m.kind: m for m in report.moments}
    assert set(kinds) == {"largest opening", "bilabial closure", "silence starts"}
    assert mouth_gap(np.array([kinds["largest opening"].time]))[0] > 15
    assert 1.7 < kinds["silence starts"].time < 2.0
    assert {"input", "output", "input mouth", "output mouth", "reference mouth"} <= set(
        kinds["largest opening"].images
    )


def test_a_frozen_mouth_loses_sync_and_flicker_but_not_the_rest_of_the_frame(cartoon):
    s = evaluate_clip(cartoon["video"], cartoon["audio"], cartoon["frozen"]).scores
    assert not s.output_mouth.speech.best_r > 0.3  # NaN (flat) or weak
    assert s.input_mouth.speech.best_r > 0.8  # the input was in sync: the baseline
    assert s.output_mouth.closure.closed_fraction == 1.0
    assert s.flicker_ratio < 0.2
    assert s.psnr_outside_db > 40  # only the mouth differs, and it is inside the lower face


def test_video_extension_pairs_each_output_frame_with_the_frame_it_shows(cartoon, tmp_path):
    seconds = 6.0
    speech = modulated_speech(seconds, lag=0.12)
    timeline = plan_timeline(np.arange(int(4.0 * FPS)) / FPS, seconds, video_extension=True)
    gaps = mouth_gap(np.arange(int(4.0 * FPS)) / FPS)
    output = write_video(
        tmp_path / "extended.mp4", [cartoon_face(gaps[i]) for i in timeline.source_index], speech
    )
    audio = write_wav(tmp_path / "long.wav", speech)
    report = evaluate_clip(cartoon["video"], audio, output)
    s = report.scores
    assert s.timing.video_extension and s.timing.frames == timeline.frame_count == 150
    assert s.timing.ok, s.timing
    np.testing.assert_array_equal(report.tracks.source_index, timeline.source_index)
    assert s.psnr_outside_worst_db > 45
    assert s.flicker_ratio == pytest.approx(1.0, abs=0.1)
    # Same pictures, so the same mouth (up to the tracker's smoothing, which depends on direction).
    np.testing.assert_allclose(report.tracks.output_opening, report.tracks.input_opening, atol=0.05)
    assert np.corrcoef(report.tracks.output_opening, report.tracks.input_opening)[0, 1] > 0.97


def test_report_files_are_self_contained_and_strict_json(cartoon, tmp_path):
    report = evaluate_clip(
        cartoon["video"], cartoon["audio"], cartoon["frozen"], name="frozen <mouth>"
    )
    html_path, json_path = write_report([report], tmp_path / "r.html", meta={"engine": "test"})
    page = html_path.read_text()
    assert page.count("data:image/png;base64,") == 1 and page.count("data:image/jpeg;base64,") >= 12
    assert "frozen &lt;mouth&gt;" in page and "src='http" not in page
    data = json.loads(json_path.read_text())  # strict: NaN written as null
    (clip,) = data["clips"]
    assert clip["scores"]["flicker_ratio"] < 0.2
    assert len(clip["tracks"]["output_opening"]) == len(clip["tracks"]["times"]) == 100


@pytest.mark.slow
def test_dev_clip_against_itself_through_the_cli(dev_dir, tmp_path, capsys):
    clip = dev_dir / "talk2.mp4"
    code = main(
        [
            "eval",
            "--video",
            str(clip),
            "--audio",
            str(clip),
            "--output",
            str(clip),
            "--reference",
            str(clip),
            "--seconds",
            "2.5",
            "--report",
            str(tmp_path / "q.html"),
        ]
    )
    assert code == 0
    assert "talk2" in capsys.readouterr().out
    s = json.loads((tmp_path / "q.json").read_text())["clips"][0]["scores"]
    assert s["psnr_outside_db"] == PSNR_IDENTICAL_DB
    assert s["flicker_ratio"] == pytest.approx(1.0)
    assert s["identity_distance"] == pytest.approx(0.0, abs=1e-6)
    assert s["output_mouth"]["reference"]["r_at_zero"] == pytest.approx(1.0)
    assert s["output_mouth"]["speech"] == s["input_mouth"]["speech"]
    assert s["timing"]["frames"] == s["timing"]["expected_frames"] == 125
    assert abs(s["timing"]["audio_offset"]) < 0.005
    assert s["realtime_factor"] == pytest.approx(0.5)
