# VirtStick: build the stick image, run the appliance, test it.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Host packages the appliance, its tests and the image builder need (Debian 12). Every program
# the code and the tests run comes from one of these: tests/test_host_programs.py checks it.
# libxml2-utils: xmllint, which virt-xml-validate runs; ipmitool: fencing hosts over IPMI.
APT_PACKAGES := qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients libvirt-dev \
	pkg-config gcc busybox-static cpio zstd syslinux syslinux-common mtools dosfstools \
	network-manager dnsmasq-base iproute2 udev dbus chromium chromium-driver \
	squashfs-tools xorriso grub-pc-bin grub-efi-amd64-bin ovmf debootstrap \
	dracut-core openssl kpartx gdisk libxml2-dev libxml2-utils ipmitool \
	sudo

.PHONY: setup apt webui-assets sdk-examples daemons run test test-fast bench lint image usb clean demoguest screenshots

setup: apt $(STAMP) webui-assets sdk-examples

# noVNC (the screen) and xterm.js (the serial console) from the npm registry, copied into the
# portals' static files (never fetched at run time).
NOVNC_DIR := webui/static/vendor/novnc
XTERM_DIR := webui/static/vendor/xterm
webui-assets: $(NOVNC_DIR)/.installed
$(NOVNC_DIR)/.installed: webui/package.json webui/package-lock.json
	cd webui && npm ci --no-audit --no-fund --loglevel=error
	rm -rf $(NOVNC_DIR) $(XTERM_DIR) && mkdir -p $(NOVNC_DIR) $(XTERM_DIR)
	cp -r webui/node_modules/@novnc/novnc/core webui/node_modules/@novnc/novnc/vendor \
		webui/node_modules/@novnc/novnc/LICENSE.txt $(NOVNC_DIR)/
	cp webui/node_modules/@xterm/xterm/lib/xterm.mjs webui/node_modules/@xterm/xterm/css/xterm.css \
		webui/node_modules/@xterm/addon-fit/lib/addon-fit.mjs $(XTERM_DIR)/
	cp webui/node_modules/@xterm/xterm/LICENSE $(XTERM_DIR)/LICENSE.txt
	@touch $@

# The SDK's own example scripts (issue 13 runs them unchanged): they ship only in its source
# distribution, so fetch the one matching the installed SDK and keep its examples/.
SDK_EXAMPLES := .cache/sdk-examples
sdk-examples: $(SDK_EXAMPLES)/.installed
$(SDK_EXAMPLES)/.installed: $(STAMP)
	@version=$$($(PY) -c 'import importlib.metadata as m; print(m.version("ovirt-engine-sdk-python"))'); \
	rm -rf $(SDK_EXAMPLES) && mkdir -p $(SDK_EXAMPLES)/sdist && \
	$(PY) -m pip download -q --no-binary :all: --no-deps -d $(SDK_EXAMPLES)/sdist \
		"ovirt-engine-sdk-python==$$version" && \
	tar -xzf $(SDK_EXAMPLES)/sdist/*.tar.gz -C $(SDK_EXAMPLES) --strip-components=1 \
		--wildcards '*/examples/*' && \
	echo "$$version" > $@

apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "setup: installing $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[test]'
	@touch $@

# There is no systemd on development machines and CI: start libvirt's daemons by hand.
daemons:
	@pgrep -x virtlogd >/dev/null || virtlogd -d
	@pgrep -x libvirtd >/dev/null || libvirtd -d
	@for i in $$(seq 50); do virsh -c qemu:///system version >/dev/null 2>&1 && exit 0; sleep 0.2; done; \
		echo "libvirtd did not answer on qemu:///system" >&2; exit 1

run: setup daemons demoguest
	$(VENV)/bin/virtstick run

test: setup daemons
	$(PY) -m pytest -q -p no:cacheprovider -rfE --durations=25 tests

test-fast: setup daemons
	$(PY) -m pytest -q -p no:cacheprovider -m 'not slow and not image' tests

bench: setup daemons
	$(PY) -m tests.bench

# The portals' reference screenshots (tests/webui/reference/), taken again after a change of look.
screenshots: setup daemons
	VIRTSTICK_UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q -p no:cacheprovider tests/webui/test_screenshots.py

lint: setup
	$(VENV)/bin/ruff check appliance firstboot webui image tests
	$(VENV)/bin/mypy

# The live image (issue 4): DISTRO=auto|debian|fedora, SEED=file to bake a seed, OUT=dir.
DISTRO ?= auto
OUT ?= out
image: setup
	$(PY) -m image build --distro $(DISTRO) --output $(OUT) $(if $(SEED),--seed $(SEED)) \
		$(if $(FEDORA_MIRROR),--fedora-mirror $(FEDORA_MIRROR))

# make usb DEVICE=/dev/sdX [YES=1]: write the newest ISO in out/ to a removable USB stick.
usb: setup
	@test -n "$(DEVICE)" || { echo "make usb: give DEVICE=/dev/sdX" >&2; exit 2; }
	$(PY) -m image usb $(DEVICE) $(if $(YES),--yes)

# The demo/test guest disk (cached; tests build it on demand too).
demoguest: setup
	$(PY) -m appliance.demoguest build --cache .cache/demoguest

clean:
	rm -rf $(VENV) out .cache
