"""Batch inputs: manifests (list or object) and folders of outputs with sidecars."""

from __future__ import annotations

import json

import pytest

from videoretalk.errors import InvalidParameter
from videoretalk.eval.batch import load_manifest, scan_folder


def test_manifest_paths_are_relative_to_it(tmp_path):
    manifest = tmp_path / "m.json"
    manifest.write_text(
        json.dumps(
            {
                "clips": [
                    {
                        "video": "in/a.mp4",
                        "audio": "a.wav",
                        "output": "out/a.mp4",
                        "reference": "a.mp4",
                        "seconds": 3,
                    },
                    {
                        "name": "second",
                        "video": "/abs/b.mp4",
                        "audio": "b.wav",
                        "output": "b_out.mp4",
                    },
                ]
            }
        )
    )
    first, second = load_manifest(manifest)
    assert first.name == "a" and first.video == tmp_path / "in" / "a.mp4"
    assert first.reference == tmp_path / "a.mp4" and first.seconds == 3.0
    assert (
        second.name == "second" and str(second.video) == "/abs/b.mp4" and second.reference is None
    )


@pytest.mark.parametrize(
    "content, message",
    [
        ('[{"video": "a.mp4", "output": "o.mp4"}]', "missing audio"),
        ('{"clips": 3}', "expected a list"),
        ("not json", "Cannot read"),
        (
            '[{"video": "a", "audio": "b", "output": "c", "seconds": "fast"}]',
            "seconds must be a number",
        ),
    ],
)
def test_bad_manifests_say_what_is_wrong(tmp_path, content, message):
    manifest = tmp_path / "m.json"
    manifest.write_text(content)
    with pytest.raises(InvalidParameter, match=message):
        load_manifest(manifest)


def test_folder_of_outputs_with_sidecars(tmp_path):
    (tmp_path / "x.mp4").write_bytes(b"")
    (tmp_path / "x.json").write_text(json.dumps({"video": "src/x.mp4", "audio": "x.wav"}))
    (tmp_path / "stray.mp4").write_bytes(b"")  # no sidecar: not one of ours
    (job,) = scan_folder(tmp_path)
    assert (
        job.name == "x"
        and job.output == tmp_path / "x.mp4"
        and job.video == tmp_path / "src" / "x.mp4"
    )


def test_folder_prefers_its_manifest(tmp_path):
    (tmp_path / "manifest.json").write_text(
        json.dumps([{"video": "v", "audio": "a", "output": "o.mp4"}])
    )
    assert [j.name for j in scan_folder(tmp_path)] == ["o"]


def test_empty_folder_is_refused(tmp_path):
    with pytest.raises(InvalidParameter, match="neither"):
        scan_folder(tmp_path)
