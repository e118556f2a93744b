# Convenience front end over CMake. The two commands the README starts with:
#   make run    install what is missing, build, start the example stack in the foreground
#   make test   install what is missing, build, run every test (unit, integration, sanitizers, fuzz)
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all build run test unit deps clean bench
all: build

deps:
	@scripts/deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/sysg start --config sysg.yaml.example

test:
	@scripts/deps.sh test
	@scripts/test.sh

unit: build
	cd $(BUILD) && ctest -L unit --output-on-failure -j $(JOBS)

bench:
	@scripts/deps.sh bench
	@bench/run.sh

clean:
	rm -rf $(BUILD) build-asan build-fuzz
