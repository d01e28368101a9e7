"""Suggestions learned from the user's own categorized history (the rules offered from
repeated corrections: proposals.py).

Two sources of evidence, blended per row:

- merchant memory: how the user categorized earlier rows with the same merchant key
  (merchant.py). A merchant seen n times weighs n / (n + MEMORY_PRIOR) against the model,
  so one sighting is a hint and twenty are near certainty;
- a linear classifier (scikit-learn) over the cleaned description's words and character
  n-grams, the amount's size and direction and the account: LinearSVC with Platt-scaled
  probabilities (CalibratedClassifierCV) fitted on folds that keep each merchant on one
  side, so the calibration measures how far to trust the model on a merchant it has never
  seen. A category's confidence is also capped at its one-vs-rest calibrated probability:
  normalizing 'every category unlikely' to sum 1 would make the least unlikely look sure.

The answer is (category, confidence in 0..1), or nothing below the threshold. Rows whose
category came from the user or a rule get no suggestion; a money-in row whose merchant was
bought from before is suggested as a refund in that purchase's category, not as income.

Training is bounded: the classifier sees the newest `max_training_rows` (50,000)
categorized rows, collapsed to the distinct (text, amount size, direction, account,
category) rows with a weight, so repeated purchases cost nothing; the memory counts the
newest `max_memory_rows` (200,000). A user with 1M rows therefore trains in the time of
50,000 (see scripts/categorize_report.py for the numbers). `SuggesterCache` keeps one
trained model per user and retrains when the user's data version moved, at most once per
`min_retrain_seconds`, so a burst of edits costs one retraining.
"""

import logging
import math
import time
import warnings
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.svm import LinearSVC

from spending_api.categorize.ledger import (
    AUTO_REPLACEABLE,
    NEVER_SUGGESTED,
    TRUSTED,
    CategorySource,
    LedgerRow,
)
from spending_api.categorize.merchant import clean_description, merchant_key

logger = logging.getLogger(__name__)

# The memory of a merchant seen n times weighs n / (n + MEMORY_PRIOR) against the model.
MEMORY_PRIOR = 1.0
# Calibration folds (by merchant); a category needs this many rows for the classifier.
CALIBRATION_FOLDS = 3


class Reason(StrEnum):
    """Which evidence decided a suggestion (for "why this category?")."""

    MERCHANT = "merchant"
    MODEL = "model"
    REFUND = "refund"


@dataclass(frozen=True)
class SuggesterConfig:
    """The threshold was chosen on the demo measurement (scripts/categorize_report.py)."""

    threshold: float = 0.8
    max_training_rows: int = 50_000
    max_memory_rows: int = 200_000
    min_model_rows: int = 20


@dataclass(frozen=True)
class Suggestion:
    """The API's `suggestion`: {"category", "confidence"}, plus why (for the dashboard)."""

    category: str
    confidence: float
    reason: Reason


@dataclass(frozen=True)
class LearnedChange:
    """A suggestion confident enough to be applied (category_source becomes `learned`)."""

    row: LedgerRow
    suggestion: Suggestion


def _amount_bucket(row: LedgerRow) -> str:
    """Order of magnitude of the amount, in halves of a power of two (cents ignored)."""
    size = float(abs(row.amount))
    return str(int(2 * math.log2(size + 1)))


def _size_class(row: LedgerRow) -> str:
    """Direction and power of two of the amount: a merchant the user files by size
    (small orders 'Groceries', large ones 'Home') is told apart by it."""
    return f"{'in' if row.money_in else 'out'}{int(math.log2(float(abs(row.amount)) + 1))}"


def _features(rows: Sequence[LedgerRow]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": [clean_description(row.merchant_text) or "_" for row in rows],
            "amount": [_amount_bucket(row) for row in rows],
            "direction": ["in" if row.money_in else "out" for row in rows],
            "account": [str(row.account_id) for row in rows],
            "merchant": [merchant_key(row.merchant_text) for row in rows],  # folds, not a feature
        }
    )


def _pipeline(folds: list) -> Pipeline:
    features = ColumnTransformer(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), "text"),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, max_features=50_000
                ),
                "text",
            ),
            ("meta", OneHotEncoder(handle_unknown="ignore"), ["amount", "direction", "account"]),
        ]
    )
    classifier = CalibratedClassifierCV(
        LinearSVC(C=0.5, max_iter=5000), method="sigmoid", cv=folds, ensemble=False
    )
    return Pipeline([("features", features), ("classifier", classifier)])


def _calibration_folds(table: pd.DataFrame) -> list | None:
    """Folds that keep each merchant on one side, so that the calibration learns how far
    to trust the model on a merchant it has never seen (the only rows it decides alone:
    known merchants are answered by the memory). None with fewer merchants than folds,
    where the memory knows every merchant anyway."""
    if table["merchant"].nunique() < CALIBRATION_FOLDS:
        return None
    splitter = GroupKFold(n_splits=CALIBRATION_FOLDS)
    categories = table["category"]
    everything = set(categories)
    folds = list(splitter.split(table, categories, groups=table["merchant"]))
    # A training part with only two of three or more categories gives a one-column
    # decision function that scikit-learn cannot calibrate: then the memory answers alone.
    if len(everything) > 2 and any(categories.iloc[train].nunique() == 2 for train, _ in folds):
        return None
    return folds


def _distribution(counts: Counter) -> dict[str, float]:
    total = sum(counts.values())
    return {category: count / total for category, count in counts.items()}


class Suggester:
    """A model trained on one user's history; `suggest` is pure and thread-safe."""

    def __init__(
        self,
        *,
        memory: dict[str, Counter],
        memory_by_size: dict[tuple[str, str], Counter],
        first_words: dict[str, set[str]],
        purchases: dict[str, tuple[datetime, Counter]],
        model: Pipeline | None,
        config: SuggesterConfig,
        trained_rows: int,
    ) -> None:
        self.memory = memory
        self.memory_by_size = memory_by_size
        self.first_words = first_words
        self.purchases = purchases
        self.model = model
        self.config = config
        self.trained_rows = trained_rows

    @classmethod
    def train(
        cls, history: Iterable[LedgerRow], config: SuggesterConfig | None = None
    ) -> "Suggester":
        """Learn from the rows whose category a person, a rule or the bank gave."""
        config = config or SuggesterConfig()
        rows = [row for row in history if row.category and row.category_source in TRUSTED]
        rows.sort(key=lambda row: (row.timestamp, row.id))
        rows = rows[-config.max_memory_rows :]
        memory: dict[str, Counter] = defaultdict(Counter)
        memory_by_size: dict[tuple[str, str], Counter] = defaultdict(Counter)
        first_words: dict[str, set[str]] = defaultdict(set)
        purchases: dict[str, tuple[datetime, Counter]] = {}
        for row in rows:
            key = merchant_key(row.merchant_text)
            if not key:
                continue
            memory[key][row.category] += 1
            memory_by_size[key, _size_class(row)][row.category] += 1
            first_words[key.split()[0]].add(key)
            if not row.money_in:
                first_seen, counts = purchases.get(key, (row.timestamp, Counter()))
                counts[row.category] += 1
                purchases[key] = (min(first_seen, row.timestamp), counts)
        model = cls._fit(rows[-config.max_training_rows :], config)
        return cls(
            memory=dict(memory),
            memory_by_size=dict(memory_by_size),
            first_words=dict(first_words),
            purchases=purchases,
            model=model,
            config=config,
            trained_rows=len(rows),
        )

    @staticmethod
    def _fit(rows: list[LedgerRow], config: SuggesterConfig) -> Pipeline | None:
        sizes = Counter(row.category for row in rows)
        learnable = [row for row in rows if sizes[row.category] >= CALIBRATION_FOLDS]
        if len(learnable) < config.min_model_rows or len({r.category for r in learnable}) < 2:
            return None
        started = time.perf_counter()
        table = _features(learnable)
        table["category"] = [row.category for row in learnable]
        # Rows that look the same to the model are one example with a weight: a user with
        # a weekly shop at one store trains on one row, not a hundred.
        table = table.groupby(list(table.columns), sort=False).size().reset_index(name="weight")
        folds = _calibration_folds(table)
        if folds is None:
            return None
        model = _pipeline(folds)
        with warnings.catch_warnings():
            # A fold without some category is the point of grouping by merchant.
            warnings.filterwarnings("ignore", message="Number of classes in training fold")
            model.fit(
                table, table["category"], classifier__sample_weight=table["weight"].to_numpy()
            )
        logger.info(
            "trained a suggestion model on %s rows (%s distinct) in %.2f s",
            len(learnable),
            len(table),
            time.perf_counter() - started,
        )
        return model

    def _model_distributions(self, rows: Sequence[LedgerRow]) -> list[dict[str, float]]:
        """Per row: each category's calibrated probability, never more than its one-vs-rest
        calibrated probability before normalization. (Normalizing the per-category
        probabilities to sum 1 turns 'every category unlikely' into 'the least unlikely is
        likely': the case of a merchant the model has never seen.)"""
        if self.model is None or not rows:
            return [{} for _ in rows]
        table = _features(rows)
        shares = self.model.predict_proba(table)
        calibrated = self.model[-1].calibrated_classifiers_[0]
        scores = calibrated.estimator.decision_function(self.model[:-1].transform(table))
        if scores.ndim == 2:  # more than two categories
            one_vs_rest = np.column_stack(
                [
                    calibrator.predict(scores[:, index])
                    for index, calibrator in enumerate(calibrated.calibrators)
                ]
            )
            shares = np.minimum(shares, one_vs_rest)
        classes = self.model.classes_
        return [
            {str(classes[index]): float(row[index]) for index in np.flatnonzero(row > 0.001)}
            for row in shares
        ]

    def _memory(self, row: LedgerRow, key: str) -> tuple[dict[str, float], float]:
        """The merchant's categories and how much they weigh (0 when never seen)."""
        if key in self.memory:
            counts = self.memory[key]
            if len(counts) > 1:
                # The user files this merchant under several categories: ask how they
                # filed purchases of about this size, when they made some.
                by_size = self.memory_by_size.get((key, _size_class(row)))
                if by_size and sum(by_size.values()) >= 2:
                    counts = by_size
            weight = sum(counts.values()) / (sum(counts.values()) + MEMORY_PRIOR)
            return _distribution(counts), weight
        # The same merchant with or without a second word ('STARBUCKS #123 SEATTLE' and
        # 'STARBUCKS'), but only when that names one known merchant: 'CITY BIKES' is not
        # 'CITY POWER'.
        first = key.split()[0] if key else ""
        known = self.first_words.get(first, set())
        if first in self.memory:
            nearest = first
        elif len(key.split()) == 1 and len(known) == 1:
            nearest = next(iter(known))
        else:
            return {}, 0.0
        counts = self.memory[nearest]
        weight = sum(counts.values()) / (sum(counts.values()) + 4 * MEMORY_PRIOR)
        return _distribution(counts), weight

    def _refund(self, row: LedgerRow, key: str) -> Suggestion | None:
        if not row.money_in or key not in self.purchases:
            return None
        first_seen, counts = self.purchases[key]
        if first_seen > row.timestamp:
            return None
        category, count = counts.most_common(1)[0]
        # The share of that category among the purchases, discounted like the memory.
        confidence = count / (sum(counts.values()) + MEMORY_PRIOR)
        return Suggestion(category, round(confidence, 4), Reason.REFUND)

    def rank(self, rows: Sequence[LedgerRow]) -> list[Suggestion | None]:
        """The best category for each row with its confidence, whatever the threshold;
        None for rows the user or a rule categorized, or when nothing is known."""
        open_rows = [row for row in rows if row.category_source not in NEVER_SUGGESTED]
        models = iter(self._model_distributions(open_rows))
        answers: list[Suggestion | None] = []
        for row in rows:
            if row.category_source in NEVER_SUGGESTED:
                answers.append(None)
                continue
            from_model = next(models)
            key = merchant_key(row.merchant_text)
            refund = self._refund(row, key)
            if refund is not None:
                answers.append(refund)
                continue
            remembered, weight = self._memory(row, key)
            blended: Counter = Counter()
            for category, share in remembered.items():
                blended[category] += weight * share
            for category, share in from_model.items():
                blended[category] += (1 - weight) * share
            if not blended:
                answers.append(None)
                continue
            category, confidence = blended.most_common(1)[0]
            reason = Reason.MERCHANT if weight >= 0.5 else Reason.MODEL
            answers.append(Suggestion(category, round(min(confidence, 1.0), 4), reason))
        return answers

    def suggest(self, rows: Sequence[LedgerRow]) -> list[Suggestion | None]:
        """Suggestions at or above the threshold; None where the system abstains."""
        threshold = self.config.threshold
        return [
            answer if answer is not None and answer.confidence >= threshold else None
            for answer in self.rank(rows)
        ]

    def changes(self, rows: Sequence[LedgerRow]) -> list[LearnedChange]:
        """The suggestions to apply by themselves: only over `default` or an older
        `learned` category, never over what the user, a rule or the bank said."""
        return [
            LearnedChange(row, answer)
            for row, answer in zip(rows, self.suggest(rows))
            if answer is not None
            and row.category_source in AUTO_REPLACEABLE
            and (
                row.category != answer.category or row.category_source is not CategorySource.LEARNED
            )
        ]

    def review_queue(self, rows: Sequence[LedgerRow]) -> list[tuple[LedgerRow, Suggestion | None]]:
        """The rows a person should look at, largest amount first, each with the best
        guess (or None): those without a category, and those whose category was learned
        or would be suggested below the threshold."""
        threshold = self.config.threshold
        queue = [
            (row, answer)
            for row, answer in zip(rows, self.rank(rows))
            if row.category_source in AUTO_REPLACEABLE
            and (
                row.category is None
                or row.category_source is CategorySource.DEFAULT
                or answer is None
                or answer.confidence < threshold
            )
        ]
        queue.sort(key=lambda item: (-abs(item[0].amount), item[0].id))
        return queue


class SuggesterCache:
    """One trained Suggester per user, retrained when the user's data changed.

    `get` retrains when the data version differs from the one the model was trained on,
    but not more often than `min_retrain_seconds` (until then the older model answers:
    suggestions are advice, and a burst of edits should cost one training, not many).
    """

    def __init__(
        self,
        *,
        max_users: int = 64,
        min_retrain_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        config: SuggesterConfig | None = None,
    ) -> None:
        self.max_users = max_users
        self.min_retrain_seconds = min_retrain_seconds
        self.clock = clock
        self.config = config
        self._entries: OrderedDict[int, tuple[int, float, Suggester]] = OrderedDict()

    def get(
        self, *, user_id: int, data_version: int, load_history: Callable[[], Iterable[LedgerRow]]
    ) -> Suggester:
        entry = self._entries.get(user_id)
        now = self.clock()
        if entry is not None:
            version, trained_at, suggester = entry
            if version == data_version or now - trained_at < self.min_retrain_seconds:
                self._entries.move_to_end(user_id)
                return suggester
        suggester = Suggester.train(load_history(), self.config)
        self._entries[user_id] = (data_version, now, suggester)
        self._entries.move_to_end(user_id)
        while len(self._entries) > self.max_users:
            self._entries.popitem(last=False)
        return suggester
