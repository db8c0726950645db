"""The pure core: documents, analysis, index, answers. Never imports discord or yaml."""
