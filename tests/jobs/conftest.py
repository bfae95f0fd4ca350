"""The explainer of a tiny random text classifier, shared by the dataset-job tests."""

import pytest
import torch
import transformers

from limelight import TextExplainer
from tests.text.tiny_tokenizers import wordpiece_tokenizer


@pytest.fixture(scope="module")
def explainer():
    tokenizer = wordpiece_tokenizer()
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
        num_labels=2,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = transformers.BertForSequenceClassification(config).eval()
    return TextExplainer(model, tokenizer, n_steps=8)
