"""``limelight explain-generation``: which words of a prompt produced a causal LM's answer.

``limelight explain-generation "The capital of France is" --target " Paris" --html out.html``
explains the target (or, without ``--target``, the greedy continuation) with the demo LLM
(SmolLM2-135M-Instruct) or the model folder given with ``--model``; it prints the prompt coloured
by the sequence scores and each generated token's top features, or the explanation as JSON with
``--json``. ``--chat`` sends the prompt as one user message through the chat template.
"""

from __future__ import annotations

import argparse
from typing import Any

from limelight.cli.args import check_writable
from limelight.demo.llm import demo_llm
from limelight.generation import FEATURE_KINDS, METHODS, QUANTITIES, GenerationExplainer
from limelight.viz.generation import render_generation_terminal, save_generation_html


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``explain-generation`` to an ``argparse`` subparsers object and return its parser."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "explain-generation", help="explain what a causal language model generates from a prompt"
    )
    parser.add_argument("prompt", help="the prompt text")
    parser.add_argument("--target", help="the continuation to explain (teacher-forced); default: the greedy continuation")
    parser.add_argument("--contrast", help="explain the target rather than this alternative continuation")
    parser.add_argument("--model", metavar="DIR", help="a local Hugging Face causal LM folder; default: the demo LLM")
    parser.add_argument(
        "--method", default="integrated_gradients", choices=METHODS, help="attribution method (default: integrated_gradients)"
    )
    parser.add_argument("--features", default="words", choices=FEATURE_KINDS, help="prompt features (default: words)")
    parser.add_argument(
        "--quantity", default="log_probability", choices=QUANTITIES, help="what is explained per token (default: log_probability)"
    )
    parser.add_argument("--chat", action="store_true", help="send the prompt as a user message through the chat template")
    parser.add_argument("--max-new-tokens", type=int, default=20, help="tokens to generate without --target (default: 20)")
    parser.add_argument("--html", metavar="FILE", help="write the interactive matrix view to FILE")
    parser.add_argument("--json", action="store_true", help="print the explanation as JSON")
    parser.set_defaults(run=run)
    return parser


def run(arguments: argparse.Namespace, model: Any = None, tokenizer: Any = None) -> int:
    """Run ``explain-generation`` for parsed arguments (``model`` and ``tokenizer`` override the demo LLM and ``--model``)."""
    if arguments.html:
        check_writable(arguments.html, "--html")
    if model is None:
        model, tokenizer = (arguments.model, None) if arguments.model else demo_llm()
    explainer = GenerationExplainer(model, tokenizer, method=arguments.method, features=arguments.features, quantity=arguments.quantity)
    prompt: Any = [{"role": "user", "content": arguments.prompt}] if arguments.chat else arguments.prompt
    result = explainer.explain(prompt, arguments.target, contrast=arguments.contrast, max_new_tokens=arguments.max_new_tokens)
    [explanation] = result if isinstance(result, list) else [result]
    if arguments.json:
        print(explanation.to_json(indent=2))
    else:
        print(render_generation_terminal(explanation), end="")
    if arguments.html:
        save_generation_html(arguments.html, explanation)
        print(f"wrote {arguments.html}")
    return 0
