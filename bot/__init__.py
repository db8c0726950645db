"""quotebot: answers questions only with verbatim, labelled quotes from curated documents."""

__version__ = "0.1.0"
