"""Where attention is extracted: tokenising examples and running models in batches."""
