"""Cheap attribution for stage one: which sentence made the model flag a message.

Occlusion over sentences: each sentence is scored on its own; the one with the highest crisis
probability is the evidence shown to counselors and kept in the audit record, with its frame
(who is at risk, when, what the sentence is doing), which the policy reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from stages.frames import FrameReader
from stages.labels import CRISIS
from stages.normalize import normalize
from stages.protocol import SentenceScorer
from stages.results import Evidence, StageResult

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
MAX_SENTENCES = 16  # bound the work on a long post: its first sentences and its last ones


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank sentence, stripped of surrounding spaces."""
    spans = []
    for m in _SENTENCE.finditer(text):
        start, end = m.start(), m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    if len(spans) > MAX_SENTENCES:
        half = MAX_SENTENCES // 2
        spans = spans[:half] + spans[-half:]
    return spans


def crisis_evidence(stage: SentenceScorer, texts: list[str]) -> list[Evidence]:
    """For each text, the sentence that alone scores highest for crisis.

    A text of one sentence is its own evidence: nothing to score.
    """
    spans = [sentence_spans(t) or [(0, len(t))] for t in texts]
    flat = [t[a:b] for t, ss in zip(texts, spans, strict=True) if len(ss) > 1 for a, b in ss]
    scores = stage.crisis_probabilities(flat) if flat else []
    out, i = [], 0
    for text, ss in zip(texts, spans, strict=True):
        best = 0
        if len(ss) > 1:
            chunk = scores[i : i + len(ss)]
            i += len(ss)
            best = max(range(len(ss)), key=chunk.__getitem__)
        a, b = ss[best]
        out.append(Evidence(category="model", phrase=text[a:b][:300], start=a, end=b))
    return out


def with_evidence(
    stage: SentenceScorer,
    frames: FrameReader,
    texts: Sequence[str],
    results: list[StageResult],
) -> list[StageResult]:
    """Stage one's results with the sentence behind each flag and its frame as evidence."""
    flagged = [j for j, r in enumerate(results) if r.ok and r.label == CRISIS]
    if not flagged:
        return results
    found = crisis_evidence(stage, [texts[j] for j in flagged])
    out = list(results)
    for j, evidence in zip(flagged, found, strict=True):
        frame = frames.of_sentence(normalize(evidence.phrase))
        out[j] = results[j].model_copy(
            update={"evidence": (evidence.model_copy(update={"frame": frame}),)}
        )
    return out
