"""Tiny random models with real fast tokenizers, built offline for tests.

Each builder writes a folder that ``reportgen.models.load.load_model`` can read like any local model:
``config.json`` + weights (``save_pretrained``) and ``tokenizer.json`` + ``tokenizer_config.json``.
Tokenizers are trained on the fly on a small English/Turkish/German corpus with a small vocabulary, so
longer or rarer words are split into several pieces.
"""
from __future__ import annotations

from pathlib import Path

CORPUS = [
    "The cat is very sad.",
    "Because it could not find food to eat.",
    "The cat did not eat the food because it was not fresh.",
    "The trophy does not fit into the suitcase because it is too large.",
    "I went to the store. At the store, I bought fresh strawberries.",
    "Kedi çok üzgün.",
    "Çünkü o her zamanki gibi çok fazla yemek yedi.",
    "İstanbul'da güzel bir gün; ağaçlar yeşil, kuşlar şarkı söylüyor.",
    "Öğretmen öğrencilere ödevlerini ışıkta okumalarını söyledi.",
    "Die Katze ist sehr traurig.",
    "Weil sie zu viel gegessen hat.",
    "Die Straße ist groß, und die Bäume sind grün.",
    "Müller heißt der Fußballspieler aus München.",
]

FAMILIES = ("bert", "distilbert", "electra", "roberta", "xlm-roberta", "gpt2")

HIDDEN, LAYERS, HEADS, INTERMEDIATE, POSITIONS = 32, 2, 4, 37, 128
# Larger than the usual 0.02, so that random attention is far from uniform and tests can tell heads apart.
INIT = 0.2


def wordpiece_tokenizer(vocab_size: int = 160, corpus: list[str] | None = None):
    """Cased WordPiece (BERT style) with [CLS] A [SEP] (B [SEP]) and type ids 0/1, trained on ``corpus``
    (default: ``CORPUS``)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=False, lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials, min_frequency=1,
                                        show_progress=False)
    tok.train_from_iterator(corpus or CORPUS, trainer)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return tok


def bytelevel_tokenizer(vocab_size: int = 320, roberta: bool = True):
    """Byte-level BPE (GPT-2/RoBERTa style). ``roberta``: <s> A </s></s> B </s>; else no special tokens."""
    from tokenizers import ByteLevelBPETokenizer, processors

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"] if roberta else ["<|endoftext|>"]
    bpe = ByteLevelBPETokenizer(add_prefix_space=False, trim_offsets=True)
    bpe.train_from_iterator(CORPUS, vocab_size=vocab_size, min_frequency=2, special_tokens=specials,
                            show_progress=False)
    tok = bpe._tokenizer
    if roberta:
        tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")),
                                                          ("<s>", tok.token_to_id("<s>")),
                                                          trim_offsets=True, add_prefix_space=False)
    return tok


def unigram_tokenizer(vocab_size: int = 200):
    """SentencePiece-style Unigram with the "▁" marker (XLM-R style): <s> A </s></s> B </s>."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
    tok.train_from_iterator(CORPUS, trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=specials,
                                                              unk_token="<unk>", show_progress=False))
    s, e = tok.token_to_id("<s>"), tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", s), ("</s>", e)])
    return tok


def _wrap(tok, family: str):
    """The transformers fast tokenizer for ``family`` around a trained ``tokenizers.Tokenizer``."""
    import transformers as tf

    if family in ("bert", "distilbert", "electra"):
        cls = {"bert": tf.BertTokenizerFast, "distilbert": tf.DistilBertTokenizerFast,
               "electra": tf.ElectraTokenizerFast}[family]
        return cls(tokenizer_object=tok, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                   cls_token="[CLS]", mask_token="[MASK]", do_lower_case=False)
    if family in ("roberta", "xlm-roberta"):
        cls = tf.RobertaTokenizerFast if family == "roberta" else tf.XLMRobertaTokenizerFast
        return cls(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
                   unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    if family == "gpt2":
        return tf.GPT2TokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                    unk_token="<|endoftext|>")
    raise ValueError(family)


def _config(family: str, tok):
    config = _family_config(family, tok)
    config.initializer_range = INIT
    return config


def _family_config(family: str, tok):
    import transformers as tf

    vocab = tok.get_vocab_size()
    if family == "bert":
        return tf.BertConfig(vocab_size=vocab, hidden_size=HIDDEN, num_hidden_layers=LAYERS,
                             num_attention_heads=HEADS, intermediate_size=INTERMEDIATE,
                             max_position_embeddings=POSITIONS, pad_token_id=tok.token_to_id("[PAD]"))
    if family == "distilbert":
        return tf.DistilBertConfig(vocab_size=vocab, dim=HIDDEN, n_layers=LAYERS, n_heads=HEADS,
                                   hidden_dim=INTERMEDIATE, max_position_embeddings=POSITIONS,
                                   pad_token_id=tok.token_to_id("[PAD]"))
    if family == "electra":
        return tf.ElectraConfig(vocab_size=vocab, embedding_size=HIDDEN, hidden_size=HIDDEN,
                                num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                                intermediate_size=INTERMEDIATE, max_position_embeddings=POSITIONS,
                                pad_token_id=tok.token_to_id("[PAD]"))
    if family in ("roberta", "xlm-roberta"):
        cls = tf.RobertaConfig if family == "roberta" else tf.XLMRobertaConfig
        return cls(vocab_size=vocab, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                   intermediate_size=INTERMEDIATE, max_position_embeddings=POSITIONS + 2, type_vocab_size=1,
                   pad_token_id=tok.token_to_id("<pad>"), bos_token_id=tok.token_to_id("<s>"),
                   eos_token_id=tok.token_to_id("</s>"))
    if family == "gpt2":
        eos = tok.token_to_id("<|endoftext|>")
        return tf.GPT2Config(vocab_size=vocab, n_embd=HIDDEN, n_layer=LAYERS, n_head=HEADS, n_inner=INTERMEDIATE,
                             n_positions=POSITIONS, bos_token_id=eos, eos_token_id=eos)
    raise ValueError(family)


def build_tiny(family: str, folder: str | Path, seed: int = 0, tokenizer=None) -> Path:
    """Write a tiny random ``family`` model with its fast tokenizer into ``folder``; return the folder.

    ``tokenizer``: a trained ``tokenizers.Tokenizer`` of the family's kind to use instead of the default.
    """
    import torch
    import transformers as tf

    if tokenizer is not None:
        tok = tokenizer
    elif family in ("bert", "distilbert", "electra"):
        tok = wordpiece_tokenizer()
    elif family == "xlm-roberta":
        tok = unigram_tokenizer()
    else:
        tok = bytelevel_tokenizer(roberta=family == "roberta")
    config = _config(family, tok)
    torch.manual_seed(seed)
    model = tf.AutoModel.from_config(config)
    model.eval()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    _wrap(tok, family).save_pretrained(folder)
    return folder


def build_all(root: str | Path) -> dict[str, Path]:
    """Every family under ``root``: {family: folder}."""
    root = Path(root)
    return {family: build_tiny(family, root / family) for family in FAMILIES}


def build_tiny_mlm(folder: str | Path, seed: int = 0) -> Path:
    """A tiny random ``BertForMaskedLM`` (BERT with its masked-LM head) and its fast tokenizer in ``folder``."""
    import torch
    import transformers as tf

    tok = wordpiece_tokenizer()
    config = _config("bert", tok)
    torch.manual_seed(seed)
    model = tf.BertForMaskedLM(config)
    model.eval()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    _wrap(tok, "bert").save_pretrained(folder)
    return folder
