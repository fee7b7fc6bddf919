"""The command line: a thin layer over manifest loading and the build pipeline.

Exit codes: 0 success; 2 bad input (nothing written); 1 a model or run failed.

Each command imports what it runs inside its function (deferred imports): `reportgen --help`, an
argument error answer at once, and `reportgen check` loads no numpy, MkDocs or model stack
(0.08 s to start instead of about a second).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import warnings
from pathlib import Path

from reportgen import __version__
from reportgen.errors import ReportgenError, RunError, UserError, first_line, one_line


def demo_manifest() -> Path:
    from reportgen.render.templates import examples_dir  # deferred: per command

    return examples_dir() / "demo.yaml"


def _shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard {text!r}: write K/N, for example 1/3") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"--shard {text!r}: K must be between 1 and N")
    return k, n


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: write a whole number of at least 1, for example 4096")
    return value


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
    build.add_argument("--threads", type=_positive, metavar="N",
                       help="torch threads (default: the CPUs this process may use, container CPU quota included)")
    build.add_argument("--max-tokens", type=_positive, default=None, metavar="N",
                       help="batch size bound: padded tokens per forward pass (attention cells: 16 x N); default 4096 "
                            "on the CPU and with --shard, on a GPU chosen from its free memory")
    build.add_argument("--site", action="store_true", help="also run `mkdocs build --strict` into site/")
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    build.add_argument("--shard-out", help="with --shard: also copy this shard's records into this folder "
                                           "(cache layout; upload it as a CI artifact)")
    build.add_argument("--compare", metavar="PREVIOUS",
                       help="previous site/, site_src/ or folder of heads.json files: add a Changes page")
    build.add_argument("--compare-threshold", type=float, default=0.05,
                       help="score change that counts for --compare (absolute; default: 0.05)")
    build.add_argument("--force", action="store_true",
                       help="rewrite site_src/ (and site/) even when nothing changed since the last build")

    merge = sub.add_parser("merge", help="render the whole site from the cache once every shard ran "
                                         "(same as build --merge)")
    for action in build._actions:  # the options of build, minus the shard ones
        if action.dest not in ("help", "shard", "merge", "shard_out"):
            merge._add_action(action)
    merge.set_defaults(shard=None, merge=True, shard_out=None)

    models_key = sub.add_parser("models-key", help="print a hash of the manifest's hub models and revisions "
                                                   "(a CI cache key for ~/.cache/huggingface)")
    models_key.add_argument("manifest", nargs="?", help="manifest YAML (default: the built-in demo)")

    epoch = sub.add_parser("source-date-epoch", help="print the SOURCE_DATE_EPOCH that makes `mkdocs build` "
                                                     "of a site_src/ reproducible (its newest run date)")
    epoch.add_argument("folder", nargs="?", default="site_src", help="site_src/ folder (default: site_src)")

    check = sub.add_parser("check", help="validate a manifest")
    check.add_argument("manifest")

    imp = sub.add_parser("import", help="turn a public benchmark file into a manifest")
    imp.add_argument("format", choices=["wsc"], help="wsc: the Winograd Schema Challenge WSCollection.xml")
    imp.add_argument("path", help="the benchmark file")
    imp.add_argument("--first", type=int, help="only the first N items (273 gives WSC273)")
    imp.add_argument("-o", "--output", help="manifest to write (default: print it)")
    imp.add_argument("--show", default=str(20), help="viewer pages for the first N examples only, or 'all' (default: 20)")

    export = sub.add_parser("export", help="write one example's viewers as a single standalone HTML file "
                                           "(opens from disk or as an e-mail attachment, no network)")
    export.add_argument("manifest", help="manifest YAML")
    export.add_argument("example", help="the example's id or slug")
    export.add_argument("--model", help="model id, name or slug (needed when the manifest has several)")
    export.add_argument("-o", "--output", help="HTML file to write (default: EXAMPLE-MODEL.html)")
    export.add_argument("--cache", help="cache folder (default: $REPORTGEN_CACHE or ~/.cache/reportgen)")
    export.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    export.add_argument("--device", default="cpu", help="torch device (cpu, cuda, cuda:1, ...)")
    export.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])

    cache = sub.add_parser("cache", help="show or trim the cache")
    cache.add_argument("action", choices=["info", "prune"])
    cache.add_argument("--cache", help="cache folder")
    cache.add_argument("--older-than", type=float, help="prune: days since last use")
    cache.add_argument("--max-mb", type=float, help="prune: keep at most this many MB")
    return top


def _manifest(path: str | None, check_paths: bool = True):
    from reportgen.manifest import load_manifest  # deferred: per command

    manifest = load_manifest(path or demo_manifest(), check_paths=check_paths)
    for note in getattr(manifest, "notes", ()):
        print(f"note: {note}", file=sys.stderr)
    return manifest


def cmd_build(args) -> int:
    from reportgen.pipeline import BuildOptions, build  # deferred: per command

    if args.shard and args.merge:
        raise UserError("--shard and --merge exclude each other: run the shards, then merge")
    if args.shard_out and not args.shard:
        raise UserError("--shard-out needs --shard K/N")
    if args.compare and args.shard:
        raise UserError("--compare applies to the build that renders the site (--merge or a full build), not to a shard")
    if not args.compare_threshold >= 0:
        raise UserError(f"--compare-threshold {args.compare_threshold}: must be 0 or more")
    if args.device != "cpu":
        from reportgen.models.load import check_device  # deferred: per command

        check_device(args.device)
    manifest = _manifest(args.manifest)
    options = BuildOptions(
        out=Path(args.out), config_path=Path(args.config), cache_dir=Path(args.cache) if args.cache else None,
        use_cache=not args.no_cache, keep_going=args.keep_going, shard=args.shard, merge_only=args.merge,
        device=args.device, dtype=args.dtype, max_tokens=args.max_tokens, threads=args.threads, progress=not args.quiet and sys.stderr.isatty(),
        shard_out=Path(args.shard_out) if args.shard_out else None,
        compare=Path(args.compare) if args.compare else None, compare_threshold=args.compare_threshold,
        skip_unchanged=not args.force,
    )
    report = build(manifest, options)
    failed = report.failed
    what = "computed into the cache" if args.shard else f"wrote {report.bytes / 1e6:.1f} MB to {args.out}/"
    if report.up_to_date:
        what = f"{args.out}/ is up to date ({report.records} records unchanged), nothing rewritten"
    print(f"reportgen: {report.models} models ({failed} failed), {report.examples} examples, "
          f"{report.forward_examples} forward runs, {report.cache_hits} from cache, "
          f"{report.seconds:.1f} s, {what}")
    if report.changes is not None:
        print(f"reportgen: {report.changes['changed_heads']} head scores moved more than "
              f"{args.compare_threshold} since {args.compare} (see changes.md)")
    if args.site and not args.shard:
        from mkdocs.exceptions import MkDocsException  # deferred: per command

        from reportgen.publish import epoch_of_runs, epoch_of_site_src, mkdocs_build  # deferred: per command

        # SOURCE_DATE_EPOCH (unless set): the newest run date, so rebuilds are byte-identical
        epoch = epoch_of_runs(report.runs) or epoch_of_site_src(options.out)
        try:
            site_dir, built = mkdocs_build(options.config_path, epoch, force=args.force)
        except MkDocsException as exc:
            raise RunError(f"mkdocs build of {options.config_path} failed: {first_line(exc)}") from exc
        print(f"reportgen: site written to {site_dir}" if built else
              f"reportgen: {site_dir} is up to date (same site_src/ and mkdocs.yml as its last build)")
    return 1 if failed else 0


def cmd_check(args) -> int:
    manifest = _manifest(args.manifest)
    pairs = sum(len(e.coref) for e in manifest.examples)
    print(f"{args.manifest}: ok ({len(manifest.models)} models, {len(manifest.examples)} examples, {pairs} coreference pairs)")
    return 0


def cmd_import(args) -> int:
    from reportgen.importers import wsc  # deferred: per command

    try:
        show = None if args.show == "all" else int(args.show)
    except ValueError:
        raise UserError(f"--show {args.show!r}: write a number or 'all'") from None
    command = "reportgen import wsc " + " ".join(
        [Path(args.path).name] + ([f"--first {args.first}"] if args.first else []) +
        ([f"-o {args.output}"] if args.output else []) + ([f"--show {args.show}"] if args.show != "20" else []))
    text, summary = wsc.run(args.path, args.first, args.output, command, show)
    if args.output:
        print(summary)
        print(f"reportgen: wrote {args.output}")
    else:
        sys.stdout.write(text)
        print(summary, file=sys.stderr)
    return 0


def cmd_export(args) -> int:
    from reportgen.export import export_example  # deferred: per command

    if args.device != "cpu":
        from reportgen.models.load import check_device  # deferred: per command

        check_device(args.device)
    report = export_example(args.manifest, args.example, args.model, args.output, cache_dir=args.cache,
                            use_cache=not args.no_cache, device=args.device, dtype=args.dtype)
    print(f"reportgen: wrote {report['path']} ({report['bytes'] / 1e6:.2f} MB, one file: {report['model']} on "
          f"example {report['example']!r}, {report['tokens']} tokens)")
    return 0


def cmd_models_key(args) -> int:
    from reportgen.publish import models_key  # deferred: per command

    print(models_key(_manifest(args.manifest, check_paths=False)))
    return 0


def cmd_source_date_epoch(args) -> int:
    from reportgen.publish import epoch_of_site_src  # deferred: per command

    epoch = epoch_of_site_src(args.folder)
    if epoch is None:
        raise UserError(f"{args.folder}: no data/index.json with a dated model; run `reportgen build` first")
    print(epoch)
    return 0


def cmd_cache(args) -> int:
    from reportgen.store.cache import Cache  # deferred: per command

    cache = Cache(args.cache)
    if args.action == "info":
        stats = cache.stats()
        print(f"{cache.root}: {stats.entries} entries, {stats.bytes / 1e6:.1f} MB")
        return 0
    max_bytes = int(args.max_mb * 1e6) if args.max_mb is not None else None
    removed = cache.prune(args.older_than, max_bytes)
    print(f"{cache.root}: removed {removed.entries} entries ({removed.bytes / 1e6:.1f} MB)")
    return 0


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same clean-up runs (staging removed, output untouched)."""


def _on_sigterm(signum, frame):
    raise Terminated()


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_format_warning = warnings.formatwarning


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """reportgen's own warnings (damaged cache entries, ...) print as one ``warning: ...`` line."""
    if os.path.abspath(filename).startswith(_PACKAGE_DIR + os.sep):
        return f"warning: {message}\n"
    return _format_warning(message, category, filename, lineno, line)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.simplefilter("default")
    warnings.formatwarning = _one_line_warning
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if threading.current_thread() is threading.main_thread() else None
    try:
        return {"build": cmd_build, "check": cmd_check, "cache": cmd_cache, "import": cmd_import,
                "merge": cmd_build, "models-key": cmd_models_key, "export": cmd_export,
                "source-date-epoch": cmd_source_date_epoch}[args.command](args)
    except UserError as exc:
        for line in exc.lines:
            print(f"error: {one_line(line)}", file=sys.stderr)
        return 2
    except ReportgenError as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        print("reportgen: interrupted; the previous output is untouched", file=sys.stderr)
        return 128 + (signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)
    except OSError as exc:  # disk full, permissions, ...: the build already removed its staging folder
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
