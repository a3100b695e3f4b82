"""Mouth motion on Mandarin and English speech with known phone timings (issue 4).

No Mandarin speaker with their own on-camera audio is available, so real landmarks cannot
score Mandarin. What can be checked is articulation: drive the motion stage with speech
whose phone timings are known and ask whether bilabials (b, p, m) close the lips, open
vowels open the jaw and rounded vowels narrow the mouth, in Mandarin as in English.

The speech comes from espeak-ng (formant synthesis; its library and language data ship in
the `espeakng-loader` wheel, used only by this script and not a dependency of videoretalk):

    .venv/bin/pip install espeakng-loader
    .venv/bin/python benchmarks/motion_languages.py [--json out.json]

The same eight sentences (written for this benchmark, the same meaning in both languages)
are spoken by a male and a female voice variant. Caveat: a formant synthesiser is not a
human voice, so these figures compare languages under one voice model; they are not
lip-sync accuracy.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import sys
from dataclasses import dataclass

import numpy as np
from motion_measures import CLOSED_ABOVE_REST, predicted_width

from videoretalk.media.decode import AudioTrack
from videoretalk.motion.predict import load_model, predict_mouth_motion
from videoretalk.motion.shape import mouth_opening

FPS = 30.0
SENTENCE_GAP_S = 0.6  # silence between sentences, so every clip has real pauses
# A bilabial's frames: its interval widened by 20 ms each side, so a closure drawn a frame
# early or late still counts. A vowel's frames are the middle half of its interval:
# widened too, a short Mandarin /a/ after "ba" or "ma" took in that consonant's closure
# and read as a closed open vowel: 33-37 % of Mandarin open vowels "closed" widened, 11-17 %
# on their middle half (English 8-19 % -> 4-12 %), with the same predicted motion.
WINDOW_PAD_S = 0.02
CLOSED_SHARE = 0.2  # a bilabial is hit if the opening dips below 20 % of the typical range
PAUSE_MARGIN_S = 0.1  # pause frames: no phone within 100 ms

SENTENCES = {
    "cmn": [
        "大家好，今天我们来聊一聊北京的天气。",
        "妈妈买了八个面包，爸爸不怕麻烦。",
        "朋友们都说这个办法不错。",
        "我每天早上六点起床，先跑步，然后吃早饭。",
        "老师告诉我们，学习要多看多写多练习。",
        "这本书非常有意思，你一定要看一看。",
        "春天来了，花园里开满了红色和白色的花。",
        "请把门关上，外面的风太大了。",
    ],
    "en-us": [
        "Hello everyone, today we are going to talk about the weather in Boston.",
        "Mom bought eight loaves of bread, and Dad did not mind the bother.",
        "My friends all say that this plan is a good one.",
        "Every morning I get up at six, go for a run, and then eat breakfast.",
        "The teacher told us to read more, write more and practise more.",
        "This book is really interesting, you should take a look at it.",
        "Spring has come, and the garden is full of red and white flowers.",
        "Please shut the door, the wind outside is far too strong.",
    ],
}
VOICES = {"male": "", "female": "+f3"}

# Phone classes over espeak-ng's IPA output (stress and length marks stripped). Mandarin
# unaspirated b is written p and aspirated p is ph.
BILABIAL = {"p", "b", "m", "ph"}
OPEN_VOWEL = {"a", "ɑ", "æ", "ai", "aɪ", "ɑu", "aʊ", "ɑɹ", "iɑ", "yæ"}
ROUNDED_VOWEL = {"u", "o", "o-", "ou", "oʊ", "uo", "ʊ", "ɔ", "ɔɹ", "y", "iou", "uə"}
SPREAD_VOWEL = {"i", "ɪ", "iɛ", "ɛ", "eɪ", "ei", "i."}
CLASSES = {
    "bilabial": BILABIAL,
    "open": OPEN_VOWEL,
    "rounded": ROUNDED_VOWEL,
    "spread": SPREAD_VOWEL,
}


@dataclass(frozen=True)
class Phone:
    label: str
    start: float
    end: float


@dataclass(frozen=True)
class Utterance:
    samples: np.ndarray  # float32 mono
    sample_rate: int
    phones: list[Phone]


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):  # espeak_EVENT in speak_lib.h
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)
_EVENT_END_OF_LIST, _EVENT_PHONEME = 0, 7
_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS, _INIT_PHONEME_IPA, _INIT_DONT_EXIT = 0x1, 0x2, 0x8000
_PARAM_RATE, _POS_CHARACTER, _CHARS_UTF8 = 1, 1, 1


class Espeak:
    """espeak-ng through ctypes: synthesise text, collecting the samples and phone events."""

    def __init__(self) -> None:
        import espeakng_loader

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        options = _INIT_PHONEME_EVENTS | _INIT_PHONEME_IPA | _INIT_DONT_EXIT
        data = espeakng_loader.get_data_path().encode()
        self.sample_rate = self._lib.espeak_Initialize(_OUTPUT_SYNCHRONOUS, 0, data, options)
        if self.sample_rate <= 0:
            raise RuntimeError("espeak-ng failed to initialise")
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, str]] = []
        self._callback = _CALLBACK(self._collect)  # kept referenced while the C side holds it
        self._lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav, n: int, events) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while events[i].type != _EVENT_END_OF_LIST:
            if events[i].type == _EVENT_PHONEME:
                raw = bytes(events[i].id.string).split(b"\0")[0].decode("utf-8", "replace")
                self._events.append((events[i].sample, raw.strip("ˈˌ").replace("ː", "")))
            i += 1
        return 0

    def speak(self, text: str, voice: str, words_per_minute: int = 165) -> Utterance:
        self._chunks.clear()
        self._events.clear()
        if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise RuntimeError(f"espeak-ng has no voice {voice!r}")
        self._lib.espeak_SetParameter(_PARAM_RATE, words_per_minute, 0)
        data = text.encode("utf-8")
        self._lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        self._lib.espeak_Synchronize()
        samples = np.concatenate(self._chunks).astype(np.float32) / 32768.0
        ends = [s for s, _ in self._events[1:]] + [samples.size]
        phones = [
            Phone(label, start / self.sample_rate, end / self.sample_rate)
            for (start, label), end in zip(self._events, ends)
            if label and end > start
        ]
        return Utterance(samples, self.sample_rate, phones)


def passage(engine: Espeak, sentences: list[str], voice: str) -> Utterance:
    """All sentences in one track, SENTENCE_GAP_S of digital silence before each."""
    rate = engine.sample_rate
    gap = np.zeros(int(SENTENCE_GAP_S * rate), np.float32)
    parts: list[np.ndarray] = []
    phones: list[Phone] = []
    offset = 0.0
    for text in sentences:
        said = engine.speak(text, voice)
        offset += SENTENCE_GAP_S
        parts += [gap, said.samples]
        phones += [Phone(p.label, p.start + offset, p.end + offset) for p in said.phones]
        offset += said.samples.size / rate
    parts.append(gap)
    return Utterance(np.concatenate(parts), rate, phones)


def phone_frames(phone: Phone, times: np.ndarray, widen: bool) -> np.ndarray:
    """Frames that show `phone`: widened by WINDOW_PAD_S, or its middle half (at least
    the frame nearest its middle)."""
    if widen:
        return (times >= phone.start - WINDOW_PAD_S) & (times <= phone.end + WINDOW_PAD_S)
    quarter = (phone.end - phone.start) / 4
    mask = (times >= phone.start + quarter) & (times <= phone.end - quarter)
    if not mask.any():
        mask[np.argmin(np.abs(times - (phone.start + phone.end) / 2))] = True
    return mask


def score(utterance: Utterance) -> dict:
    """Articulation figures of the predicted mouth for one passage (generic person)."""
    model = load_model()
    duration = utterance.samples.size / utterance.sample_rate
    times = np.arange(0.0, duration, 1.0 / FPS)
    audio = AudioTrack(utterance.samples[None], utterance.sample_rate)
    motion = predict_mouth_motion(audio, times)
    rest_open = float(mouth_opening(model.rest_shape[None])[0])
    above = (motion.opening - rest_open) / model.typical_range  # 1 = a typical wide opening
    width = predicted_width(motion)

    out: dict = {"seconds": round(duration, 1)}
    for name, labels in CLASSES.items():
        chosen = [p for p in utterance.phones if p.label in labels]
        masks = [phone_frames(p, times, widen=name == "bilabial") for p in chosen]
        masks = [m for m in masks if m.any()]
        mid = np.array([above[m].mean() for m in masks])
        low = np.array([above[m].min() for m in masks])
        out[name] = {
            "n": len(masks),
            "mean_ms": round(1000 * float(np.mean([p.end - p.start for p in chosen])))
            if chosen
            else None,
            "mean_opening": round(float(mid.mean()), 3) if masks else None,
            "dips_closed": round(float((low <= CLOSED_SHARE).mean()), 3) if masks else None,
            "width": round(float(np.mean([width[m].mean() for m in masks])), 4) if masks else None,
        }
    near_phone = np.zeros(times.size, bool)
    for p in utterance.phones:
        near_phone |= (times >= p.start - PAUSE_MARGIN_S) & (times <= p.end + PAUSE_MARGIN_S)
    pause = ~near_phone
    out["pause_frames"] = int(pause.sum())
    closed = motion.opening <= rest_open + CLOSED_ABOVE_REST
    out["pause_closed"] = round(float(closed[pause].mean()), 3) if pause.any() else None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    try:
        engine = Espeak()
    except ImportError:
        print("needs espeak-ng: .venv/bin/pip install espeakng-loader", file=sys.stderr)
        return 2
    results = {}
    header = (
        f"{'language':9} {'voice':7} {'s':>5} {'bilabial ms':>11} {'bilabial closed':>16} "
        f"{'open closed':>12} "
        f"{'open':>5} {'bilab':>5} {'round':>5} {'spread':>6} {'w round-spread':>15} "
        f"{'pauses closed':>14}"
    )
    print("mean opening per phone class (1 = the typical wide opening); a class 'closed'")
    print(f"share = its phones whose opening dips below {CLOSED_SHARE:.0%} of that; width in iod;")
    print("vowels read on the middle half of each, bilabials on each widened by 20 ms")
    print(header)
    for language, sentences in SENTENCES.items():
        for voice, variant in VOICES.items():
            figures = score(passage(engine, sentences, language + variant))
            results[f"{language}/{voice}"] = figures
            b, o = figures["bilabial"], figures["open"]
            r, s = figures["rounded"], figures["spread"]
            print(
                f"{language:9} {voice:7} {figures['seconds']:5.1f} {b['mean_ms']:11d} "
                f"{b['dips_closed']:9.0%} of {b['n']:3d} {o['dips_closed']:6.0%} of {o['n']:2d} "
                f"{o['mean_opening']:5.2f} {b['mean_opening']:5.2f} {r['mean_opening']:5.2f} "
                f"{s['mean_opening']:6.2f} {r['width'] - s['width']:+15.4f} "
                f"{figures['pause_closed']:9.0%} of {figures['pause_frames']}"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
