# tunnelprobe — one Makefile, one binary.
#   make                 build build/tunnelprobe
#   make test            unit + end-to-end tests (installs missing packages first); the
#                        last line is "N passed, N failed, N skipped"
#   make test SANITIZE=1 the same under AddressSanitizer + UBSan (objects in build/san)
#   make demo            the built-in demo scenario
#   make fuzz            build the libFuzzer targets (clang) and fuzz each for FUZZ_SECS
#   make deps            install missing Debian packages
# Objects live out of tree; every part is a static archive so parts never see
# each other's objects, and cli/ links them into one binary.

CC      ?= cc
SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD   ?= build/san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD   ?= build
SANFLAGS =
endif

PKGS     = openssl libcares jansson zlib libpcap libngtcp2 libngtcp2_crypto_gnutls libnghttp3 gnutls
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           -I. $(PKG_CFLAGS) $(SANFLAGS) -MMD -MP
LDLIBS   = $(PKG_LIBS) -lpthread -lm
LDFLAGS += $(SANFLAGS)

PARTS    = lib probe replay proxy-under-test capture reports ci check
part_src = $(wildcard $(1)/*.c)
part_obj = $(patsubst %.c,$(BUILD)/%.o,$(call part_src,$(1)))
ARCHIVES = $(foreach p,$(PARTS),$(if $(call part_src,$(p)),$(BUILD)/lib$(p).a))
# Order matters for static linking: parts first, lib last.
LINK_ARCHIVES = $(filter-out $(BUILD)/liblib.a,$(ARCHIVES)) $(BUILD)/liblib.a

BIN      = $(BUILD)/tunnelprobe
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
HELPER_SRC = $(wildcard tests/helpers/*.c)
HELPER_BIN = $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(HELPER_SRC))

.PHONY: all test demo deps fuzz fuzz-build clean bench
all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(CFLAGS) -c $< -o $@

define part_rule
$(BUILD)/lib$(1).a: $(call part_obj,$(1))
	@mkdir -p $$(dir $$@)
	@rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach p,$(PARTS),$(if $(call part_src,$(p)),$(eval $(call part_rule,$(p)))))

$(BIN): $(BUILD)/cli/main.o $(ARCHIVES)
	@echo "  LD  $@"
	@$(CC) $(LDFLAGS) -o $@ $< $(LINK_ARCHIVES) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(ARCHIVES)
	@mkdir -p $(dir $@)
	@echo "  TEST $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LINK_ARCHIVES) $(LDLIBS) -lcmocka

$(BUILD)/tests/helpers/%: tests/helpers/%.c $(ARCHIVES)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LINK_ARCHIVES) $(LDLIBS)

deps:
	@bash scripts/deps.sh

test: deps
	@$(MAKE) --no-print-directory $(BIN) $(UNIT_BIN) $(HELPER_BIN) fuzz-regress
	@TP_BUILD=$(BUILD) TP_REQUIRE_PEERS=1 bash tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory $(BIN)
	$(BIN) run --out $(BUILD)/demo

# libFuzzer targets: fuzz/fuzz_<name>.c with seeds in fuzz/corpus/<name>/. Every part's
# sources are compiled once with clang's fuzzer instrumentation into one archive that
# each target links (parts have no main()).
FUZZ_SRC  = $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN  = $(patsubst fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
FUZZ_SECS ?= 30
FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -I. $(PKG_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJ  = $(patsubst %.c,build/fuzz/obj/%.o,$(foreach p,$(PARTS),$(call part_src,$(p))))
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC $<"
	@clang $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@
build/fuzz/libfuzzparts.a: $(FUZZ_OBJ)
	@rm -f $@ && ar rcs $@ $^
build/fuzz/%: fuzz/%.c build/fuzz/libfuzzparts.a
	@echo "  FUZZLD $@"
	@clang $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< build/fuzz/libfuzzparts.a $(LDLIBS)
fuzz-build: $(FUZZ_BIN)
fuzz: deps fuzz-build
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); n=$${n#fuzz_}; \
	  echo "== $$f ($(FUZZ_SECS)s)"; mkdir -p build/fuzz/new-$$n; \
	  $$f -max_total_time=$(FUZZ_SECS) -rss_limit_mb=1024 build/fuzz/new-$$n fuzz/corpus/$$n || exit 1; done
# In `make test` every target replays its seed corpus once (a regression check).
fuzz-regress: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); n=$${n#fuzz_}; \
	  $$f -runs=0 fuzz/corpus/$$n >/dev/null 2>build/fuzz/$$n.log || { cat build/fuzz/$$n.log; exit 1; }; done

bench: $(BIN)
	@for b in bench/*.sh; do bash $$b; done

clean:
	rm -rf build

-include $(shell find $(BUILD) build/fuzz/obj -name '*.d' 2>/dev/null)
