import dataclasses
import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pandas
import pytest

from numvision_lib.errors import ConfigError, DataError
from numvision_lib.model import load_model
from numvision_lib.history import best_epoch_index, read_history_csv, write_history_csv
from numvision_lib import training
from numvision_lib.paths import write_text_atomic
from numvision_lib.training import TrainConfig, quick_mode_requested, train


class InterruptAtEpoch(keras.callbacks.Callback):
    """Simulates Ctrl-C (or a kernel restart) at the start of an epoch."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


@pytest.fixture(scope="module")
def tiny_run(mnist, tmp_path_factory):
    output = tmp_path_factory.mktemp("tiny") / "tiny.keras"
    # float32, so that the exported model reproduces the validation accuracy exactly (see the test below).
    return train(TrainConfig.quick(epochs=2, precision="float32"), mnist, output=output, verbose=0)


def test_tiny_training_beats_chance_and_writes_its_records(tiny_run, mnist):
    assert tiny_run.epochs_run == 2
    assert tiny_run.best_val_accuracy > 0.8, "3,000 images and two epochs reach well above chance (0.1)"
    assert tiny_run.model_path.is_file() and tiny_run.history_path.is_file()
    card = json.loads(tiny_run.card_path.read_text())
    assert card["parameters"] == 458_570
    assert card["config"]["max_train_samples"] == 3000 and card["epochs_run"] == 2
    assert card["data"]["train_images"] == 3000
    history = read_history_csv(tiny_run.history_path)
    assert history["epoch"] == [0, 1] and len(history["learning_rate"]) == 2
    assert max(history["val_accuracy"]) == pytest.approx(tiny_run.best_val_accuracy)
    assert not (tiny_run.model_path.parent / ".runs").exists(), "a finished run cleans up its scratch folder"


class ScrambleWeightsBeforeValidation(keras.callbacks.Callback):
    """Makes the epoch that it validates far worse than any before it."""

    def on_test_begin(self, logs=None):
        rng = np.random.default_rng(0)
        self.model.set_weights([rng.normal(size=w.shape).astype(w.dtype) for w in self.model.get_weights()])


def quick_validation_accuracy(model, mnist) -> float:
    """Accuracy on the 500 validation images of a `TrainConfig.quick()` run with seed 42."""
    from numvision_lib.data import stratified_split, stratified_subset, to_model_input

    _, _, x_val, y_val = stratified_split(mnist.x_train, mnist.y_train, 0.1, 42)
    x_val, y_val = stratified_subset(x_val, y_val, 500, 42)
    return float((model(to_model_input(x_val), training=False).numpy().argmax(axis=1) == y_val).mean())


def test_shipped_model_is_the_best_validation_epoch(tiny_run, mnist):
    for model in (tiny_run.model, load_model(tiny_run.model_path)):  # the file is what a student keeps
        assert quick_validation_accuracy(model, mnist) == pytest.approx(tiny_run.best_val_accuracy, abs=1e-6)


def test_epochs_that_tie_on_validation_accuracy_are_told_apart_by_validation_loss():
    history = {"val_accuracy": [0.990, 0.995, 0.993, 0.995], "val_loss": [0.030, 0.018, 0.015, 0.013]}
    assert best_epoch_index(history) == 3, "of the two epochs at 99.5%, the one with the lower loss"
    history["val_loss"][3] = 0.020
    assert best_epoch_index(history) == 1
    history["val_accuracy"][2] = 0.996
    assert best_epoch_index(history) == 2, "accuracy comes first, whatever the loss"


def test_a_diverged_epoch_is_never_the_best():
    nan = float("nan")
    assert best_epoch_index({"val_accuracy": [0.99, 0.99], "val_loss": [nan, 0.05]}) == 1
    assert best_epoch_index({"val_accuracy": [nan, 0.98], "val_loss": [nan, 0.05]}) == 1
    with pytest.raises(DataError, match="needs 'val_accuracy' and 'val_loss' for every epoch, and has 'loss'"):
        best_epoch_index({"loss": [0.3]})


def test_a_history_saved_again_by_a_spreadsheet_or_from_model_fit_reads_back(tmp_path):
    log = tmp_path / "history.csv"
    log.write_text("\ufeffepoch, val_accuracy\r\n0,0.9\r\n", encoding="utf-8")  # a byte order mark, a space
    assert read_history_csv(log) == {"epoch": [0], "val_accuracy": [0.9]}
    write_history_csv({"loss": [0.5, 0.3], "accuracy": [0.8, 0.9]}, log)  # Keras' History.history: no epochs
    assert read_history_csv(log) == {"epoch": [0, 1], "loss": [0.5, 0.3], "accuracy": [0.8, 0.9]}
    with pytest.raises(ConfigError, match="one value per epoch in every column; these have"):
        write_history_csv({"epoch": [0, 1], "loss": [0.5]}, log)
    log.write_text("")  # made by Keras' logger when training starts, before its first epoch ends
    assert read_history_csv(log) == {"epoch": []}
    # Keras' logger on Windows: its file is opened in text mode, so each of its \r\n lines ends in \r\r\n.
    log.write_bytes(b"epoch,val_accuracy,val_loss\r\r\n0,0.9,0.3\r\r\n1,0.95,0.2\r\r\n\n")
    history = read_history_csv(log)
    assert history == {"epoch": [0, 1], "val_accuracy": [0.9, 0.95], "val_loss": [0.3, 0.2]}
    assert best_epoch_index(pandas.DataFrame(history)) == 1  # a history read with pandas, too
    with pytest.raises(DataError, match=r"and has 'val_accuracy' \(2\), 'val_loss' \(1\)"):
        best_epoch_index({"val_accuracy": [0.9, 0.95], "val_loss": [0.3]})


def test_a_history_log_reads_back_and_its_last_row_for_an_epoch_wins(tmp_path):
    log = tmp_path / "history.csv"
    log.write_text("epoch,val_accuracy,val_loss\n0,0.9,0.3\n1,0.95,0.2\n1,0.96,0.1\n")
    assert read_history_csv(log) == {"epoch": [0, 1], "val_accuracy": [0.9, 0.96], "val_loss": [0.3, 0.1]}


@pytest.mark.parametrize("text, message", [
    ("epoch,val_accuracy\n0,0.9\n1,\n", "line 3 is not a row of numbers"),
    ("epoch,val_accuracy\n0,0.9\n1\n", "line 3 is not a row of numbers"),
    ("epoch,val_accuracy\n0,high\n", "line 2 is not a row of numbers"),
    ("loss,accuracy\n0.3,0.9\n", "not a training history"),
    ("epoch,val_accuracy\n0.5,0.9\n", "line 2 .*epoch 0.5 is not a whole number"),
    ("epoch,val_accuracy\ninf,0.9\n", "line 2 .*epoch inf is not a whole number"),
    ("epoch,val_accuracy\n0,0.9,0.8\n", "line 2 .*3 fields for 2 columns"),
], ids=["a cut row", "a row without its last field", "a word for a number", "no epoch column", "half an epoch",
        "an infinite epoch", "a field too many"])
def test_a_damaged_history_log_names_the_file_and_the_line(tmp_path, text, message):
    log = tmp_path / "history.csv"
    log.write_text(text)
    with pytest.raises(DataError, match=f"history.csv: .*{message}"):
        read_history_csv(log)


def test_interrupted_run_keeps_the_good_model_and_resumes(mnist, tmp_path):
    output = tmp_path / "model.keras"
    output.write_bytes(b"previous good model")
    config = TrainConfig.quick(epochs=2)
    with pytest.raises(KeyboardInterrupt):
        train(config, mnist, output=output, callbacks=[InterruptAtEpoch(1)], verbose=0)
    assert output.read_bytes() == b"previous good model", "an interrupted run never replaces the model"
    assert (tmp_path / ".runs" / "model" / "backup").is_dir()
    assert not (tmp_path / ".runs" / "model" / "running.lock").exists(), "only the lock goes: the next call resumes"
    # What the first call trained is kept with the run: here, as if it had taken 1,000 s.
    seconds = tmp_path / ".runs" / "model" / "train_seconds.txt"
    assert float(seconds.read_text()) > 0
    seconds.write_text("1000.0\n")

    resumed = train(config, mnist, output=output, verbose=0)
    assert resumed.resumed_from_epoch == 1
    assert resumed.history["epoch"] == [0, 1], "the first epoch is kept, the second is trained after resuming"
    assert output.read_bytes() != b"previous good model"
    card = json.loads(resumed.card_path.read_text())
    assert card["train_seconds"] == round(resumed.train_seconds, 1) and 1000 < resumed.train_seconds < 1300, (
        "the card's training time is the run's, not only the last call's")


def damage_backup(backup, part: str) -> None:
    """What a kill while Keras saves its backup leaves: a weights file cut in half, or metadata not yet written."""
    if part == "weights":
        weights = backup / "latest.weights.h5"
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    else:
        (backup / "training_metadata.json").write_text("")


@pytest.mark.parametrize("part", ["weights", "metadata"])
def test_a_backup_cut_off_while_saving_resumes_from_the_epoch_before(mnist, tmp_path, part):
    output = tmp_path / "model.keras"
    config = TrainConfig.quick(epochs=3, max_train_samples=300)
    with pytest.raises(KeyboardInterrupt):
        train(config, mnist, output=output, callbacks=[InterruptAtEpoch(2)], verbose=0)
    damage_backup(tmp_path / ".runs" / "model" / "backup", part)
    epochs = CountEpochs()
    resumed = train(config, mnist, output=output, callbacks=[epochs], verbose=0)
    assert epochs.epochs == 2, "the second epoch, whose backup was cut off, is trained again; the first is kept"
    assert resumed.resumed_from_epoch == 1, "after the epoch of the backup it resumed from, not the history's last"
    assert resumed.history["epoch"] == [0, 1, 2] and output.is_file()
    assert not (tmp_path / ".runs").exists()


@pytest.mark.parametrize("part", ["weights", "metadata"])
def test_a_backup_that_cannot_be_resumed_is_a_data_error_that_keeps_the_run(mnist, tmp_path, part):
    """With only one epoch backed up there is no earlier backup to fall back on: the run's folder is named, with
    what to do, and nothing in it or the published model is deleted behind the user's back."""
    output = tmp_path / "model.keras"
    output.write_bytes(b"previous good model")
    config = TrainConfig.quick(epochs=2, max_train_samples=300)
    with pytest.raises(KeyboardInterrupt):
        train(config, mnist, output=output, callbacks=[InterruptAtEpoch(1)], verbose=0)
    run = tmp_path / ".runs" / "model"
    damage_backup(run / "backup", part)
    kept = sorted(path.name for path in run.rglob("*"))
    with pytest.raises(DataError, match=r"\.runs/model: the backup of this interrupted run cannot be read .*"
                                        r"Delete the folder .*\.runs/model to train this run again from its first"):
        train(config, mnist, output=output, verbose=0)
    assert sorted(path.name for path in run.rglob("*")) == kept
    assert output.read_bytes() == b"previous good model"


class CountEpochs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1


def test_a_run_interrupted_while_publishing_is_published_not_trained_again(mnist, tmp_path, monkeypatch):
    """Keras deletes its backup when fit ends: a run stopped after that, while the model is being published, must
    not start from scratch on the next call (nor let fresh weights overwrite the best checkpoint)."""
    output = tmp_path / "model.keras"
    config = TrainConfig.quick(epochs=2)
    publish = training._calibrate_batch_norm_on_plain_images

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "_calibrate_batch_norm_on_plain_images", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(config, mnist, output=output, verbose=0)
    trained = read_history_csv(tmp_path / ".runs" / "model" / "history.csv")
    assert not output.exists() and trained["epoch"] == [0, 1]

    monkeypatch.setattr(training, "_calibrate_batch_norm_on_plain_images", publish)
    finished = tmp_path / ".runs" / "model" / "fit_finished.txt"
    recorded = finished.read_text()
    finished.write_text("about a minute")  # edited by hand
    with pytest.raises(DataError, match=r"fit_finished.txt: not a number of seconds \('about a minute'\).*"
                                        r"restart=True"):
        train(config, mnist, output=output, verbose=0)
    finished.write_text(recorded)
    epochs = CountEpochs()
    published = train(config, mnist, output=output, callbacks=[epochs], verbose=0)
    assert epochs.epochs == 0, "the finished training is published, not run again"
    assert published.history == trained and published.resumed_from_epoch == 2 and output.is_file()
    assert not (tmp_path / ".runs").exists()


def test_a_file_that_cannot_be_written_is_a_data_error_and_the_old_file_stays(tmp_path):
    (tmp_path / "not_a_folder").write_text("a file where a folder should be")
    with pytest.raises(DataError, match="cannot write .*not_a_folder/model.json: .*nothing that was there"):
        write_text_atomic(tmp_path / "not_a_folder" / "model.json", "{}")
    assert (tmp_path / "not_a_folder").read_text() == "a file where a folder should be"


def test_resumed_run_keeps_the_best_epoch_from_before_the_interruption(mnist, tmp_path):
    output = tmp_path / "model.keras"
    config = TrainConfig.quick(epochs=2, precision="float32")
    with pytest.raises(KeyboardInterrupt):
        train(config, mnist, output=output, callbacks=[InterruptAtEpoch(1)], verbose=0)
    resumed = train(config, mnist, output=output, callbacks=[ScrambleWeightsBeforeValidation()], verbose=0)
    assert resumed.history["val_accuracy"][1] < 0.5 < resumed.history["val_accuracy"][0]
    assert resumed.best_epoch == 1
    for model in (resumed.model, load_model(resumed.model_path)):  # the file is what a student keeps
        assert quick_validation_accuracy(model, mnist) == pytest.approx(resumed.best_val_accuracy, abs=1e-6)


def test_the_checkpoint_records_the_epoch_it_holds_which_a_resumed_run_may_log_again(tmp_path):
    """A run killed while its backup saves a new best epoch trains that epoch again: the log's row of the second
    attempt replaced the first, and the card described an earlier epoch than the weights published, while a later
    epoch better than that row but worse than the weights replaced them."""
    from numvision_lib.callbacks import BestEpochCheckpoint, saved_best_epoch

    log, best = tmp_path / "history.csv", tmp_path / "best.keras"
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

    def start_run():  # as `train` and Keras start each run, and a resumed one
        checkpoint = BestEpochCheckpoint(best, log)
        checkpoint.set_model(model)
        checkpoint.on_train_begin()
        return checkpoint

    checkpoint = start_run()

    def epoch(number, val_accuracy, val_loss, weights):
        model.layers[0].bias.assign([weights])  # stands for the weights this epoch trained
        with open(log, "a") as stream:  # what CSVLogger(append=True) writes for the epoch
            header = "epoch,val_accuracy,val_loss\n" if stream.tell() == 0 else ""
            stream.write(f"{header}{number},{val_accuracy},{val_loss}\n")
        checkpoint.on_epoch_end(number)

    def saved_weights():
        return float(keras.models.load_model(best).layers[0].bias.numpy()[0])

    epoch(0, 0.90, 0.30, 100.0)
    epoch(1, 0.95, 0.20, 111.0)  # the best: saved, then the kernel is killed while the backup saves
    checkpoint = start_run()
    epoch(1, 0.89, 0.35, 222.0)  # resumed from the backup of epoch 0: epoch 1 again
    epoch(2, 0.93, 0.25, 333.0)  # the log's best, but worse than the weights saved
    assert saved_weights() == 111.0
    history = read_history_csv(log)
    assert saved_best_epoch(best, history) == {"epoch": 1, "val_accuracy": 0.95, "val_loss": 0.20}
    record, pending = best.with_suffix(".json"), best.with_suffix(".pending.json")
    record_of_epoch_1, model_of_epoch_1 = record.read_text(), best.read_bytes()
    epoch(3, 0.96, 0.25, 444.0)
    assert saved_weights() == 444.0 and saved_best_epoch(best, read_history_csv(log))["epoch"] == 3
    assert not pending.exists()
    # Killed after the model's save, before its record: the record written before the model tells its epoch.
    pending.write_text(record.read_text())
    record.write_text(record_of_epoch_1)
    assert saved_best_epoch(best, history)["epoch"] == 3
    # Killed before the model's save: the record still fits the model, whatever the pending one says.
    best.write_bytes(model_of_epoch_1)
    assert saved_best_epoch(best, history) == {"epoch": 1, "val_accuracy": 0.95, "val_loss": 0.20}
    pending.unlink()

    record.unlink()  # a run folder from before the records: its log's best epoch
    assert saved_best_epoch(best, history) == {"epoch": 2, "val_accuracy": 0.93, "val_loss": 0.25}
    record.write_text('{"epoch": 1, "val_accuracy": "high"}')  # edited by hand
    with pytest.raises(DataError, match=r"best\.json: not a record of the best epoch .*which says which epoch "
                                        r"best\.keras holds\. Delete it to resume the run"):
        saved_best_epoch(best, history)


def test_a_resumed_run_publishes_the_card_of_the_weights_it_publishes(mnist, tmp_path):
    output = tmp_path / "model.keras"
    config = TrainConfig.quick(epochs=3, precision="float32")
    with pytest.raises(KeyboardInterrupt):
        train(config, mnist, output=output, callbacks=[InterruptAtEpoch(2)], verbose=0)
    first = read_history_csv(tmp_path / ".runs" / "model" / "history.csv")
    assert first["val_accuracy"][1] > first["val_accuracy"][0], "the second epoch is the best, and saved"
    # Killed while the second epoch's backup was saved: the run resumes after the first, and trains the second again.
    damage_backup(tmp_path / ".runs" / "model" / "backup", "weights")
    resumed = train(config, mnist, output=output, callbacks=[ScrambleWeightsBeforeValidation()], verbose=0)
    assert resumed.history["epoch"] == [0, 1, 2] and max(resumed.history["val_accuracy"][1:]) < 0.5
    assert resumed.best_epoch == 2 and resumed.best_val_accuracy == first["val_accuracy"][1]
    card = json.loads(resumed.card_path.read_text())
    assert card["best_epoch"] == 2 and card["metrics"]["val_accuracy"] == first["val_accuracy"][1]
    assert quick_validation_accuracy(load_model(output), mnist) == pytest.approx(card["metrics"]["val_accuracy"],
                                                                                 abs=1e-6)


def test_a_run_folder_from_before_the_best_epochs_record_is_published_by_its_log(mnist, tmp_path):
    output = tmp_path / "model.keras"
    config = TrainConfig.quick(epochs=2, max_train_samples=300)
    with pytest.raises(KeyboardInterrupt):
        train(config, mnist, output=output, callbacks=[InterruptAtEpoch(1)], verbose=0)
    (tmp_path / ".runs" / "model" / "best.json").unlink()
    resumed = train(config, mnist, output=output, verbose=0)
    best = best_epoch_index(resumed.history)
    assert resumed.best_epoch == best + 1 and resumed.best_val_accuracy == resumed.history["val_accuracy"][best]
    assert output.is_file() and not (tmp_path / ".runs").exists()


def test_the_run_time_estimate_comes_once_after_the_first_epoch_trained():
    from numvision_lib.callbacks import RunTimeEstimate

    def run(epochs, first_epoch, epoch_seconds):
        lines, now = [], [0.0]
        estimate = RunTimeEstimate(epochs, report=lines.append, clock=lambda: now[0])
        for epoch in range(first_epoch, epochs):
            estimate.on_epoch_begin(epoch)
            now[0] += epoch_seconds
            estimate.on_epoch_end(epoch)
        return lines

    assert run(16, 0, 127.0) == ["Epoch 1 of 16 took 2.1 min; at this pace the remaining 15 take about 32 min "
                                 "(early stopping may end the run sooner)."]
    # A resumed run times its own first epoch, not the run's.
    assert run(10, 6, 25.0) == ["Epoch 7 of 10 took 25 s; at this pace the remaining 3 take about 75 s (early "
                                "stopping may end the run sooner)."]
    assert run(1, 0, 5.0) == [] and run(5, 4, 5.0) == [], "nothing remains to estimate after the last epoch"


def test_changed_settings_keep_an_interrupted_run_until_restart_discards_it(mnist, tmp_path):
    """A student who changes a setting after stopping a long run must not lose its finished epochs unawares."""
    output, run = tmp_path / "model.keras", tmp_path / ".runs" / "model"
    with pytest.raises(KeyboardInterrupt):
        train(TrainConfig.quick(epochs=2, max_train_samples=300), mnist, output=output,
              callbacks=[InterruptAtEpoch(1)], verbose=0)
    changed = TrainConfig.quick(epochs=1, max_train_samples=300, learning_rate=2e-3)
    with pytest.raises(ConfigError, match=r"\.runs/model holds an interrupted run of this model with other settings "
                                          r"\(epochs: 2 there, 1 now; learning_rate: 0.001 there, 0.002 now\), of "
                                          r"which 1 epoch\(s\) finished\. To resume it, train again with its settings; "
                                          r"to discard it .* restart=True \(on the command line: --restart\)"):
        train(changed, mnist, output=output, verbose=0)
    assert read_history_csv(run / "history.csv")["epoch"] == [0] and (run / "backup").is_dir(), "kept as it was"

    fresh = train(changed, mnist, output=output, verbose=0, restart=True)
    assert fresh.resumed_from_epoch == 0 and fresh.history["epoch"] == [0] and not run.exists()


def test_an_interrupted_run_with_precision_auto_resumes_with_the_precision_it_chose(mnist, tmp_path, monkeypatch):
    """"auto" may time bfloat16 against float32 afresh in each process, and that test is noisy: after a kernel
    restart it could choose the other, and the run could then only be restarted, its finished epochs lost."""
    output = tmp_path / "model.keras"
    config = TrainConfig.quick(epochs=2, max_train_samples=300)
    assert config.precision == "auto"
    monkeypatch.setattr(training, "resolve_precision", lambda precision: ("float32", "the test in this process"))
    with pytest.raises(KeyboardInterrupt):
        train(config, mnist, output=output, callbacks=[InterruptAtEpoch(1)], verbose=0)
    monkeypatch.setattr(training, "resolve_precision", lambda precision: ("mixed_bfloat16", "the test after a restart"))
    # A precision given by name is a setting of its own: one that differs is refused, as any other setting.
    with pytest.raises(ConfigError, match=r"other settings \(precision: 'auto' there, 'mixed_bfloat16' now; "
                                          r"precision_used: 'float32' there, 'mixed_bfloat16' now\)"):
        train(dataclasses.replace(config, precision="mixed_bfloat16"), mnist, output=output, verbose=0)
    resumed = train(config, mnist, output=output, verbose=0)
    assert resumed.resumed_from_epoch == 1 and resumed.history["epoch"] == [0, 1]
    assert json.loads(resumed.card_path.read_text())["precision_used"] == "float32"


def test_a_run_that_lost_its_history_is_refused_until_restart(mnist, tmp_path):
    """Resumed without it, the card said "Epochs run: 1 ... best epoch: 2", and the first resumed epoch replaced the
    best one; with other settings the run was discarded as one without a finished epoch."""
    output, run = tmp_path / "model.keras", tmp_path / ".runs" / "model"
    config = TrainConfig.quick(epochs=2, max_train_samples=300)
    with pytest.raises(KeyboardInterrupt):
        train(config, mnist, output=output, callbacks=[InterruptAtEpoch(1)], verbose=0)
    (run / "history.csv").unlink()
    kept = sorted(path.name for path in run.rglob("*"))
    for settings in (config, dataclasses.replace(config, seed=7)):
        with pytest.raises(DataError, match=r"\.runs/model holds an interrupted run of this model that has lost its "
                                            r"history \(history.csv, .*\), so it cannot be resumed\. To discard it and "
                                            r"start afresh, pass restart=True \(on the command line: --restart\)"):
            train(settings, mnist, output=output, verbose=0)
    assert sorted(path.name for path in run.rglob("*")) == kept and not output.exists()
    fresh = train(config, mnist, output=output, verbose=0, restart=True)
    assert fresh.resumed_from_epoch == 0 and fresh.history["epoch"] == [0, 1]


def test_the_run_clock_adds_each_call_to_what_the_calls_before_recorded(tmp_path):
    from numvision_lib.callbacks import RunClock

    now, record = [100.0], tmp_path / "train_seconds.txt"
    first = RunClock(record, clock=lambda: now[0])
    first.on_train_begin()
    now[0] += 30
    first.on_epoch_end(0)
    now[0] += 20  # interrupted in its second epoch: what it trained after the first is not recorded
    second = RunClock(record, clock=lambda: now[0])
    second.on_train_begin()
    now[0] += 25
    assert second.seconds == 55.0
    for damaged in ("", "soon", "nan", "-3"):
        record.write_text(damaged)
        with pytest.raises(DataError, match=r"train_seconds.txt: not a number of seconds .*Delete it to resume the "
                                            r"run .*or pass restart=True"):
            RunClock(record)


def test_an_interrupted_run_without_a_finished_epoch_gives_way_to_other_settings(mnist, tmp_path):
    output = tmp_path / "model.keras"
    with pytest.raises(KeyboardInterrupt):
        train(TrainConfig.quick(epochs=2, max_train_samples=300), mnist, output=output,
              callbacks=[InterruptAtEpoch(0)], verbose=0)
    fresh = train(TrainConfig.quick(epochs=1, max_train_samples=300, seed=7), mnist, output=output, verbose=0)
    assert fresh.resumed_from_epoch == 0 and fresh.history["epoch"] == [0]


def test_restart_discards_an_interrupted_run_with_the_same_settings(mnist, tmp_path):
    output, config = tmp_path / "model.keras", TrainConfig.quick(epochs=2, max_train_samples=300)
    with pytest.raises(KeyboardInterrupt):
        train(config, mnist, output=output, callbacks=[InterruptAtEpoch(1)], verbose=0)
    fresh = train(config, mnist, output=output, verbose=0, restart=True)
    assert fresh.resumed_from_epoch == 0 and fresh.history["epoch"] == [0, 1]


HOLD_RUN_LOCK_SCRIPT = """
import sys
from pathlib import Path
from numvision_lib.training import _run_folder_lock
with _run_folder_lock(Path(sys.argv[1])):
    print("holding", flush=True)
    sys.stdin.read()
"""


def test_a_second_run_of_the_same_output_is_refused_until_the_first_ends(mnist, tmp_path):
    """Two kernels training the same output used to join one run folder: the second resumed the first's epochs
    while it still trained, published, deleted the folder, and the first then failed on a missing history."""
    output, run = tmp_path / "model.keras", tmp_path / ".runs" / "model"
    config = TrainConfig.quick(epochs=1, max_train_samples=300)
    first = subprocess.Popen([sys.executable, "-c", HOLD_RUN_LOCK_SCRIPT, str(output)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline() == "holding\n"
        with pytest.raises(ConfigError, match=rf"model.keras is being trained by another process \(pid {first.pid} on "
                                              rf"host {socket.gethostname()}, started .+\)\. Wait for it to finish, or "
                                              r"give this run another output\."):
            train(config, mnist, output=output, verbose=0)
        assert [path.name for path in run.iterdir()] == ["running.lock"], "the first run's folder is left alone"
    finally:
        first.kill()  # like a kernel that is killed: its lock file stays behind, but not its lock
        first.wait()
    assert (run / "running.lock").is_file()

    epochs = CountEpochs()
    after_it = train(config, mnist, output=output, callbacks=epochs, verbose=0)  # one callback, not in a list
    assert epochs.epochs == 1 and after_it.model_path.is_file() and not (tmp_path / ".runs").exists()


def test_a_lock_file_that_no_process_holds_stops_no_run(mnist, tmp_path):
    """What a killed run leaves, even half written: the lock is the operating system's, not the file's."""
    output, run = tmp_path / "model.keras", tmp_path / ".runs" / "model"
    config = TrainConfig.quick(epochs=1, max_train_samples=300)
    run.mkdir(parents=True)
    (run / "running.lock").write_text('{"pid": 1234, "host": "lab-pc-7", "sta')
    # An interrupted run with other settings and a finished epoch: refused for itself, not for the lock.
    (run / "config.json").write_text("{}")
    (run / "history.csv").write_text("epoch,val_accuracy,val_loss\n0,0.9,0.3\n")
    with pytest.raises(ConfigError, match="holds an interrupted run of this model with other settings"):
        train(config, mnist, output=output, verbose=0)
    assert sorted(path.name for path in run.iterdir()) == ["config.json", "history.csv"], "only the lock goes"
    assert train(config, mnist, output=output, verbose=0, restart=True).model_path.is_file()


@pytest.mark.parametrize("protected", ["model.keras", "model.json", "model.history.csv"])
def test_an_output_that_cannot_be_replaced_is_refused_before_any_work(mnist, tmp_path, monkeypatch, earlier_run,
                                                                      protected):
    """Found only when the model was saved, after the whole training; and a read-only card left the new model under
    the earlier run's card, credited with its figures."""
    def work_started(*arguments, **settings):
        raise AssertionError("training began before the outputs were checked")

    monkeypatch.setattr(training, "_train_holding_lock", work_started)
    refusal, unchanged = earlier_run("model", protected)
    with pytest.raises(DataError, match=refusal):
        train(TrainConfig.quick(), mnist, output=tmp_path / "model.keras")
    assert unchanged()


def test_a_run_never_replaces_a_digit_check(mnist, tmp_path, monkeypatch, shipped_model_path):
    """`train --output models/checks/digit_check.keras` replaced the pad's check and its card with a digit model,
    without a word."""
    import re
    import shutil

    from numvision_lib.model_card import DIGIT_CHECK_PATH

    def work_started(*arguments, **settings):
        raise AssertionError("training began before the output was checked")

    monkeypatch.setattr(training, "_train_holding_lock", work_started)
    check = tmp_path / "digit_check.keras"
    shutil.copy(DIGIT_CHECK_PATH, check)
    shutil.copy(DIGIT_CHECK_PATH.with_suffix(".json"), check.with_suffix(".json"))
    refusal = re.escape("digit_check.keras is a digit check, not a digit model: the trained model would replace it "
                        "and its card. Choose another output file.")
    with pytest.raises(ConfigError, match=refusal):
        train(TrainConfig.quick(), mnist, output=check)
    check.with_suffix(".json").unlink()  # without its card, the check says what it is: one output
    with pytest.raises(ConfigError, match=refusal.replace(re.escape(" and its card"), "") + "$"):
        train(TrainConfig.quick(), mnist, output=check)
    assert check.read_bytes() == DIGIT_CHECK_PATH.read_bytes()
    # A digit model replaces a digit model: the run goes on to train.
    shutil.copy(shipped_model_path, tmp_path / "model.keras")
    with pytest.raises(AssertionError, match="training began"):
        train(TrainConfig.quick(), mnist, output=tmp_path / "model.keras")


def test_train_refuses_a_config_or_callbacks_of_the_wrong_kind_before_any_work(mnist, tmp_path):
    from numvision_lib.callbacks import LiveLearningCurve

    output = tmp_path / "model.keras"
    with pytest.raises(ConfigError, match=r"config is a TrainConfig, such as TrainConfig.quick\(epochs=2\) .*not dict"):
        train({"epochs": 1}, mnist, output=output)
    for callbacks, given in [(3, "int"), ([LiveLearningCurve], "a list holding the class LiveLearningCurve")]:
        with pytest.raises(ConfigError, match=rf"callbacks is a list of Keras callbacks, such as "
                                              rf"\[LiveLearningCurve\(\)\], not {given}$"):
            train(TrainConfig.quick(), mnist, output=output, callbacks=callbacks)
    # A UNIPEN folder for a run that would not read it: an MNIST-only model for a user who meant UNIPEN.
    with pytest.raises(ConfigError, match=r"handwriting_dir, a UNIPEN folder, is read only by a run on real "
                                          r"handwriting \(real_handwriting='unipen'\): choose that too"):
        train(TrainConfig.quick(), mnist, output=output, handwriting_dir=tmp_path)
    # Were a raw AttributeError and TypeError.
    with pytest.raises(ConfigError, match=r"data is MNIST as load_mnist\(\) gives it, or None to load it there; not "
                                          r"tuple$"):
        train(TrainConfig.quick(), (mnist.x_train, mnist.y_train), output=output)
    with pytest.raises(ConfigError, match="give the path of the model file to write, such as my_models/my_model.keras, "
                                          "not 123"):
        train(TrainConfig.quick(), mnist, output=123)
    assert list(tmp_path.iterdir()) == [], "no interrupted-run folder is left behind"


DEFAULT_OUTPUT_SCRIPT = """
from numvision_lib.training import TrainConfig, train
print(train(TrainConfig.quick(max_train_samples=300), verbose=0).model_path)
"""


def test_train_without_an_output_writes_my_models_not_the_shipped_model(tmp_path, shipped_model_path):
    shipped = shipped_model_path.stat()
    # A subprocess: my_models/ is chosen when the library is imported, from NUMVISION_MY_MODELS_DIR.
    result = subprocess.run([sys.executable, "-c", DEFAULT_OUTPUT_SCRIPT], capture_output=True, text=True,
                            timeout=600, env={**os.environ, "NUMVISION_MY_MODELS_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path / "my_numvision_cnn.keras")
    assert (tmp_path / "my_numvision_cnn.keras").is_file() and (tmp_path / "my_numvision_cnn.json").is_file()
    after = shipped_model_path.stat()
    assert (after.st_mtime_ns, after.st_size) == (shipped.st_mtime_ns, shipped.st_size), "models/ is left alone"


def test_numpy_numbers_in_the_config_are_stored_as_python_numbers():
    """A sweep over np.arange gives NumPy numbers: json could not write them into the run's settings or its card."""
    config = TrainConfig(batch_size=np.int64(64), epochs=np.int32(2), learning_rate=np.float64(0.002),
                         seed=np.int64(7), max_train_samples=np.int16(300), min_learning_rate=0)
    settings = config.to_dict()
    assert json.loads(json.dumps(settings)) == settings
    assert [type(settings[name]) for name in ("batch_size", "epochs", "seed", "max_train_samples")] == [int] * 4
    assert type(config.learning_rate) is float and type(config.min_learning_rate) is float
    assert config == TrainConfig(batch_size=64, epochs=2, learning_rate=0.002, seed=7, max_train_samples=300,
                                 min_learning_rate=0.0)


DETERMINISM_SCRIPT = """
import sys, numpy as np
from numvision_lib.data import load_mnist
from numvision_lib.training import TrainConfig, train
data = load_mnist()
config = TrainConfig.quick(deterministic=True, max_train_samples=1000)
weights = [train(config, data, output=f"{sys.argv[1]}/run{i}.keras", verbose=0).model.get_weights() for i in (1, 2)]
print(all(np.array_equal(a, b) for a, b in zip(*weights)))
"""


def test_same_seed_with_determinism_gives_identical_weights(tmp_path):
    # A subprocess, because op determinism cannot be switched off again in this test process.
    result = subprocess.run(
        [sys.executable, "-c", DETERMINISM_SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "True"


def test_mixed_precision_training_ships_a_float32_model(mnist, tmp_path):
    run = train(TrainConfig.quick(precision="mixed_bfloat16"), mnist, output=tmp_path / "bf16.keras", verbose=0)
    assert run.model.dtype_policy.name == "float32"
    assert all(w.dtype == "float32" for w in run.model.weights)
    card = json.loads(run.card_path.read_text())
    assert card["precision_used"] == "mixed_bfloat16" and run.best_val_accuracy > 0.8


def test_a_mixed_float16_run_publishes_its_weights_without_a_warning_about_its_optimizer(mnist, tmp_path, recwarn):
    """Every mixed_float16 run (what precision "auto" picks on a GPU with tensor cores) ended with Keras' "Skipping
    variable loading for optimizer 'adam'": the checkpoint was loaded with its loss-scale optimizer, of which only the
    weights were ever used, and students feared the model broken."""
    run = train(TrainConfig.quick(precision="mixed_float16", max_train_samples=300), mnist,
                output=tmp_path / "fp16.keras", verbose=0)
    assert not [warning for warning in recwarn if "Skipping variable loading" in str(warning.message)]
    assert run.model.dtype_policy.name == "float32" and json.loads(run.card_path.read_text())["precision_used"] == \
        "mixed_float16"


def test_an_epoch_counts_its_last_smaller_batch_as_a_step():
    assert training.steps_per_epoch(54_000, 128) == 422  # 421 batches of 128 and one of 112: Keras prints 422/422
    assert training.steps_per_epoch(3000, 128) == 24 and training.steps_per_epoch(256, 128) == 2
    assert training.steps_per_epoch(100, 128) == 1


def test_cosine_schedule_decays_the_learning_rate(mnist, tmp_path, monkeypatch):
    """Over the steps `steps_per_epoch` counts, the one rule by which exercises 02-4 and 03-7 judge the answers."""
    counted, rule = [], training.steps_per_epoch

    def counting(images, batch_size):
        counted.append((images, batch_size))
        return rule(images, batch_size)

    monkeypatch.setattr(training, "steps_per_epoch", counting)
    config = TrainConfig.quick(epochs=2, schedule="cosine", max_train_samples=1000)
    run = train(config, mnist, output=tmp_path / "cosine.keras", verbose=0)
    rates = run.history["learning_rate"]
    assert rates[0] < config.learning_rate and rates[1] < rates[0] / 10
    assert counted == [(json.loads(run.card_path.read_text())["data"]["train_images"], config.batch_size)]


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"epochs": 0}, "epochs must be between 1 and 1,000"),
        ({"batch_size": 0}, "batch_size must be between 1 and 60,000"),
        # Refused here, before a run splits the data and writes its folder, not as a raw TensorFlow error in train.
        ({"batch_size": 10**20}, "batch_size must be between 1 and 60,000"),
        # A typo's extra zeros: a run that cannot end, or a cosine schedule's step count beyond TensorFlow's integers.
        ({"epochs": 10**30}, "epochs must be between 1 and 1,000"),
        ({"handwriting_copies": 0}, "handwriting_copies must be between 1 and 10"),
        ({"handwriting_copies": 300}, "handwriting_copies must be between 1 and 10"),
        ({"architecture": "vgg"}, "architecture must be one of"),
        ({"optimizer": "rmsprop"}, "optimizer must be one of adam, sgd"),
        ({"augmentation": "mixup"}, "augmentation must be one of"),
        ({"validation_fraction": 0.9}, "validation_fraction"),
        ({"schedule": "step"}, "schedule must be one of plateau, cosine"),
        ({"precision": "float16"}, "precision must be one of"),
        ({"handwriting_styles": True}, "handwriting_styles draws real handwriting: it needs real_handwriting='unipen'"),
        # Recorded in the card of a run on MNIST alone, as if it had been drawn.
        ({"handwriting_copies": 5}, "handwriting_copies draws real handwriting: it needs real_handwriting='unipen'"),
        # What the command line and notebooks would otherwise meet as raw numpy, Keras or scikit-learn errors.
        ({"epochs": "10"}, "epochs must be a whole number, found '10'"),
        ({"epochs": 2.5}, "epochs must be a whole number, found 2.5"),
        ({"epochs": True}, "epochs must be a whole number, found True"),
        ({"batch_size": None}, "batch_size must be a whole number, found None"),
        ({"learning_rate": "fast"}, "learning_rate must be a number"),
        ({"deterministic": 1}, "deterministic must be True or False"),
        ({"reduce_lr_factor": 2.0}, "reduce_lr_factor must be between 0 and 1"),
        ({"reduce_lr_factor": 1}, "reduce_lr_factor must be between 0 and 1"),
        ({"seed": -1}, r"the seed must be a whole number from 0 to 4294967295, not -1"),
        ({"seed": 2**32}, r"the seed must be a whole number from 0 to 4294967295, not 4294967296"),
        ({"min_learning_rate": -1}, "min_learning_rate must be between 0 and learning_rate"),
        ({"early_stopping_patience": -5}, "early_stopping_patience must be at least 0"),
        ({"reduce_lr_patience": -1}, "reduce_lr_patience must be at least 0"),
        ({"validation_fraction": 0.0001}, "validation_fraction must be between 0.002 and 0.5: at least 10 "
                                          "validation images of each digit"),
        ({"validation_fraction": float("nan")}, "validation_fraction must be a number, found nan"),
        ({"learning_rate": float("inf")}, "learning_rate must be a number, found inf"),
        ({"max_train_samples": 99.5}, "max_train_samples must be a whole number"),
    ],
)
def test_invalid_configuration_is_refused(settings, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**settings)


def test_the_settings_of_real_handwriting_are_taken_with_it_or_at_their_defaults():
    assert TrainConfig(handwriting_copies=3, handwriting_styles=False).real_handwriting == "none"
    config = TrainConfig(real_handwriting="unipen", handwriting_copies=5, handwriting_styles=True)
    assert (config.handwriting_copies, config.handwriting_styles) == (5, True)


def test_a_misspelt_setting_names_the_right_ones():
    for make in (lambda: TrainConfig(epoch=2), lambda: TrainConfig.quick(learnin_rate=0.01)):
        with pytest.raises(ConfigError, match=r"TrainConfig has no setting '(epoch|learnin_rate)' \(did you mean "
                                              r"(epochs|learning_rate)\?\); its settings are: architecture, epochs,"):
            make()


def test_the_limits_of_the_configuration_are_accepted_and_train(mnist):
    """The smallest validation share allowed leaves the stratified splits enough images of every digit, also with
    a subset that is nearly all of the training images (scikit-learn needs at least one of each digit left over)."""
    from numvision_lib.data import MNIST_TRAINING_IMAGES

    config = TrainConfig(validation_fraction=training.MIN_VALIDATION_FRACTION, seed=2**32 - 1,
                         early_stopping_patience=0, reduce_lr_patience=0, min_learning_rate=0)
    x_train, y_train, x_val, y_val = training._split_for_training(mnist, config)
    assert np.bincount(y_val).min() >= training.MIN_VALIDATION_IMAGES_PER_DIGIT and len(x_val) == len(y_val)
    nearly_all = round(MNIST_TRAINING_IMAGES * 0.9) - 5
    x_train, y_train, x_val, y_val = training._split_for_training(
        mnist, TrainConfig(max_train_samples=nearly_all))
    assert len(y_train) == nearly_all and len(y_val) == int(nearly_all * 0.1) and np.bincount(y_train).min() > 4800


def test_quick_mode_from_environment(monkeypatch):
    monkeypatch.setenv("NUMVISION_QUICK", "1")
    assert quick_mode_requested()
    monkeypatch.setenv("NUMVISION_QUICK", "0")
    assert not quick_mode_requested()


def test_augmentations_keep_shapes_and_ink(mnist):
    from numvision_lib.pipeline import make_dataset

    for augmentation in ("geometric", "drawing"):
        images, labels = next(iter(make_dataset(mnist.x_train[:64], mnist.y_train[:64], 64, True, augmentation)))
        assert images.shape == (64, 28, 28, 1) and labels.shape == (64,)
        assert 0.0 <= float(np.min(images)) and float(np.max(images)) <= 1.0
        assert float(np.min(np.max(images, axis=(1, 2, 3)))) > 0.5, "every augmented digit keeps its ink"


def test_augmenters_take_numpy_seeds_and_refuse_none(mnist):
    """Keras' layers refuse a NumPy seed ("seed must be an integer. Received: seed=7"), and None failed on seed + 1."""
    from numvision_lib.pipeline import make_augmenter

    images = mnist.x_train[:8, :, :, np.newaxis].astype(np.float32) / 255
    for augmentation in ("geometric", "drawing"):
        assert make_augmenter(augmentation, np.int64(7))(images, mnist.y_train[:8]).shape == images.shape
        with pytest.raises(ConfigError, match="the seed must be a whole number from 0 to 4294967295, not None"):
            make_augmenter(augmentation, None)


def test_pipeline_runs_without_the_autotuning_thread_that_stalls_each_epoch(mnist):
    from numvision_lib.pipeline import make_dataset

    dataset = make_dataset(mnist.x_train[:256], mnist.y_train[:256], 128, True, "drawing")
    assert dataset.options().autotune.enabled is False
    assert sum(len(labels) for _, labels in dataset) == 256, "every image once per pass"


def test_handwriting_warp_changes_shape_but_keeps_the_digit_in_place(mnist):
    from numvision_lib.pipeline import random_handwriting_warp

    images = mnist.x_train[:200, :, :, np.newaxis].astype(np.float32) / 255
    warped = random_handwriting_warp(images, seed=3).numpy()
    rows = np.arange(28)[None, :, None, None]

    def centre_row(batch):
        return (batch * rows).sum(axis=(1, 2, 3)) / batch.sum(axis=(1, 2, 3))

    assert np.abs(warped - images).mean() > 0.02, "the warp changes the images"
    assert np.abs(centre_row(warped) - centre_row(images)).max() < 4, "digits stay near where they were"
    ink_ratio = warped.sum(axis=(1, 2, 3)) / images.sum(axis=(1, 2, 3))
    assert 0.5 < ink_ratio.min() and ink_ratio.max() < 1.8, "no digit is cut off or smeared out"
    assert warped.max() <= 1.0 and warped.min() >= 0.0


def test_european_ones_get_a_flag_at_the_top_left_and_other_digits_stay_untouched(mnist):
    from numvision_lib.pipeline import random_european_ones

    labels = mnist.y_train[:300]
    images = mnist.x_train[:300, :, :, np.newaxis].astype(np.float32) / 255
    written = random_european_ones(images, labels, seed=3, probability=1.0).numpy()

    others = labels != 1
    np.testing.assert_array_equal(written[others], images[others])
    added = written[~others] - images[~others]
    assert np.mean(added.sum(axis=(1, 2, 3)) > 2) > 0.9, "nearly every 1 gains a visible flag"
    assert written.max() <= 1.0
    ones, added_ones = images[~others, :, :, 0], added[..., 0]
    top_rows = [np.flatnonzero(image.max(axis=1) > 0.3)[0] for image in ones]
    columns, upper_half = np.arange(28), (np.arange(28)[:, None] < 14)
    starts_at_top, hangs_left = [], []
    for image, extra, top in zip(ones, added_ones, top_rows):
        flag_rows = np.flatnonzero(extra.max(axis=1) > 0.3)
        starts_at_top.append(flag_rows.size > 0 and flag_rows.min() <= top + 3)
        flag = extra * upper_half
        top_x = (image[top] * columns).sum() / image[top].sum()
        hangs_left.append(flag.sum() > 0 and (flag * columns).sum() / flag.sum() < top_x)
    # A few flags hide inside a thick stroke; the others leave it near its top, towards the left.
    assert np.mean(starts_at_top) > 0.9 and np.mean(hangs_left) > 0.9


def test_european_ones_come_at_the_given_rate(mnist):
    from numvision_lib.pipeline import random_european_ones

    ones = mnist.x_train[mnist.y_train == 1][:400, :, :, np.newaxis].astype(np.float32) / 255
    written = random_european_ones(ones, np.ones(len(ones), np.int32), seed=5, probability=0.4).numpy()
    changed = (np.abs(written - ones).sum(axis=(1, 2, 3)) > 0).mean()
    assert 0.3 < changed < 0.5, "about 40% of the 1s get a flag"


def test_drawing_augmentation_draws_thickness_and_tilt_independently():
    """Each step of the drawing augmentation needs random numbers of its own. Inside tf.data, random ops
    with the same seed draw the same numbers: then every thickened digit is also rotated the same way."""
    from numvision_lib.hardware import set_seeds
    from numvision_lib.pipeline import make_dataset

    set_seeds(7)
    count = 2048
    bars = np.zeros((count, 28, 28), np.uint8)
    bars[:, 6:22, 12:15] = 255  # an upright bar three pixels wide: a 1 without any slant
    batch, _ = next(iter(make_dataset(bars, np.zeros(count, np.int32), count, False, "drawing", seed=7)))
    augmented = batch.numpy()[..., 0]
    rows, columns = np.mgrid[0:28, 0:28]
    ink = augmented.sum(axis=(1, 2))
    x_centre = (augmented * columns).sum(axis=(1, 2)) / ink
    y_centre = (augmented * rows).sum(axis=(1, 2)) / ink
    dx, dy = columns - x_centre[:, None, None], rows - y_centre[:, None, None]
    xx, yy, xy = ((augmented * product).sum(axis=(1, 2)) / ink for product in (dx * dx, dy * dy, dx * dy))
    # From the second moments: how far the bar leans from vertical, and its width (ink over length).
    lean = np.arctan2(2 * xy, yy - xx)
    length = np.sqrt(12 * ((xx + yy) / 2 + np.sqrt(((xx - yy) / 2) ** 2 + xy**2)))
    width = ink / length
    assert np.std(lean) > 0.2 and np.std(width) > 0.5, "bars lean and thicken by different amounts"
    assert abs(np.corrcoef(width, lean)[0, 1]) < 0.1


def test_batch_normalised_model_is_published_with_calibrated_statistics(mnist, tmp_path):
    run = train(TrainConfig.quick(architecture="numvision_plus", epochs=1, precision="float32"), mnist,
                output=tmp_path / "plus.keras", verbose=0)
    calibration = json.loads(run.card_path.read_text())["batch_norm_calibration"]
    assert calibration == run.batch_norm_calibration and calibration["images"] == 3000
    # After one short epoch the moving statistics lag far behind the weights; calibrating repairs that.
    assert calibration["val_accuracy_before"] == pytest.approx(run.best_val_accuracy, abs=1e-6)
    assert calibration["val_accuracy_after"] > max(0.8, calibration["val_accuracy_before"])
    assert quick_validation_accuracy(run.model, mnist) == pytest.approx(calibration["val_accuracy_after"], abs=1e-6)
    assert quick_validation_accuracy(load_model(run.model_path), mnist) == pytest.approx(
        calibration["val_accuracy_after"], abs=1e-6), "the published file holds the calibrated statistics"


def test_real_handwriting_joins_training_and_validation_by_writer(mnist, tmp_path):
    from numvision_lib.handwriting import digit_split, person_of
    from numvision_lib.model_card import REAL_HANDWRITING_VAL_ACCURACY, ModelCard
    from numvision_lib.training import load_real_handwriting

    config = TrainConfig.quick(real_handwriting="unipen", handwriting_copies=2, precision="float32")
    real = load_real_handwriting(config)
    split = digit_split()
    train_people = {sample.person for sample in split["train"]}
    benchmark_people = {sample.person for sample in split["benchmark"]}
    drawn_people = {person_of(writer) for writer in real.training.writer_ids}
    validation_people = {person_of(writer) for writer in real.validation.writer_ids}
    assert drawn_people <= train_people and not (drawn_people | validation_people) & benchmark_people
    assert not drawn_people & validation_people, "no writer on both sides"
    assert len(real.training) == 2 * real.training_digits and real.training.model_inputs.shape[1:] == (28, 28)
    styled = load_real_handwriting(dataclasses.replace(config, handwriting_styles=True))
    np.testing.assert_array_equal(styled.validation.model_inputs, real.validation.model_inputs)
    np.testing.assert_array_equal(styled.training.labels, real.training.labels)
    assert not np.array_equal(styled.training.model_inputs, real.training.model_inputs)

    run = train(config, mnist, output=tmp_path / "real.keras", verbose=0)
    card = ModelCard.load(run.card_path)
    entry = card.data["real_handwriting"]
    assert entry["train_images"] == len(real.training) and "CC BY 4.0" in entry["source"]
    assert card.data["train_images"] == 3000 + entry["train_images"]
    assert card.metrics[REAL_HANDWRITING_VAL_ACCURACY] > 0.5, "one epoch already reads most real digits"
    assert "real handwriting" in card.summary()


def test_a_live_curve_given_to_a_second_run_draws_that_run_alone_in_its_own_output(monkeypatch):
    """It drew both runs as one zig-zag curve, [0, 1, 0, 1], into the first run's output cell."""
    import IPython.display

    from numvision_lib.callbacks import LiveLearningCurve

    class Output:
        def update(self, figure):
            pass

    outputs = []
    monkeypatch.setattr(IPython.display, "display", lambda figure, display_id: outputs.append(Output()) or outputs[-1])
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    data = np.random.default_rng(0).random((32, 4)), np.arange(32) % 10
    curve = LiveLearningCurve()
    for run in (1, 2):
        model.fit(*data, epochs=2, verbose=0, callbacks=[curve])
        assert curve._history["epoch"] == [0, 1] and len(outputs) == run, "each run in an output of its own"


def test_make_dataset_takes_mnist_pixels_one_label_each_and_a_batch_size():
    from numvision_lib.pipeline import make_dataset

    images, labels = np.zeros((4, 28, 28), np.uint8), np.arange(4)
    for wrong_images, message in [(images.astype(np.float32) / 255, "uint8 images \\(N, 28, 28\\), not float32"),
                                  (images[..., None], "of shape \\(4, 28, 28, 1\\)")]:
        with pytest.raises(ConfigError, match=message):
            make_dataset(wrong_images, labels)
    with pytest.raises(ConfigError, match="one label per image: 4 images, but labels of shape \\(3,\\)"):
        make_dataset(images, labels[:3])
    for batch_size in (0, 4.0):
        with pytest.raises(ConfigError, match="the batch size is a whole number of images, at least 1"):
            make_dataset(images, labels, batch_size)
    for seed in (None, -1):  # None would shuffle differently each run
        with pytest.raises(ConfigError, match=f"the seed must be a whole number from 0 to 4294967295, not {seed}"):
            make_dataset(images, labels, shuffle=True, seed=seed)
    # A batch beyond TensorFlow's integers is all the images, as any batch larger than them is.
    assert [len(batch_labels) for _, batch_labels in make_dataset(images, labels, 10**20)] == [4]
    batch, batch_labels = next(iter(make_dataset(images, list(labels), 4)))  # labels as a plain list
    assert batch.shape == (4, 28, 28, 1) and batch_labels.numpy().tolist() == [0, 1, 2, 3]


def test_the_live_curve_follows_a_resumed_run_and_never_stops_it():
    """A resumed run's points sit at its epochs; a metric logged only every other epoch (validation_freq) or a
    value that is no number used to raise inside `fit`, stopping the run the curve was drawing."""
    from numvision_lib.callbacks import LiveLearningCurve
    from numvision_lib.plots import plot_history

    class LogsText(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["note"] = "text"

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    data = np.random.default_rng(0).random((32, 4)), np.arange(32) % 10
    curve = LiveLearningCurve()
    model.fit(*data, validation_data=data, validation_freq=2, initial_epoch=2, epochs=4, verbose=0,
              callbacks=[LogsText(), curve])
    history = curve._history
    assert history["epoch"] == [2, 3] and "note" not in history
    assert np.isnan(history["val_loss"][0]) and not np.isnan(history["val_loss"][1])
    loss_panel = plot_history(history).axes[0]
    assert [list(line.get_xdata()) for line in loss_panel.lines] == [[3, 4], [3, 4]], "epochs as Keras shows them"
