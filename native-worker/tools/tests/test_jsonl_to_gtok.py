import json

import pytest

from example_encoding import DatasetTokenizer, alpaca_prompt
from gtok import read_gtok
from jsonl_to_gtok import main


def write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return str(path)


def run(tmp_path, tokenizer, rows, *extra):
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    out = str(tmp_path / "out.gtok")
    return main(["--tokenizer", tokenizer, *extra, src, out]), out


def test_prompt_is_masked_and_completion_plus_eos_is_target(tmp_path, tokenizer_dir):
    tok = DatasetTokenizer(tokenizer_dir)
    code, out = run(tmp_path, tokenizer_dir, [{"prompt": "hello world", "completion": " fine thanks"}])
    assert code == 0
    [example] = read_gtok(out)
    prompt = tok.start_ids + tok.encode("hello world")
    completion = tok.encode(" fine thanks") + [tok.eos_id]
    assert example.tokens.tolist() == prompt + completion
    assert example.mask.tolist() == [0] * len(prompt) + [1] * len(completion)


def test_instruction_uses_the_alpaca_prompt_with_and_without_input(tmp_path, tokenizer_dir):
    tok = DatasetTokenizer(tokenizer_dir)
    rows = [{"instruction": "say hi", "output": "hi"}, {"instruction": "add", "input": "1 2", "output": "3"}]
    code, out = run(tmp_path, tokenizer_dir, rows)
    assert code == 0
    for example, (instruction, text_input, output) in zip(read_gtok(out), [("say hi", None, "hi"), ("add", "1 2", "3")]):
        n_prompt = len(tok.start_ids + tok.encode(alpaca_prompt(instruction, text_input)))
        assert tok.hf.decode(example.tokens[1:n_prompt].tolist()) == alpaca_prompt(instruction, text_input)
        assert example.mask.tolist() == [0] * n_prompt + [1] * (len(example.tokens) - n_prompt)
        assert tok.hf.decode(example.tokens[n_prompt:-1].tolist()) == output


def test_text_makes_every_token_after_the_first_a_target(tmp_path, tokenizer_dir):
    code, out = run(tmp_path, tokenizer_dir, [{"text": "the lazy dog"}])
    assert code == 0
    [example] = read_gtok(out)
    assert example.mask.tolist() == [0] + [1] * (len(example.tokens) - 1)


def test_chat_template_targets_are_assistant_contents_and_end_of_turn(tmp_path, tokenizer_dir):
    tok = DatasetTokenizer(tokenizer_dir)
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"},
                {"role": "assistant", "content": "hi there"}, {"role": "user", "content": "how are you?"},
                {"role": "assistant", "content": "fine"}]
    code, out = run(tmp_path, tokenizer_dir, [{"messages": messages}])
    assert code == 0
    [example] = read_gtok(out)
    ids, mask = example.tokens.tolist(), example.mask.tolist()
    spans, current = [], []
    for i, m in zip(ids, mask):
        if m:
            current.append(i)
        elif current:
            spans.append(current)
            current = []
    spans.append(current)
    assert [tok.hf.decode(s) for s in spans] == ["hi there<|eot|>", "fine<|eot|>"]
    assert tok.hf.decode(ids) == tok.render_chat(messages).rstrip("\n")


def test_messages_without_a_chat_template_use_the_plain_layout(tmp_path, plain_tokenizer_json):
    tok = DatasetTokenizer(plain_tokenizer_json)
    messages = [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}]
    code, out = run(tmp_path, plain_tokenizer_json, [{"messages": messages}])
    assert code == 0
    [example] = read_gtok(out)
    ids = example.tokens.tolist()
    assert tok.hf.decode(ids) == "<s>### User:\nhello\n\n### Assistant:\nhi</s>"
    targets = [i for i, m in zip(ids, example.mask.tolist()) if m]
    assert targets == tok.encode("hi") + [tok.eos_id]


def test_bad_lines_are_each_reported_and_nothing_is_written(tmp_path, tokenizer_dir, capsys):
    rows = [{"prompt": "a", "completion": "b"}, "{not json", {"prompt": "a", "completion": "  "},
            {"text": "mixed format"}, {"messages": [{"role": "bot", "content": "x"}]}, {"foo": 1}]
    code, out = run(tmp_path, tokenizer_dir, rows)
    err = capsys.readouterr().err
    assert code == 1
    assert not (tmp_path / "out.gtok").exists()
    assert "in.jsonl:2: invalid JSON" in err
    assert 'in.jsonl:3: field "completion" must not be empty' in err
    assert 'in.jsonl:4: format "text" differs from the file\'s format "prompt_completion" (set by line 1)' in err
    assert 'in.jsonl:5: field "messages[0].role" must be one of' in err
    assert 'in.jsonl:6: unknown format (keys "foo")' in err
    assert "5 bad line(s)" in err


def test_explicit_format_refuses_other_formats(tmp_path, tokenizer_dir, capsys):
    code, _ = run(tmp_path, tokenizer_dir, [{"text": "abc"}], "--format", "instruction")
    assert code == 1
    assert 'format "text" differs from the file\'s format "instruction" (given by --format)' in capsys.readouterr().err


def test_overlong_examples_are_refused_unless_truncated(tmp_path, tokenizer_dir, capsys):
    rows = [{"prompt": "hello", "completion": " the quick brown fox jumps over the lazy dog"}]
    code, _ = run(tmp_path, tokenizer_dir, rows, "--max-seq-len", "6")
    assert code == 1
    assert "over --max-seq-len 6" in capsys.readouterr().err
    code, out = run(tmp_path, tokenizer_dir, rows, "--max-seq-len", "6", "--truncate")
    assert code == 0
    [example] = read_gtok(out)
    assert len(example.tokens) == 6 and example.mask[-1] == 1


def test_truncation_that_leaves_no_target_is_refused(tmp_path, tokenizer_dir, capsys):
    rows = [{"prompt": "the quick brown fox jumps over the lazy dog", "completion": " hi"}]
    code, _ = run(tmp_path, tokenizer_dir, rows, "--max-seq-len", "3", "--truncate")
    assert code == 1
    assert "no target token is left in the first 3 tokens" in capsys.readouterr().err


def test_empty_file_and_missing_tokenizer_are_named(tmp_path, tokenizer_dir, capsys):
    code, _ = run(tmp_path, tokenizer_dir, [])
    assert code == 1
    assert "in.jsonl:0: empty file: no examples" in capsys.readouterr().err
    code, _ = run(tmp_path, str(tmp_path / "nope"), [{"text": "x"}])
    assert code == 2
    assert "no such tokenizer" in capsys.readouterr().err


def test_a_bare_tokenizer_json_without_its_config_is_refused(tmp_path, plain_tokenizer_json, capsys):
    bare = tmp_path / "tokenizer.json"
    bare.write_bytes(open(plain_tokenizer_json, "rb").read())
    code, _ = run(tmp_path, str(bare), [{"text": "x"}])
    assert code == 2
    assert "names no eos_token" in capsys.readouterr().err
