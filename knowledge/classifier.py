"""A second opinion beside the index: multinomial naive Bayes over the same features, one class per passage.

The index scores a question by how well it covers one passage at a time; the classifier looks at all
passages at once and learns which words tell neighbours apart (举报 + 进度 → progress, not process) and, from
data/out_of_scope.txt, what the knowledge base is not for. Its posterior (softmax of the log-likelihoods
divided by a temperature, since naive Bayes is overconfident) is mixed into the retrieval score by the
answerer: + weight · P(passage) − ood_weight · P(out of scope).

Training is counting (milliseconds at start-up). Prediction is sparse: a class's log-likelihood is its
base value (every feature at the smoothing floor) plus a correction for the features it has actually seen.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

OUT_OF_SCOPE = "__out_of_scope__"


@dataclass(frozen=True)
class Posterior:
    probabilities: dict[str, float]  # label → probability (all labels)

    def of(self, label: str) -> float:
        return self.probabilities.get(label, 0.0)

    @property
    def out_of_scope(self) -> float:
        return self.of(OUT_OF_SCOPE)


class NaiveBayes:
    def __init__(
        self, examples: Iterable[tuple[Mapping[str, float], str]], alpha: float = 0.1, temperature: float = 5.0
    ) -> None:
        counts: dict[str, dict[str, float]] = {}  # feature → label → weighted count
        totals: dict[str, float] = {}
        priors: dict[str, int] = {}
        for features, label in examples:
            priors[label] = priors.get(label, 0) + 1
            for f, v in features.items():
                by_label = counts.setdefault(f, {})
                by_label[label] = by_label.get(label, 0.0) + v
                totals[label] = totals.get(label, 0.0) + v
        self.labels = sorted(priors)
        self.temperature = temperature
        vocabulary = len(counts)
        n = sum(priors.values()) or 1
        log_alpha = math.log(alpha)
        # log P(f | label) = log(count + alpha) − log_den[label]; unseen features sit at log_alpha − log_den
        self._log_den = {y: math.log(totals.get(y, 0.0) + alpha * vocabulary) for y in self.labels}
        self._log_prior = {y: math.log(priors[y] / n) for y in self.labels}
        self._log_alpha = log_alpha
        # per feature: label → log(count + alpha) − log(alpha), the gain over the smoothing floor
        self._gain = {
            f: {y: math.log(c + alpha) - log_alpha for y, c in by_label.items()} for f, by_label in counts.items()
        }

    def posterior(self, features: Mapping[str, float]) -> Posterior:
        mass = sum(features.values())
        scores = {}
        for y in self.labels:
            scores[y] = self._log_prior[y] + mass * (self._log_alpha - self._log_den[y])
        for f, v in features.items():
            gains = self._gain.get(f)
            if gains:
                for y, g in gains.items():
                    scores[y] += v * g
        top = max(scores.values(), default=0.0)
        t = self.temperature
        weights = {y: math.exp((s - top) / t) for y, s in scores.items()}
        z = sum(weights.values()) or 1.0
        return Posterior({y: w / z for y, w in weights.items()})
