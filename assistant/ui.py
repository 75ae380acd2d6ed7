"""The Gradio chat: a model picker, streamed answers, citation links, a Sources block per
answer naming the model that wrote it, feedback, and the saved conversations in a sidebar.

A thin face over `AnswerChain.stream`: tokens go to the chat text, the final `Answer` to the
Sources block (kotaemon's two channels). Sources and notices are messages with metadata, and
`history_for_chain` leaves them out, so the model never sees them as things it said. The model
chosen and the open conversation are kept per browser session (`gr.State`s sent with every
question); each answer is saved as a turn of that conversation, and an answer that cannot be saved
is still shown, with a notice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answer import Answer
from assistant.conversations import ConversationNotFound, ConversationStore, ConversationStoreError
from assistant.documents import add_documents
from assistant.feedback import record_feedback
from assistant.generators.catalogue import Listing
from assistant.rendering import (
    cited_passages,
    error_markdown,
    escape_markdown,
    history_for_chain,
    message_text,
    plain_answer,
    quotes_markdown,
)
from assistant.service import ANSWER_ERRORS, ModelChains
from assistant.settings import Settings
from assistant.sidebar import ConversationHandlers, answer_messages, notice, user_of
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


def error(message: str, hint: str) -> gr.ChatMessage:
    return gr.ChatMessage(role="assistant", content=error_markdown(message, hint))


def model_choices(listing: Listing) -> list[tuple[str, str]]:
    return [(entry.label, entry.id) for entry in listing.entries]


def endpoint_markdown(listing: Listing) -> str:
    """A line about the model server when it cannot be asked: shown, not an error page."""
    endpoint = listing.endpoint
    if endpoint is None or endpoint.reachable:
        return ""
    return f"⚠️ The model server at {escape_markdown(endpoint.url)} is not listed: {endpoint.detail}."


class ChatHandlers:
    """The functions Gradio calls, bound to the settings and the chains of every model."""

    def __init__(self, settings: Settings, models: ModelChains, store: ConversationStore) -> None:
        self.settings = settings
        self.models = models
        self.store = store

    def refresh_models(self, chosen: str | None) -> tuple[dict[str, Any], str]:
        """The picker's choices as the catalogue lists them now (a GGUF just dropped in the
        folder, what the endpoint serves), keeping this session's choice."""
        listing = self.models.listing()
        return gr.update(
            choices=model_choices(listing), value=chosen or listing.default_id
        ), endpoint_markdown(listing)

    def choose_model(self, model_id: str, previous: str | None) -> Iterator[tuple[Any, str, str]]:
        """Switch this session to `model_id`, loading it now with a status line; a model that
        cannot be used leaves the previous one in place, with a plain message."""
        previous = previous or self.models.default_id
        if not model_id or model_id == previous:  # Gradio re-fires `input` for the value set below
            yield gr.update(), previous, gr.update()
            return
        yield gr.update(interactive=False), previous, f"⏳ Loading **{escape_markdown(model_id)}**…"
        try:
            self.models.prepare(model_id)  # any failure comes as one of ANSWER_ERRORS
        except ANSWER_ERRORS as exc:
            message = (
                f"⚠️ **{escape_markdown(model_id)}** cannot be used: {escape_markdown(str(exc))}. "
                f"Still answering with **{escape_markdown(previous)}**."
            )
            yield gr.update(value=previous, interactive=True), previous, message
            return
        yield (
            gr.update(value=model_id, interactive=True),
            model_id,
            f"Answering with **{escape_markdown(model_id)}**.",
        )

    def respond(
        self,
        message: str,
        history: list[dict[str, Any]],
        top_k: float | None = None,
        model_id: str | None = None,
        conversation_id: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio passes it
    ) -> Iterator[tuple[list[gr.ChatMessage], str | None]]:
        """Chat messages as they change, with the conversation they are saved in."""
        yield [notice("Searching the articles…", pending=True)], conversation_id
        try:
            chain = self.models.chain(model_id)
            text = ""
            evidence: gr.ChatMessage | None = None
            for event in chain.stream(message, history_for_chain(history), int(top_k or 0) or None):
                if event.kind == "status":
                    yield [notice(_STATUS.get(event.text, event.text), pending=True)], conversation_id
                elif event.kind == "evidence":  # shown at once, before any answer is written
                    evidence = notice("Reading these sentences…", quotes_markdown(event.quotes), pending=True)
                    yield [evidence], conversation_id
                elif event.kind == "token":
                    text += event.text
                    draft = gr.ChatMessage(role="assistant", content=text)
                    yield [*([evidence] if evidence else []), draft], conversation_id
                elif event.answer is not None:
                    shown = answer_messages(event.answer)
                    yield shown, conversation_id  # on screen before it is saved
                    conversation_id, unsaved = self._save(conversation_id, event.answer, user_of(request))
                    yield [*shown, *unsaved], conversation_id
        except ANSWER_ERRORS as exc:
            hint = "Nothing was lost: the conversation goes on when you ask again."
            yield [error(str(exc), hint)], conversation_id
        except Exception:
            log.exception("answering %r failed", message[:200])
            hint = "The details are in the server log; please ask again."
            yield [error("something went wrong on our side.", hint)], conversation_id

    def _save(
        self, conversation_id: str | None, answer: Answer, owner: str
    ) -> tuple[str | None, list[gr.ChatMessage]]:
        """Record the turn (a new conversation for a first question); when it cannot be saved,
        the answer stays on screen with a notice saying so."""
        try:
            conversation_id = self.store.record(conversation_id, owner, answer)
        except (ConversationStoreError, ConversationNotFound) as exc:
            log.warning("not saved: %s", exc)
            return conversation_id, [notice("Not saved", escape_markdown(str(exc)))]
        return conversation_id, []

    def add_documents(self, files: list[str] | None, progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008
        """The upload: judge, add and index the files, with a progress bar; a plain report
        either way. Indexing uses one core (ASSISTANT_EMBED_THREADS): the chat keeps answering."""
        if not files:
            return ""

        def step(stage: str, done: int, total: int) -> None:
            progress((done, total), desc=f"Indexing: {stage}", unit="chunks")

        try:
            report = add_documents(self.settings, [Path(f) for f in files], steps=step)
        except (InputError, StoreError) as exc:
            return error_markdown(str(exc), "Nothing was changed.")
        except Exception:
            log.exception("adding %d documents failed", len(files))
            return error_markdown("something went wrong while indexing.", "Nothing was changed.")
        return "\n".join(f"- {escape_markdown(line)}" for line in report.lines())

    def feedback(
        self,
        vote: gr.LikeData,
        messages: list[dict[str, Any]],
        conversation_id: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> None:
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
        if conversation_id:  # and with the saved turn
            try:
                self.store.set_feedback(
                    conversation_id, user_of(request), question, plain_answer(answer), liked
                )
            except (ConversationStoreError, ConversationNotFound) as exc:
                log.warning("feedback not saved with the turn: %s", exc)
        gr.Info("Thanks, your feedback was saved." if liked else "Thanks, noted: we'll look at this answer.")


def build_ui(settings: Settings, models: ModelChains, store: ConversationStore | None = None) -> gr.Blocks:
    store = store or ConversationStore(settings.conversations_file)
    handlers = ChatHandlers(settings, models, store)
    saved = ConversationHandlers(store)
    listing = models.listing()
    with gr.Blocks(title="Articles assistant", fill_height=True) as app:
        conversation = gr.State(None)
        with gr.Sidebar(open=True, elem_id="sidebar"):
            new_chat = gr.Button("+ New conversation", elem_id="new-conversation", size="sm")
            conversations = gr.Radio(choices=[], label="Conversations", elem_id="conversations")
            store_status = gr.Markdown(elem_id="store-status")
            with gr.Accordion("This conversation", open=False, elem_id="conversation-tools"):
                title = gr.Textbox(label="Title", elem_id="conversation-title", max_lines=1)
                with gr.Row():
                    rename = gr.Button("Rename", elem_id="rename-conversation", size="sm")
                    delete = gr.Button("Delete", elem_id="delete-conversation", size="sm", variant="stop")
                with gr.Row():
                    export_md = gr.Button("Export .md", elem_id="export-md", size="sm")
                    export_json = gr.Button("Export .json", elem_id="export-json", size="sm")
                exported = gr.File(label="Download", elem_id="export-file", interactive=False)
        gr.Markdown(
            "## Ask the articles\n"
            "Questions in English, French or Vietnamese about IOM and migration governance in Viet Nam. "
            "Every answer cites its passages: click a [1] to read it in its article."
        )
        chosen = gr.State(models.default_id)
        with gr.Row():
            picker = gr.Dropdown(
                choices=model_choices(listing),
                value=models.default_id,
                label="Model",
                info="Local GGUF files, the models your server offers, or no LLM at all.",
                elem_id="model",
                scale=6,
            )
            refresh = gr.Button(
                "↻ Refresh", elem_id="refresh-models", size="sm", variant="secondary", scale=0, min_width=100
            )
        model_status = gr.Markdown(endpoint_markdown(listing), elem_id="model-status")
        with gr.Accordion("Settings", open=False, elem_id="settings"):
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
        chat = gr.ChatInterface(
            fn=handlers.respond,
            chatbot=chatbot,
            textbox=gr.Textbox(
                placeholder="Ask a question…", elem_id="question", submit_btn=True, max_lines=6
            ),
            additional_inputs=[top_k, chosen, conversation],
            additional_outputs=[conversation],
            examples=[[q] for q in EXAMPLES],  # chips in the empty chat; top-k from the slider
            run_examples_on_click=True,
            cache_examples=False,
            api_name=API_NAME,
            concurrency_limit=1 if settings.generator == "local" else 8,
            autofocus=True,
        )
        picker.input(
            handlers.choose_model,
            inputs=[picker, chosen],
            outputs=[picker, chosen, model_status],
            api_visibility="private",
        )
        refresh.click(
            handlers.refresh_models, inputs=[chosen], outputs=[picker, model_status], api_visibility="private"
        )
        app.load(
            handlers.refresh_models, inputs=[chosen], outputs=[picker, model_status], api_visibility="private"
        )
        upload.upload(
            handlers.add_documents,
            inputs=[upload],
            outputs=[upload_report],
            concurrency_limit=1,
            api_visibility="private",
        )
        chatbot.like(
            handlers.feedback, inputs=[chatbot, conversation], outputs=None, api_visibility="private"
        )

        def synced(event: Any) -> Any:
            """ChatInterface answers from its own copy of the chat: keep it in step."""
            return event.then(lambda messages: messages, [chatbot], [chat.chatbot_state], queue=False)

        private: dict[str, Any] = {"api_visibility": "private"}
        listed = {
            "fn": saved.listing,
            "inputs": [conversation],
            "outputs": [conversations, store_status],
            **private,
        }
        app.load(**listed)
        conversation.change(**listed)  # a first answer saved a new conversation
        synced(conversations.input(saved.open, [conversations], [conversation, chatbot, title], **private))
        synced(
            new_chat.click(
                lambda: (None, [], None, ""), None, [conversation, chatbot, conversations, title], **private
            )
        )
        rename.click(saved.rename, [conversation, title], [store_status], **private).then(**listed)
        synced(
            delete.click(saved.delete, [conversation], [conversation, chatbot, store_status], **private)
        ).then(**listed)
        export_md.click(saved.export_markdown, [conversation], [exported, store_status], **private)
        export_json.click(saved.export_json, [conversation], [exported, store_status], **private)
    # Gradio keeps each session's state in memory (10,000 sessions by default); the store keeps
    # the conversations, so a bounded number of live sessions is enough.
    app.state_session_capacity = settings.session_capacity
    return app
