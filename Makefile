# tunnelprobe — one Makefile, one binary.
#   make                 build build/tunnelprobe
#   make test            unit + end-to-end tests (installs missing packages first); the
#                        last line is "N passed, N failed, N skipped"
#   make test SANITIZE=1 the same under AddressSanitizer + UBSan (objects in build/san)
#   make demo            the built-in demo: the Linux and Windows (Wine) builds side by side
#   make fuzz            build the libFuzzer targets (clang) and fuzz each for FUZZ_SECS
#   make deps            install missing Debian packages
#   make windows         cross-compile build/win64/tunnelprobe.exe (proxy, origin, probe)
#                        and the Windows test programs with mingw-w64 (docs/windows.md;
#                        they run under Wine from `make test`)
#   make image           the container image (docker import of a root filesystem: the
#                        binary, the libraries ldd names, CA certificates, a passwd
#                        entry) into the daemon at DOCKER_HOST, saved to build/image
#                        (docs/distributed.md; IMAGE_NO_DOCKER=1: the rootfs tar only)
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

.PHONY: all test demo deps fuzz fuzz-build clean bench windows image
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

# The Windows build too, where mingw-w64 is installed: the demo, the incident's Windows
# scenario and tests/e2e/win_*.sh run it under Wine (the e2e scripts say when it is
# missing). It is the same for SANITIZE=1 (build/win64 is not sanitized).
WIN_IF_ANY = if command -v $(WIN_CC) >/dev/null; then $(MAKE) --no-print-directory windows; fi

test: deps
	@$(MAKE) --no-print-directory $(BIN) $(UNIT_BIN) $(HELPER_BIN) fuzz-regress
	@$(WIN_IF_ANY)
	@TP_BUILD=$(BUILD) TP_REQUIRE_PEERS=1 bash tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory $(BIN)
	@$(WIN_IF_ANY) || echo "demo: the Windows build did not build; the demo says what stands in for it"
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

image: $(BIN)
	@bash ci/k8s/image.sh $(BIN) $(BUILD)/image

bench: $(BIN)
	@for b in bench/*.sh; do bash $$b; done

clean:
	rm -rf build

# ---- Windows: mingw-w64 (gcc-mingw-w64-x86-64-posix, winpthreads), run under Wine ----
# Only the parts of lib/ that need nothing Debian lacks for mingw (no OpenSSL, c-ares,
# jansson, libpcap or cmocka): Winsock2 and IOCP stand in for the system calls, and
# each file that exists for one OS compiles to nothing on the other. The test programs
# of tests/win/ are small mains (no cmocka for mingw) run by tests/e2e/win_loop.sh.
# Linked statically, so Wine needs no MinGW DLLs beside the .exe.
WIN_CC     ?= x86_64-w64-mingw32-gcc-posix
WIN_AR     ?= x86_64-w64-mingw32-gcc-ar-posix
WIN_BUILD   = build/win64
WIN_LIB     = base64 dns_win hex hist http1 jsonw ledger listeners loop loop_iocp net net_addr \
              net_win payload pkt qhist quic_none runcount sha256 shard socks5 stopsig textfile \
              tls_none units url zcopy
# tunnelprobe.exe: the proxy without its QUIC listener (proxy-under-test/q*.c; qlisten.h's
# hooks are stubs there); the origin without recordings (libpcap:
# recording_none.c says so); the probe without its jansson run summary (--json is refused
# there, --records kept). Listed, not globbed: a new file of replay/ or probe/ (QUIC:
# GnuTLS) is not for Windows until it is added here. TLS is tls_none.c's "not available";
# QUIC and HTTP/3 (lib/quic, lib/h3: ngtcp2, nghttp3, GnuTLS) are oquic_none.c's,
# filter_quic_none.c's, h3x_none.c's and quic_none.c's: --quic-listen and --http3 refused.
WIN_PARTS   = $(filter-out proxy-under-test/q%.c,$(wildcard proxy-under-test/*.c)) \
              $(patsubst %,replay/%.c,oconn oplan origin oquic_none recording_none respgen sites) \
              $(patsubst %,probe/%.c,config conn exchange filter filter_proxy filter_quic_none \
                filter_tcp filter_tls h3x_none link probe stats summary verify worker) \
              cli/main.c
WIN_CFLAGS  = -std=c11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -I. \
              -D_WIN32_WINNT=0x0601 -D__USE_MINGW_ANSI_STDIO=1 -MMD -MP
# zlib from Debian's libz-mingw-w64-dev (make deps); bcrypt for the system's random bytes.
WIN_LDLIBS  = -static -lz -lws2_32 -lmswsock -lbcrypt
WIN_OBJ     = $(patsubst %,$(WIN_BUILD)/lib/%.o,$(WIN_LIB))
WIN_EXE     = $(WIN_BUILD)/tunnelprobe.exe
WIN_TEST_SRC = $(wildcard tests/win/test_*.c)
WIN_TEST_BIN = $(patsubst tests/win/%.c,$(WIN_BUILD)/tests/%.exe,$(WIN_TEST_SRC) \
               $(wildcard tests/win/measure_*.c))

windows: $(WIN_EXE) $(WIN_TEST_BIN)

$(WIN_EXE): $(patsubst %.c,$(WIN_BUILD)/%.o,$(WIN_PARTS)) $(WIN_BUILD)/liblib.a
	@echo "  WINLD $@"
	@$(WIN_CC) $(WIN_CFLAGS) -o $@ $^ $(WIN_LDLIBS)

$(WIN_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  WINCC $<"
	@$(WIN_CC) $(WIN_CFLAGS) -c $< -o $@

$(WIN_BUILD)/liblib.a: $(WIN_OBJ)
	@rm -f $@ && $(WIN_AR) rcs $@ $^

$(WIN_BUILD)/tests/%.exe: tests/win/%.c $(WIN_BUILD)/liblib.a
	@mkdir -p $(dir $@)
	@echo "  WINLD $@"
	@$(WIN_CC) $(WIN_CFLAGS) -o $@ $< $(WIN_BUILD)/liblib.a $(WIN_LDLIBS)

-include $(shell find $(BUILD) build/fuzz/obj -name '*.d' 2>/dev/null)
