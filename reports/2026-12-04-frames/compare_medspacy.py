"""Agreement of stages.context.ConText with medspaCy's ConText on the same rules.

Run in a separate environment (medspaCy needs spaCy < 3.8, so NumPy < 2, on Python 3.11):
    python -m venv /tmp/ms && /tmp/ms/bin/pip install medspacy "numpy<2" -e .
    TRIAGE_DATA_DIR=../shared/data /tmp/ms/bin/python reports/2026-12-04-frames/compare_medspacy.py
For every safety-net match in the C-SSRS posts, the r/SuicideWatch posts of SDCNL and the
hand-written checks, it compares the set of trigger categories that modify the match in each
implementation: once with medspaCy's own tokenizer and a spaCy sentencizer (tokens and
sentence ends differ: "dont" is two spaCy tokens), once on this project's tokens and sentences
(the algorithm alone). It writes agreement.json beside this script.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections import Counter
from pathlib import Path

import medspacy
import yaml
from medspacy.context import ConTextRule
from spacy.tokens import Doc, Span

from stages.context import Tokens
from stages.frames import FrameReader
from stages.normalize import normalize
from stages.safety_net import SafetyNet
from training.cssrs import load_cssrs

reader = FrameReader()
net = SafetyNet(frames=reader)
nlp = medspacy.load(medspacy_enable=["medspacy_tokenizer"])  # none of its clinical rules
nlp.add_pipe("sentencizer")
context = nlp.add_pipe("medspacy_context", config={"rules": None})
context.add(
    [
        ConTextRule(
            t.literal,
            t.category,
            direction=t.direction.upper(),
            max_scope=t.max_scope,
            terminated_by=set(t.terminated_by) or None,
        )
        for t in reader.rules.expanded()
    ]
)
# The same rules as token patterns over this project's tokens ("dont" is one token here, two
# for spaCy's tokenizer), for the comparison on the same tokens.
on_tokens = medspacy.load(medspacy_enable=["medspacy_tokenizer"])
same_tokens_context = on_tokens.add_pipe("medspacy_context", config={"rules": None})
same_tokens_context.add(
    [
        ConTextRule(
            t.literal,
            t.category,
            pattern=[{"LOWER": w} for w in Tokens.of(t.literal).words],
            direction=t.direction.upper(),
            max_scope=t.max_scope,
            terminated_by=set(t.terminated_by) or None,
        )
        for t in reader.rules.expanded()
    ]
)

# The corpora are read with the standard library: `datasets` needs pyarrow, which needs NumPy 2.
root = Path(os.environ["TRIAGE_DATA_DIR"])
texts = [p for u in load_cssrs(root) for p in u.posts]
with (root / "sdcnl" / "train.csv").open(encoding="utf-8", newline="") as f:
    texts += [f"{r['title']}\n{r['selftext']}" for r in csv.DictReader(f) if r["is_suicide"] == "1"]
checks = yaml.safe_load(Path("training/crisis_checks.yaml").read_text())
texts += [t for section in checks.values() if isinstance(section, list) for t in section]

agree = total = shared_agree = 0
disagreements: Counter[str] = Counter()
shared_disagreements: Counter[str] = Counter()
Span.set_extension("modifiers", default=(), force=True)


def on_our_tokens(tokens: Tokens, targets: list[tuple[int, int]]) -> list[set[str]]:
    """The ConText of medspaCy on our tokens and sentences: the algorithm alone is compared."""
    starts = {a for a, _ in tokens.sentences}
    doc = Doc(
        on_tokens.vocab,
        words=list(tokens.words),
        sent_starts=[i in starts for i in range(len(tokens.words))],
    )
    kept = [t for t in dict.fromkeys(targets) if t[1] > t[0]]
    kept = [t for t in kept if not any(o != t and o[0] < t[1] and t[0] < o[1] for o in kept)]
    doc.ents = [Span(doc, a, b, label="CRISIS") for a, b in kept]
    doc = same_tokens_context(doc)
    found = {(e.start, e.end): {x.category for x in e._.modifiers} for e in doc.ents}
    return [found.get(t) for t in targets]  # type: ignore[misc]


ours_s = theirs_s = 0.0
for text in texts:
    matches = net.matches(text)
    if not matches:
        continue
    normalised = normalize(text)
    start = time.perf_counter()
    tokens = Tokens.of(normalised)
    mods = reader.context.modifiers(tokens)
    ours = []
    targets = [tokens.token_range(m.start, m.end) for m in matches]
    for target in targets:
        ours.append({x.category for x in mods if reader.context.modifies(x, target)})
    ours_s += time.perf_counter() - start
    for mine, same_tokens in zip(ours, on_our_tokens(tokens, targets), strict=True):
        if same_tokens is not None:
            shared_agree += mine == same_tokens
            for category in mine ^ same_tokens:
                shared_disagreements[category] += 1
    start = time.perf_counter()
    doc = nlp.make_doc(normalised)
    doc = nlp.get_pipe("sentencizer")(doc)
    spans = [
        doc.char_span(m.start, m.end, label="CRISIS", alignment_mode="expand") for m in matches
    ]
    doc.ents = [
        s
        for s in dict.fromkeys(spans)
        if s is not None
        and not any(
            o is not s and o.start < s.end and s.start < o.end for o in spans if o is not None
        )
    ]
    doc = context(doc)
    theirs_by_span = {
        (e.start_char, e.end_char): {x.category for x in e._.modifiers} for e in doc.ents
    }
    theirs_s += time.perf_counter() - start
    for mine, span in zip(ours, spans, strict=True):
        if span is None or (span.start_char, span.end_char) not in theirs_by_span:
            continue
        theirs = theirs_by_span[(span.start_char, span.end_char)]
        total += 1
        agree += mine == theirs
        for category in mine ^ theirs:
            disagreements[category] += 1

result = {
    "matches_compared": total,
    "same_categories": agree,
    "agreement": round(agree / max(total, 1), 4),
    "categories_differing": dict(disagreements.most_common()),
    "agreement_on_the_same_tokens_and_sentences": round(shared_agree / max(total, 1), 4),
    "categories_differing_on_the_same_tokens": dict(shared_disagreements.most_common()),
    "seconds_ours": round(ours_s, 2),
    "seconds_medspacy": round(theirs_s, 2),
}
(Path(__file__).parent / "agreement.json").write_text(json.dumps(result, indent=2) + "\n")
print(json.dumps(result, indent=2))
