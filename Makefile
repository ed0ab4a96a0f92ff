# supervisord-rs: build, run, test, package.
CARGO  ?= cargo
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR  = $(DESTDIR)$(PREFIX)/bin
MANDIR  = $(DESTDIR)$(PREFIX)/share/man
MUSL    = x86_64-unknown-linux-musl
NAMES   = supervisorctl echo_supervisord_conf pidproxy

.PHONY: build release run test pyref static install clean bench bench-quick man fuzz fuzz-one

build:
	$(CARGO) build

release:
	$(CARGO) build --release

# The demo: supervisord in the foreground on conf/supervisord.conf,
# web UI and XML-RPC on 127.0.0.1:9001.
run: build
	mkdir -p target/demo
	./target/debug/supervisord -n -c conf/supervisord.conf

# The Python reference and its test clients, in a venv under target/.
pyref:
	./scripts/pyref.sh target/pyref

# Everything CI runs, from a fresh clone. The static binary is for the
# empty-root test (tests/integration/empty_root.rs).
test: pyref static
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test --all-targets

# Ours next to Python Supervisor 4.3.0 on the same workloads (not part of test).
bench: static pyref target/bench/instant_server
	python3 bench/run.py

bench-quick: static pyref target/bench/instant_server
	python3 bench/run.py --quick

# The load generator's yardstick (bench/instant_server.rs, std only).
target/bench/instant_server: bench/instant_server.rs
	@mkdir -p target/bench
	rustc -O --edition 2021 -o $@ $<

# Rewrites man/ from the flag tables (tests/integration/man_pages.rs checks it).
man:
	UPDATE_MAN=1 $(CARGO) test --test integration man_pages::checked_in_pages_match_the_generator

static:
	@rustup target list --installed | grep -qx $(MUSL) || rustup target add $(MUSL)
	$(CARGO) build --release --target $(MUSL)
	@ls -l target/$(MUSL)/release/supervisord | awk '{printf "static binary: %s bytes\n", $$5}'

install: release
	install -d $(BINDIR) $(MANDIR)/man1 $(MANDIR)/man5
	install -m 0755 target/release/supervisord $(BINDIR)/supervisord
	for n in $(NAMES); do ln -sf supervisord $(BINDIR)/$$n; done
	for m in man/*.1; do [ -e "$$m" ] && install -m 0644 $$m $(MANDIR)/man1/ || true; done
	for m in man/*.5; do [ -e "$$m" ] && install -m 0644 $$m $(MANDIR)/man5/ || true; done

clean:
	$(CARGO) clean

# Soak and fault injection on our static binary (not part of test):
# bench/soak.py (1000 programs for SOAK_SECONDS, default 600) then
# bench/faults.py; fails if either does. See bench/RESULTS.md.
.PHONY: soak
soak: static
	@s=0; python3 bench/soak.py || s=1; python3 bench/faults.py || s=1; exit $$s

# Fuzzing with cargo fuzz (libFuzzer); not part of test. The targets live
# in fuzz/, a crate of its own that the root build never compiles:
#   xmlrpc        rpc::xmlrpc::parse_call / parse_response and the writer
#   config_file   config::ini and config::load_str on whole files
#   config_value  config::datatypes converters and config::expand
#   http_request  http::wire::read_request on a connection's bytes
#   listener      events::listener::Listener::feed
#   dotenv        the envfiles reader, through config::load_str
# Each runs FUZZ_SECONDS (default 60), one after another, one process, at
# nice 19. cargo-fuzz is installed from crates.io when missing. libFuzzer's
# sanitizer flags are nightly-only: RUSTC_BOOTSTRAP=1 lets the stable
# toolchain take them (set here); FUZZ_SANITIZER=none runs without ASan.
# Grown corpora go to fuzz/work/<target>, crashes to fuzz/artifacts/
# <target> (both ignored by git); the seeds are fuzz/corpus/<target> plus,
# for config_file, the repo's test configs. A crash stops the run: minimize
# it with `RUSTC_BOOTSTRAP=1 cargo fuzz tmin <target> <file>`.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= xmlrpc config_file config_value http_request listener dotenv
FUZZ_SANITIZER ?= address
FUZZ_ENV = RUSTC_BOOTSTRAP=1
FUZZ_SEEDS_config_file = tests/bad_configs tests/ini_corpus conf

fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	$(FUZZ_ENV) nice -n 19 $(CARGO) fuzz build -s $(FUZZ_SANITIZER)
	@for t in $(FUZZ_TARGETS); do $(MAKE) --no-print-directory fuzz-one FUZZ_TARGET=$$t || exit 1; done

fuzz-one:
	@mkdir -p fuzz/work/$(FUZZ_TARGET)
	$(FUZZ_ENV) nice -n 19 $(CARGO) fuzz run -s $(FUZZ_SANITIZER) $(FUZZ_TARGET) \
		fuzz/work/$(FUZZ_TARGET) fuzz/corpus/$(FUZZ_TARGET) $(FUZZ_SEEDS_$(FUZZ_TARGET)) -- \
		-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
