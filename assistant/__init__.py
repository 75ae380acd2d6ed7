"""The assistant: grounded, cited answers about a collection of articles (see README)."""
