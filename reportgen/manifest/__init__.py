"""Read and validate manifests, split text into words, resolve coreference references.

See DEVELOPERS.md ("Manifest") and docs/architecture.md. Public names are re-exported here.
"""
from .load import ManifestError, load_manifest, parse_manifest, slugify
from .schema import CorefPair, Example, Expectation, Manifest, ModelSpec, Settings, Span, Word
from .words import is_punct_text, split_words

__all__ = [
    "CorefPair",
    "Example",
    "Expectation",
    "Manifest",
    "ManifestError",
    "ModelSpec",
    "Settings",
    "Span",
    "Word",
    "is_punct_text",
    "load_manifest",
    "parse_manifest",
    "slugify",
    "split_words",
]
