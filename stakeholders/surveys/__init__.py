"""The survey engine: drafting, launching, answering by single-use link, reminding, closing."""
