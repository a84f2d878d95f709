# SPDX-License-Identifier: MPL-2.0
#
# libnomad: the one build entry point. Non-recursive and parallel-safe;
# every output goes under build/. Targets:
#   all (default)  libnomad.a, libnomad.so*, programs, examples
#   check          every test, then the unit tests under ASan+UBSan
#   bench          benchmarks (BENCH=<set> for one set)
#   fuzz           the libFuzzer targets (FUZZ_TIME seconds each)
#   install        honours PREFIX, DESTDIR, LIBDIR, INCLUDEDIR, MANDIR
#   uninstall, clean
# V=1 shows full commands.

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR    ?=

B  := build
CC ?= cc
CLANG ?= clang
V  ?= 0
Q  := $(if $(filter 1,$(V)),,@)
ECHO := $(if $(filter 1,$(V)),@true,@printf '  %-7s %s\n')

# Dependencies are looked up only once scripts/deps.sh has run, so that a
# fresh machine needs no step before `make`. `make clean` needs neither.
ifneq ($(filter-out clean uninstall,$(or $(MAKECMDGOALS),all)),)
include $(B)/config.mk
endif

$(B)/config.mk: scripts/deps.sh scripts/configure.sh
	$(Q)sh scripts/deps.sh
	$(Q)sh scripts/configure.sh $@

# --- version, read from the public header ---------------------------------
version_part = $(shell sed -n 's/^\#define NOMAD_VERSION_$(1) \([0-9]*\).*/\1/p' include/nomad/core.h)
VMAJOR := $(call version_part,MAJOR)
VMINOR := $(call version_part,MINOR)
VPATCH := $(call version_part,PATCH)
VERSION := $(VMAJOR).$(VMINOR).$(VPATCH)
SONAME  := libnomad.so.$(VMAJOR)
SOREAL  := libnomad.so.$(VERSION)

# --- flags -----------------------------------------------------------------
WARN    := -Wall -Wextra -Werror -Wstrict-prototypes -Wwrite-strings -Wshadow
OPT     ?= -O2 -g
BASE_CPPFLAGS := -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -I$(B)/gen -Ilib
LIB_CFLAGS  = -std=c11 $(OPT) $(WARN) -fPIC -fvisibility=hidden $(BASE_CPPFLAGS) $(DEP_CFLAGS) $(CFLAGS)
# protoc-c's output carries its descriptors, which users of the public
# headers need: default visibility, and the version script keeps nomad_*.
GEN_CFLAGS  = -std=c11 $(OPT) -Wall -Werror -fPIC $(BASE_CPPFLAGS) $(DEP_CFLAGS) $(CFLAGS)
TEST_CFLAGS = -std=c11 $(OPT) $(WARN) $(BASE_CPPFLAGS) -Itest -I$(B)/test $(DEP_CFLAGS) $(CFLAGS)
SAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
DEPFLAGS    = -MMD -MP

# --- sources ---------------------------------------------------------------
PROTOS     := $(wildcard proto/*.proto)
GEN_C      := $(PROTOS:proto/%.proto=$(B)/gen/nomad/%.pb-c.c)
GEN_H      := $(PROTOS:proto/%.proto=$(B)/gen/nomad/%.pb-c.h)
LIB_SRCS   := $(wildcard lib/*/*.c)
LIB_OBJS   := $(LIB_SRCS:%.c=$(B)/obj/%.o) $(GEN_C:$(B)/gen/%.c=$(B)/obj/gen/%.o)
HEADERS    := $(wildcard include/nomad/*.h)
UNIT_SRCS  := $(wildcard test/unit/*/*.c)
APPS       := $(notdir $(wildcard apps/nomad*))
EXAMPLES   := $(patsubst examples/%.c,%,$(wildcard examples/*.c))
EXAMPLE_DIRS := $(patsubst examples/%/,%,$(sort $(dir $(wildcard examples/*/*.c))))
BENCHES    := $(patsubst bench/%.c,%,$(wildcard bench/*.c))
FUZZERS    := $(patsubst test/fuzz/%.c,%,$(wildcard test/fuzz/*.c))

STATIC_LIB := $(B)/libnomad.a
SHARED_LIB := $(B)/$(SOREAL)

all: $(STATIC_LIB) $(B)/libnomad.so $(APPS:%=$(B)/bin/%) \
	$(EXAMPLES:%=$(B)/examples/%) $(EXAMPLE_DIRS:%=$(B)/examples/%) \
	$(B)/libnomad.pc

# --- generated protobuf code ---------------------------------------------
$(B)/gen/nomad/%.pb-c.c $(B)/gen/nomad/%.pb-c.h: proto/%.proto $(B)/config.mk
	$(ECHO) PROTOC $<
	@mkdir -p $(B)/gen/nomad
	$(Q)protoc-c --proto_path=proto --c_out=$(B)/gen/nomad $<

# --- the library -----------------------------------------------------------
$(B)/obj/lib/%.o: lib/%.c $(B)/config.mk | $(GEN_H)
	$(ECHO) CC $<
	@mkdir -p $(@D)
	$(Q)$(CC) $(LIB_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(B)/obj/gen/%.o: $(B)/gen/%.c
	$(ECHO) CC $<
	@mkdir -p $(@D)
	$(Q)$(CC) $(GEN_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(STATIC_LIB): $(LIB_OBJS)
	$(ECHO) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(SHARED_LIB): $(LIB_OBJS) lib/libnomad.vers
	$(ECHO) LD $@
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libnomad.vers \
		-Wl,--no-undefined -Wl,--as-needed -o $@ $(LIB_OBJS) $(DEP_LIBS) $(LDFLAGS)

$(B)/$(SONAME): $(SHARED_LIB)
	$(Q)ln -sf $(SOREAL) $@
$(B)/libnomad.so: $(B)/$(SONAME)
	$(Q)ln -sf $(SONAME) $@

# The .pc names the install paths, so install writes it afresh with the
# PREFIX it is given; build/libnomad.pc is for the default prefix.
gen_pc = sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	-e 's|@REQUIRES_PRIVATE@|$(DEP_PKGS)|g' pkgconfig/libnomad.pc.in > $(1)

$(B)/libnomad.pc: pkgconfig/libnomad.pc.in $(B)/config.mk include/nomad/core.h
	$(ECHO) GEN $@
	$(Q)$(call gen_pc,$@)

# --- programs and examples: public API only, linked to the shared library --
APP_LDFLAGS = -L$(B) -Wl,-rpath,'$$ORIGIN/..' -lnomad $(DEP_LIBS) $(LDFLAGS)
APP_CFLAGS  = -std=c11 $(OPT) $(WARN) $(BASE_CPPFLAGS) -Iapps $(DEP_CFLAGS) $(CFLAGS)

$(B)/bin/%: $(B)/libnomad.so $(B)/config.mk
	$(ECHO) CCLD $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(APP_CFLAGS) -o $@ apps/$*/*.c $(wildcard apps/common/*.c) $(APP_LDFLAGS)

$(B)/examples/%: examples/%.c $(B)/libnomad.so
	$(ECHO) CCLD $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(APP_CFLAGS) $(DEPFLAGS) -o $@ $< $(APP_LDFLAGS)

# An example too big for one file is a directory, examples/<name>/: each
# of its .c files is compiled on its own and the objects are linked into
# build/examples/<name>.
$(B)/obj/examples/%.o: examples/%.c $(B)/config.mk | $(GEN_H)
	$(ECHO) CC $<
	@mkdir -p $(@D)
	$(Q)$(CC) $(APP_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(foreach d,$(EXAMPLE_DIRS),$(eval $(B)/examples/$(d): \
	$(patsubst %.c,$(B)/obj/%.o,$(wildcard examples/$(d)/*.c))))
$(EXAMPLE_DIRS:%=$(B)/examples/%): $(B)/libnomad.so
	$(ECHO) CCLD $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(APP_CFLAGS) -o $@ $(filter %.o,$^) $(APP_LDFLAGS)

# --- tests -----------------------------------------------------------------
$(B)/test/list.inc: $(UNIT_SRCS) scripts/gen-test-list.sh
	@mkdir -p $(@D)
	$(Q)sh scripts/gen-test-list.sh $(UNIT_SRCS) > $@

UNIT_OBJS := $(UNIT_SRCS:%.c=$(B)/obj/%.o) $(B)/obj/test/runner.o

$(B)/obj/test/%.o: test/%.c $(B)/config.mk | $(GEN_H)
	$(ECHO) CC $<
	@mkdir -p $(@D)
	$(Q)$(CC) $(TEST_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(B)/obj/test/runner.o: $(B)/test/list.inc

$(B)/test/unit: $(UNIT_OBJS) $(STATIC_LIB)
	$(ECHO) CCLD $@
	$(Q)$(CC) -o $@ $(UNIT_OBJS) $(STATIC_LIB) $(DEP_LIBS) $(LDFLAGS)

# The same library and tests again, built with ASan and UBSan.
ASAN_OBJS := $(LIB_OBJS:$(B)/obj/%=$(B)/asan/%) $(UNIT_OBJS:$(B)/obj/%=$(B)/asan/%)
$(B)/asan/lib/%.o: lib/%.c $(B)/config.mk | $(GEN_H)
	$(ECHO) CC-SAN $<
	@mkdir -p $(@D)
	$(Q)$(CC) $(LIB_CFLAGS) $(SAN_FLAGS) -O1 $(DEPFLAGS) -c $< -o $@
$(B)/asan/gen/%.o: $(B)/gen/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(GEN_CFLAGS) $(SAN_FLAGS) -O1 $(DEPFLAGS) -c $< -o $@
$(B)/asan/test/%.o: test/%.c $(B)/config.mk | $(GEN_H)
	$(ECHO) CC-SAN $<
	@mkdir -p $(@D)
	$(Q)$(CC) $(TEST_CFLAGS) $(SAN_FLAGS) -O1 $(DEPFLAGS) -c $< -o $@
$(B)/asan/test/runner.o: $(B)/test/list.inc
$(B)/test/unit-asan: $(ASAN_OBJS)
	$(ECHO) CCLD $@
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $(ASAN_OBJS) $(DEP_LIBS) $(LDFLAGS)

# libFuzzer targets: clang only, the library rebuilt with coverage hooks.
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
FUZZ_LIB_OBJS := $(LIB_OBJS:$(B)/obj/%=$(B)/fuzzobj/%)
$(B)/fuzzobj/lib/%.o: lib/%.c $(B)/config.mk | $(GEN_H)
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(LIB_CFLAGS) $(FUZZ_FLAGS) -O1 -c $< -o $@
$(B)/fuzzobj/gen/%.o: $(B)/gen/%.c
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(GEN_CFLAGS) $(FUZZ_FLAGS) -O1 -c $< -o $@
$(B)/fuzz/%: test/fuzz/%.c $(FUZZ_LIB_OBJS)
	$(ECHO) FUZZ $@
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(TEST_CFLAGS) -fsanitize=fuzzer,address,undefined -O1 -o $@ $< \
		$(FUZZ_LIB_OBJS) $(DEP_LIBS)

FUZZ_TIME ?= 60
fuzz: $(FUZZERS:%=$(B)/fuzz/%)
	$(Q)for f in $(FUZZERS); do sh scripts/run-fuzz.sh $(B)/fuzz/$$f test/fuzz/$$f.corpus $(FUZZ_TIME) || exit 1; done

# make check: every suite, then one summary line (scripts/check.sh).
CHECK_FUZZ_TIME ?= 20
check: all $(B)/test/unit $(B)/test/unit-asan $(FUZZERS:%=$(B)/fuzz/%)
	$(Q)B=$(B) CC=$(CC) FUZZERS="$(FUZZERS)" FUZZ_TIME=$(CHECK_FUZZ_TIME) \
		HAVE_CXX=$(HAVE_CXX) sh scripts/check.sh

# --- benchmarks ------------------------------------------------------------
BENCH ?= $(BENCHES)
$(B)/bench/%: bench/%.c $(STATIC_LIB)
	$(ECHO) CCLD $@
	@mkdir -p $(@D)
	$(Q)$(CC) $(TEST_CFLAGS) -O2 -Ibench $(DEPFLAGS) -o $@ $< $(STATIC_LIB) $(DEP_LIBS) $(LDFLAGS)

bench: $(BENCH:%=$(B)/bench/%)
	$(Q)for b in $(BENCH); do $(B)/bench/$$b || exit 1; done

# --- install ---------------------------------------------------------------
MAN_PAGES := $(wildcard man/man1/*.1 man/man3/*.3 man/man5/*.5)

install: all
	install -d $(DESTDIR)$(INCLUDEDIR)/nomad $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 $(HEADERS) $(GEN_H) $(DESTDIR)$(INCLUDEDIR)/nomad/
	install -m 644 $(STATIC_LIB) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED_LIB) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SOREAL) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libnomad.so
	$(call gen_pc,$(DESTDIR)$(PKGCONFIGDIR)/libnomad.pc)
	for m in $(MAN_PAGES); do \
		d=$(DESTDIR)$(MANDIR)/$$(basename $$(dirname $$m)); \
		install -d $$d && install -m 644 $$m $$d/ || exit 1; done
	$(if $(APPS),install -d $(DESTDIR)$(BINDIR) && install -m 755 $(APPS:%=$(B)/bin/%) $(DESTDIR)$(BINDIR)/)

uninstall:
	rm -rf $(DESTDIR)$(INCLUDEDIR)/nomad
	rm -f $(DESTDIR)$(LIBDIR)/libnomad.a $(DESTDIR)$(LIBDIR)/libnomad.so*
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/libnomad.pc
	for m in $(MAN_PAGES); do \
		rm -f $(DESTDIR)$(MANDIR)/$$(basename $$(dirname $$m))/$$(basename $$m); done
	$(if $(APPS),rm -f $(APPS:%=$(DESTDIR)$(BINDIR)/%))

clean:
	rm -rf $(B)

.PHONY: all check bench fuzz install uninstall clean
.SECONDARY:

# An example that was one file and is now a directory leaves behind a
# build/examples/<name>.d naming its old source: skip it.
-include $(filter-out $(EXAMPLE_DIRS:%=$(B)/examples/%.d),\
	$(shell find $(B) -name '*.d' 2>/dev/null))
