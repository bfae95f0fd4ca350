"""Texts for the dataset-job tests."""

TEXTS = ["the movie was great", "a terrible film", "it was fine", "not good at all", "great great great", "bad"]
