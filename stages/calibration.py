"""Stage one's calibrator: its raw probability mapped to a calibrated risk.

A fine-tuned classifier's probabilities crowd near 0 and 1 and shift with every retraining, so
a threshold on them means little to a lead. The calibrator is a sigmoid on the logit of the
raw probability (Platt scaling), fit on validation data with the classes weighted equally:
a calibrated risk of 0.5 means a message is as likely to come from the crisis examples as from
the others, whatever their counts. It is monotonic, so it never reorders messages, and it is
stored in the model's card beside the thresholds it calibrates.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

_EPS = 1e-6


def logit(p: float) -> float:
    """log(p / (1 - p)), with p kept inside (0, 1)."""
    p = min(max(p, _EPS), 1 - _EPS)
    return math.log(p / (1 - p))


class Calibration(BaseModel):
    """A fitted sigmoid: risk = 1 / (1 + exp(-(slope * logit(p) + intercept)))."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: str = Field(default="sigmoid", pattern="^sigmoid$")
    slope: float = Field(gt=0, description="Positive: the calibrator keeps the ranking.")
    intercept: float
    fitted_on: str = Field(default="", description="The validation data it was fit on.")
    ece: float | None = Field(
        default=None, ge=0, le=1, description="Expected calibration error, cross-fitted."
    )

    def __call__(self, p: float) -> float:
        """The calibrated risk of a raw probability."""
        z = self.slope * logit(p) + self.intercept
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
