"""The question log: recording what the knowledge base was asked, follow-ups and ratings."""
