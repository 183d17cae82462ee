"""Makes a Grove token file (.gtok) from a JSONL dataset, for tests and demos (the control plane's validation stage
writes the real ones, with the same encoding rules).

    jsonl_to_gtok.py --tokenizer DIR|tokenizer.json [--format auto|prompt_completion|instruction|messages|text]
                     IN.jsonl OUT.gtok [--max-seq-len N [--truncate]]

Prompt tokens get loss mask 0, completion tokens 1. Every bad line is reported as `IN.jsonl:LINE: reason`; if any
line is bad nothing is written and the exit status is 1 (2 for unusable arguments, tokenizer or input file).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_encoding import (  # noqa: E402
    DatasetTokenizer,
    EncodingError,
    TokenizerError,
    apply_length,
    encode_segments,
    example_segments,
)
from gtok import TokenFileError, write_gtok  # noqa: E402
from jsonl_examples import FORMATS, BadLine, read_jsonl  # noqa: E402

MAX_REPORTED = 50


def convert(tokenizer: DatasetTokenizer, path: str, fmt: str, max_seq_len, truncate: bool):
    """(examples, errors) where errors are 'path:line: reason' strings."""
    examples, errors = [], []
    for item in read_jsonl(path, fmt):
        if isinstance(item, BadLine):
            errors.append(f"{path}:{item.line}: {item.reason}")
            continue
        try:
            ids, mask = encode_segments(tokenizer, example_segments(tokenizer, item.format, item.fields))
            examples.append(apply_length(ids, mask, max_seq_len, truncate))
        except EncodingError as e:
            errors.append(f"{path}:{item.line}: {e}")
    return examples, errors


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokenizer", required=True, help="tokenizer folder or tokenizer.json")
    parser.add_argument("--format", default="auto", choices=("auto",) + FORMATS)
    parser.add_argument("--max-seq-len", type=int, default=None)
    parser.add_argument("--truncate", action="store_true", help="cut overlong examples instead of refusing them")
    parser.add_argument("input")
    parser.add_argument("output")
    args = parser.parse_args(argv)
    if args.max_seq_len is not None and args.max_seq_len < 2:
        parser.error("--max-seq-len must be at least 2")
    if args.truncate and args.max_seq_len is None:
        parser.error("--truncate needs --max-seq-len")
    try:
        tokenizer = DatasetTokenizer(args.tokenizer)
        examples, errors = convert(tokenizer, args.input, args.format, args.max_seq_len, args.truncate)
    except (TokenizerError, OSError, UnicodeDecodeError) as e:
        print(f"jsonl_to_gtok: {e}", file=sys.stderr)
        return 2
    if errors:
        for line in errors[:MAX_REPORTED]:
            print(line, file=sys.stderr)
        more = f" (first {MAX_REPORTED} shown)" if len(errors) > MAX_REPORTED else ""
        print(f"jsonl_to_gtok: {len(errors)} bad line(s){more}; {args.output} not written", file=sys.stderr)
        return 1
    try:
        write_gtok(args.output, examples)
    except (TokenFileError, OSError) as e:
        print(f"jsonl_to_gtok: {e}", file=sys.stderr)
        return 2
    n_tokens = sum(len(ids) for ids, _ in examples)
    n_targets = sum(sum(mask) for _, mask in examples)
    print(f"{args.output}: {len(examples)} examples, {n_tokens} tokens, {n_targets} targets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
