# Thin wrappers over tools/install-deps.sh and CMake. The README's two commands are `make demo` and `make test`.
#   make demo       install missing packages, build, run the default scenario (wiresim run)
#   make test       install missing packages, build, run every test
#   make bench      build and run the benchmarks (Release)
#   make sanitize   build with ASan+UBSan in build-asan/ and run every test there
#   make fuzz       build the fuzz targets with clang in build-fuzz/ and run each for FUZZ_SECONDS (default 5: about
#                   a minute for all); FUZZ_TARGETS="nvidia_smi trace" runs only those (docs/testing.md)
#   make format     apply .clang-format to every C++ file
BUILD ?= build
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 5
FUZZ_TARGETS ?=
FUZZ_CMAKE_FLAGS ?=
ifeq ($(CI),true)
  CMAKE_FLAGS += -DWIRESIM_WERROR=ON
endif

.PHONY: all deps configure build demo test bench sanitize fuzz format clean

all: build

deps:
	@tools/install-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@$(BUILD)/sim/app/wiresim run

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: deps
	@cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-release -j $(JOBS) --target wiresim_bench
	@build-release/tools/bench/wiresim_bench

sanitize: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DWIRESIM_SANITIZE=ON -DWIRESIM_BUILD_CALIBRATE=OFF \
	  -DWIRESIM_BUILD_BENCH=OFF -DWIRESIM_MPI=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# Warnings are not errors here: clang warns about things the CI's g++ build does not, and this build only fuzzes.
fuzz: deps
	@cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DWIRESIM_FUZZ=ON \
	  -DWIRESIM_BUILD_CALIBRATE=OFF -DWIRESIM_BUILD_BENCH=OFF -DWIRESIM_MPI=OFF $(FUZZ_CMAKE_FLAGS) >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target wiresim_fuzz_targets
	@tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

format:
	@find sim calibrate tests tools -name '*.cc' -o -name '*.h' -o -name '*.cu' | xargs clang-format -i

clean:
	@rm -rf $(BUILD) build-release build-asan build-fuzz
