"""Which devices TensorFlow sees, and the settings that follow from them: memory growth, precision, batch size, seeds."""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass

from ._tensorflow import keras, tf

CPU_BATCH_SIZE = 128
GPU_BATCH_SIZE = 256
# Tensor cores (compute capability 7.0, Volta, and newer) make float16 maths fast; older GPUs only lose precision.
MIXED_PRECISION_MIN_COMPUTE_CAPABILITY = (7, 0)


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
    batch_size: int
    seed: int
    deterministic: bool

    @property
    def device(self) -> str:
        return "GPU" if self.gpus else "CPU"

    def __str__(self) -> str:
        lines = [
            f"TensorFlow {self.tensorflow_version}, Keras {self.keras_version}, Python {self.python_version}",
            f"Training device: {self.device}",
            f"CPUs: {len(self.cpus)} device(s) ({os.cpu_count()} cores)",
            f"GPUs: {', '.join(self.gpus) if self.gpus else 'none'}",
            f"GPU memory growth: {'on' if self.memory_growth else 'not applicable (no GPU)'}",
            f"Precision policy: {self.precision_policy} ({self.precision_reason})",
            f"Batch size: {self.batch_size}",
            f"Seed: {self.seed}, op determinism: {'on' if self.deterministic else 'off'}",
        ]
        return "\n".join(lines)


def _gpu_compute_capability(gpu) -> tuple[int, int] | None:
    details = tf.config.experimental.get_device_details(gpu)
    return details.get("compute_capability")


def _gpu_name(gpu) -> str:
    details = tf.config.experimental.get_device_details(gpu)
    return details.get("device_name", gpu.name)


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


def cpu_has_bfloat16_matrix_units() -> bool:
    """True when the CPU has AMX tiles for bfloat16 (Intel Sapphire Rapids and newer), which oneDNN uses.

    AVX-512 BF16 alone is not enough: on such a CPU (these 2-core AMD EPYC machines) benchmarks/train_speed.py
    measured mixed_bfloat16 no faster than float32 for the reference CNN in one run and 1.56x faster in another.
    Not reliable, so float32, which is exact, stays.
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            flags = next((line.split(":", 1)[1].split() for line in cpuinfo if line.startswith("flags")), [])
    except OSError:  # not Linux: no cheap way to tell, so stay with float32
        return False
    return "amx_bf16" in flags


def choose_precision(
    compute_capabilities: list[tuple[int, int] | None], cpu_has_bfloat16_matrix_units: bool = False
) -> tuple[str, str]:
    """The Keras precision policy for this hardware, and why. Returns (policy, reason).

    GPUs: mixed_float16 only where every GPU has tensor cores. CPUs: mixed_bfloat16 only with AMX bfloat16
    matrix units; everywhere else float32.
    """
    if not compute_capabilities:
        if cpu_has_bfloat16_matrix_units:
            return "mixed_bfloat16", "no GPU, but this CPU has AMX bfloat16 matrix units: much faster convolutions"
        return "float32", "no GPU, and this CPU has no bfloat16 matrix units (AMX): 16-bit maths is not reliably faster"
    if all(cap is not None and tuple(cap) >= MIXED_PRECISION_MIN_COMPUTE_CAPABILITY for cap in compute_capabilities):
        major, minor = compute_capabilities[0]
        return "mixed_float16", f"GPU compute capability {major}.{minor} has tensor cores"
    return "float32", "this GPU has no tensor cores (compute capability below 7.0): mixed precision would not help"


def recommended_precision() -> tuple[str, str]:
    """`choose_precision` for the devices of this machine."""
    gpus = tf.config.list_physical_devices("GPU")
    return choose_precision([_gpu_compute_capability(gpu) for gpu in gpus], cpu_has_bfloat16_matrix_units())


def set_seeds(seed: int = 42, deterministic: bool = False) -> None:
    """Seed Python, NumPy and TensorFlow; optionally make TensorFlow's ops deterministic (slower)."""
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def configure_hardware(
    seed: int = 42, deterministic: bool = False, mixed_precision: bool | None = None
) -> HardwareSummary:
    """Detect devices and apply memory growth, precision policy and seeds. `mixed_precision=None` decides itself."""
    gpus = tf.config.list_physical_devices("GPU")
    memory_growth = enable_memory_growth()
    policy, reason = recommended_precision()
    if mixed_precision is False:
        policy, reason = "float32", "mixed precision turned off by the caller"
    elif mixed_precision and policy == "float32":
        reason = f"requested mixed precision refused: {reason}"
    keras.mixed_precision.set_global_policy(policy)
    set_seeds(seed, deterministic)
    return HardwareSummary(
        tensorflow_version=tf.__version__,
        keras_version=keras.__version__,
        python_version=platform.python_version(),
        cpus=tuple(device.name for device in tf.config.list_physical_devices("CPU")),
        gpus=tuple(_gpu_name(gpu) for gpu in gpus),
        memory_growth=memory_growth,
        precision_policy=policy,
        precision_reason=reason,
        batch_size=GPU_BATCH_SIZE if gpus else CPU_BATCH_SIZE,
        seed=seed,
        deterministic=deterministic,
    )
