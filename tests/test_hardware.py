import keras
import numpy as np

from numvision_lib.hardware import choose_precision, configure_hardware, cpu_has_bfloat16_matrix_units, set_seeds


def test_cpu_machine_gets_float32_and_cpu_batch():
    summary = configure_hardware(seed=7)
    try:
        if not summary.gpus:
            expected = "mixed_bfloat16" if cpu_has_bfloat16_matrix_units() else "float32"
            assert summary.precision_policy == expected and "no GPU" in summary.precision_reason
            assert summary.batch_size == 128 and summary.device == "CPU"
        assert keras.mixed_precision.global_policy().name == summary.precision_policy
        text = str(summary)
        assert f"TensorFlow {summary.tensorflow_version}" in text and "Seed: 7" in text
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_mixed_precision_only_on_gpus_with_tensor_cores_or_bfloat16_cpus():
    assert choose_precision([])[0] == "float32"
    assert choose_precision([], cpu_has_bfloat16_matrix_units=True)[0] == "mixed_bfloat16"
    assert choose_precision([(8, 6)], cpu_has_bfloat16_matrix_units=True)[0] == "mixed_float16", "a good GPU wins"
    assert choose_precision([(8, 6)]) == ("mixed_float16", "GPU compute capability 8.6 has tensor cores")
    policy, reason = choose_precision([(6, 1)])
    assert policy == "float32" and "no tensor cores" in reason
    assert choose_precision([(8, 0), (6, 0)])[0] == "float32", "one old GPU in the set rules it out"
    assert choose_precision([None])[0] == "float32"


def test_seeds_make_random_numbers_repeat():
    set_seeds(3)
    first = np.random.random(3), keras.random.uniform((3,)).numpy()
    set_seeds(3)
    second = np.random.random(3), keras.random.uniform((3,)).numpy()
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
