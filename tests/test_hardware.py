import json
import re
import subprocess
import sys

import keras
import numpy as np
import pytest

from numvision_lib.hardware import (
    PRECISIONS,
    HardwareSummary,
    TrainingSpeed,
    choose_precision,
    cluster_workers,
    configure_hardware,
    cpu_has_bfloat16_instructions,
    cpu_has_bfloat16_matrix_units,
    emulated_precision,
    measured_bfloat16_speedup,
    measure_training_speed,
    median_step_seconds,
    recommended_precision,
    resolve_precision,
    set_seeds,
    split_cpu,
)
from numvision_lib._tensorflow import tf
from numvision_lib.errors import ConfigError
from numvision_lib.machine import ResidentMemory, cpu_flags, cpu_info
from numvision_lib.model import build_numvision_cnn, training_flops_per_image


def test_cpu_machine_gets_its_measured_precision():
    summary = configure_hardware(seed=7)
    try:
        if not summary.gpus:
            assert "no GPU" in summary.precision_reason and summary.device == "CPU"
            if cpu_has_bfloat16_matrix_units():
                assert summary.precision_policy == "mixed_bfloat16"
            elif not cpu_has_bfloat16_instructions():
                assert summary.precision_policy == "float32"
            else:  # decided by the quick test, whose result shows in the reason
                assert f"{measured_bfloat16_speedup():.2f}x" in summary.precision_reason
        assert keras.mixed_precision.global_policy().name == summary.precision_policy
        text = str(summary)
        assert f"TensorFlow {summary.tensorflow_version}" in text and "Seed: 7" in text
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("gpus, growth, line", [
    ((), False, "not applicable (no GPU)"),
    (("GPU 0",), True, "GPU memory growth: on"),
    (("GPU 0",), False, "off: the GPU was in use before it could be set"),
])
def test_the_summary_says_why_memory_growth_is_off(gpus, growth, line):
    summary = HardwareSummary("2", "3", "3.11", ("CPU 0",), gpus, growth, "float32", "why", "default", "why", 42,
                              False)
    assert line in str(summary)


def test_caller_can_choose_the_precision_with_train_configs_vocabulary():
    summary = configure_hardware(precision="float32")
    assert summary.precision_policy == "float32" and "chosen by the caller" in summary.precision_reason
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(ConfigError, match="precision must be one of auto, float32"):
        configure_hardware(precision="half")


def test_a_precision_chosen_by_hand_that_this_machine_would_emulate_is_named():
    assert "float16 arithmetic is emulated" in emulated_precision("mixed_float16", has_gpu=False, cpu_has_bfloat16=True)
    assert "no bfloat16 instructions" in emulated_precision("mixed_bfloat16", has_gpu=False, cpu_has_bfloat16=False)
    assert emulated_precision("mixed_bfloat16", has_gpu=False, cpu_has_bfloat16=True) == ""
    assert all(emulated_precision(precision, has_gpu=True, cpu_has_bfloat16=False) == "" for precision in PRECISIONS)
    assert emulated_precision("float32", has_gpu=False, cpu_has_bfloat16=False) == ""
    policy, reason = resolve_precision("mixed_bfloat16")
    assert policy == "mixed_bfloat16" and reason.startswith("chosen by the caller")
    assert ("several times slower" in reason) == (not cpu_has_bfloat16_instructions())


def test_mixed_precision_only_on_gpus_with_tensor_cores_or_cpus_where_bfloat16_pays():
    assert choose_precision([]) == ("float32", "no GPU, and this CPU has no bfloat16 instructions")
    assert choose_precision([], cpu_has_bfloat16_matrix_units=True)[0] == "mixed_bfloat16"
    policy, reason = choose_precision([], bfloat16_speedup=1.56)
    assert policy == "mixed_bfloat16" and "1.56x faster" in reason
    policy, reason = choose_precision([], bfloat16_speedup=1.04)
    assert policy == "float32" and "only 1.04x" in reason
    assert choose_precision([(8, 6)], cpu_has_bfloat16_matrix_units=True)[0] == "mixed_float16", "a good GPU wins"
    assert choose_precision([(8, 6)]) == ("mixed_float16", "GPU compute capability 8.6 has tensor cores")
    policy, reason = choose_precision([(6, 1)])
    assert policy == "float32" and "no tensor cores" in reason
    assert choose_precision([(8, 0), (6, 0)])[0] == "float32", "one old GPU in the set rules it out"
    policy, reason = choose_precision([None])  # a GPU that is not CUDA's, say: TensorFlow gives no capability
    assert policy == "float32" and "no tensor cores" not in reason
    assert reason == ("TensorFlow does not report this GPU's compute capability, so whether it has tensor cores is "
                      "unknown: float32 is the safe choice")
    assert "does not report" in choose_precision([(8, 0), None])[1]


UNKNOWN_FLAGS_REASON = ("no GPU, and this CPU's instruction flags cannot be read here (the library reads them on Linux on "
                        "x86 only), so whether it has bfloat16 instructions is unknown: float32 is the safe choice")


def test_where_the_cpu_flags_cannot_be_read_the_precision_reason_says_so(monkeypatch):
    """On macOS, Windows and Arm, students were told "this CPU has no bfloat16 instructions", of a CPU that may."""
    assert choose_precision([], cpu_has_bfloat16_matrix_units=None) == ("float32", UNKNOWN_FLAGS_REASON)
    assert emulated_precision("mixed_bfloat16", has_gpu=False, cpu_has_bfloat16=None) == (
        "this CPU's instruction flags cannot be read here, so bfloat16 arithmetic may be emulated")
    assert emulated_precision("mixed_float16", has_gpu=False, cpu_has_bfloat16=None).startswith("this machine has no GPU")
    monkeypatch.setattr("numvision_lib.machine.cpu_info", lambda field: None)  # no /proc/cpuinfo
    cpu_flags.cache_clear()
    try:
        if not tf.config.list_physical_devices("GPU"):
            assert recommended_precision() == ("float32", UNKNOWN_FLAGS_REASON)
            policy, reason = resolve_precision("mixed_bfloat16")
            assert policy == "mixed_bfloat16" and "bfloat16 arithmetic may be emulated: training in mixed_bfloat16 " \
                                                  "is then several times slower than in float32" in reason
    finally:
        cpu_flags.cache_clear()  # this machine's own flags again


def test_bfloat16_probe_times_real_training_steps(monkeypatch):
    # Emulated in software where the CPU lacks bfloat16 instructions: slower, but it still runs.
    assert 0.05 < measured_bfloat16_speedup(steps=3) < 20
    assert keras.mixed_precision.global_policy().name == "float32", "the probe leaves the policy as it was"

    # What it times and how it divides: a float32 model against a mixed_bfloat16 one, float32's time on top.
    timed = []

    def two_and_one_seconds(models, steps):
        timed.extend(model.dtype_policy.name for model in models)
        return [2.0, 1.0]

    monkeypatch.setattr("numvision_lib.hardware.median_step_seconds", two_and_one_seconds)
    measured_bfloat16_speedup.cache_clear()
    try:
        assert measured_bfloat16_speedup(steps=3) == 2.0 and timed == ["float32", "mixed_bfloat16"]
    finally:
        measured_bfloat16_speedup.cache_clear()  # later callers measure for real


def test_step_timing_tells_a_big_model_from_a_small_one():
    inputs = keras.Input((28, 28, 1))
    linear = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs)))
    linear_seconds, cnn_seconds = median_step_seconds([linear, build_numvision_cnn()], 64, steps=3, warmup_steps=1)
    assert 0 < linear_seconds < cnn_seconds, "the CNN does about a hundred times more arithmetic per step"


def test_seeds_make_random_numbers_repeat():
    set_seeds(3)
    first = np.random.random(3), keras.random.uniform((3,)).numpy()
    set_seeds(3)
    second = np.random.random(3), keras.random.uniform((3,)).numpy()
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    set_seeds(np.int64(3))  # as the library's own checks take it, say a seed read from an array
    np.testing.assert_array_equal(np.random.random(3), first[0])


@pytest.mark.parametrize("seed", [-1, 2**32, 2.5, 2.0, "42", None, True])
def test_set_seeds_refuses_a_seed_the_generators_would_not_take_as_given(seed):
    with pytest.raises(ConfigError, match=rf"seed must be a whole number from 0 to {2**32 - 1}, not {seed!r}"):
        set_seeds(seed)


# In a fresh process: a refused call must leave it as it was, and the test process's determinism, once switched on,
# could not be switched off again.
REFUSED_CONFIGURATION = """
import json
import keras
from tensorflow.python.framework.config import is_op_determinism_enabled
from numvision_lib.errors import ConfigError
from numvision_lib.hardware import configure_hardware, set_seeds, split_cpu

def outcome(call):
    try:
        return call()
    except ConfigError as error:
        return str(error)

refused = [outcome(call) for call in (lambda: configure_hardware(seed=-1, precision="mixed_bfloat16"),
                                      lambda: configure_hardware(seed="7", precision="mixed_bfloat16"),
                                      lambda: configure_hardware(deterministic="no", precision="mixed_bfloat16"),
                                      lambda: configure_hardware(precision="half"),
                                      lambda: set_seeds(42, deterministic="no"))]
print(json.dumps({"refused": refused, "policy": keras.mixed_precision.global_policy().name,
                  "deterministic": is_op_determinism_enabled(), "devices": outcome(lambda: split_cpu(2))}))
"""


def test_a_refused_configuration_changes_nothing():
    printed = subprocess.run([sys.executable, "-c", REFUSED_CONFIGURATION], capture_output=True, text=True,
                             check=True).stdout
    result = json.loads(printed.strip().splitlines()[-1])
    seed, text_seed, switch, precision, seeds_switch = result["refused"]
    assert "seed must be a whole number" in seed and "not -1" in seed and "not '7'" in text_seed
    assert switch == seeds_switch == "deterministic is True (repeatable to the last bit, but slower) or False, not 'no'"
    assert "precision must be one of auto" in precision
    assert result["policy"] == "float32", "the precision policy is set only once everything is checked"
    assert result["deterministic"] is False, "'no' did not switch determinism on"
    assert result["devices"] == ["/device:CPU:0", "/device:CPU:1"], "TensorFlow's runtime was not started"


# In a fresh process: split_cpu works only before TensorFlow computes, and determinism, once on, stays on.
KERNEL_SUMMARIES = """
import json
from numvision_lib.hardware import configure_hardware, split_cpu

split_cpu(2)
first = configure_hardware(precision="float32", deterministic=True)
second = configure_hardware(precision="float32", deterministic=False)
print(json.dumps([str(first), str(second), second.deterministic]))
"""


def test_the_summary_says_what_is_in_force_in_this_kernel():
    """After split_cpu(2) the summary counted "CPUs: 1 device(s)" above a strategy over 2 logical CPU devices, and
    said "op determinism: off" of a kernel where it had been switched on, which lasts."""
    printed = subprocess.run([sys.executable, "-c", KERNEL_SUMMARIES], capture_output=True, text=True,
                             check=True).stdout
    first, second, deterministic = json.loads(printed.strip().splitlines()[-1])
    assert "\nCPUs: 2 device(s) (" in first and "\nDistribution strategy: MirroredStrategy (2 logical CPU" in first
    assert first.endswith("\nSeed: 42, op determinism: on")
    assert second.endswith("\nSeed: 42, op determinism: on (switched on earlier in this kernel; restart the kernel to "
                           "switch it off)")
    assert deterministic is True


def test_timing_a_model_leaves_it_as_it_was():
    """Timing a trained model trained it on random images: the shipped one lost 2.4 points of accuracy, silently."""
    inputs = keras.Input((28, 28, 1))
    trained = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs)))
    trained.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    trained.fit(np.random.default_rng(0).random((32, 28, 28, 1)), np.arange(32) % 10, verbose=0)
    weights, optimizer = trained.get_weights(), trained.optimizer
    assert measure_training_speed(trained, batch_size=16, steps=2, warmup_steps=1).seconds_per_step > 0
    for before, after in zip(weights, trained.get_weights(), strict=True):
        np.testing.assert_array_equal(after, before)
    assert trained.optimizer is optimizer and int(optimizer.iterations) == 1, "its optimizer took no step either"
    untrained = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs)))
    median_step_seconds([untrained], 16, steps=1, warmup_steps=0)
    assert getattr(untrained, "optimizer", None) is None, "a model not compiled is left so"


def test_a_model_without_an_input_shape_is_refused_before_anything_happens_to_it():
    """Keras' own tutorials build models without keras.Input: it was compiled, then a raw AttributeError."""
    model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")], name="mine")
    with pytest.raises(ConfigError, match=re.escape("the model 'mine' has no input shape yet, so there is nothing to "
                                                    "time it on: start it with keras.Input(shape=(28, 28, 1))")):
        measure_training_speed(model, steps=1)
    assert getattr(model, "optimizer", None) is None


def test_training_speed_measures_real_steps():
    inputs = keras.Input((28, 28, 1))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs)))
    speed = measure_training_speed(model, batch_size=16, steps=3, warmup_steps=1)
    assert speed.seconds_per_step > 0 and speed.images_per_second == pytest.approx(16 / speed.seconds_per_step)
    assert speed.flops_per_image == 3 * 2 * 784 * 10
    assert speed.seconds_per_epoch(1600) == pytest.approx(100 * speed.seconds_per_step)
    assert "images per second" in str(speed) and "GFLOP/s" in str(speed)
    with pytest.raises(ConfigError):
        measure_training_speed(model, steps=0)


@pytest.mark.parametrize("images_per_second, printed", [(1744, "about 31 s"), (20_000, "about 2.7 s"),
                                                       (200_000, "about 0.3 s")])
def test_a_gpus_epoch_of_seconds_is_printed_with_a_decimal(images_per_second, printed):
    """Notebook 02 works out ten epochs from this line: 2.7 s printed as 3 s would be 10% off."""
    speed = TrainingSpeed(batch_size=128, steps=20, seconds_per_step=128 / images_per_second, flops_per_image=1000)
    assert f"One epoch of 54,000 images would take {printed}\n" in str(speed)
    last_digit = 1 if speed.seconds_per_epoch() >= 10 else 0.1
    assert speed.epoch_seconds_rounding() == pytest.approx(last_digit / 2)


@pytest.mark.parametrize("images", ["54000", None, 54_000.0, 0, True])
def test_seconds_per_epoch_wants_a_whole_number_of_images(images):
    speed = TrainingSpeed(batch_size=128, steps=20, seconds_per_step=0.05, flops_per_image=1000)
    with pytest.raises(ConfigError, match=rf"images is how many training images one epoch has, a whole number such as "
                                          rf"54_000, not {re.escape(repr(images))}"):
        speed.seconds_per_epoch(images)


def test_training_speed_of_an_architecture_by_its_name():
    speed = measure_training_speed("numvision_cnn", batch_size=8, steps=1, warmup_steps=0)
    assert speed.seconds_per_step > 0 and speed.flops_per_image == training_flops_per_image(build_numvision_cnn())
    with pytest.raises(ConfigError, match="unknown architecture 'numvision'; choose one of: numvision_cnn"):
        measure_training_speed("numvision")


@pytest.mark.parametrize("settings, message", [
    ({"steps": 2.5}, "steps is how many training steps to time: a whole number, 1 or more, not 2.5"),
    ({"steps": "2"}, "steps is .* not '2'"),
    ({"steps": None}, "steps is .* not None"),
    ({"steps": 0}, "steps is .* not 0"),
    ({"warmup_steps": -1}, "warmup_steps is .* 0 or more, not -1"),
    ({"batch_size": True}, "the batch size is a whole number of images, from 1 to 60,000, not True"),
    ({"batch_size": 16.0}, "the batch size is .* not 16.0"),
    # A typo's zeros: 2.79 PiB of random images, asked for as NumPy's MemoryError.
    ({"batch_size": 10**12}, "the batch size is .* from 1 to 60,000, not 1000000000000"),
    ({"seed": -1}, "seed must be a whole number from 0"),
])
def test_step_timing_refuses_settings_it_cannot_use_before_touching_the_model(settings, message):
    inputs = keras.Input((28, 28, 1))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs)))
    with pytest.raises(ConfigError, match=message):
        median_step_seconds([model], **settings)
    assert getattr(model, "optimizer", None) is None, "a refused call compiles nothing"


@pytest.mark.parametrize("models, message", [
    ([], r"models is a list of the Keras models to time, at least one, such as \[model\], not \[\]"),
    (["numvision_cnn"], "a model to time is a Keras model, such as build_model.* not a str: 'numvision_cnn'"),
    (None, "models is a list .* not None"),
])
def test_step_timing_needs_keras_models(models, message):
    with pytest.raises(ConfigError, match=message):
        median_step_seconds(models)


def test_measure_training_speed_names_what_is_not_a_model():
    with pytest.raises(ConfigError, match="a model to time is a Keras model.* not a int: 42"):
        measure_training_speed(42)


@pytest.mark.parametrize("devices", [2.5, "2", None, True, 0])
def test_split_cpu_wants_a_whole_number_of_devices(devices):
    # Refused before TensorFlow is asked: this process's devices stay as they are.
    with pytest.raises(ConfigError, match=rf"devices is how many logical devices to make: a whole number, 1 or more, "
                                          rf"not {devices!r}"):
        split_cpu(devices)


def test_resident_memory_sees_an_allocation_and_keeps_its_peak():
    # In a fresh process: this one's peak is whatever the earlier tests reached.
    measure = """
import json, os
import numpy as np
from numvision_lib.machine import resident_memory
before = resident_memory(os.getpid())
block = np.ones(50_000_000, dtype=np.float32)  # 200 MB, touched
during = resident_memory(os.getpid())
del block
print(json.dumps([before, during, resident_memory(os.getpid())]))
"""
    printed = subprocess.run([sys.executable, "-c", measure], capture_output=True, text=True, check=True).stdout
    before, during, after = (ResidentMemory(*figures) for figures in json.loads(printed))
    assert during.now_bytes - before.now_bytes > 150e6
    assert during.now_bytes - after.now_bytes > 150e6, "the block was given back"
    assert after.peak_bytes - before.peak_bytes > 150e6, "but the peak remembers it"
    # Resident, not virtual: right after the allocation the peak is what is resident (VmPeak would be far more).
    assert during.peak_bytes < 1.1 * during.now_bytes


def test_cpu_info_reads_this_cpu_and_answers_none_for_what_it_lacks():
    flags = (cpu_info("flags") or cpu_info("Features") or "").split()  # x86 or Arm
    assert flags and cpu_info("no such field") is None


@pytest.mark.parametrize("flags, instructions, matrix_units", [
    ("fpu sse2 avx2 avx512f", False, False),  # AVX-512 without its bfloat16 extension
    ("fpu avx512f avx512_bf16", True, False),  # AMD Zen 4
    ("fpu avx512_bf16 amx_bf16 amx_tile", True, True),  # Intel Sapphire Rapids
    (None, None, None),  # not Linux, or Arm: nothing to read, so nothing known
])
def test_bfloat16_support_is_read_from_the_cpu_flags(monkeypatch, flags, instructions, matrix_units):
    monkeypatch.setattr("numvision_lib.machine.cpu_info", lambda field: flags if field == "flags" else None)
    cpu_flags.cache_clear()
    try:
        assert (cpu_has_bfloat16_instructions(), cpu_has_bfloat16_matrix_units()) == (instructions, matrix_units)
    finally:
        cpu_flags.cache_clear()  # this machine's own flags again


@pytest.mark.parametrize("role", ["worker", "chief"])
def test_tf_config_addresses_must_be_a_list(role):
    value = json.dumps({"cluster": {role: "pc1:2222"}, "task": {"type": role, "index": 0}})
    with pytest.raises(ConfigError, match=rf'TF_CONFIG.*"{role}".*a list'):
        cluster_workers(value)


def tf_config(workers: list, task: dict) -> str:
    return json.dumps({"cluster": {"worker": workers}, "task": task})


@pytest.mark.parametrize("task", [
    {"type": "worker", "index": 5},
    {"type": "worker", "index": 2},
    {"type": "worker", "index": -1},
    {"type": "chief", "index": 0},  # this cluster has no chief
])
def test_tf_config_task_must_be_one_of_the_listed_processes(task):
    with pytest.raises(ConfigError, match=rf'TF_CONFIG: "task" is {task["type"]} {task["index"]}, but the cluster '
                                          rf'lists [02] {task["type"]} address\(es\), numbered from 0'):
        cluster_workers(tf_config(["pc1:2222", "pc2:2222"], task))


@pytest.mark.parametrize("index, shown", [(True, "true"), ("0", '"0"'), (1.0, "1.0")])
def test_tf_config_task_index_is_a_whole_number(index, shown):
    """The index given, as the string "0", was reported as no index at all."""
    with pytest.raises(ConfigError, match=re.escape(f'TF_CONFIG: "task" has "index" {shown}, but a whole number is '
                                                    'expected: the place of this process\'s address in the '
                                                    'cluster\'s "worker" list, from 0')):
        cluster_workers(tf_config(["pc1:2222", "pc2:2222"], {"type": "worker", "index": index}))
    assert cluster_workers(tf_config(["pc1:2222", "pc2:2222"], {"type": "worker", "index": 1})) == 2
    with pytest.raises(ConfigError, match="names 2 training processes but not which one this is"):
        cluster_workers(tf_config(["pc1:2222", "pc2:2222"], {"type": "worker"}))


@pytest.mark.parametrize("addresses", [[1, None], ["pc1:2222", ""], ["pc1:2222", ["pc2:2222"]]])
def test_tf_config_addresses_must_be_host_and_port(addresses):
    with pytest.raises(ConfigError, match=r'"worker".*"host:port" addresses.*not \['):
        cluster_workers(tf_config(addresses, {"type": "worker", "index": 0}))


def test_tf_config_must_be_text():
    with pytest.raises(ConfigError, match="TF_CONFIG is JSON text, as the environment holds it, not a int"):
        cluster_workers(5)
