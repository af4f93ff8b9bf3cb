"""Training beyond one device: which tf.distribute strategy `hardware` chooses, and real runs under each.

The real runs happen in subprocesses: logical devices must be set up before TensorFlow starts computing, and a
multi-worker strategy belongs to a process of its own.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import pytest

from numvision_lib.errors import ConfigError
from numvision_lib.hardware import (StrategyChoice, choose_strategy, cluster_workers, configure_hardware,
                                    distribution_strategy, recommended_strategy, strategy_card_entry)

CPU0, CPU1 = "/device:CPU:0", "/device:CPU:1"


def tf_config(workers: int, index: int = 0, ports: list[int] | None = None) -> str:
    ports = ports or [20000 + i for i in range(workers)]
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                       "task": {"type": "worker", "index": index}})


def test_several_workers_in_tf_config_mean_multi_worker_training():
    choice = choose_strategy([], [CPU0], tf_config(2))
    assert choice.name == "MultiWorkerMirroredStrategy" and choice.reason.startswith("TF_CONFIG names 2 training")
    chief_and_worker = json.dumps({"cluster": {"chief": ["127.0.0.1:1"], "worker": ["127.0.0.1:2"]},
                                   "task": {"type": "chief", "index": 0}})
    choice = choose_strategy(["/device:GPU:0", "/device:GPU:1"], [CPU0], chief_and_worker)
    assert choice.name == "MultiWorkerMirroredStrategy" and "names 2 training processes" in choice.reason, (
        "the cluster decides before the GPUs do")


def test_several_gpus_or_logical_cpus_mean_mirrored_training():
    gpus = ["/device:GPU:0", "/device:GPU:1"]
    choice = choose_strategy(gpus, [CPU0, CPU1])
    assert choice == StrategyChoice("MirroredStrategy", choice.reason, devices=tuple(gpus))
    assert choice.reason.startswith("2 GPUs")
    choice = choose_strategy([], [CPU0, CPU1])
    assert choice.name == "MirroredStrategy" and choice.devices == (CPU0, CPU1) and "logical CPU" in choice.reason


def test_one_device_or_one_worker_keeps_the_default_strategy():
    assert choose_strategy([], [CPU0]).name == "default"
    assert choose_strategy(["/device:GPU:0"], [CPU0, CPU1]).name == "default", "one GPU: the CPUs do not train"
    assert choose_strategy([], [CPU0], tf_config(1)).name == "default", "a cluster of one is one process"
    assert "CPU:0" in choose_strategy([], ["/job:localhost/replica:0/task:0/device:CPU:0"]).reason
    assert cluster_workers(None) == cluster_workers("") == 1


TWO_WORKERS = {"worker": ["pc1:2222", "pc2:2222"]}
FIRST_WORKER = {"type": "worker", "index": 0}


@pytest.mark.parametrize("value, message", [
    ("{not json", "must be JSON"),
    ('["a list"]', re.escape("TF_CONFIG must be JSON of the form {\"cluster\": {...}, \"task\": {...}}, not "
                             "['a list']")),
    (json.dumps({"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}}), "not which one this is"),
    # Misspelt or unsupported, these were ignored, and each computer trained a model of its own.
    (json.dumps({"clusters": TWO_WORKERS, "task": FIRST_WORKER}),
     re.escape('TF_CONFIG has "clusters", which TensorFlow does not read: write "cluster" (TensorFlow would ignore the '
               'misspelt key without a word)')),
    (json.dumps({"cluster": {"workers": TWO_WORKERS["worker"]}, "task": FIRST_WORKER}),
     re.escape('TF_CONFIG: "cluster" has "workers", a role that MultiWorkerMirroredStrategy does not train with: '
               'write "worker"')),
    (json.dumps({"cluster": {"ps": ["pc3:2222"], **TWO_WORKERS}, "task": FIRST_WORKER}),
     re.escape('TF_CONFIG: "cluster" has "ps", parameter servers, which only parameter-server training '
               '(ParameterServerStrategy) uses, and that is not supported here: list the training processes as "chief" '
               'and "worker" only')),
    (json.dumps({"cluster": TWO_WORKERS, "task": {"type": "worker", "idx": 0}}),
     re.escape('TF_CONFIG: "task" has "idx", which a task does not have: write "index"')),
    (json.dumps({"cluster": TWO_WORKERS, "task": "worker"}),
     re.escape('TF_CONFIG: "task" must be JSON of the form {"type": "worker", "index": 0}, not \'worker\'')),
    (json.dumps({"cluster": TWO_WORKERS, "task": {"type": "evaluator", "index": 0}}),
     re.escape('TF_CONFIG: "task" has "type" "evaluator", but this process\'s role is "chief" or "worker"')),
])
def test_a_broken_tf_config_is_a_clear_error(value, message):
    with pytest.raises(ConfigError, match=message):
        choose_strategy([], [CPU0], value)


def test_the_keys_a_platform_adds_to_tf_config_pass_as_tensorflow_lets_them():
    """Google's AI Platform Training sets this TF_CONFIG on every machine of every job, with keys TensorFlow ignores by
    design (https://cloud.google.com/ai-platform/training/docs/distributed-training-details): each was refused, and
    a one-machine job stopped on keys its user cannot change."""
    one_machine = {"cluster": {"master": ["cmle-training-master-0:2222"]},
                   "task": {"type": "master", "index": 0, "cloud": "abc", "trial": "1"},
                   "job": {"scale_tier": "BASIC"}, "environment": "cloud"}
    assert cluster_workers(json.dumps(one_machine)) == 1
    assert choose_strategy([], [CPU0], json.dumps(one_machine)).name == "default"
    two_workers = {"cluster": TWO_WORKERS, "task": {**FIRST_WORKER, "trial": "1", "cloud": "abc"}, "job": {}}
    assert choose_strategy([], [CPU0], json.dumps(two_workers)).name == "MultiWorkerMirroredStrategy"


@pytest.mark.parametrize("gpus, cpus, message", [
    # One name alone was read as 13 GPUs, one per character, and MirroredStrategy chosen over them.
    ("/device:GPU:0", [CPU0], "gpus is a list of device names, such as ['/device:GPU:0'], not '/device:GPU:0'"),
    (4, [CPU0], "gpus is a list of device names, such as ['/device:GPU:0'], not 4"),
    ([], CPU0, "cpus is a list of device names, such as ['/device:CPU:0'], not '/device:CPU:0'"),
    ([], [0], "cpus is a list of device names, such as ['/device:CPU:0'], not [0]"),
])
def test_choose_strategy_wants_lists_of_device_names(gpus, cpus, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        choose_strategy(gpus, cpus)


def test_distribution_strategy_wants_a_strategy_choice():
    with pytest.raises(ConfigError, match=re.escape("choice is a StrategyChoice, as recommended_strategy() and "
                                                    "choose_strategy() return it, or None for this machine's own, not "
                                                    "'MirroredStrategy'")):
        distribution_strategy("MirroredStrategy")


def test_this_test_process_trains_with_the_default_strategy(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    choice = recommended_strategy()
    assert choice.name == "default"
    assert strategy_card_entry(distribution_strategy(choice)) == {}, "one-device cards keep their old form"
    summary = configure_hardware(precision="float32")
    assert f"Distribution strategy: default ({choice.reason})" in str(summary)
    with pytest.raises(ConfigError, match="strategy must be one of"):
        distribution_strategy(StrategyChoice("ParameterServerStrategy", "not supported"))


def run_python(script: str, *args: str, env: dict | None = None, timeout: int = 300) -> dict:
    """Run `script` in a fresh interpreter; it prints one JSON object as its last line."""
    result = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                            timeout=timeout, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


MIRRORED_SCRIPT = """
import json, sys
from numvision_lib.hardware import split_cpu
devices = split_cpu(2)  # first, before TensorFlow computes anything
from numvision_lib._tensorflow import tf
from numvision_lib.data import load_mnist
from numvision_lib.errors import ConfigError
from numvision_lib.training import TrainConfig, train

data = load_mnist()
config = TrainConfig.quick(epochs=2, max_train_samples=2000, precision="float32")
mirrored = train(config, data, output=sys.argv[1] + "/mirrored.keras", verbose=0)
single = train(config, data, output=sys.argv[1] + "/single.keras", verbose=0, strategy=tf.distribute.get_strategy())
try:
    split_cpu(3)
    late_split = "no error"
except ConfigError as error:
    late_split = str(error)
print(json.dumps({"devices": devices, "late_split": late_split,
                  "mirrored": {"history": mirrored.history, "card": json.load(open(mirrored.card_path))},
                  "single": {"history": single.history, "card": json.load(open(single.card_path))}}))
"""


def test_mirrored_training_on_two_logical_cpus_matches_one_device(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    result = run_python(MIRRORED_SCRIPT, str(tmp_path))
    assert result["devices"] == ["/device:CPU:0", "/device:CPU:1"]
    assert "restart the kernel" in result["late_split"]
    mirrored, single = result["mirrored"], result["single"]
    assert mirrored["card"]["data"]["distribution"] == {
        "strategy": "MirroredStrategy", "replicas": 2,
        "devices": ["/job:localhost/replica:0/task:0/device:CPU:0", "/job:localhost/replica:0/task:0/device:CPU:1"]}
    assert "distribution" not in single["card"]["data"]
    assert {key: value for key, value in mirrored["card"]["data"].items() if key != "distribution"} == \
        single["card"]["data"], "the rest of the card is the same"
    # It trains and beats chance (10%) by far...
    assert mirrored["history"]["loss"][1] < mirrored["history"]["loss"][0]
    assert mirrored["history"]["val_accuracy"][-1] > 0.7
    # ...and follows the one-device run: the same images per step, each replica takes half of every batch and
    # their gradients are added up. Only the order of additions differs, which Adam's first steps amplify a little.
    assert mirrored["history"]["loss"] == pytest.approx(single["history"]["loss"], rel=0.05)
    assert mirrored["history"]["val_accuracy"] == pytest.approx(single["history"]["val_accuracy"], abs=0.05)


def free_loopback_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def test_two_worker_processes_train_one_model_together(tmp_path):
    """Two `python -m numvision_lib train` processes, as on two machines, told apart by TF_CONFIG."""
    from numvision_lib.history import read_history_csv
    from numvision_lib.model import load_model

    ports = free_loopback_ports(2)
    outputs = [tmp_path / f"worker{index}" / "model.keras" for index in range(2)]
    workers = []
    for index, output in enumerate(outputs):
        env = {**os.environ, "TF_CONFIG": tf_config(2, index, ports), "TF_CPP_MIN_LOG_LEVEL": "3"}
        log = open(tmp_path / f"worker{index}.log", "w")
        command = [sys.executable, "-m", "numvision_lib", "train", "--quick", "--max-train-samples", "1000",
                   "--precision", "float32", "--output", str(output)]
        workers.append((subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env), log))
    try:
        outcomes = [(process, process.communicate(timeout=300)[0], log) for process, log in workers]
    finally:  # whatever happened to one worker, none is left waiting for its peer
        for process, log in workers:
            process.kill()
            process.wait()
            log.close()
    for process, stdout, log in outcomes:
        assert process.returncode == 0, open(log.name).read()[-3000:]
        assert "Spread over 2 replicas with MultiWorkerMirroredStrategy." in stdout

    cards = [json.loads(output.with_suffix(".json").read_text()) for output in outputs]
    assert cards[0]["data"]["distribution"] == {"strategy": "MultiWorkerMirroredStrategy", "replicas": 2,
                                                "workers": 2}
    first, second = (load_model(output).get_weights() for output in outputs)
    assert all((a == b).all() for a, b in zip(first, second)), "synchronous training: both hold the same model"
    histories = [read_history_csv(output.with_suffix(".history.csv")) for output in outputs]
    assert histories[0]["val_accuracy"] == histories[1]["val_accuracy"], "validated on all images together"
    assert histories[0]["val_accuracy"][0] > 0.5, "one epoch of 1,000 images beats chance (10%) by far"
