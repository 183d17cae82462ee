import numpy as np
import pytest

from gtok import TokenFileError, read_gtok, write_gtok


def test_round_trip_keeps_tokens_masks_and_boundaries(tmp_path):
    path = str(tmp_path / "d.gtok")
    examples = [([5, 6, 7], [0, 1, 1]), ([1, 70000, 3, 4, 9], [0, 0, 1, 0, 1])]
    write_gtok(path, examples)
    back = read_gtok(path)
    assert [e.tokens.tolist() for e in back] == [t for t, _ in examples]
    assert [e.mask.tolist() for e in back] == [m for _, m in examples]
    assert (tmp_path / "d.gtok").stat().st_size == 32 + 8 * 3 + 5 * 8


def test_layout_matches_the_documented_header(tmp_path):
    path = tmp_path / "d.gtok"
    write_gtok(str(path), [([1, 2], [0, 1])])
    data = path.read_bytes()
    assert data[:8] == b"GROVETOK"
    assert np.frombuffer(data[8:32], dtype="<u4").tolist() == [1, 0, 1, 0, 2, 0]


def test_truncated_file_is_refused_with_its_sizes(tmp_path):
    path = tmp_path / "d.gtok"
    write_gtok(str(path), [([1, 2, 3], [0, 1, 1])])
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(TokenFileError, match="size"):
        read_gtok(str(path))


def test_bad_magic_is_refused(tmp_path):
    path = tmp_path / "d.gtok"
    write_gtok(str(path), [([1, 2, 3], [0, 1, 1])])
    path.write_bytes(b"NOTATOKF" + path.read_bytes()[8:])
    with pytest.raises(TokenFileError, match="magic"):
        read_gtok(str(path))


@pytest.mark.parametrize("example, problem", [
    (([1], [0]), "at least 2 tokens"),
    (([1, 2], [1, 0]), "no target"),
    (([1, 2], [0, 2]), "0 or 1"),
    (([1, 2], [0]), "mask values"),
])
def test_invalid_examples_are_not_written(tmp_path, example, problem):
    path = tmp_path / "d.gtok"
    with pytest.raises(TokenFileError, match=problem):
        write_gtok(str(path), [example])
    assert not path.exists()
