"""Answer generators: `local` (llama.cpp in-process), `openai` (any OpenAI-compatible endpoint)
and `extractive` (no LLM: the best source sentences, quoted)."""
