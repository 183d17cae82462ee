from data_order import micro_batch, step_examples


def test_micro_batches_continue_through_the_file_and_wrap_to_the_start():
    assert [micro_batch(i, 2, 5) for i in range(4)] == [[0, 1], [2, 3], [4, 0], [1, 2]]


def test_a_step_takes_grad_accum_consecutive_micro_batches():
    assert step_examples(0, 3, 2, 7) == [0, 1, 2, 3, 4, 5]
    assert step_examples(1, 3, 2, 7) == [6, 0, 1, 2, 3, 4]


def test_a_micro_batch_larger_than_the_file_repeats_examples():
    assert micro_batch(0, 5, 2) == [0, 1, 0, 1, 0]
