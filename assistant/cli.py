"""`assistant` command line: index, retrieve (more commands register themselves in `COMMANDS`).

Results go to stdout; progress and errors go to stderr, errors as one plain line and a non-zero
exit code, never a stack trace (set ASSISTANT_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
from collections.abc import Callable, Sequence

from langchain_core.documents import Document
from pydantic import ValidationError

from assistant.retrieval import IndexNotBuilt, build_index, make_retriever
from assistant.settings import Settings
from vectorstore.catalog import CatalogError
from vectorstore.loading import InputError
from vectorstore.store import StoreError

EXIT_USER_ERROR = 2
EXIT_FAILURE = 1

Handler = Callable[[argparse.Namespace, Settings], int]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    report = build_index(
        settings,
        rebuild=args.rebuild,
        progress=None if args.quiet else _stderr,
        threads=settings.index_threads,  # a batch job in its own process: use the cores
    )
    print(report.summary())
    if report.changed or args.rebuild:
        print(
            f"chunks: {report.chunks_embedded} embedded, {report.chunks_refreshed} refreshed, "
            f"{report.chunks_removed} removed, {report.chunks_total} in {report.collection} ({report.seconds:.1f} s)"
        )
    return 0


def cmd_retrieve(args: argparse.Namespace, settings: Settings) -> int:
    retriever = make_retriever(settings, k=args.k)
    documents = retriever.search(args.question, args.k or settings.top_k)
    if args.json:
        rows = [
            {
                "rank": doc.metadata["rank"],
                "chunk_id": doc.id,
                "source": doc.metadata["source"],
                "sources": doc.metadata.get("sources", [doc.metadata["source"]]),
                "title": doc.metadata["title"],
                "language": doc.metadata["language"],
                "url": doc.metadata.get("url") or None,
                "score": doc.metadata["score"],
                "dense_score": doc.metadata["dense_score"],
                "sparse_score": doc.metadata["sparse_score"],
                "start": doc.metadata["start"],
                "end": doc.metadata["end"],
                "text": doc.page_content,
            }
            for doc in documents
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for doc in documents:
        meta = doc.metadata
        print(
            f"[{meta['rank']}] {meta['source']} · {meta['title']} ({meta['language']}) score {meta['score']:.3f}"
        )
        print(textwrap.indent(textwrap.fill(doc.page_content, 100), "    "))
    return 0


def print_passages(documents: Sequence[Document]) -> None:
    for doc in documents:
        meta = doc.metadata
        print(
            f"[{meta['rank']}] {meta['source']} · {meta['title']} ({meta['language']}) score {meta['score']:.3f}"
        )
        print(textwrap.indent(textwrap.fill(doc.page_content, 100), "    "))


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """A terminal chat: one question per line, the best passages back; Ctrl-D to leave."""
    retriever = make_retriever(settings)
    _stderr(f"Ask about the articles in {settings.seeds_dir} (any language). Ctrl-D to quit.")
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            print()
            return 0
        if question:
            print_passages(retriever.search(question))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="index the seeds folder (incremental)")
    index.add_argument("--rebuild", action="store_true", help="start over: re-embed everything")
    index.add_argument("--quiet", action="store_true", help="print only the summary")
    index.set_defaults(handler=cmd_index)

    retrieve = commands.add_parser("retrieve", help="print the passages that best match a question")
    retrieve.add_argument("question")
    retrieve.add_argument("--k", type=int, default=None, help="how many passages (default: ASSISTANT_TOP_K)")
    retrieve.add_argument("--json", action="store_true", help="machine-readable output")
    retrieve.set_defaults(handler=cmd_retrieve)

    chat = commands.add_parser("chat", help="ask questions in the terminal")
    chat.set_defaults(handler=cmd_chat)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s", stream=sys.stderr)
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        _stderr(f"error: setting ASSISTANT_{str(first['loc'][0]).upper()}: {first['msg']}")
        return EXIT_USER_ERROR
    try:
        return int(args.handler(args, settings))
    except (InputError, CatalogError, IndexNotBuilt, StoreError) as exc:
        _stderr(f"error: {exc}")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        _stderr("interrupted")
        return 130
    except Exception as exc:
        if settings.debug:
            raise
        _stderr(f"error: {type(exc).__name__}: {exc} (set ASSISTANT_DEBUG=1 for details)")
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
