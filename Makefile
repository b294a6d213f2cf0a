# Build, test and benchmark the coverage pipeline.
#   make                 build every program into build/bin
#   make test            unit tests + integration tests on a real local Kafka and PostgreSQL
#   make unit            unit tests only (no services), and the static checks of
#                        deploy/monitoring (promtool: rules, their tests, the dashboard)
#   make schemas-check   every schema version registered in order with a fresh schema
#                        registry, and the incompatible ones of tests/schemas refused
#   make bench           throughput and latency benchmarks, 1M events (starts its own stack)
#   make bench-national  the same with 7.5M events, the national roster (~32 GB of disk)
#   make test-faults     fault tests on a 3-node Kafka cluster (kill -9 of leaders)
#   make demo            the README's end-to-end demo on the local stack
#   make SANITIZE=address,undefined test
#   make WERROR=1        warnings are errors (CI sets this)

CC      ?= cc
PKGS    := rdkafka avro-c libpq jansson uuid libcrypto libmicrohttpd cairo fontconfig libcurl
BUILD   ?= build
WARN    := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
           -Wvla -Wwrite-strings -Wshadow
# -O3 and link-time optimisation: a producer's row (parse, check, event id, encode) goes
# through many small functions of common/, inlined across files only at link time.
# roster-producer --dump of 100,000 rows: 7% fewer instructions (callgrind), the same bytes
# out; of 1M rows, 8% less CPU (10 alternated runs). Only the producer was measured.
CFLAGS  ?= -O3 -g -flto=auto
LDFLAGS ?= -flto=auto
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) -MMD -MP -Icommon -I$(BUILD)/gen \
           $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lcsv -lm -lpthread
ifneq ($(WERROR),)
CFLAGS  += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
LDFLAGS += -fsanitize=$(SANITIZE)
endif

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/schemas_gen.o
LIBCOMMON  := $(BUILD)/libcommon.a

PRODUCERS  := $(patsubst producers/%.c,$(BUILD)/bin/%,$(wildcard producers/*.c))
CONSUMERS  := $(patsubst consumers/%/main.c,$(BUILD)/bin/%-consumer,$(wildcard consumers/*/main.c))
# Tools by kind: tools/daemons (relays), tools/cli (officers' and admin CLIs), tools/bench
# (generators and probes); each file is one program named after it.
TOOL_SRC   := $(wildcard tools/*/*.c)
TOOLS      := $(patsubst %.c,$(BUILD)/bin/%,$(notdir $(TOOL_SRC)))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))
SCHEMAS    := $(wildcard schemas/*.avsc)

.DELETE_ON_ERROR:
.PHONY: all deps unit schemas-check test integration test-faults bench bench-national demo clean stack-up stack-down
all: $(PRODUCERS) $(CONSUMERS) $(TOOLS)

# Objects depend on the flags they were built with: the stamp is rewritten only when the
# compiler or its flags change, so an old build/ is rebuilt instead of mixing flags.
# -Werror changes no object, so `make` after `make WERROR=1` rebuilds nothing.
FLAGS_STAMP := $(BUILD)/flags.stamp
FLAGS_NOW   := $(CC) $(filter-out -Werror,$(CFLAGS)) $(LDFLAGS) $(LDLIBS)
ifneq ($(file < $(FLAGS_STAMP)),$(FLAGS_NOW))
$(shell mkdir -p $(BUILD))
$(file > $(FLAGS_STAMP),$(FLAGS_NOW))
endif
# Written again when deleted in the same run (make clean all).
$(FLAGS_STAMP):
	$(shell mkdir -p $(dir $@))$(file > $@,$(FLAGS_NOW))

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# Every schema file and the catalog are compiled in, so a binary never depends on
# finding schemas/ at run time.
$(BUILD)/gen/schemas_gen.c: schemas/catalog.tsv $(SCHEMAS) schemas/embed.sh
	@mkdir -p $(dir $@)
	sh schemas/embed.sh schemas > $@

$(BUILD)/gen/schemas_gen.o: $(BUILD)/gen/schemas_gen.c $(FLAGS_STAMP)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIBCOMMON): $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The producers' objects come from this pattern chain alone, so make took them for
# intermediates and deleted them after each build: the next make compiled them again.
.SECONDARY: $(PRODUCERS:$(BUILD)/bin/%=$(BUILD)/producers/%.o)
$(BUILD)/bin/%: $(BUILD)/producers/%.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

define tool_rule
$(BUILD)/bin/$(basename $(notdir $(1))): $(BUILD)/$(1:.c=.o) $(LIBCOMMON)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@
endef
$(foreach t,$(TOOL_SRC),$(eval $(call tool_rule,$(t))))

SERVICES := $(patsubst consumers/%/main.c,%,$(wildcard consumers/*/main.c))
define consumer_rule
$(BUILD)/bin/$(1)-consumer: $(patsubst %.c,$(BUILD)/%.o,$(wildcard consumers/$(1)/*.c)) $(LIBCOMMON)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@
endef
$(foreach s,$(SERVICES),$(eval $(call consumer_rule,$(s))))

# Every unit test links the shared layer and the test helpers of tests/unit/support/.
TEST_SUPPORT_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/unit/support/*.c))
# Kept, as the producers' (above): else each make unit compiled every test again.
.SECONDARY: $(UNIT_TESTS:$(BUILD)/tests/%=$(BUILD)/tests/unit/%.o) $(TEST_SUPPORT_OBJ)
$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TEST_SUPPORT_OBJ) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) $(shell pkg-config --libs criterion) -o $@

# Tests of a common/ module that need a real PostgreSQL: tests/integration/<m>/test_<m>.c
# builds into $(BUILD)/tests/test_<m> with the programs; a tests/integration/test_*.sh
# runs it on the integration stack (`make unit` does not).
ITEST_SRC   := $(wildcard tests/integration/*/test_*.c)
ITEST_PROGS := $(patsubst %.c,$(BUILD)/tests/%,$(notdir $(ITEST_SRC)))
define itest_rule
$(BUILD)/tests/$(basename $(notdir $(1))): $(BUILD)/$(1:.c=.o) $(LIBCOMMON)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) $$(shell pkg-config --libs criterion) -o $$@
endef
$(foreach f,$(ITEST_SRC),$(eval $(call itest_rule,$(f))))
all: $(ITEST_PROGS)

# Tools of the fault tests (the "other Kafka client" that publishes crafted records):
# tests/faults/tools/<name>.c builds into $(BUILD)/tests/<name> with the programs.
FAULT_TOOL_SRC := $(wildcard tests/faults/tools/*.c)
FAULT_TOOLS    := $(patsubst %.c,$(BUILD)/tests/%,$(notdir $(FAULT_TOOL_SRC)))
define fault_tool_rule
$(BUILD)/tests/$(basename $(notdir $(1))): $(BUILD)/$(1:.c=.o) $(LIBCOMMON)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) $$^ $$(LDLIBS) -o $$@
endef
$(foreach f,$(FAULT_TOOL_SRC),$(eval $(call fault_tool_rule,$(f))))
all: $(FAULT_TOOLS)

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do \
	  echo "== $$t"; (cd tests/unit && ../../$$t --jobs 1 --short-filename) || exit 1; done
	@echo "== tests/monitoring/run.sh"; tests/monitoring/run.sh

# Starts Kafka and PostgreSQL under var/, runs the integration suite, and stops the
# stack again whether the tests pass or fail.
# Packages come first, in a recipe of their own, so nothing compiles before they are
# installed (also under -j).
deps:
	deploy/local/stack.sh deps

# A fresh registry (in memory) checks the evolution of schemas/ (tests/schemas/check.sh).
schemas-check: deps
	tests/schemas/check.sh

test: deps
	$(MAKE) all unit
	tests/schemas/check.sh
	tests/integration/run.sh

integration: deps
	$(MAKE) all
	tests/integration/run.sh

# Its own stack under var/faults: three KRaft nodes, replication factor 3,
# min.insync.replicas 2; stopped again whether the tests pass or fail.
test-faults: deps
	$(MAKE) all
	tests/faults/run.sh

bench: deps
	$(MAKE) all
	tests/bench/run.sh

# The national roster: 7.5 million events through producer and consumer (about 32 GB free
# under var/; about 25 minutes with the ceiling, on 2 cores).
bench-national: deps
	$(MAKE) all
	BENCH_NAME=bench-national BENCH_EVENTS=$${BENCH_EVENTS:-7500000} tests/bench/run.sh

demo:
	deploy/demo.sh

stack-up:
	deploy/local/stack.sh up
stack-down:
	deploy/local/stack.sh down

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- fuzzing (tests/fuzz/README.md) ------------------------------------------------------
#   make fuzz-build               the libFuzzer targets tests/fuzz/fuzz_*.c, built with clang
#                                 and ASan + UBSan into $(FUZZ_BUILD)/bin, with common/
#                                 compiled the same way into $(FUZZ_BUILD)/libcommon.a
#   make fuzz FUZZ_SECONDS=30     run each target that long on its seed corpus
#                                 (tests/fuzz/corpus/<target>); fails on the first crash,
#                                 leak, UBSan report or timeout (input in $(FUZZ_BUILD)/crashes)
#   make fuzz-seeds               rewrite the codec target's seeds from tests/fuzz/codec_seeds.c
#   make fuzz-clean               remove $(FUZZ_BUILD) (make clean leaves it)
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= $(BUILD)-fuzz
FUZZ_SECONDS ?= 30
FUZZ_ARGS    ?=
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -g -O1 -std=c11 -D_GNU_SOURCE $(WARN) -MMD -MP -Icommon -Itests/fuzz \
                -I$(FUZZ_BUILD)/gen $(shell pkg-config --cflags $(PKGS)) $(FUZZ_SAN)
ifneq ($(WERROR),)
FUZZ_CFLAGS  += -Werror
endif
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/bin/%)
FUZZ_LIB     := $(FUZZ_BUILD)/libcommon.a
FUZZ_SUPPORT := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(wildcard tests/fuzz/support/*.c))

.PHONY: fuzz-build fuzz fuzz-seeds fuzz-clean
fuzz-build: $(FUZZ_BINS)

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

# common/ and the support code carry coverage instrumentation (fuzzer-no-link); only the
# targets link libFuzzer's main.
$(FUZZ_BUILD)/common/%.o: common/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/tests/fuzz/support/%.o: tests/fuzz/support/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/gen/schemas_gen.c: schemas/catalog.tsv $(SCHEMAS) schemas/embed.sh
	@mkdir -p $(dir $@)
	sh schemas/embed.sh schemas > $@

$(FUZZ_BUILD)/gen/schemas_gen.o: $(FUZZ_BUILD)/gen/schemas_gen.c
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_LIB): $(COMMON_SRC:%.c=$(FUZZ_BUILD)/%.o) $(FUZZ_BUILD)/gen/schemas_gen.o
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/bin/%: tests/fuzz/%.c $(FUZZ_SUPPORT) $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(filter %.c %.o %.a,$^) $(LDLIBS) -o $@

# Each target in turn: new inputs go to $(FUZZ_BUILD)/corpus/<target> (the committed seeds
# are only read), a crash's input to $(FUZZ_BUILD)/crashes/<target>-*.
fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/crashes; \
	  dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	  echo "== $$t ($(FUZZ_SECONDS) s)"; \
	  $(FUZZ_BUILD)/bin/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crashes/$$t- $$dict $(FUZZ_ARGS) \
	    $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t 2>$(FUZZ_BUILD)/$$t.log \
	    || { tail -n 60 $(FUZZ_BUILD)/$$t.log; echo "fuzz: $$t failed"; exit 1; }; \
	  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|DONE ' $(FUZZ_BUILD)/$$t.log || true; \
	done

$(FUZZ_BUILD)/bin/codec_seeds: tests/fuzz/codec_seeds.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(filter %.c %.o %.a,$^) $(LDLIBS) -o $@

fuzz-seeds: $(FUZZ_BUILD)/bin/codec_seeds
	$(FUZZ_BUILD)/bin/codec_seeds tests/fuzz/corpus/fuzz_codec_decode

-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)

# ---- producer benchmark (tests/bench/producer.sh) ----------------------------------------
#   make bench-producer          roster-producer against kcat -P sending the same encoded
#                                values, on its own stack (var/bench-producer, ports 26092 and
#                                26432); BENCH_EVENTS rows (default 1,000,000)
.PHONY: bench-producer
bench-producer: deps
	$(MAKE) all
	tests/bench/producer.sh
