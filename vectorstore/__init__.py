"""Articles → cleaned Documents → sentence-packed chunks → multilingual embeddings → Chroma → retriever.

Nothing here imports `assistant`: the data flows one way, and these modules receive plain values.
"""
