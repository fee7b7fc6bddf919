"""Fine-tune a tiny BERT with the Hugging Face ``Trainer`` on subject-verb agreement: the demo's training run.

    python examples/runs/train_agreement.py [OUT_FOLDER] [--steps 600] [--save-steps 150]

The task (``agreement/train.tsv`` and ``dev.tsv``, made by ``agreement_data.py``) is CoLA-like: is the
sentence acceptable? The model is a BERT with 2 layers of 4 heads (hidden size 64, no dropout) and a
WordPiece vocabulary trained on the task's sentences (its words are whole tokens; every printable ASCII
character is in the alphabet, so any other English text tokenises without [UNK], in short pieces),
randomly initialised, so its heads only know what this run teaches them. With the defaults it sits at chance for about 300 steps, then learns the
rule within 50 steps (evaluation MCC from 0 to about 0.9): the checkpoints before and after show which
heads changed.
The ``Trainer`` runs with

- ``GradientFlowCallback`` (``reportgen.training``): ``grad_norm/<layer>`` and ``update_ratio/<layer>`` at
  every logging step;
- TensorBoard logging (``OUT_FOLDER/runs/``, the Trainer's default), evaluation every ``--eval-steps`` with accuracy and
  Matthews correlation (MCC, the CoLA metric), ``metric_for_best_model: mcc``;
- a checkpoint every ``--save-steps`` (model weights and tokenizer only, ``save_only_model``).

``OUT_FOLDER/trainer_state.json`` is the whole log; a manifest points at the folder with
``runs: [{id: agreement, path: OUT_FOLDER, checkpoints: true}]`` to get the run page and every checkpoint's
heads. Deterministic on CPU (seed 1; the committed run was made with OMP_NUM_THREADS=1: other thread
counts may round differently). ``examples/runs/agreement-run/`` is its output with the defaults
(what the Trainer writes that reportgen does not read is removed: ``training_args.bin``, RNG states and the
TensorBoard event files, which name the host and the time).
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import string
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # agreement_data beside this script

import agreement_data  # noqa: E402


def matthews(labels: list[int], predictions: list[int]) -> float:
    """Matthews correlation coefficient of binary labels (0 when a row or column of the table is empty)."""
    tp = sum(1 for y, p in zip(labels, predictions) if y == 1 and p == 1)
    tn = sum(1 for y, p in zip(labels, predictions) if y == 0 and p == 0)
    fp = sum(1 for y, p in zip(labels, predictions) if y == 0 and p == 1)
    fn = sum(1 for y, p in zip(labels, predictions) if y == 1 and p == 0)
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return (tp * tn - fp * fn) / denominator if denominator else 0.0


def compute_metrics(prediction) -> dict[str, float]:
    logits, labels = prediction
    predicted = logits.argmax(-1).tolist()
    labels = labels.tolist()
    return {"accuracy": sum(int(p == y) for p, y in zip(predicted, labels)) / len(labels),
            "mcc": matthews(labels, predicted)}


def tokenizer_for(texts: list[str], vocab_size: int = 400):
    """A cased BERT WordPiece tokenizer trained on ``texts``, every printable ASCII character in its alphabet."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False,
                                                lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    alphabet = sorted(set(string.ascii_letters + string.digits + string.punctuation))
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials,
                                                             initial_alphabet=alphabet, show_progress=False))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return BertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                             cls_token="[CLS]", mask_token="[MASK]", do_lower_case=False)


class Rows:
    """A list of tokenised examples for the Trainer (a torch-style map dataset)."""

    def __init__(self, tokenizer, rows: list[tuple[str, int]]):
        self.items = [dict(tokenizer(text, truncation=True, max_length=64), labels=label) for text, label in rows]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        return self.items[index]


def train(out: Path, steps: int = 600, save_steps: int = 150, eval_steps: int = 25, logging_steps: int = 10,
          learning_rate: float = 2e-3, seed: int = 1, layers: int = 2, heads: int = 4, hidden: int = 64,
          data: Path = agreement_data.FOLDER, report_to: tuple[str, ...] = ("tensorboard",), callbacks=(),
          max_grad_norm: float = 1.0):
    """Run the fine-tuning into ``out``; return the Trainer (its ``state`` holds the log)."""
    import torch
    from transformers import (BertConfig, BertForSequenceClassification, DataCollatorWithPadding, Trainer,
                              TrainingArguments, set_seed)

    from reportgen.training import GradientFlowCallback

    set_seed(seed)
    train_rows, dev_rows = agreement_data.read(data / "train.tsv"), agreement_data.read(data / "dev.tsv")
    tokenizer = tokenizer_for([s for s, _ in train_rows])
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=heads, intermediate_size=2 * hidden, max_position_embeddings=160,
                        num_labels=2, pad_token_id=tokenizer.pad_token_id, hidden_dropout_prob=0.0,
                        attention_probs_dropout_prob=0.0)
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config)
    args = TrainingArguments(
        output_dir=str(out), max_steps=steps, per_device_train_batch_size=32, per_device_eval_batch_size=160,
        learning_rate=learning_rate, warmup_steps=max(1, steps // 10), weight_decay=0.01, seed=seed,
        max_grad_norm=max_grad_norm,
        logging_steps=logging_steps, eval_strategy="steps", eval_steps=eval_steps,
        save_strategy="steps", save_steps=save_steps, save_only_model=True,
        metric_for_best_model="mcc", greater_is_better=True, report_to=list(report_to),
        use_cpu=True, dataloader_num_workers=0, disable_tqdm=True,
    )
    trainer = Trainer(model=model, args=args, train_dataset=Rows(tokenizer, train_rows),
                      eval_dataset=Rows(tokenizer, dev_rows), data_collator=DataCollatorWithPadding(tokenizer),
                      processing_class=tokenizer, compute_metrics=compute_metrics,
                      callbacks=[GradientFlowCallback(), *callbacks])
    trainer.train()
    trainer.save_state()  # OUT_FOLDER/trainer_state.json: the whole log
    return trainer


def tidy(out: Path) -> None:
    """Remove what the Trainer writes that reportgen does not read (pickled arguments, RNG states, the
    TensorBoard event files: reportgen reads the same values from trainer_state.json), and make
    ``best_model_checkpoint`` relative."""
    for pattern in ("training_args.bin", "checkpoint-*/training_args.bin", "checkpoint-*/rng_state*.pth"):
        for path in out.glob(pattern):
            path.unlink()
    shutil.rmtree(out / "runs", ignore_errors=True)
    for state in out.glob("**/trainer_state.json"):  # best_model_checkpoint names this machine's output path
        text = state.read_text(encoding="utf-8")
        best = json.loads(text).get("best_model_checkpoint")
        if isinstance(best, str):
            state.write_text(text.replace(json.dumps(best), json.dumps(f"{out.name}/{Path(best).name}")), encoding="utf-8")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(HERE / "agreement-run"))
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--save-steps", type=int, default=150)
    parser.add_argument("--eval-steps", type=int, default=25)
    parser.add_argument("--logging-steps", type=int, default=10)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-grad-norm", type=float, default=1.0)
    args = parser.parse_args(argv)
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)  # a fresh run: no checkpoint of an older one left behind
    train(out, steps=args.steps, save_steps=args.save_steps, eval_steps=args.eval_steps,
          logging_steps=args.logging_steps, learning_rate=args.learning_rate, seed=args.seed, max_grad_norm=args.max_grad_norm)
    tidy(out)
    print(out)


if __name__ == "__main__":
    main()
