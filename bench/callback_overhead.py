"""Overhead of GradientFlowCallback in a Hugging Face Trainer run, at logging_steps 1 and 50.

    HF_HUB_OFFLINE=1 python bench/callback_overhead.py [--steps 100] [--repeats 3]

A small BERT (4 layers of 4 heads, hidden size 256, vocabulary 8,000: 5.3 M parameters) trains on random
token batches (16 x 64) on the CPU, with and without the callback. Printed per logging_steps: the mean
time per step without and with the callback (best of ``--repeats`` runs each: wall time on a shared machine
is noisy), and the callback's own time (measured inside its hooks) as a share of the run's step time,
which is the figure that does not depend on the noise.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments  # noqa: E402

from reportgen.training import GradientFlowCallback  # noqa: E402


class Random(torch.utils.data.Dataset):
    def __init__(self, count: int, length: int, vocab: int):
        generator = torch.Generator().manual_seed(0)
        self.ids = torch.randint(5, vocab, (count, length), generator=generator)
        self.labels = torch.randint(0, 2, (count,), generator=generator)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> dict:
        return {"input_ids": self.ids[index], "labels": self.labels[index]}


def run(steps: int, logging_steps: int, callback: bool) -> tuple[float, float]:
    """(seconds per step, callback seconds per step) of one training run."""
    torch.manual_seed(0)
    config = BertConfig(vocab_size=8000, hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                        intermediate_size=1024, max_position_embeddings=128, num_labels=2)
    model = BertForSequenceClassification(config)
    flow = GradientFlowCallback(timing=True)
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, max_steps=steps, per_device_train_batch_size=16,
                                 logging_steps=logging_steps, save_strategy="no", report_to=[], use_cpu=True,
                                 disable_tqdm=True, dataloader_num_workers=0, seed=0)
        trainer = Trainer(model=model, args=args, train_dataset=Random(16 * steps, 64, 8000),
                          callbacks=[flow] if callback else [])
        trainer.remove_callback(trainer.callback_handler.callbacks[-1].__class__)  # no printer: quiet, comparable
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    return seconds / steps, flow.seconds / steps


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    params = sum(p.numel() for p in BertForSequenceClassification(BertConfig(
        vocab_size=8000, hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024,
        max_position_embeddings=128, num_labels=2)).parameters())
    print(f"BERT 4x4, hidden 256: {params / 1e6:.1f} M parameters; batch 16 x 64 tokens; {args.steps} steps; "
          f"torch threads {torch.get_num_threads()}, CPUs {os.cpu_count()}")
    print("| logging_steps | step without (ms) | step with (ms) | wall difference | callback's own time |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for logging_steps in (1, 50):
        withouts, withs = [], []
        for _ in range(args.repeats):  # interleaved, so that a slow spell of a shared machine hits both
            withouts.append(run(args.steps, logging_steps, False)[0])
            withs.append(run(args.steps, logging_steps, True))
        without = min(withouts)
        step, own = min(withs)
        print(f"| {logging_steps} | {without * 1e3:.1f} | {step * 1e3:.1f} | {(step - without) / without:+.1%} | "
              f"{own * 1e3:.2f} ms/step = {own / step:.2%} |")


if __name__ == "__main__":
    main()
