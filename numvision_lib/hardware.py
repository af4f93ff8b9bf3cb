"""Which devices TensorFlow sees, the settings that follow from them (memory growth, precision, seeds,
the `tf.distribute` strategy that spreads training over them), and how fast they train."""
from __future__ import annotations

import contextlib
import difflib
import functools
import json
import os
import platform
import time
from dataclasses import dataclass

import numpy as np

from ._tensorflow import keras, tf
from .data import MNIST_TRAINING_IMAGES, TRAINING_IMAGES_PER_EPOCH, check_batch_size, check_seed
from .errors import ConfigError
from .machine import cpu_flags
from .values import is_whole_number, switch_problem

# The precision settings of a training run (TrainConfig.precision) and of `configure_hardware`: "auto" lets
# `recommended_precision` decide for this machine; the others are Keras precision policies.
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
# Tensor cores (compute capability 7.0, Volta, and newer) make float16 maths fast; older GPUs only lose precision.
MIXED_PRECISION_MIN_COMPUTE_CAPABILITY = (7, 0)
# Below this measured gain, float32's exact arithmetic is worth more than the time bfloat16 saves.
BFLOAT16_MIN_SPEEDUP = 1.2
# The tf.distribute strategies `choose_strategy` picks from; "default" is TensorFlow's one-device strategy.
STRATEGIES = ("default", "MirroredStrategy", "MultiWorkerMirroredStrategy")
# The environment variable that describes a cluster of training processes (TensorFlow's own convention).
TF_CONFIG_VARIABLE = "TF_CONFIG"
# What TensorFlow reads in TF_CONFIG, and the roles in its cluster that MultiWorkerMirroredStrategy trains with.
# TensorFlow ignores any other key, so a misspelt one would leave each computer training alone; but platforms add
# keys of their own by design (Google's AI Platform: "job", a task's "trial" and "cloud", a "master" role), so
# only a key close to a known one is refused, as a misspelling.
TF_CONFIG_KEYS = ("cluster", "task", "environment", "rpc_layer")
TRAINING_ROLES = ("chief", "worker")
TASK_KEYS = ("type", "index")
# The role of a parameter server, which only ParameterServerStrategy trains with.
PARAMETER_SERVER_ROLE = "ps"


@dataclass(frozen=True)
class HardwareSummary:
    """What `configure_hardware` found and decided, with the reason for each decision."""

    tensorflow_version: str
    keras_version: str
    python_version: str
    cpus: tuple[str, ...]
    gpus: tuple[str, ...]
    memory_growth: bool
    precision_policy: str
    precision_reason: str
    strategy: str
    strategy_reason: str
    seed: int
    deterministic: bool  # whether op determinism is on, as asked now or earlier in this process
    determinism_from_earlier: bool = False  # on although not asked for: TensorFlow cannot switch it off again

    @property
    def device(self) -> str:
        return "GPU" if self.gpus else "CPU"

    def _memory_growth_state(self) -> str:
        if self.memory_growth:
            return "on"
        if not self.gpus:
            return "not applicable (no GPU)"
        return "off: the GPU was in use before it could be set (restart the kernel and configure first)"

    def _determinism_state(self) -> str:
        if not self.deterministic:
            return "off"
        if self.determinism_from_earlier:
            return "on (switched on earlier in this kernel; restart the kernel to switch it off)"
        return "on"

    def __str__(self) -> str:
        lines = [
            f"TensorFlow {self.tensorflow_version}, Keras {self.keras_version}, Python {self.python_version}",
            f"Training device: {self.device}",
            f"CPUs: {len(self.cpus)} device(s) ({os.cpu_count()} cores)",
            f"GPUs: {', '.join(self.gpus) if self.gpus else 'none'}",
            f"GPU memory growth: {self._memory_growth_state()}",
            f"Precision policy: {self.precision_policy} ({self.precision_reason})",
            f"Distribution strategy: {self.strategy} ({self.strategy_reason})",
            f"Seed: {self.seed}, op determinism: {self._determinism_state()}",
        ]
        return "\n".join(lines)


def _gpu_compute_capability(gpu) -> tuple[int, int] | None:
    details = tf.config.experimental.get_device_details(gpu)
    return details.get("compute_capability")


def _gpu_name(gpu) -> str:
    details = tf.config.experimental.get_device_details(gpu)
    return details.get("device_name", gpu.name)


@functools.cache  # once per process: a GPU's setting cannot change after its first use, so a re-run reports it
def enable_memory_growth() -> bool:
    """Let TensorFlow take GPU memory as needed instead of all of it at start, so other programs keep theirs."""
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            # The GPU was already initialised by an earlier cell; its setting can no longer change.
            return False
    return bool(gpus)


def _cpu_has_any_flag(*names: str) -> bool | None:
    """Whether the CPU lists one of these instruction-set flags; None where its flags cannot be read (`cpu_flags`:
    not Linux, or Arm), which says nothing about the CPU itself."""
    flags = cpu_flags()
    return bool(flags & set(names)) if flags else None


def cpu_has_bfloat16_matrix_units() -> bool | None:
    """True when the CPU has AMX tiles for bfloat16 (Intel Sapphire Rapids and newer), which oneDNN uses; None where
    its flags cannot be read."""
    return _cpu_has_any_flag("amx_bf16")


def cpu_has_bfloat16_instructions() -> bool | None:
    """True when the CPU can compute in bfloat16 natively: AVX-512 BF16 (AMD Zen 4, some Intel) or AMX; None where
    its flags cannot be read."""
    return _cpu_has_any_flag("avx512_bf16", "amx_bf16")


@contextlib.contextmanager
def precision_policy(policy: str):
    """Build models under a Keras precision policy without changing the global one for good."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def median_step_seconds(models, batch_size: int = 128, steps: int = 20, warmup_steps: int = 3,
                        seed: int = 42) -> list[float]:
    """Median seconds per training step (forward, backward, weight update) of each model, on random images.

    The content of the images does not change the arithmetic, so random data measures the same speed as
    MNIST. The first `warmup_steps` are not timed: they include building the computation graph. The models'
    steps alternate, so that a busy neighbour on a shared machine slows all of them alike. Each model is timed on
    a copy (`_training_copy`), so the models given keep their weights and their compiled state.
    """
    # At most MNIST's training images: a typo's extra zeros would allocate gigabytes of random images.
    check_batch_size(batch_size, MNIST_TRAINING_IMAGES)
    if not (is_whole_number(steps) and steps >= 1):
        raise ConfigError(f"steps is how many training steps to time: a whole number, 1 or more, not {steps!r}")
    if not (is_whole_number(warmup_steps) and warmup_steps >= 0):
        raise ConfigError(f"warmup_steps is how many untimed steps come first: a whole number, 0 or more, not "
                          f"{warmup_steps!r}")
    check_seed(seed)
    if not isinstance(models, (list, tuple)) or not models:
        raise ConfigError(f"models is a list of the Keras models to time, at least one, such as [model], "
                          f"not {models!r}")
    for model in models:
        if not isinstance(model, keras.Model):
            raise ConfigError(f"a model to time is a Keras model, such as build_model('numvision_cnn'), not a "
                              f"{type(model).__name__}: {model!r}")
        if not hasattr(model, "input_shape"):  # its property raises AttributeError until the model has an input
            raise ConfigError(f"the model {model.name!r} has no input shape yet, so there is nothing to time it on: "
                              "start it with keras.Input(shape=(28, 28, 1)), as build_model's architectures do")
    models = [_training_copy(model) for model in models]
    rng = np.random.default_rng(seed)
    images = rng.random((batch_size, *models[0].input_shape[1:]), dtype=np.float32)
    labels = rng.integers(0, models[0].output_shape[-1], size=batch_size).astype(np.int32)
    for model in models:
        for _ in range(warmup_steps):
            model.train_on_batch(images, labels)
    durations = [[] for _ in models]
    for _ in range(steps):
        for model, model_durations in zip(models, durations):
            started = time.perf_counter()
            model.train_on_batch(images, labels)
            model_durations.append(time.perf_counter() - started)
    return [float(np.median(model_durations)) for model_durations in durations]


def _training_copy(model: keras.Model) -> keras.Model:
    """A copy of `model` to train on random images: the same layers and precision (`keras.models.clone_model`), fresh
    weights, compiled as `model` is (with a fresh optimizer of the same settings), or with Adam where it is not.
    Training `model` itself would leave a student's trained model trained on noise."""
    with precision_policy(model.dtype_policy.name):  # the copy's own policy, as mixed_float16's loss scaling reads it
        copy = keras.models.clone_model(model)
    if getattr(copy, "optimizer", None) is None:
        copy.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return copy


@functools.cache
def measured_bfloat16_speedup(steps: int = 15) -> float:
    """How many times faster the reference CNN trains here in mixed_bfloat16 than in float32.

    A short probe, run once per process. The CPU's flags do not say how much AVX-512 BF16 gains:
    that depends on the CPU and on the network (the training-speed benchmark in docs/benchmarks.md shows what it was
    on the project's machines). It builds two models, so it moves the random number generators on: call it before
    seeding (`configure_hardware` and `train` do).
    """
    from .model import build_numvision_cnn

    models = []
    for policy in ("float32", "mixed_bfloat16"):
        with precision_policy(policy):
            models.append(build_numvision_cnn())
    float32_seconds, bfloat16_seconds = median_step_seconds(models, steps=steps)
    return float32_seconds / bfloat16_seconds


def choose_precision(
    compute_capabilities: list[tuple[int, int] | None],
    cpu_has_bfloat16_matrix_units: bool | None = False,
    bfloat16_speedup: float | None = None,
) -> tuple[str, str]:
    """The Keras precision policy for this hardware, and why. Returns (policy, reason).

    GPUs: mixed_float16 only where every GPU has tensor cores. CPUs: mixed_bfloat16 with AMX bfloat16 matrix
    units, or where bfloat16 instructions measured at least BFLOAT16_MIN_SPEEDUP faster
    (`bfloat16_speedup`, None when the CPU has no bfloat16 instructions); everywhere else float32.
    `cpu_has_bfloat16_matrix_units` is None where the CPU's flags cannot be read: then neither its matrix units nor
    its bfloat16 instructions are known, and the reason says so rather than guess.
    """
    if not compute_capabilities:
        if cpu_has_bfloat16_matrix_units:
            return "mixed_bfloat16", "no GPU, but this CPU has AMX bfloat16 matrix units: much faster convolutions"
        if cpu_has_bfloat16_matrix_units is None:
            return "float32", ("no GPU, and this CPU's instruction flags cannot be read here (the library reads them "
                               "on Linux on x86 only), so whether it has bfloat16 instructions is unknown: float32 "
                               "is the safe choice")
        if bfloat16_speedup is None:
            return "float32", "no GPU, and this CPU has no bfloat16 instructions"
        if bfloat16_speedup >= BFLOAT16_MIN_SPEEDUP:
            return "mixed_bfloat16", (
                f"no GPU, but this CPU trained {bfloat16_speedup:.2f}x faster in bfloat16 than in float32 in a quick test"
            )
        return "float32", (
            f"no GPU, and this CPU's bfloat16 instructions trained only {bfloat16_speedup:.2f}x as fast as "
            f"float32 in a quick test (at least {BFLOAT16_MIN_SPEEDUP}x is worth the lost digits)"
        )
    if any(cap is None for cap in compute_capabilities):  # not a CUDA GPU, such as a plugin's device
        return "float32", ("TensorFlow does not report this GPU's compute capability, so whether it has tensor cores "
                           "is unknown: float32 is the safe choice")
    if all(tuple(cap) >= MIXED_PRECISION_MIN_COMPUTE_CAPABILITY for cap in compute_capabilities):
        major, minor = compute_capabilities[0]
        return "mixed_float16", f"GPU compute capability {major}.{minor} has tensor cores"
    return "float32", "this GPU has no tensor cores (compute capability below 7.0): mixed precision would not help"


def emulated_precision(precision: str, has_gpu: bool, cpu_has_bfloat16: bool | None) -> str:
    """Why hardware with these facts could only emulate `precision` (one of `PRECISIONS`), or might where
    `cpu_has_bfloat16` is None (unknown), or "" when it need not: an emulated mixed precision trains several times
    slower than float32, however right it is elsewhere."""
    if has_gpu:
        return ""
    if precision == "mixed_float16":
        return "this machine has no GPU, so float16 arithmetic is emulated on the CPU"
    if precision == "mixed_bfloat16" and cpu_has_bfloat16 is None:
        return "this CPU's instruction flags cannot be read here, so bfloat16 arithmetic may be emulated"
    if precision == "mixed_bfloat16" and not cpu_has_bfloat16:
        return "no bfloat16 instructions were found on this CPU, so bfloat16 arithmetic is emulated"
    return ""


def precision_warning(precision: str) -> str:
    """For a precision chosen by hand: a warning when this machine can only emulate it, else ""."""
    emulated = emulated_precision(precision, bool(tf.config.list_physical_devices("GPU")),
                                  cpu_has_bfloat16_instructions())
    return (f"{emulated}: training in {precision} is then several times slower than in float32 "
            "(precision 'auto' chooses what this machine does fastest)") if emulated else ""


def recommended_precision() -> tuple[str, str]:
    """`choose_precision` for the devices of this machine; times bfloat16 against float32 where that decides."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return choose_precision([_gpu_compute_capability(gpu) for gpu in gpus])
    matrix_units = cpu_has_bfloat16_matrix_units()
    measure = matrix_units is False and cpu_has_bfloat16_instructions()
    return choose_precision([], cpu_has_bfloat16_matrix_units=matrix_units,
                            bfloat16_speedup=measured_bfloat16_speedup() if measure else None)


def _check_seeding(seed, deterministic) -> None:
    """Raise a `ConfigError` unless `set_seeds` takes both as they are."""
    check_seed(seed)
    if problem := switch_problem("deterministic", deterministic, "repeatable to the last bit, but slower"):
        raise ConfigError(problem)


# Whether `set_seeds` switched op determinism on in this process: TensorFlow cannot switch it off again, and has no
# public way to ask.
_op_determinism_on = False


def set_seeds(seed: int = 42, deterministic: bool = False) -> None:
    """Seed Python, NumPy and TensorFlow; optionally make TensorFlow's ops deterministic (slower), for the rest of
    the process."""
    global _op_determinism_on
    _check_seeding(seed, deterministic)
    keras.utils.set_random_seed(int(seed))  # Keras refuses NumPy's integers, which check_seed lets through
    if deterministic:
        tf.config.experimental.enable_op_determinism()
        _op_determinism_on = True


def _check_precision(precision) -> None:
    if not isinstance(precision, str) or precision not in PRECISIONS:  # an array would compare item by item
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")


def resolve_precision(precision: str = "auto") -> tuple[str, str]:
    """The Keras precision policy that `precision` (one of `PRECISIONS`) means on this machine, and why."""
    _check_precision(precision)
    if precision == "auto":
        return recommended_precision()
    warning = precision_warning(precision)
    return precision, "chosen by the caller" + (f", though {warning}" if warning else "")


@dataclass(frozen=True)
class StrategyChoice:
    """Which `tf.distribute` strategy suits this machine (one of `STRATEGIES`), over which devices, and why."""

    name: str
    reason: str
    devices: tuple[str, ...] = ()


def _tf_config_object(value, where: str, form: str, known: tuple[str, ...], unknown: str) -> dict:
    """`value`, the part of TF_CONFIG that `where` names, as a dict none of whose keys is a misspelling of one of
    `known` (`unknown` says what such a key is); a `ConfigError` that names the misspelt key, or the value that is not
    a JSON object of the `form`."""
    if not isinstance(value, dict):
        raise ConfigError(f"{TF_CONFIG_VARIABLE}{where} must be JSON of the form {form}, not {value!r}")
    for key in value:
        if key not in known and (guess := difflib.get_close_matches(key, known, n=1)):
            raise ConfigError(f'{TF_CONFIG_VARIABLE}{where} has "{key}", {unknown}: write "{guess[0]}" (TensorFlow '
                              "would ignore the misspelt key without a word)")
    return value


def cluster_workers(tf_config: str | None) -> int:
    """How many training processes a TF_CONFIG value names (its chief and workers); 1 without one.

    TF_CONFIG is JSON: {"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": 0}}.
    """
    if tf_config is not None and not isinstance(tf_config, str):
        raise ConfigError(f"{TF_CONFIG_VARIABLE} is JSON text, as the environment holds it, not a "
                          f"{type(tf_config).__name__}: json.dumps() turns a dict into it")
    if not tf_config or not tf_config.strip():
        return 1
    try:
        config = json.loads(tf_config)
    except ValueError as error:
        raise ConfigError(f"{TF_CONFIG_VARIABLE} must be JSON with a 'cluster' and a 'task', as TensorFlow "
                          f"describes it: {error}") from None
    config = _tf_config_object(config, "", '{"cluster": {...}, "task": {...}}', TF_CONFIG_KEYS,
                               "which TensorFlow does not read")
    cluster = _tf_config_object(config.get("cluster", {}), ': "cluster"', '{"worker": ["pc1:2222", "pc2:2222"]}',
                                TRAINING_ROLES, "a role that MultiWorkerMirroredStrategy does not train with")
    if PARAMETER_SERVER_ROLE in cluster:
        raise ConfigError(f'{TF_CONFIG_VARIABLE}: "cluster" has "{PARAMETER_SERVER_ROLE}", parameter servers, which '
                          "only parameter-server training (ParameterServerStrategy) uses, and that is not supported "
                          'here: list the training processes as "chief" and "worker" only, for '
                          "MultiWorkerMirroredStrategy")
    task = _tf_config_object(config.get("task", {}), ': "task"', '{"type": "worker", "index": 0}', TASK_KEYS,
                             "which a task does not have")
    addresses = {role: cluster.get(role, []) for role in TRAINING_ROLES}
    for role, listed in addresses.items():
        # len() of a string alone counts its characters: "pc1:2222" would be 8 workers.
        if not isinstance(listed, list) or not all(isinstance(address, str) and ":" in address
                                                   for address in listed):
            raise ConfigError(f'{TF_CONFIG_VARIABLE}: "cluster": {{"{role}": ...}} must be a list of '
                              f'"host:port" addresses, like ["pc1:2222"], not {listed!r}')
    workers = sum(len(listed) for listed in addresses.values())
    if workers > 1:
        role, index = task.get("type"), task.get("index")
        if role is None or index is None:
            raise ConfigError(f"{TF_CONFIG_VARIABLE} names {workers} training processes but not which one this "
                              "is: add \"task\": {\"type\": \"worker\", \"index\": N}")
        if role not in TRAINING_ROLES:
            raise ConfigError(f'{TF_CONFIG_VARIABLE}: "task" has "type" {json.dumps(role)}, but this process\'s '
                              'role is "chief" or "worker", as the cluster lists them')
        if not is_whole_number(index):
            raise ConfigError(f'{TF_CONFIG_VARIABLE}: "task" has "index" {json.dumps(index)}, but a whole number is '
                              f'expected: the place of this process\'s address in the cluster\'s "{role}" list, '
                              'from 0')
        if not 0 <= index < len(addresses[role]):
            raise ConfigError(f'{TF_CONFIG_VARIABLE}: "task" is {role} {index}, but the cluster lists '
                              f'{len(addresses[role])} {role} address(es), numbered from 0: give this process '
                              f'the index of its own address')
    return max(workers, 1)


def choose_strategy(gpus: list[str], cpus: list[str], tf_config: str | None = None) -> StrategyChoice:
    """The strategy for these logical devices and this TF_CONFIG value.

    Several processes named in TF_CONFIG: MultiWorkerMirroredStrategy. Otherwise several GPUs (or, without a
    GPU, several logical CPU devices): MirroredStrategy over them. Otherwise the default strategy on one device.
    """
    for name, devices in (("gpus", gpus), ("cpus", cpus)):
        # One name alone is a string, whose characters would be counted as devices.
        if not isinstance(devices, (list, tuple)) or not all(isinstance(device, str) for device in devices):
            raise ConfigError(f"{name} is a list of device names, such as ['/device:{name[:3].upper()}:0'], "
                              f"not {devices!r}")
    workers = cluster_workers(tf_config)
    if workers > 1:
        return StrategyChoice("MultiWorkerMirroredStrategy", (
            f"{TF_CONFIG_VARIABLE} names {workers} training processes: each trains on its share of every batch "
            "and they add up their gradients over the network"))
    devices, kind = (gpus, "GPUs") if gpus else (cpus, "logical CPU devices")
    if len(devices) > 1:
        return StrategyChoice("MirroredStrategy", (
            f"{len(devices)} {kind}: each trains on its share of every batch and they add up their gradients"),
            devices=tuple(devices))
    # "/job:localhost/replica:0/task:0/device:CPU:0" -> "CPU:0"
    device = devices[0].rsplit("device:", 1)[-1] if devices else "CPU"
    return StrategyChoice("default", f"one device, {device}: nothing to spread")


def recommended_strategy() -> StrategyChoice:
    """`choose_strategy` for this process: its TF_CONFIG and the logical devices TensorFlow made."""
    tf_config = os.environ.get(TF_CONFIG_VARIABLE)
    if cluster_workers(tf_config) > 1:
        # Listing logical devices starts TensorFlow's runtime, which a multi-worker strategy should set up itself.
        return choose_strategy([], [], tf_config)
    return choose_strategy([device.name for device in tf.config.list_logical_devices("GPU")],
                           [device.name for device in tf.config.list_logical_devices("CPU")])


@functools.cache
def _build_strategy(name: str, devices: tuple[str, ...]) -> tf.distribute.Strategy:
    # Cached: a multi-worker strategy may be created only once per process (it starts a server).
    if name == "MultiWorkerMirroredStrategy":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "MirroredStrategy":
        return tf.distribute.MirroredStrategy(devices=list(devices))
    return tf.distribute.get_strategy()


def distribution_strategy(choice: StrategyChoice | None = None) -> tf.distribute.Strategy:
    """The strategy `choice` names (default: `recommended_strategy()`), ready to build and compile models under.

    With MultiWorkerMirroredStrategy every process named in TF_CONFIG must call this; training then waits until
    all of them are there.
    """
    choice = choice if choice is not None else recommended_strategy()
    if not isinstance(choice, StrategyChoice):
        raise ConfigError(f"choice is a StrategyChoice, as recommended_strategy() and choose_strategy() return it, "
                          f"or None for this machine's own, not {choice!r}")
    if choice.name not in STRATEGIES:
        raise ConfigError(f"strategy must be one of {', '.join(STRATEGIES)}, not {choice.name!r}")
    return _build_strategy(choice.name, choice.devices)


def strategy_card_entry(strategy: tf.distribute.Strategy) -> dict:
    """How a run was spread, for its model card: empty for the default one-device strategy."""
    # The public names: TensorFlow's class behind MultiWorkerMirroredStrategy is CollectiveAllReduceStrategy.
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return {"strategy": "MultiWorkerMirroredStrategy", "replicas": int(strategy.num_replicas_in_sync),
                "workers": cluster_workers(os.environ.get(TF_CONFIG_VARIABLE))}
    if isinstance(strategy, tf.distribute.MirroredStrategy):
        return {"strategy": "MirroredStrategy", "replicas": int(strategy.num_replicas_in_sync),
                "devices": list(strategy.extended.worker_devices)}
    return {}


def split_cpu(devices: int = 2) -> list[str]:
    """Split the CPU into `devices` logical devices, to try mirrored training without several GPUs.

    It must run before TensorFlow computes anything (first thing after a kernel restart). The logical devices
    share the same cores, so training gets no faster: this shows how the strategy works, not what it gains.
    """
    if not (is_whole_number(devices) and devices >= 1):
        raise ConfigError(f"devices is how many logical devices to make: a whole number, 1 or more, not {devices!r}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * devices)
    except RuntimeError:
        raise ConfigError("TensorFlow has already started computing in this process, so its devices can no "
                          "longer change: restart the kernel and call split_cpu() first") from None
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def configure_hardware(seed: int = 42, deterministic: bool = False, precision: str = "auto") -> HardwareSummary:
    """Detect devices and apply memory growth, precision policy and seeds. `precision="auto"` decides itself."""
    # All checked before anything is applied: a refused call must not leave half its settings behind.
    _check_seeding(seed, deterministic)
    _check_precision(precision)
    gpus = tf.config.list_physical_devices("GPU")
    memory_growth = enable_memory_growth()
    strategy = recommended_strategy()  # before the precision test, which starts TensorFlow's runtime
    policy, reason = resolve_precision(precision)
    keras.mixed_precision.set_global_policy(policy)
    set_seeds(seed, deterministic)
    # The logical devices, which the strategy counts (split_cpu makes several of one CPU); only the physical ones for
    # a cluster, whose strategy starts TensorFlow's runtime itself.
    list_cpus = (tf.config.list_physical_devices if strategy.name == "MultiWorkerMirroredStrategy"
                 else tf.config.list_logical_devices)
    return HardwareSummary(
        tensorflow_version=tf.__version__,
        keras_version=keras.__version__,
        python_version=platform.python_version(),
        cpus=tuple(device.name for device in list_cpus("CPU")),
        gpus=tuple(_gpu_name(gpu) for gpu in gpus),
        memory_growth=memory_growth,
        precision_policy=policy,
        precision_reason=reason,
        strategy=strategy.name,
        strategy_reason=strategy.reason,
        seed=seed,
        deterministic=_op_determinism_on,
        determinism_from_earlier=_op_determinism_on and not deterministic,
    )


@dataclass(frozen=True)
class TrainingSpeed:
    """The result of `measure_training_speed`; str() gives a short report."""

    batch_size: int
    steps: int
    seconds_per_step: float
    flops_per_image: int

    @property
    def images_per_second(self) -> float:
        return self.batch_size / self.seconds_per_step

    @property
    def gflops_per_second(self) -> float:
        return self.images_per_second * self.flops_per_image / 1e9

    def seconds_per_epoch(self, images: int = TRAINING_IMAGES_PER_EPOCH) -> float:
        if not (is_whole_number(images) and images >= 1):
            raise ConfigError(f"images is how many training images one epoch has, a whole number such as 54_000, "
                              f"not {images!r}")
        return images / self.images_per_second

    def _epoch_decimals(self) -> int:
        # A GPU trains an epoch in seconds: 2.7 s shown as 3 s would be 10% off, and notebook 02 computes with it.
        return 1 if self.seconds_per_epoch() < 10 else 0

    def epoch_seconds_rounding(self) -> float:
        """How far the one epoch's seconds that str() shows may be from `seconds_per_epoch()`: half its last digit."""
        return 0.5 / 10 ** self._epoch_decimals()

    def step_seconds_rounding(self) -> float:
        """How far the time of a step that str() shows, in whole milliseconds, may be from `seconds_per_step`."""
        return 0.0005

    def __str__(self) -> str:
        return "\n".join([
            f"Training speed: {self.images_per_second:,.0f} images per second "
            f"({self.seconds_per_step * 1000:.0f} ms per step of {self.batch_size} images, median of {self.steps} steps)",
            f"One epoch of {TRAINING_IMAGES_PER_EPOCH:,} images would take about "
            f"{self.seconds_per_epoch():.{self._epoch_decimals()}f} s",
            f"Arithmetic: {self.flops_per_image / 1e6:.0f} MFLOP per image -> about {self.gflops_per_second:.0f} GFLOP/s",
        ])


def measure_training_speed(model=None, batch_size: int = 128, steps: int = 20, warmup_steps: int = 3,
                           seed: int = 42) -> TrainingSpeed:
    """Time real training steps (forward, backward and weight update) on random images; see
    `median_step_seconds`. `model` is a Keras model, timed on a copy so that it keeps its weights, or the name of an
    architecture (one of `model.ARCHITECTURES`, built fresh); it defaults to a fresh reference CNN."""
    from .model import build_model, build_numvision_cnn, training_flops_per_image

    if model is None:
        model = build_numvision_cnn()
    elif isinstance(model, str):
        model = build_model(model)
    (seconds_per_step,) = median_step_seconds([model], batch_size, steps, warmup_steps, seed)
    return TrainingSpeed(batch_size, steps, seconds_per_step, training_flops_per_image(model))
