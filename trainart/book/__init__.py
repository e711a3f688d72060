"""Helpers that the book's chapters share: experiments too long for a notebook cell."""
