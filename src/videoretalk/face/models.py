"""The two neural models, both shipped inside the mediapipe wheel (Apache-2.0), run on CPU.

* `FaceDetector`: BlazeFace full-range (192x192 input, faces down to ~20 px in the
  downscaled frame), used only while searching for the target.
* `MeshModel`: the 478-point face mesh with attention (refined lips, eyes and irises) on
  a 192x192 face crop that the caller has already cut and rotated upright.

We drive them through small MediaPipe calculator graphs rather than the legacy
`solutions.FaceMesh`, because that wrapper hides the face-presence score, chooses faces
itself ("largest / first") and cannot be pointed at the crop we choose.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

import mediapipe as mp
import numpy as np
from mediapipe.python._framework_bindings import resource_util

MESH_INPUT_PX = 192  # the mesh model's square input side
NUM_LANDMARKS = 478  # 468 mesh points + 2 x 5 iris points

_MP_ROOT = os.path.dirname(mp.__file__)
_MESH_MODEL = os.path.join(
    _MP_ROOT, "modules", "face_landmark", "face_landmark_with_attention.tflite"
)

_resource_lock = threading.Lock()


def _point_resources_at_wheel() -> None:
    # Subgraphs name their models relative to the directory holding the `mediapipe`
    # package; mediapipe's own solutions set the same directory, so this is idempotent.
    with _resource_lock:
        resource_util.set_resource_dir(os.path.dirname(_MP_ROOT))


class _Graph:
    """A started calculator graph fed one timestamp at a time, synchronously."""

    def __init__(self, config: str, outputs: tuple[str, ...]) -> None:
        _point_resources_at_wheel()
        self._graph = mp.CalculatorGraph(graph_config=config)
        self._results: dict[str, Any] = {}
        for name in outputs:
            self._graph.observe_output_stream(name, self._collect)
        self._graph.start_run()
        self._timestamp = 0

    def _collect(self, stream: str, packet: Any) -> None:
        self._results[stream] = packet

    def run(self, stream: str, image: np.ndarray) -> dict[str, Any]:
        self._results = {}
        frame = mp.packet_creator.create_image_frame(image_format=mp.ImageFormat.SRGB, data=image)
        self._graph.add_packet_to_input_stream(stream, frame.at(self._timestamp))
        self._timestamp += 1
        self._graph.wait_until_idle()
        return self._results

    def close(self) -> None:
        self._graph.close()


@dataclass(frozen=True)
class MeshResult:
    points: np.ndarray  # (478, 3) float32 in crop pixels (x, y, z); z shares x's scale
    flag: float  # the model's face flag, a logit: it still ranks fits where presence is ~1

    @property
    def presence(self) -> float:
        """Sigmoid of the face flag, 0..1."""
        return float(1.0 / (1.0 + np.exp(-np.clip(self.flag, -30.0, 30.0))))


class MeshModel:
    def __init__(self, threads: int = 1) -> None:
        config = f"""
input_stream: "IMAGE:image"
output_stream: "landmarks"
output_stream: "flag"
node {{ calculator: "TfLiteCustomOpResolverCalculator" output_side_packet: "OP_RESOLVER:op_resolver" }}
node {{
  calculator: "ImageToTensorCalculator" input_stream: "IMAGE:image" output_stream: "TENSORS:input"
  options {{ [mediapipe.ImageToTensorCalculatorOptions.ext] {{
    output_tensor_width: {MESH_INPUT_PX} output_tensor_height: {MESH_INPUT_PX}
    output_tensor_float_range {{ min: 0.0 max: 1.0 }} }} }}
}}
node {{
  calculator: "InferenceCalculator" input_stream: "TENSORS:input"
  input_side_packet: "OP_RESOLVER:op_resolver" output_stream: "TENSORS:output"
  options {{ [mediapipe.InferenceCalculatorOptions.ext] {{
    model_path: "{_MESH_MODEL}" delegate {{ xnnpack {{ num_threads: {threads} }} }} }} }}
}}
node {{
  calculator: "SplitTensorVectorCalculator" input_stream: "output"
  output_stream: "landmark_tensors" output_stream: "flag_tensor"
  options {{ [mediapipe.SplitVectorCalculatorOptions.ext] {{
    ranges: {{ begin: 0 end: 6 }} ranges: {{ begin: 6 end: 7 }} }} }}
}}
node {{
  calculator: "TensorsToFaceLandmarksWithAttention"
  input_stream: "TENSORS:landmark_tensors" output_stream: "LANDMARKS:landmarks"
}}
node {{ calculator: "TensorsToFloatsCalculator" input_stream: "TENSORS:flag_tensor" output_stream: "FLOATS:flag" }}
"""
        self._graph = _Graph(config, ("landmarks", "flag"))

    def run(self, crop: np.ndarray) -> MeshResult:
        """`crop`: (192, 192, 3) uint8 RGB, face upright and centred with ~25 % margin."""
        out = self._graph.run("image", np.ascontiguousarray(crop))
        logit = float(mp.packet_getter.get_float_list(out["flag"])[0]) if "flag" in out else -20.0
        if "landmarks" not in out:
            return MeshResult(np.zeros((NUM_LANDMARKS, 3), np.float32), logit)
        proto = mp.packet_getter.get_proto(out["landmarks"])
        points = np.array([(p.x, p.y, p.z) for p in proto.landmark], np.float32) * MESH_INPUT_PX
        return MeshResult(points, logit)

    def close(self) -> None:
        self._graph.close()


@dataclass(frozen=True)
class Detection:
    box: np.ndarray  # (4,) float32 x0, y0, x1, y1 in image pixels
    keypoints: np.ndarray  # (6, 2) float32: right eye, left eye, nose, mouth, right ear, left ear
    score: float

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])


class FaceDetector:
    def __init__(self) -> None:
        config = """
input_stream: "IMAGE:image"
output_stream: "detections"
node { calculator: "FaceDetectionFullRangeCpu" input_stream: "IMAGE:image" output_stream: "DETECTIONS:detections" }
"""
        self._graph = _Graph(config, ("detections",))

    def run(self, image: np.ndarray, scale: float = 1.0, min_score: float = 0.5) -> list[Detection]:
        """Faces in `image`, largest first; coordinates are divided by `scale` on the way out
        so a caller that downscaled the frame gets full-resolution pixels back."""
        out = self._graph.run("image", np.ascontiguousarray(image))
        if "detections" not in out:
            return []
        h, w = image.shape[:2]
        found: list[Detection] = []
        for det in mp.packet_getter.get_proto_list(out["detections"]):
            score = float(det.score[0]) if det.score else 0.0
            if score < min_score:
                continue
            rel = det.location_data.relative_bounding_box
            box = np.array(
                [
                    rel.xmin * w,
                    rel.ymin * h,
                    (rel.xmin + rel.width) * w,
                    (rel.ymin + rel.height) * h,
                ],
                np.float32,
            )
            kps = np.array(
                [(k.x * w, k.y * h) for k in det.location_data.relative_keypoints], np.float32
            )
            found.append(Detection(box / scale, kps.reshape(-1, 2) / scale, score))
        found.sort(key=lambda d: -d.width)
        return found

    def close(self) -> None:
        self._graph.close()
