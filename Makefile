# Thin wrapper over CMake. `make run` and `make test` install what is missing first.
BUILD    ?= build
JOBS     ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all setup build test run asan tsan fuzz bench install clean

all: build

setup:
	@bash scripts/setup.sh

PREFIX   ?= /usr/local
DESTDIR  ?=

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: setup
	@$(MAKE) --no-print-directory build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

run: setup
	@$(MAKE) --no-print-directory build
	@bash scripts/run.sh $(BUILD)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: setup
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVOX_SANITIZE=ON -DCMAKE_C_COMPILER=clang $(CMAKE_FLAGS)
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:suppressions=$(CURDIR)/tests/fuzz/asan.supp UBSAN_OPTIONS=print_stacktrace=1 VOX_TEST_SLOW=0 \
	  ctest --output-on-failure -j $(JOBS)

# The tests that start threads (ctest label "threads", see CMakeLists.txt) under
# ThreadSanitizer (clang). Slow tests shortened as under asan.
tsan: setup
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVOX_TSAN=ON -DCMAKE_C_COMPILER=clang $(CMAKE_FLAGS)
	cmake --build build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" VOX_TEST_SLOW=0 \
	  ctest --output-on-failure -j $(JOBS) -L threads

# Headers, libvox.so/.a, vox, voxd and vox.pc under $(DESTDIR)$(PREFIX).
install: setup
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX)
	cmake --build $(BUILD) -j $(JOBS)
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD)

# libFuzzer targets; FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
fuzz: setup
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVOX_FUZZ=ON -DVOX_SANITIZE=ON -DCMAKE_C_COMPILER=clang
	cmake --build build-fuzz -j $(JOBS)
	@bash scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

bench: setup
	@$(MAKE) --no-print-directory build
	@bash bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
