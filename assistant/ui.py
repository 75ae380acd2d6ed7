"""The Gradio chat: streamed answers, citation links, a Sources block per answer, feedback.

A thin face over `AnswerChain.stream`: tokens go to the chat text, the final `Answer` to the
Sources block (kotaemon's two channels). Sources and notices are messages with metadata, and
`history_for_chain` leaves them out, so the model never sees them as things it said.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.chain import AnswerChain
from assistant.documents import add_documents
from assistant.feedback import record_feedback
from assistant.language import LANGUAGES
from assistant.llm import describe_generator
from assistant.rendering import (
    cited_passages,
    closest_markdown,
    error_markdown,
    escape_markdown,
    history_for_chain,
    linked_answer,
    message_text,
    plain_answer,
    quotes_markdown,
    sources_markdown,
    sources_title,
)
from assistant.service import ANSWER_ERRORS
from assistant.settings import Settings
from vectorstore.loading import InputError
from vectorstore.store import StoreError

log = logging.getLogger(__name__)

API_NAME = "chat"
EXAMPLES = [
    "How many observer states does IOM have?",
    "How many migrants are there in the Greater Mekong Sub-region?",
    "Quand a eu lieu la visite d'étude à Bangkok organisée par l'OIM ?",
    "Combien d'États membres compte l'OIM ?",
    "Có khoảng bao nhiêu người di cư trong tiểu vùng sông Mê Kông mở rộng?",
    "Hội nghị về Thỏa thuận toàn cầu về di cư ở Hà Nội diễn ra vào ngày nào?",
]
_STATUS = {
    "condensing the follow-up question": "Reading the conversation…",
    "generating": "Writing the answer…",
}


def notice(title: str, text: str = "", pending: bool = False) -> gr.ChatMessage:
    """A message the user sees but the model does not (it has metadata); `pending` shows a spinner."""
    metadata: dict[str, Any] = {"title": title, "status": "pending"} if pending else {"title": title}
    return gr.ChatMessage(role="assistant", content=text, metadata=metadata)


def error(message: str, hint: str) -> gr.ChatMessage:
    return gr.ChatMessage(role="assistant", content=error_markdown(message, hint))


class ChatHandlers:
    """The functions Gradio calls, bound to one chain and its settings."""

    def __init__(self, settings: Settings, chain: AnswerChain) -> None:
        self.settings = settings
        self.chain = chain

    def respond(
        self, message: str, history: list[dict[str, Any]], top_k: float | None = None
    ) -> Iterator[list[gr.ChatMessage]]:
        yield [notice("Searching the articles…", pending=True)]
        try:
            text = ""
            evidence: gr.ChatMessage | None = None
            for event in self.chain.stream(message, history_for_chain(history), int(top_k or 0) or None):
                if event.kind == "status":
                    yield [notice(_STATUS.get(event.text, event.text), pending=True)]
                elif event.kind == "evidence":  # shown at once, before any answer is written
                    evidence = notice("Reading these sentences…", quotes_markdown(event.quotes), pending=True)
                    yield [evidence]
                elif event.kind == "token":
                    text += event.text
                    yield [*([evidence] if evidence else []), gr.ChatMessage(role="assistant", content=text)]
                elif event.answer is not None:
                    answer = event.answer
                    shown = [gr.ChatMessage(role="assistant", content=linked_answer(answer))]
                    closest = closest_markdown(answer)
                    if closest:
                        label = LANGUAGES.get(answer.language, LANGUAGES["en"]).closest
                        shown.append(notice(label, closest))
                    if answer.citations:
                        seconds = answer.timings_ms.get("total", 0.0) / 1000
                        shown.append(
                            gr.ChatMessage(
                                role="assistant",
                                content=sources_markdown(answer.citations),
                                metadata={
                                    "title": sources_title(answer),
                                    "status": "done",
                                    "log": f"{answer.generator} · {seconds:.1f} s",
                                },
                            )
                        )
                    yield shown
        except ANSWER_ERRORS as exc:
            yield [error(str(exc), "Nothing was lost: the conversation goes on when you ask again.")]
        except Exception:
            log.exception("answering %r failed", message[:200])
            yield [
                error(
                    "something went wrong on our side.",
                    "The details are in the server log; please ask again.",
                )
            ]

    def add_documents(self, files: list[str] | None) -> str:
        """The upload: judge, add and index the files; a plain report either way."""
        if not files:
            return ""
        try:
            report = add_documents(self.settings, [Path(f) for f in files])
        except (InputError, StoreError) as exc:
            return error_markdown(str(exc), "Nothing was changed.")
        except Exception:
            log.exception("adding %d documents failed", len(files))
            return error_markdown("something went wrong while indexing.", "Nothing was changed.")
        return "\n".join(f"- {escape_markdown(line)}" for line in report.lines())

    def feedback(self, vote: gr.LikeData, messages: list[dict[str, Any]]) -> None:
        """Store a thumbs up/down with the question, the answer and the passages it cites."""
        index = vote.index[0] if isinstance(vote.index, list | tuple) else vote.index
        answer_at = next(
            (
                i
                for i in range(int(index), -1, -1)
                if messages[i]["role"] == "assistant" and not messages[i].get("metadata")
            ),
            None,
        )
        if answer_at is None:
            return
        question = next(
            (message_text(m["content"]) for m in reversed(messages[:answer_at]) if m["role"] == "user"), ""
        )
        answer = message_text(messages[answer_at]["content"])
        liked = vote.liked is True or vote.liked == "Like"
        record_feedback(
            self.settings.feedback_file,
            liked=liked,
            question=question,
            answer=plain_answer(answer),
            sources=cited_passages(answer),
        )
        gr.Info("Thanks, your feedback was saved." if liked else "Thanks, noted: we'll look at this answer.")


def build_ui(settings: Settings, chain: AnswerChain) -> gr.Blocks:
    handlers = ChatHandlers(settings, chain)
    with gr.Blocks(title="Articles assistant", fill_height=True) as app:
        gr.Markdown(
            "## Ask the articles\n"
            "Questions in English, French or Vietnamese about IOM and migration governance in Viet Nam. "
            "Every answer cites its passages: click a [1] to read it in its article."
        )
        with gr.Accordion("Settings", open=False, elem_id="settings"):
            gr.Markdown(f"**Model in use:** {describe_generator(settings)}", elem_id="model-in-use")
            top_k = gr.Slider(1, 10, value=settings.top_k, step=1, label="Passages to retrieve (top-k)")
        with gr.Accordion("Add documents", open=False, elem_id="documents"):
            upload = gr.File(
                label=f"Add .txt, .md, .html or .pdf files (up to {settings.max_file_mb:g} MB each)",
                file_count="multiple",
                file_types=list(settings.allowed_types),
                elem_id="upload",
            )
            upload_report = gr.Markdown(elem_id="upload-report")
        chatbot = gr.Chatbot(
            elem_id="chat",
            label="Chat",
            feedback_options=("Like", "Dislike"),
            placeholder="Answers are drawn only from the articles, with their sources.",
            scale=1,
            buttons=["copy"],
            latex_delimiters=[],  # "$" in an article is money, not maths
        )
        gr.ChatInterface(
            fn=handlers.respond,
            chatbot=chatbot,
            textbox=gr.Textbox(
                placeholder="Ask a question…", elem_id="question", submit_btn=True, max_lines=6
            ),
            additional_inputs=[top_k],
            examples=[[q] for q in EXAMPLES],  # chips in the empty chat; top-k from the slider
            run_examples_on_click=True,
            cache_examples=False,
            api_name=API_NAME,
            concurrency_limit=1 if settings.generator == "local" else 8,
            autofocus=True,
        )
        upload.upload(
            handlers.add_documents,
            inputs=[upload],
            outputs=[upload_report],
            concurrency_limit=1,
            api_visibility="private",
        )
        chatbot.like(handlers.feedback, inputs=[chatbot], outputs=None, api_visibility="private")
    return app
