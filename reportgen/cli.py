"""The command line: a thin layer over manifest loading and the build pipeline.

Exit codes: 0 success; 2 bad input (nothing written); 1 a model or run failed.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from reportgen import __version__
from reportgen.errors import ReportgenError, UserError


def demo_manifest() -> Path:
    from reportgen.render.templates import examples_dir

    return examples_dir() / "demo.yaml"


def _shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard {text!r}: write K/N, for example 1/3") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"--shard {text!r}: K must be between 1 and N")
    return k, n


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="reportgen", description="Static sites that explain transformer attention.")
    top.add_argument("--version", action="version", version=f"reportgen {__version__}")
    sub = top.add_subparsers(dest="command", required=True)

    build = sub.add_parser("build", help="run models, analyse heads, write site_src/ and mkdocs.yml")
    build.add_argument("manifest", nargs="?", help="manifest YAML (default: the built-in demo)")
    build.add_argument("--out", default="site_src", help="MkDocs docs_dir to write (default: site_src)")
    build.add_argument("--config", default="mkdocs.yml", help="mkdocs.yml to write (default: ./mkdocs.yml)")
    build.add_argument("--cache", help="cache folder (default: $REPORTGEN_CACHE or ~/.cache/reportgen)")
    build.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    build.add_argument("--keep-going", action="store_true", help="build the rest when a model fails (exit 1)")
    build.add_argument("--shard", type=_shard, help="K/N: compute only this share of the work into the cache")
    build.add_argument("--merge", action="store_true", help="render from the cache only (after all shards ran)")
    build.add_argument("--device", default="cpu", help="torch device (cpu, cuda, cuda:1, ...)")
    build.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    build.add_argument("--site", action="store_true", help="also run `mkdocs build --strict` into site/")
    build.add_argument("--quiet", action="store_true", help="no progress bars")

    check = sub.add_parser("check", help="validate a manifest")
    check.add_argument("manifest")

    cache = sub.add_parser("cache", help="show or trim the cache")
    cache.add_argument("action", choices=["info", "prune"])
    cache.add_argument("--cache", help="cache folder")
    cache.add_argument("--older-than", type=float, help="prune: days since last use")
    cache.add_argument("--max-mb", type=float, help="prune: keep at most this many MB")
    return top


def _manifest(path: str | None, check_paths: bool = True):
    from reportgen.manifest import load_manifest

    return load_manifest(path or demo_manifest(), check_paths=check_paths)


def cmd_build(args) -> int:
    from reportgen.pipeline import BuildOptions, build

    manifest = _manifest(args.manifest)
    options = BuildOptions(
        out=Path(args.out), config_path=Path(args.config), cache_dir=Path(args.cache) if args.cache else None,
        use_cache=not args.no_cache, keep_going=args.keep_going, shard=args.shard, merge_only=args.merge,
        device=args.device, dtype=args.dtype, progress=not args.quiet and sys.stderr.isatty(),
    )
    report = build(manifest, options)
    failed = report["failed"]
    what = "computed into the cache" if args.shard else f"wrote {report['bytes'] / 1e6:.1f} MB to {args.out}/"
    print(f"reportgen: {report['models']} models ({failed} failed), {report['examples']} examples, "
          f"{report['forward_examples']} forward runs, {report['cache_hits']} from cache, "
          f"{report['seconds']:.1f} s, {what}")
    if args.site and not args.shard:
        from mkdocs.commands.build import build as mkdocs_build
        from mkdocs.config import load_config

        config = load_config(str(options.config_path), strict=True)
        mkdocs_build(config)
        print(f"reportgen: site written to {config['site_dir']}")
    return 1 if failed else 0


def cmd_check(args) -> int:
    manifest = _manifest(args.manifest)
    pairs = sum(len(e.coref) for e in manifest.examples)
    print(f"{args.manifest}: ok ({len(manifest.models)} models, {len(manifest.examples)} examples, {pairs} coreference pairs)")
    return 0


def cmd_cache(args) -> int:
    from reportgen.store.cache import Cache

    cache = Cache(args.cache)
    if args.action == "info":
        stats = cache.stats()
        print(f"{cache.root}: {stats.entries} entries, {stats.bytes / 1e6:.1f} MB")
        return 0
    max_bytes = int(args.max_mb * 1e6) if args.max_mb is not None else None
    removed = cache.prune(args.older_than, max_bytes)
    print(f"{cache.root}: removed {removed.entries} entries ({removed.bytes / 1e6:.1f} MB)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.simplefilter("default")
    try:
        return {"build": cmd_build, "check": cmd_check, "cache": cmd_cache}[args.command](args)
    except UserError as exc:
        for line in exc.lines:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except ReportgenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("reportgen: interrupted; the previous output is untouched", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
