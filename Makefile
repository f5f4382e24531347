# Install authd: binaries, the PAM module, systemd units, man pages, completions.
#
#   make                                  # cargo build --release (binaries and PAM module)
#   sudo make install                     # into PREFIX=/usr/local
#   make install PREFIX=/usr DESTDIR=/tmp/pkg   # staged, e.g. for packaging
#
# BUILD=target/release is where the built files are taken from; PAMDIR is where PAM
# looks for modules (Debian: /lib/x86_64-linux-gnu/security). `cargo install --path .`
# installs the binaries alone.

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= target/release
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
LIBDIR  ?= $(PREFIX)/lib
# authd-key, the security-key helper authctl and pam_authd run, goes to LIBEXECDIR/authd;
# authctl and the module are built knowing that place.
LIBEXECDIR ?= $(PREFIX)/libexec
# PAM's module directory, where libpam looks for a module named without a path: it does
# not follow PREFIX (PAM never looks in /usr/local). Asked of pkg-config's `pam` (its
# securedir where it has one, else libdir/security: /lib/x86_64-linux-gnu/security on
# Debian amd64; /lib is /usr/lib on merged-/usr systems), else the multiarch directory
# that exists, else LIBDIR/security.
PAM_PC_SECUREDIR := $(shell pkg-config --variable=securedir pam 2>/dev/null)
PAM_PC_LIBDIR := $(shell pkg-config --variable=libdir pam 2>/dev/null)
PAMDIR  ?= $(firstword $(PAM_PC_SECUREDIR) $(addsuffix /security,$(PAM_PC_LIBDIR)) \
	$(wildcard /lib/*-linux-gnu/security /usr/lib/*-linux-gnu/security /usr/lib64/security) \
	$(LIBDIR)/security)
SYSCONFDIR ?= /etc
DATADIR ?= $(PREFIX)/share

INSTALL ?= install

.PHONY: all install uninstall test deny check-built pamdir

# Every built file `install` copies; all of them are checked before anything is copied,
# so a missing one leaves no half-installed tree.
BUILT = $(BUILD)/authd $(BUILD)/authctl $(BUILD)/authd-key $(BUILD)/libpam_authd.so

all:
	AUTHD_LIBEXECDIR=$(LIBEXECDIR)/authd cargo build --release --bins
	AUTHD_LIBEXECDIR=$(LIBEXECDIR)/authd cargo build --release -p pam_authd
	# The security-key helper: USB HID (libudev-dev, libclang-dev to build).
	cargo build --release -p authd-key

# Bring the test peers (Debian packages, installed when run as root: also libssl-dev,
# libudev-dev, libclang-dev and pkg-config, which authd's security keys build with), then
# build and run every test of the workspace with authd's test-only `softtoken` feature
# (security keys answered by a software token); prints the number of skipped tests
# (tests/run.sh). Release builds (`make`) never have that feature.
test:
	./tests/run.sh

# Audit the dependencies: advisories, duplicate crates, licences, sources (deny.toml).
# Installs the pinned cargo-deny from crates.io if needed; uses the vendored advisory-db
# snapshot when GitHub is unreachable (docs/SECURITY.md, "Dependency audit").
deny:
	./deny/check

check-built:
	@missing=""; for f in $(BUILT); do [ -f "$$f" ] || missing="$$missing $$f"; done; \
	if [ -n "$$missing" ]; then \
		echo "make install: not built:$$missing (run 'make' first; nothing was installed)" >&2; \
		exit 1; \
	fi

# Where the PAM module goes (see PAMDIR above).
pamdir:
	@echo $(PAMDIR)

install: check-built
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PAMDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(LIBDIR)/sysusers.d $(DESTDIR)$(LIBDIR)/tmpfiles.d \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DATADIR)/bash-completion/completions \
		$(DESTDIR)$(DATADIR)/zsh/site-functions \
		$(DESTDIR)$(DATADIR)/fish/vendor_completions.d \
		$(DESTDIR)$(DATADIR)/doc/authd $(DESTDIR)$(SYSCONFDIR)/authd \
		$(DESTDIR)$(LIBEXECDIR)/authd
	$(INSTALL) -m 0755 $(BUILD)/authd $(BUILD)/authctl $(DESTDIR)$(BINDIR)/
	$(INSTALL) -m 0755 $(BUILD)/authd-key $(DESTDIR)$(LIBEXECDIR)/authd/
	$(INSTALL) -m 0644 $(BUILD)/libpam_authd.so $(DESTDIR)$(PAMDIR)/pam_authd.so
	sed 's|/usr/bin/authd|$(BINDIR)/authd|' systemd/authd.service \
		> $(DESTDIR)$(UNITDIR)/authd.service
	$(INSTALL) -m 0644 systemd/authd.socket $(DESTDIR)$(UNITDIR)/
	# authd-web (its binary when it was built; the unit and man page always).
	[ ! -e $(BUILD)/authd-web ] || $(INSTALL) -m 0755 $(BUILD)/authd-web $(DESTDIR)$(BINDIR)/
	sed 's|/usr/bin/authd-web|$(BINDIR)/authd-web|' systemd/authd-web.service \
		> $(DESTDIR)$(UNITDIR)/authd-web.service
	$(INSTALL) -m 0644 systemd/sysusers.d/authd.conf $(DESTDIR)$(LIBDIR)/sysusers.d/authd.conf
	$(INSTALL) -m 0644 systemd/tmpfiles.d/authd.conf $(DESTDIR)$(LIBDIR)/tmpfiles.d/authd.conf
	$(INSTALL) -m 0644 man/authctl.1 man/authctl-*.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 man/authd.toml.5 $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 man/authd.8 man/pam_authd.8 man/authd-web.8 man/authd-key.8 \
		$(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 completions/authctl.bash \
		$(DESTDIR)$(DATADIR)/bash-completion/completions/authctl
	$(INSTALL) -m 0644 completions/_authctl $(DESTDIR)$(DATADIR)/zsh/site-functions/
	$(INSTALL) -m 0644 completions/authctl.fish $(DESTDIR)$(DATADIR)/fish/vendor_completions.d/
	$(INSTALL) -m 0644 authd.toml.example README.md $(DESTDIR)$(DATADIR)/doc/authd/
	# The config, unless one is already there: the commented example with the system
	# paths set (the unit passes only --config; this file is where its paths live).
	[ -e $(DESTDIR)$(SYSCONFDIR)/authd/authd.toml ] || { \
		sed -e 's|^#socket = .*|socket = "/run/authd/authd.sock"|' \
			-e 's|^#state_dir = .*|state_dir = "/var/lib/authd"|' authd.toml.example \
			> $(DESTDIR)$(SYSCONFDIR)/authd/authd.toml && \
		chmod 0644 $(DESTDIR)$(SYSCONFDIR)/authd/authd.toml; }

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/authd $(DESTDIR)$(BINDIR)/authctl $(DESTDIR)$(BINDIR)/authd-web \
		$(DESTDIR)$(LIBEXECDIR)/authd/authd-key \
		$(DESTDIR)$(PAMDIR)/pam_authd.so \
		$(DESTDIR)$(UNITDIR)/authd.service $(DESTDIR)$(UNITDIR)/authd.socket \
		$(DESTDIR)$(UNITDIR)/authd-web.service $(DESTDIR)$(MANDIR)/man8/authd-web.8 \
		$(DESTDIR)$(LIBDIR)/sysusers.d/authd.conf $(DESTDIR)$(LIBDIR)/tmpfiles.d/authd.conf \
		$(DESTDIR)$(MANDIR)/man1/authctl.1 $(DESTDIR)$(MANDIR)/man1/authctl-*.1 \
		$(DESTDIR)$(MANDIR)/man5/authd.toml.5 \
		$(DESTDIR)$(MANDIR)/man8/authd.8 $(DESTDIR)$(MANDIR)/man8/pam_authd.8 \
		$(DESTDIR)$(MANDIR)/man8/authd-key.8 \
		$(DESTDIR)$(DATADIR)/bash-completion/completions/authctl \
		$(DESTDIR)$(DATADIR)/zsh/site-functions/_authctl \
		$(DESTDIR)$(DATADIR)/fish/vendor_completions.d/authctl.fish
	rm -rf $(DESTDIR)$(DATADIR)/doc/authd
