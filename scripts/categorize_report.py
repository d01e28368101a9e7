"""Numbers for the categorizer (issue 14), printed as Markdown: not a test.

- precision and coverage of the learned suggestions on the demo personas (20% hidden,
  several seeds), with the demo descriptions and with card-statement descriptions, at the
  configured threshold and a few others; also with whole merchants hidden (cold start);
- what the default rules and the bank's own category column reach on ../shared/realcsv;
- training and prediction time for 10k and 100k rows.

Run: .venv/bin/python scripts/categorize_report.py [--skip-timing]
"""

import argparse
import dataclasses
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend" / "tests" / "categorize"))

from descriptors import demo_rows, scaled_rows, split_by_size  # noqa: E402
from exports import REALCSV, read_all  # noqa: E402

from spending_api.categorize.defaults import DEFAULT_RULES  # noqa: E402
from spending_api.categorize.ledger import CategorySource  # noqa: E402
from spending_api.categorize.merchant import merchant_key  # noqa: E402
from spending_api.categorize.rules import apply_rules  # noqa: E402
from spending_api.categorize.suggest import Suggester, SuggesterConfig  # noqa: E402
from spending_api.demo import PERSONAS  # noqa: E402

SEEDS = (1, 2, 3)
THRESHOLDS = (0.5, 0.7, 0.8, 0.9, 0.95)


def _score(suggester, questions, truth, threshold):
    answers = suggester.rank(questions)
    answered = [(a.category, t) for a, t in zip(answers, truth) if a and a.confidence >= threshold]
    correct = sum(category == true for category, true in answered)
    return correct / max(len(answered), 1), len(answered) / max(len(questions), 1)


def _split(rows, hidden):
    history = [row for index, row in enumerate(rows) if index not in hidden]
    questions = [
        dataclasses.replace(row, category=None, category_source=CategorySource.DEFAULT)
        for index, row in enumerate(rows)
        if index in hidden
    ]
    truth = [row.category for index, row in enumerate(rows) if index in hidden]
    return history, questions, truth


def demo_report() -> None:
    threshold = SuggesterConfig().threshold
    print(f"## Demo personas: 20% hidden, seeds {SEEDS}, threshold {threshold}\n")
    print(
        "| persona | descriptions | rows | precision | coverage | "
        + " | ".join(f"P/C at {t}" for t in THRESHOLDS)
        + " |"
    )
    print("|---|---|---|---|---|" + "---|" * len(THRESHOLDS))
    variants = (("demo", None, False), ("card statements", 11, False), ("split by size", 11, True))
    for persona in sorted(PERSONAS):
        for label, noise, split in variants:
            rows = demo_rows(persona, noise_seed=noise)
            if split:
                rows = split_by_size(
                    rows, merchant="MegaMart Online", below=Decimal(30), category="Groceries"
                )
            runs = {t: [] for t in THRESHOLDS + (threshold,)}
            for seed in SEEDS:
                hidden = set(random.Random(seed).sample(range(len(rows)), round(len(rows) * 0.2)))
                history, questions, truth = _split(rows, hidden)
                suggester = Suggester.train(history)
                for t in runs:
                    runs[t].append(_score(suggester, questions, truth, t))
            mean = {
                t: (statistics.mean(p for p, _ in r), statistics.mean(c for _, c in r))
                for t, r in runs.items()
            }
            worst = min(p for p, _ in runs[threshold]), min(c for _, c in runs[threshold])
            cells = " | ".join(f"{mean[t][0]:.3f}/{mean[t][1]:.3f}" for t in THRESHOLDS)
            print(
                f"| {persona} | {label} | {len(rows)} | {mean[threshold][0]:.4f} "
                f"(min {worst[0]:.4f}) | {mean[threshold][1]:.4f} (min {worst[1]:.4f}) | {cells} |"
            )
    print("\nCold start: every row of 20% of the merchants hidden (the model alone):\n")
    print("| persona | descriptions | precision | coverage |")
    print("|---|---|---|---|")
    for persona in sorted(PERSONAS):
        for label, noise in (("demo", None), ("card statements", 11)):
            rows = demo_rows(persona, noise_seed=noise)
            keys = sorted({merchant_key(row.description) for row in rows})
            results = []
            for seed in SEEDS:
                hidden_keys = set(random.Random(seed).sample(keys, max(1, len(keys) // 5)))
                hidden = {
                    i for i, row in enumerate(rows) if merchant_key(row.description) in hidden_keys
                }
                history, questions, truth = _split(rows, hidden)
                results.append(
                    _score(Suggester.train(history), questions, truth, SuggesterConfig().threshold)
                )
            answered = [p for p, c in results if c > 0]
            precision = f"{statistics.mean(answered):.3f}" if answered else "n/a (no answer)"
            print(
                f"| {persona} | {label} | {precision} | "
                f"{statistics.mean(c for _, c in results):.3f} |"
            )


def realcsv_report() -> None:
    print("\n## Real exports (../shared/realcsv): default rules and the bank's category column\n")
    if not REALCSV.is_dir():
        print(f"{REALCSV} is absent; skipped.")
        return
    exports = read_all()
    refused = sorted(name for name, rows in exports.items() if rows is None)
    print("| file | rows | bank category | default rules | either |")
    print("|---|---|---|---|---|")
    totals = [0, 0, 0, 0]
    for name, rows in exports.items():
        if not rows:
            continue
        changed = {change.before.id: change for change in apply_rules(DEFAULT_RULES, rows)}
        bank = {row.id for row in rows if row.category is not None}
        either = bank | set(changed)
        counts = (len(rows), len(bank), len(changed), len(either))
        totals = [a + b for a, b in zip(totals, counts)]
        print(f"| {name} | " + " | ".join(str(c) for c in counts) + " |")
    print(
        f"| **all {len(exports) - len(refused)} files** | {totals[0]} | "
        f"{totals[1]} ({totals[1] / totals[0]:.1%}) | {totals[2]} ({totals[2] / totals[0]:.1%}) | "
        f"{totals[3]} ({totals[3] / totals[0]:.1%}) |"
    )
    print(f"\nRefused by the current importer ({len(refused)}): {', '.join(refused)}\n")
    print("Learning within one file (20% of the bank-categorized rows hidden, seeds 1-3):\n")
    for name, rows in exports.items():
        labelled = [row for row in rows or [] if row.category is not None]
        if len(labelled) < 10:
            continue
        results = []
        for seed in SEEDS:
            rng = random.Random(seed)
            hidden = set(rng.sample(range(len(labelled)), round(len(labelled) * 0.2)))
            history, questions, truth = _split(labelled, hidden)
            results.append(
                _score(Suggester.train(history), questions, truth, SuggesterConfig().threshold)
            )
        answered = [p for p, c in results if c > 0]
        precision = f"{statistics.mean(answered):.3f}" if answered else "n/a"
        print(
            f"- {name}: {len(labelled)} rows, precision {precision}, "
            f"coverage {statistics.mean(c for _, c in results):.3f}"
        )
    print("\nWhat the default rules did:\n")
    for name, rows in exports.items():
        for change in apply_rules(DEFAULT_RULES, rows or []):
            text = (change.before.description or "")[:70]
            print(f"- {name}: {change.after.category} <- {text!r} ({change.before.amount})")


def timing_report() -> None:
    print("\n## Training and prediction time (this machine, shared 2 cores)\n")
    print("| rows | trained on | train s (CPU s) | predict 1,000 rows s (CPU s) |")
    print("|---|---|---|---|")
    for count in (10_000, 100_000):
        rows = scaled_rows(count)
        questions = [
            dataclasses.replace(row, category=None, category_source=CategorySource.DEFAULT)
            for row in rows[-1000:]
        ]
        started, cpu = time.perf_counter(), time.process_time()
        suggester = Suggester.train(rows)
        trained, trained_cpu = time.perf_counter() - started, time.process_time() - cpu
        started, cpu = time.perf_counter(), time.process_time()
        suggester.suggest(questions)
        predicted, predicted_cpu = time.perf_counter() - started, time.process_time() - cpu
        used = min(len(rows), SuggesterConfig().max_training_rows)
        print(
            f"| {len(rows):,} | {used:,} | {trained:.1f} ({trained_cpu:.1f}) | "
            f"{predicted:.2f} ({predicted_cpu:.2f}) |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-timing", action="store_true")
    arguments = parser.parse_args()
    demo_report()
    realcsv_report()
    if not arguments.skip_timing:
        timing_report()


if __name__ == "__main__":
    main()
