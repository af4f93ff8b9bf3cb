# Two commands on a fresh machine with Python 3.11: `make lab` (opens the notebooks) and `make test`.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# The offline MNIST copy beside the project, when there is one; otherwise the library downloads MNIST with Keras.
LOCAL_MNIST := $(firstword $(wildcard ../shared/data/mnist))
ifneq ($(LOCAL_MNIST),)
export NUMVISION_DATA_DIR ?= $(abspath $(LOCAL_MNIST))
endif

.PHONY: lab test browser benchmarks clean-venv

$(INSTALLED): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e ".[lab,test]"
	touch $@

lab: $(INSTALLED)
	$(VENV)/bin/jupyter lab notebooks/

# The real-browser test drives Debian's Chromium; install it once if it is missing.
browser:
	@command -v chromium >/dev/null || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

test: $(INSTALLED) browser
	NUMVISION_QUICK=1 $(PYTHON) -m pytest tests notebooks --nbval-lax --durations=15

benchmarks: $(INSTALLED)
	$(PYTHON) benchmarks/train_speed.py
	$(PYTHON) benchmarks/latency.py
	$(PYTHON) benchmarks/drawn_accuracy.py
	$(PYTHON) benchmarks/robustness.py

clean-venv:
	rm -rf $(VENV)
