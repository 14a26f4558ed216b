"""A stage that is a linear head on another stage's encoder: one forward pass serves both.

Stage two's head reads the mean-pooled states of a few layers of stage one's fine-tuned
encoder, which stage one has just computed for the same texts, so routing a message costs one
encoder pass instead of two. Its weights live in ``head.safetensors`` beside the card.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from safetensors.numpy import load_file

from stages.errors import ModelDirError
from stages.model_dir import CARD_FILE, StageCard, weights_fingerprint
from stages.results import StageResult
from stages.transformer import TransformerStage, label_result, softmax

HEAD_FILE = "head.safetensors"


def encoder_dir_of(source: str | Path) -> Path | None:
    """The encoder directory a head directory reads; None for anything else."""
    if not Path(source, CARD_FILE).is_file():
        return None
    return _encoder_dir(source, StageCard.load(source))


def _encoder_dir(source: str | Path, card: StageCard) -> Path | None:
    return None if card.encoder is None else (Path(source) / card.encoder).resolve()


def head_fits_encoder(source: str | Path) -> bool:
    """Whether a head directory's encoder still holds the weights the head was fit on."""
    return _fits(StageCard.load(source), encoder_dir_of(source))


def _fits(card: StageCard, encoder: Path | None) -> bool:
    return encoder is not None and card.encoder_weights == weights_fingerprint(encoder)


def same_dir(source: str | Path, directory: Path) -> bool:
    """Whether ``source`` (a path or a Hugging Face name) is the local ``directory``."""
    path = Path(source)
    return path.is_dir() and path.resolve() == directory.resolve()


class HeadStage:
    """Scores texts with a linear head over ``encoder``'s pooled layer states.

    ``encoder`` is the running stage whose directory the card names (shared: no pass of its
    own); when it is another model or None, the head loads its own copy of the encoder with
    ``encoder_options``.
    """

    def __init__(
        self,
        name: str,
        source: str | Path,
        *,
        encoder: TransformerStage | None = None,
        **encoder_options: Any,
    ) -> None:
        self.name = name
        self.source = str(source)
        self.card = StageCard.load(source)
        encoder_dir = _encoder_dir(source, self.card)
        if encoder_dir is None:
            raise ModelDirError(f"{source}: not a head directory (its card names no encoder)")
        if not _fits(self.card, encoder_dir):
            raise ModelDirError(
                f"{source} was fit on other weights than {encoder_dir} holds now (stage one "
                f"was retrained): train the head again with `triage train --task support "
                f"--encoder {encoder_dir} --output {source}`"
            )
        self.shares_pass = encoder is not None and same_dir(encoder.source, encoder_dir)
        if not self.shares_pass:
            encoder = TransformerStage(f"{name}-encoder", encoder_dir, **encoder_options)
        assert encoder is not None
        self.encoder = encoder
        try:
            weights = load_file(str(Path(source, HEAD_FILE)))
            self.weight, self.bias = weights["weight"], weights["bias"]
        except (OSError, KeyError) as exc:
            raise ModelDirError(f"{source}: cannot read {HEAD_FILE}: {exc}") from exc
        if self.weight.shape[0] != len(self.card.labels) or self.bias.shape != (
            len(self.card.labels),
        ):
            raise ModelDirError(
                f"{source}: head has {self.weight.shape[0]} outputs, "
                f"card has {len(self.card.labels)} labels"
            )
        encoder.share_layers(self.card.head_layers)
        self.backend = encoder.backend
        self.device = encoder.device

    def probabilities(
        self, texts: Sequence[str], max_windows: int | None = None
    ) -> list[list[float]]:
        """Class probabilities per text: the mean over the encoder's windows of the text."""
        if max_windows not in (None, self.encoder.card.max_windows):
            raise ValueError(f"a head reads its encoder's {self.encoder.card.max_windows} windows")
        out = []
        for features in self.encoder.layer_features(texts):
            if features.shape[1] != self.weight.shape[1]:
                raise ModelDirError(
                    f"{self.source}: head expects {self.weight.shape[1]} features, the encoder "
                    f"gives {features.shape[1]}"
                )
            out.append(softmax(features @ self.weight.T + self.bias).mean(0).tolist())
        return out

    def predict(self, texts: Sequence[str]) -> list[StageResult]:
        """Score each text and label it with the card's thresholds."""
        return [label_result(self.name, self.card, row) for row in self.probabilities(texts)]


def load_model_stage(
    name: str,
    source: str | Path,
    *,
    encoder: TransformerStage | None = None,
    **options: Any,
) -> TransformerStage | HeadStage:
    """The stage for a model directory or Hugging Face name: a head or a whole model.

    A head on ``encoder``'s directory shares its forward pass.
    """
    if encoder_dir_of(source) is not None:
        return HeadStage(name, source, encoder=encoder, **options)
    return TransformerStage(name, source, **options)
