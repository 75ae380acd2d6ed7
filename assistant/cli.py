"""`assistant` command line: index, retrieve, ask (one, JSON, or a JSON Lines batch), eval, chat.

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
from pathlib import Path

from langchain_core.documents import Document
from pydantic import ValidationError

from assistant.answer import Answer
from assistant.chain import AnswerChain, QuestionError
from assistant.conversations import ConversationNotFound, ConversationStoreError
from assistant.evaluation import DEFAULT_QUESTIONS, evaluate_answers, load_questions
from assistant.generators.model_files import ModelFileError
from assistant.language import LANGUAGES
from assistant.llm import describe_generator
from assistant.machine import describe_machine
from assistant.progress import TerminalProgress
from assistant.retrieval import build_index, load_documents, make_retriever
from assistant.service import ANSWER_ERRORS, ModelChains
from assistant.settings import Settings
from vectorstore.catalog import CatalogError
from vectorstore.loading import InputError

EXIT_USER_ERROR = 2
EXIT_FAILURE = 1

Handler = Callable[[argparse.Namespace, Settings], int]
MODEL_HELP = "a model id from `assistant models` (default: the configured one)"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    shown = None if args.quiet else TerminalProgress()
    try:
        report = build_index(
            settings,
            rebuild=args.rebuild,
            progress=shown.note if shown else None,
            threads=settings.index_threads,  # a batch job in its own process: use the cores
            steps=shown.step if shown else None,
        )
    finally:
        if shown:
            shown.close()
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
                "section": doc.metadata.get("section", ""),
                "page": doc.metadata.get("page"),
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
    print_passages(documents)
    return 0


def print_passages(documents: Sequence[Document]) -> None:
    for doc in documents:
        meta = doc.metadata
        print(
            f"[{meta['rank']}] {meta['source']} · {meta['title']} ({meta['language']}) score {meta['score']:.3f}"
        )
        print(textwrap.indent(textwrap.fill(doc.page_content, 100), "    "))


def chosen_chain(args: argparse.Namespace, settings: Settings) -> AnswerChain:
    """The chain of `--model` (a catalogue id, see `assistant models`), else the configured one."""
    return ModelChains(settings).chain(getattr(args, "model", None))


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    """The model catalogue: id, where it comes from, whether a running assistant has it loaded."""
    from assistant.generators.catalogue import ModelCatalogue
    from assistant.generators.model_files import gguf_problem

    listing = ModelCatalogue(settings).listing()  # no chain, no index: only what is listed
    loaded = _loaded_in_server(settings)
    rows = []
    for entry in listing.entries:
        if entry.path is not None and entry.path.exists():
            state = gguf_problem(entry.path) or "ready"
        elif entry.packaged is not None:
            state = "ready (joined from its packages on first use)"
        else:
            state = "ready"
        in_server = "-" if loaded is None else ("yes" if entry.id in loaded else "no")
        default = "*" if entry.id == listing.default_id else " "
        rows.append((f"{default} {entry.id}", entry.source, in_server, f"{entry.label}; {state}"))
    table = [("  ID", "SOURCE", "LOADED", "LABEL; STATE"), *rows]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[3])
    if listing.endpoint and not listing.endpoint.reachable:
        print(f"\nthe model server at {listing.endpoint.url} is not listed: {listing.endpoint.detail}")
    where = f"http://{settings.host}:{settings.port}"
    print(
        f"\n* the default (ASSISTANT_GENERATOR); LOADED: in the assistant at {where}"
        + (" (none running)" if loaded is None else "")
    )
    return 0


def _loaded_in_server(settings: Settings) -> set[str] | None:
    """The model ids a running assistant on ASSISTANT_HOST:PORT has loaded, or None if none answers."""
    import base64
    import urllib.request

    request = urllib.request.Request(f"http://{settings.host}:{settings.port}/v1/models")
    if settings.credentials:
        token = base64.b64encode(":".join(settings.credentials[0]).encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            data = json.load(response)["data"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {m["id"].removeprefix("assistant/") for m in data if m.get("loaded")}


def cmd_conversations(args: argparse.Namespace, settings: Settings) -> int:
    """The saved conversations: list them (every user's, or `--user`'s), or export one."""
    from assistant.conversations import ConversationStore
    from assistant.transcripts import export

    store = ConversationStore(settings.conversations_file)
    if args.action == "list":
        for c in store.list(args.user):
            owner = f"  {c.owner}" if c.owner else ""
            print(f"{c.id}  {c.updated}  {c.turns:>3} turn(s){owner}  {c.title}")
        return 0
    if not args.id:
        raise QuestionError("give the id of the conversation to export (see `assistant conversations list`)")
    text = export(store.get(args.id, args.user), store.turns(args.id, args.user), args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        _stderr(f"wrote {args.output}")
    else:
        print(text, end="")
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """A terminal chat with follow-ups: one question per line; Ctrl-D to leave."""
    chain = chosen_chain(args, settings)
    history: list[tuple[str, str]] = []
    _stderr(f"Ask about the articles in {settings.seeds_dir} (any language). Ctrl-D to quit.")
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            continue
        try:
            answer = chain.invoke(question, history)
        except ANSWER_ERRORS as exc:
            _stderr(f"error: {exc}")
            continue
        print_answer(answer)
        print()
        history += [("user", question), ("assistant", answer.answer)]


def exposure_warning(host: str, settings: Settings) -> str | None:
    if host in ("127.0.0.1", "localhost", "::1") or settings.auth is not None:
        return None
    return (
        f"warning: listening on {host} without ASSISTANT_AUTH: anyone who can reach this machine "
        "can use the assistant; set ASSISTANT_AUTH=user:password"
    )


def cmd_ui(args: argparse.Namespace, settings: Settings) -> int:
    """The web app: the Gradio chat at /, the article view, health; Ctrl-C to stop."""
    import uvicorn

    from assistant.api import create_app
    from assistant.server_memory import limit_malloc_arenas

    limit_malloc_arenas(settings.malloc_arenas)
    host = args.host or settings.host
    port = args.port or settings.port
    warning = exposure_warning(host, settings)
    if warning:
        _stderr(warning)
    models = ModelChains(settings)
    _stderr(f"loading the models ({models.default_id})…")
    models.prepare(models.default_id)
    app = create_app(settings, models)
    _stderr(f"Chat on http://{host}:{port}  (Ctrl-C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    """Add files or folders to the articles and index them; exit 2 if any file was rejected."""
    from assistant.documents import add_documents

    shown = TerminalProgress()
    try:
        report = add_documents(settings, [Path(p) for p in args.paths], steps=shown.step)
    finally:
        shown.close()
    for line in report.lines():
        print(line)
    if not report.added and not report.duplicates and not report.rejected:
        _stderr("error: no file to add (accepted types: " + ", ".join(settings.allowed_types) + ")")
        return EXIT_USER_ERROR
    return EXIT_USER_ERROR if report.rejected else 0


def cmd_reimport(args: argparse.Namespace, settings: Settings) -> int:
    """Read added documents again with today's importer; exit 2 if any could not be."""
    from assistant.documents import reimport_documents

    shown = TerminalProgress()
    try:
        report = reimport_documents(
            settings, args.source_ids, Path(args.from_file) if args.from_file else None, steps=shown.step
        )
    finally:
        shown.close()
    for line in report.lines() or ["no document you added to re-read"]:
        print(line)
    return EXIT_USER_ERROR if report.rejected or report.not_kept else 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.documents import remove_document

    report = remove_document(settings, args.source_id)
    print(f"removed {args.source_id}; index: {report.summary()}")
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    for document in load_documents(settings):
        meta = document.metadata
        print(f"{meta['source']}  {meta['language']}  {meta['title']}")
    return 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    """What is configured and whether each part works; exit 1 when something does not."""
    from assistant.doctor import run_checks

    print(f"generator: {describe_generator(settings)}")
    print(f"index:     {settings.chroma.describe()}, collection {settings.collection!r}")
    failed = 0
    for check in run_checks(settings):
        failed += not check.ok
        print(f"[{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
    print("all good" if not failed else f"{failed} problem(s) found")
    return 1 if failed else 0


def print_answer(answer: Answer) -> None:
    language = LANGUAGES.get(answer.language, LANGUAGES["en"])
    print(answer.answer)
    if answer.guard.fired and answer.generator == "extractive":
        _stderr(f"note: the model's answer was replaced by quotes ({answer.guard.reason})")
    passage = answer.passage(answer.closest.n) if answer.closest else None
    if answer.closest and passage:
        print(f"\n{language.closest}\n  “{answer.closest.sentence}” — {passage.heading}")
    if answer.citations:
        print(f"\n{language.sources}:")
        for citation in answer.citations:
            link = citation.url or citation.source
            quote = f"\n      “{citation.quote.sentence}”" if citation.quote else ""
            print(f"  [{citation.n}] {citation.heading} — {link}{quote}")


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    chain = chosen_chain(args, settings)
    if args.jsonl:
        return ask_batch(chain)
    if not args.question:
        raise QuestionError("give a question, or --jsonl to read questions from standard input")
    answer = chain.invoke(args.question)
    if args.json:
        print(answer.model_dump_json(indent=2))
    else:
        print_answer(answer)
    return 0


def ask_batch(chain: AnswerChain) -> int:
    """JSON Lines in (`id`, `question`), JSON Lines out, in input order; one bad line is reported
    on its own output line and does not stop the batch."""
    failures = 0
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        record_id: object = None
        try:
            item = json.loads(line)
            record_id = item.get("id", number) if isinstance(item, dict) else number
            if not isinstance(item, dict) or not isinstance(item.get("question"), str):
                raise QuestionError('each line needs a "question" string')
            record = chain.invoke(item["question"]).batch_record(record_id)
        except (json.JSONDecodeError, *ANSWER_ERRORS) as exc:
            failures += 1
            _stderr(f"line {number}: {exc}")
            record = {"id": record_id, "error": str(exc)}
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return 1 if failures else 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    chain = chosen_chain(args, settings)
    questions = load_questions(args.file)
    chain.warm_up()  # loading the models is not part of any question's latency
    report = evaluate_answers(questions, chain.invoke, chain.model, progress=_stderr)
    result = {**report.as_dict(), "machine": describe_machine()}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(format_eval(result))
    return 0


def format_eval(result: dict) -> str:
    columns = [
        "hit@1",
        "hit@4",
        "mrr",
        "risk",
        "coverage",
        "refusal_rate_unanswerable",
        "false_refusal_rate",
        "guard_rate",
        "wrong_language_rate",
    ]
    heads = [
        "hit@1",
        "hit@4",
        "MRR",
        "risk",
        "coverage",
        "refused unans.",
        "false refusals",
        "guard",
        "wrong lang.",
        "p50 s",
        "p95 s",
        "TTFT p50 s",
    ]
    lines = [f"generator: {result['generator']}", f"{'':<9}" + "".join(f"{h:>15}" for h in heads)]
    # risk: wrong replies among those shown as answers; coverage: right answers among answerable.
    scopes = [("overall", result["overall"]), *result["by_language"].items()]
    for name, summary in scopes:
        latency, first = summary["latency_ms"], summary["first_token_ms"]
        values = ["–" if summary[c] is None else f"{summary[c]:.2f}" for c in columns] + [
            f"{latency['p50'] / 1000:.1f}",
            f"{latency['p95'] / 1000:.1f}",
            f"{first['p50'] / 1000:.1f}" if first else "-",
        ]
        lines.append(f"{name:<9}" + "".join(f"{v:>15}" for v in values))
    lines.append(f"wrong answers: {', '.join(result['wrong']) or 'none'}")
    lines.append(f"unanswerable but answered: {', '.join(result['not_refused']) or 'none'}")
    lines.append(f"wrong language: {', '.join(result['wrong_language']) or 'none'}")
    return "\n".join(lines)


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

    ask = commands.add_parser("ask", help="answer a question, with cited sources")
    ask.add_argument("question", nargs="?")
    ask.add_argument("--json", action="store_true", help="the whole Answer as JSON")
    ask.add_argument("--model", metavar="ID", help=MODEL_HELP)
    ask.add_argument(
        "--jsonl", action="store_true", help="batch: JSON Lines on stdin, one answer per line on stdout"
    )
    ask.set_defaults(handler=cmd_ask)

    models = commands.add_parser(
        "models", help="list the models to choose from (--model ID, the chat's picker)"
    )
    models.set_defaults(handler=cmd_models)

    evaluate = commands.add_parser("eval", help="score answers on the evaluation questions")
    evaluate.add_argument("file", nargs="?", type=Path, default=DEFAULT_QUESTIONS)
    evaluate.add_argument("--json", action="store_true")
    evaluate.add_argument("--model", metavar="ID", help=MODEL_HELP)
    evaluate.set_defaults(handler=cmd_eval)

    ui = commands.add_parser("ui", help="serve the web chat (default http://127.0.0.1:7860)")
    ui.add_argument("--host", default=None, help="default: ASSISTANT_HOST (127.0.0.1)")
    ui.add_argument("--port", type=int, default=None, help="default: ASSISTANT_PORT (7860)")
    ui.set_defaults(handler=cmd_ui)

    add = commands.add_parser(
        "add", help="add documents (.txt .md .html .pdf files or folders) and index them"
    )
    add.add_argument("paths", nargs="+")
    add.set_defaults(handler=cmd_add)

    reimport = commands.add_parser(
        "reimport", help="read added documents again with today's importer and re-index what changed"
    )
    reimport.add_argument(
        "source_ids", nargs="*", metavar="SOURCE_ID", help="default: every document you added"
    )
    reimport.add_argument(
        "--from", dest="from_file", metavar="FILE", help="the file to re-read one document from"
    )
    reimport.set_defaults(handler=cmd_reimport)

    remove = commands.add_parser("remove", help="remove a document (by source id) and its chunks")
    remove.add_argument("source_id")
    remove.set_defaults(handler=cmd_remove)

    listing = commands.add_parser("list", help="list the documents: source id, language, title")
    listing.set_defaults(handler=cmd_list)

    doctor = commands.add_parser("doctor", help="check the configured model endpoint, embeddings and index")
    doctor.set_defaults(handler=cmd_doctor)

    conversations = commands.add_parser(
        "conversations", help="the conversations saved by the chat: list, or export one (md or json)"
    )
    conversations.add_argument("action", choices=["list", "export"])
    conversations.add_argument("id", nargs="?", help="for export: the conversation's id")
    conversations.add_argument("--format", choices=["md", "json"], default="md")
    conversations.add_argument("--user", default=None, help="only this user's (default: everyone's)")
    conversations.add_argument("--output", "-o", default=None, help="write to this file instead of stdout")
    conversations.set_defaults(handler=cmd_conversations)

    chat = commands.add_parser("chat", help="ask questions in the terminal")
    chat.add_argument("--model", metavar="ID", help=MODEL_HELP)
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
    except (
        InputError,
        CatalogError,
        ModelFileError,
        ConversationStoreError,
        ConversationNotFound,
        *ANSWER_ERRORS,
    ) as exc:
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
