# Two commands on a fresh machine with Python 3.11: `make lab` (opens the notebooks) and `make test`;
# `make app` serves the drawing pad as a page without code (Voilà).
VENV ?= .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# The offline MNIST copy beside the project, when there is one; otherwise the library downloads MNIST with Keras.
LOCAL_MNIST := $(firstword $(wildcard ../shared/data/mnist))
ifneq ($(LOCAL_MNIST),)
export NUMVISION_DATA_DIR ?= $(abspath $(LOCAL_MNIST))
endif
# Real handwriting (UNIPEN) beside the project, for training, the benchmark and notebook 06.
LOCAL_UNIPEN := $(firstword $(wildcard ../shared/data/unipen))
ifneq ($(LOCAL_UNIPEN),)
export NUMVISION_HANDWRITING_DIR ?= $(abspath $(LOCAL_UNIPEN))
endif

# `make app` listens on localhost only; for a class on the local network:
#   make app APP_ARGS="--Voila.ip=0.0.0.0 --no-browser --token"   (then hand out the printed address)
APP_PORT ?= 8866
APP_ARGS ?=
# 64 MiB: an uploaded photo reaches the kernel in one websocket message; past 10 MiB Tornado drops the connection.
# Voilà calls this dict form deprecated; the key=value form it suggests gives the size as text, which Tornado cannot use.
TORNADO_SETTINGS := {"websocket_max_message_size": 67108864}
# The interpreter the virtual environment is made from: `make lab PYTHON3=python3.11` where python3 is older.
PYTHON3 ?= python3

.PHONY: lab app test browser benchmarks clean-venv

# Arguments that make interpreter $(1) stop, saying what to do ($(2)), where it is older than pyproject.toml's 3.11.
python_3_11 = -c 'import sys; sys.exit(sys.version_info < (3, 11) and f"$(1) is Python {sys.version.split()[0]}; NumVision needs 3.11 or newer: $(2)")'

# Both checked before .venv is made: `python3 -m venv` keeps the interpreter of a .venv that is there already, so one
# made with an older Python would fail every install after it, whatever PYTHON3 says.
$(INSTALLED): pyproject.toml
	@$(PYTHON3) $(call python_3_11,$(PYTHON3),run make again with PYTHON3=python3.11)
	@[ ! -e $(PYTHON) ] || $(PYTHON) $(call python_3_11,$(PYTHON),run make clean-venv and then make again)
	$(PYTHON3) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e ".[lab,app,test]"
	touch $@

lab: $(INSTALLED)
	$(VENV)/bin/jupyter lab notebooks/ '--ServerApp.tornado_settings=$(TORNADO_SETTINGS)'

# The pad and the photo upload as a page, each visitor with a kernel of their own (the light one, no TensorFlow,
# where LiteRT is installed).
# Tracebacks on: the library's errors are one line that says what to do (a missing export, say).
app: $(INSTALLED)
	$(VENV)/bin/voila apps/draw.ipynb --port=$(APP_PORT) --show_tracebacks=True '--Voila.tornado_settings=$(TORNADO_SETTINGS)' $(APP_ARGS)

# The real-browser test drives Debian's Chromium; install it once if it is missing. Without apt-get (macOS,
# Fedora) the browser tests skip, so the other tests still run; CI (CI set), which must run them, stops here.
browser:
	@command -v chromium >/dev/null || { \
		if command -v apt-get >/dev/null; then \
			SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
			$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; \
		elif [ -n "$${CI:-}" ]; then \
			echo "Chromium not found, and no apt-get to install it: CI must run the real-browser tests" >&2; exit 1; \
		else \
			echo "Chromium not found, and no apt-get to install it: the real-browser tests will be skipped"; \
		fi; }

# Two workers, each taking whole files: a notebook's cells run in order in one kernel, and a file's shared
# fixtures (the benchmark writers' renderings) are made once. Much of the run renders strokes in Python, starts
# kernels and servers or waits on the browser, which one core does alone, so two workers overlap it.
TEST_WORKERS ?= 2

test: $(INSTALLED) browser
	NUMVISION_QUICK=1 $(PYTHON) -m pytest tests notebooks --nbval-lax -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15

benchmarks: $(INSTALLED)
	$(PYTHON) benchmarks/train_speed.py
	$(PYTHON) benchmarks/latency.py
	$(PYTHON) benchmarks/drawn_accuracy.py
	$(PYTHON) benchmarks/real_handwriting.py
	$(PYTHON) benchmarks/writing_styles.py
	$(PYTHON) benchmarks/not_a_digit.py
	$(PYTHON) benchmarks/light_kernel.py
	$(PYTHON) benchmarks/class_finetune.py
	$(PYTHON) benchmarks/class_finetune.py --class-style "1, flag 45%, 35 deg"
	$(PYTHON) benchmarks/class_finetune.py --class-style "7, crossbar, pen kept down"
	$(PYTHON) benchmarks/class_finetune.py --model models/numvision_plus.keras --part train_and_benchmark --fine-tune-students 20
	$(PYTHON) benchmarks/robustness.py

# To start again from an empty .venv: one made with an older Python, say (the venv rule names it then).
clean-venv:
	rm -rf $(VENV)
