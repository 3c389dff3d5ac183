# `make demo` and `make test` each set everything up on a fresh Debian/Ubuntu machine:
# system libraries (as root, via apt-get), a virtual environment in .venv, the package.

VENV := .venv
# The virtual environment's Python: 3.11 where there is one (Blender's bpy, the tests' BVH
# importer, has wheels for it alone); `make demo` also runs on 3.10 and 3.12.
PYTHON := command -v python3.11 || command -v python3
SYSTEM_PACKAGES := libgl1 libglib2.0-0 libegl1 libxrender1 libxxf86vm1 libxfixes3 libxi6 libxkbcommon0 libsm6 libx11-6 libxext6
TEST_SYSTEM_PACKAGES := xvfb xdotool mono-mcs mono-runtime  # a virtual screen and key presses for the preview test; Mono for the Unity plugin's core

.PHONY: demo test test-fast mutation python3.11 benchmark benchmark-multiview benchmark-camera-noise benchmark-retarget benchmark-filters benchmark-latency benchmark-batch benchmark-hands-and-face benchmark-virtual-camera system-packages test-system-packages clean

# Installs the Debian packages in $(1) that are missing (as root), or says which to install.
define install_packages
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else echo "please install:$$missing (e.g. sudo apt-get install$$missing)"; exit 1; fi; \
	fi
endef

system-packages:
	$(call install_packages,$(SYSTEM_PACKAGES))

test-system-packages: system-packages
	$(call install_packages,$(TEST_SYSTEM_PACKAGES))

# Python 3.11 for the tests: Debian's, installed (as root) where the machine has none.
python3.11:
	@command -v python3.11 >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv; \
		else echo "please install Python 3.11 (e.g. sudo apt-get install python3.11 python3.11-venv): the tests' Blender module needs it"; exit 1; fi; }

$(VENV)/.installed: pyproject.toml | system-packages
	test -x $(VENV)/bin/python || $$($(PYTHON)) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(VENV)/bin/python -m pip install -q -e ".[test]"
	touch $@

demo: system-packages $(VENV)/.installed
	$(VENV)/bin/mocap demo

test: test-system-packages python3.11
	@$(VENV)/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null \
		|| { echo "making $(VENV) with Python 3.11 for the tests"; rm -rf $(VENV); }
	$(MAKE) --no-print-directory $(VENV)/.installed-test
	$(VENV)/bin/mocap models --no-progress  # MediaPipe's lite and heavy pose models, for their tests
	$(VENV)/bin/ruff check mocap tests benchmarks examples
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m pytest

# The unit tests alone (about 20 s): known answers for each convention and mechanism.
test-fast: $(VENV)/.installed-test
	$(VENV)/bin/python -m pytest -m unit

# Mutation testing of the core modules against their fast tests (docs/testing.md): the score and
# every surviving mutant. Not part of `make test`; about fourteen minutes on two cores.
mutation: system-packages $(VENV)/.installed-test
	$(VENV)/bin/python -m pip install -q "mutmut==3.8.1"
	rm -rf mutants
	$(VENV)/bin/mutmut run --max-children $$(nproc) > /dev/null
	$(VENV)/bin/mutmut export-cicd-stats
	$(VENV)/bin/python benchmarks/mutation_score.py

benchmark: system-packages $(VENV)/.installed
	$(VENV)/bin/python benchmarks/pipeline_speed.py

benchmark-multiview: system-packages $(VENV)/.installed
	$(VENV)/bin/mocap models --no-progress  # the heavy model, measured beside the full one
	$(VENV)/bin/python benchmarks/multiview.py

benchmark-camera-noise: system-packages $(VENV)/.installed
	$(VENV)/bin/python benchmarks/camera_noise.py

benchmark-retarget: system-packages $(VENV)/.installed
	$(VENV)/bin/python benchmarks/retarget_accuracy.py

benchmark-filters: system-packages $(VENV)/.installed
	$(VENV)/bin/python benchmarks/real_video_filters.py

benchmark-latency: system-packages $(VENV)/.installed
	$(VENV)/bin/python benchmarks/latency.py

benchmark-batch: system-packages $(VENV)/.installed-test
	$(VENV)/bin/python benchmarks/batch_throughput.py

benchmark-hands-and-face: system-packages $(VENV)/.installed
	$(VENV)/bin/python benchmarks/hands_and_face.py

benchmark-virtual-camera: system-packages $(VENV)/.installed
	$(VENV)/bin/python benchmarks/virtual_camera.py

clean:
	rm -rf $(VENV) demo_output
