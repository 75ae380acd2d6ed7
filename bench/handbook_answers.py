"""Answers on manual pages a user adds: the Debian handbook as HTML, as PDF, as Word.

    python bench/handbook_answers.py [--formats html,pdf,docx] [--before REV] [--questions FILE ...]

The questions are the handbook questions retrieval is measured on (bench/handbook_questions.jsonl)
and those written for answers (bench/handbook_answers.jsonl: evidence inside inline markup, code
blocks, lists and tables, in the three languages, and questions the pages don't answer). The
pages are those they are about, in English, French and Vietnamese; as Word files only a few of
them (`--docx-sections`), with their questions. For (with `--before`) a git worktree at REV and
then this checkout, both run with this same environment so before and after are one run on one
machine, and for each format:
- **add**: a fresh data folder with the seeds, the pages added as `assistant add` adds them,
  timed per stage (reading the files, chunking, the dense pass, the sparse pass and writing);
- **answers**: `assistant eval --json` on the questions (default model), their gold pages named
  as the source ids the pages got; accuracy by kind of evidence (inline markup, code, list,
  table), refusals of the unanswerable ones, hit@4.

The PDFs are the pages printed by headless Chromium (`--print-to-pdf`), the Word files the pages
converted by html-for-docx; both are made here, into data/cache/, never committed. Writes
bench/results/handbook_answers-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
QUESTIONS = [ROOT / "bench" / "handbook_questions.jsonl", ROOT / "bench" / "handbook_answers.jsonl"]
DOCX_SECTIONS = "hb-sect-quotas,hb-sect-dhcp,hb-sect-syslog,hb-sect-ldap-directory"
CACHE = ROOT / "data" / "cache" / "handbook-pages"
LANGUAGES = ("en-US", "fr-FR", "vi-VN")
FORMATS = ("html", "pdf", "docx")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def page_name(gold: str) -> str:
    """`sect.dhcp` for the gold name `hb-sect-dhcp`."""
    rest = gold.removeprefix("hb-")
    kind, _, name = rest.partition("-")
    return f"{kind}.{name}"


def page_key(language: str, gold: str) -> str:
    """The file stem a page is added under: `hb-en-sect-dhcp`."""
    return f"hb-{language[:2]}-{gold.removeprefix('hb-')}"


def questions_in(paths: list[Path]) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in paths
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def about(questions: list[dict[str, Any]], sections: set[str]) -> list[dict[str, Any]]:
    """The questions whose gold page (or topic, for an unanswerable one) is among `sections`."""
    return [q for q in questions if ({*(q.get("gold") or []), q.get("topic")} & sections)]


def sections_of(questions: list[dict[str, Any]]) -> list[str]:
    """Every gold page of the questions and the pages the unanswerable ones are about."""
    names = {g for q in questions for g in q.get("gold") or []} | {
        q["topic"] for q in questions if q.get("topic")
    }
    return sorted(names)


def made_files(handbook: Path, sections: list[str], form: str) -> list[Path]:
    """The pages in `form`, one file per page and language, made once into the cache."""
    folder = CACHE / form
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for language in LANGUAGES:
        for gold in sections:
            page = handbook / language / f"{page_name(gold)}.html"
            target = folder / f"{page_key(language, gold)}.{form}"
            if not target.exists():
                _convert(page, target, form)
            files.append(target)
    return files


def _convert(page: Path, target: Path, form: str) -> None:
    if form == "html":
        shutil.copyfile(page, target)
    elif form == "pdf":  # printed where the page lives, so its stylesheet and images apply
        subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
             f"--print-to-pdf={target}", page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    else:
        try:
            from html4docx import HtmlToDocx
        except ImportError as exc:
            raise SystemExit('the Word files need html-for-docx: pip install -e ".[bench]"') from exc

        HtmlToDocx().parse_html_string(page.read_text(encoding="utf-8")).save(str(target))


def _environment(tree: Path, work: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(tree),
        "ASSISTANT_DATA_DIR": str(work / "data"),
        "ASSISTANT_SEEDS_DIR": str(work / "articles"),
    }


def added(tree: Path, files: list[Path], work: Path) -> dict[str, Any]:
    """The seeds and `files` added with `tree`'s code, in a process of its own; stage times."""
    seeds = work / "articles"
    seeds.mkdir(parents=True)
    for path in (tree / "seeds").iterdir():
        if path.is_file():
            shutil.copy2(path, seeds)
    code = (
        "import json, sys, time\n"
        "from pathlib import Path\n"
        "from assistant.documents import add_documents\n"
        "from assistant.settings import Settings\n"
        "from assistant.retrieval import build_index\n"
        "settings = Settings()\n"
        "build_index(settings, threads=settings.index_threads)\n"
        "started = time.perf_counter()\n"
        "report = add_documents(settings, [Path(p) for p in sys.argv[1:]])\n"
        "seconds = time.perf_counter() - started\n"
        "index = report.index\n"
        "if index is None: sys.exit('no page was added: ' + '; '.join(report.rejected))\n"
        "print(json.dumps({'seconds': seconds, 'added': len(report.added),\n"
        "    'rejected': report.rejected, 'chunks_embedded': index.chunks_embedded,\n"
        "    'stage_seconds': index.stage_seconds}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, files)],
        cwd=tree, env=_environment(tree, work), capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"adding the pages failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # Reading and writing the files, as one stage for every commit: what the indexer's stages
    # leave of the total, and the stages a newer `add` times itself.
    stages = result["stage_seconds"]
    files = result["seconds"] - sum(stages.values())
    files += stages.pop("reading the files", 0.0) + stages.pop("writing the files", 0.0)
    result["stage_seconds"] = {"reading and writing the files": files, **stages}
    result["chunks_per_second"] = result["chunks_embedded"] / result["seconds"]
    return result


def resolved(questions: list[dict[str, Any]], seeds: Path) -> list[dict[str, Any]]:
    """The questions with each gold page named by the source ids its versions were added under
    (a source id is the file stem cut to 40 characters, then the text's hash)."""
    stems = [p.stem for p in seeds.iterdir() if p.suffix in (".txt", ".md") and p.stem.startswith("hb-")]

    def ids(key: str) -> list[str]:
        return [stem for stem in stems if stem.rsplit("-", 1)[0] == key[:40].rstrip("-")]

    rows = []
    for question in questions:
        gold = [i for g in question.get("gold") or [] for lang in LANGUAGES for i in ids(page_key(lang, g))]
        if question.get("answerable", True) and not gold:
            raise RuntimeError(f"{question['id']}: none of its gold pages {question['gold']} was added")
        rows.append({**question, "gold": gold})
    return rows


def answered(tree: Path, questions: list[dict[str, Any]], work: Path) -> dict[str, Any]:
    """`assistant eval --json` with `tree`'s code; the verdict of each question from its log."""
    file = work / "questions.jsonl"
    file.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")
    code = "import sys\nfrom assistant.cli import main\nsys.argv[0] = 'assistant'\nsys.exit(main())\n"
    done = subprocess.run(
        [sys.executable, "-c", code, "eval", str(file), "--json"],
        cwd=tree, env=_environment(tree, work), capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"eval failed:\n{done.stderr[-3000:]}")
    return {
        "report": json.loads(done.stdout),
        "log": [line for line in done.stderr.splitlines() if ": " in line],
    }


def by_kind(questions: list[dict[str, Any]], report: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Accuracy per kind of evidence, and refusals of the unanswerable questions."""
    wrong, not_refused = set(report["wrong"]), set(report["not_refused"])
    counts: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for question in questions:
        kind = question.get("kind", "earlier" if question.get("answerable", True) else "unanswerable")
        counts[kind] += 1
        right[kind] += question["id"] not in (wrong | not_refused)
    return {
        kind: {"n": counts[kind], "right": round(right[kind] / counts[kind], 3)} for kind in sorted(counts)
    }


def worktree(rev: str) -> Path:
    folder = Path(tempfile.gettempdir()) / f"handbook-answers-{rev}"
    if not folder.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(folder), rev], cwd=ROOT, check=True)
    return folder


def main() -> int:
    from assistant.machine import describe_machine

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--formats", default="html,pdf")
    parser.add_argument("--before", metavar="REV", help="also measure this commit's code (a git worktree)")
    parser.add_argument("--questions", type=Path, nargs="+", default=QUESTIONS)
    parser.add_argument("--docx-sections", default=DOCX_SECTIONS, help="the pages also tried as Word files")
    parser.add_argument(
        "--handbook", type=Path, help="the handbook's html folder (default: found or fetched)"
    )
    parser.add_argument("--keep", type=Path, help="keep the data folders here")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "bench"))
    from scale import handbook_dir

    everything = questions_in(args.questions)
    trees = [("before", worktree(args.before))] if args.before else []
    trees.append(("after", ROOT))
    runs = []
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="handbook-answers-"))
    for label, tree in trees:
        for form in args.formats.split(","):
            if form == "docx" and label == "before" and ".docx" not in _accepted(tree):
                continue
            questions = (
                everything if form != "docx" else about(everything, set(args.docx_sections.split(",")))
            )
            files = made_files(handbook_dir(args.handbook), sections_of(questions), form)
            work = scratch / f"{label}-{form}"
            shutil.rmtree(work, ignore_errors=True)
            print(f"{label} {form}: adding {len(files)} pages", file=sys.stderr, flush=True)
            add = added(tree, files, work)
            print(f"{label} {form}: {add['seconds']:.0f} s; answering", file=sys.stderr, flush=True)
            started = time.perf_counter()
            answers = answered(tree, resolved(questions, work / "articles"), work)
            runs.append(
                {
                    "code": label,
                    "commit": _commit(tree),
                    "format": form,
                    "pages": len(files),
                    "add": add,
                    "eval_seconds": round(time.perf_counter() - started, 1),
                    "overall": answers["report"]["overall"],
                    "by_language": answers["report"]["by_language"],
                    "by_kind": by_kind(questions, answers["report"]),
                    "wrong": answers["report"]["wrong"],
                    "not_refused": answers["report"]["not_refused"],
                    "log": answers["log"],
                    # What each question got (a commit before replies were reported has none).
                    "replies": answers["report"].get("replies", {}),
                }
            )
            print(_row(runs[-1]), file=sys.stderr, flush=True)
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    result = {
        "questions": [str(path) for path in args.questions],
        "n_questions": len(everything),
        "runs": runs,
        "machine": describe_machine(),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"handbook_answers-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print("\n".join(_row(run) for run in runs))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


def _commit(tree: Path) -> str:
    """The commit the tree is at, "+changes" when its code (not its benches or docs) differs."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "assistant", "vectorstore", "prompts"],
        cwd=tree,
        capture_output=True,
    )
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def _accepted(tree: Path) -> str:
    """The import suffixes `tree`'s code accepts, as its source names them."""
    return (tree / "vectorstore" / "importing.py").read_text(encoding="utf-8")


def _row(run: dict[str, Any]) -> str:
    o, add = run["overall"], run["add"]
    kinds = " ".join(f"{k} {v['right']:.2f}/{v['n']}" for k, v in run["by_kind"].items())
    return (
        f"{run['code']:6} {run['format']:4} {run['pages']:2} pages accuracy {o['answer_accuracy']:.2f} hit@4 {o['hit@4']:.2f} "
        f"refused unans. {o['refusal_rate_unanswerable']:.2f} false refusals {o['false_refusal_rate']:.2f} "
        f"| add {add['seconds']:.0f} s, {add['chunks_embedded']} chunks, {add['chunks_per_second']:.1f}/s | {kinds}"
    )


if __name__ == "__main__":
    sys.exit(main())
